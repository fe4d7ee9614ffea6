package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/contrail/contrail/shared/tenant"
)

// DefaultMaxAge is how old the bundle's checkpoint may be when Options.MaxAge is zero:
// heartbeats are signed at least hourly, so two hours allows one missed heartbeat.
const DefaultMaxAge = 2 * time.Hour

// Options says what a bundle is verified against.
type Options struct {
	// Keys are the note verifier keys a checkpoint may be signed by ("contrail+1a2b3c4d+A...").
	Keys []string
	// Tenant is the tenant whose log the bundle must be: its origin is "contrail/<Tenant>".
	Tenant string
	// Saved is a checkpoint (signed note text) the tenant kept from an earlier verification,
	// or nil. The bundle's checkpoint must extend it.
	Saved []byte
	// MaxAge is how old the bundle's checkpoint may be at Now; zero means DefaultMaxAge.
	MaxAge time.Duration
	// Now is the time freshness is judged at; zero means time.Now().
	Now time.Time
}

// Kind sorts problems.
type Kind string

// The kinds of problem Verify reports.
const (
	KindBundle     Kind = "bundle"     // unreadable, or its range does not fit its checkpoint
	KindCheckpoint Kind = "checkpoint" // the checkpoint's signature or text
	KindOrigin     Kind = "origin"     // the bundle or checkpoint is another tenant's
	KindTile       Kind = "tile"       // a tile is missing, misplaced or does not verify
	KindAltered    Kind = "altered"    // an event's bytes are not what the log recorded
	KindReordered  Kind = "reordered"  // an event sits at another event's index
	KindMissing    Kind = "missing"    // indices without an event: events deleted
	KindDuplicate  Kind = "duplicate"  // an index or an event id given twice
	KindUnchecked  Kind = "unchecked"  // events that could not be checked (their tile failed)
	KindSaved      Kind = "saved"      // the saved checkpoint did not verify or could not be compared
	KindShrank     Kind = "shrank"     // the log is smaller than the saved checkpoint
	KindFork       Kind = "fork"       // the log does not extend the saved checkpoint
	KindStale      Kind = "stale"      // the checkpoint is older than MaxAge
)

// Problem is one thing that does not hold, said precisely enough to act on.
type Problem struct {
	Kind    Kind
	Index   int64  // the (first) leaf index concerned, -1 for none
	EventID string // the event concerned, when one is
	Tile    string // the tile(s) concerned, when any
	Message string
}

func (p Problem) String() string { return p.Message }

// Report is the outcome of a verification.
type Report struct {
	Origin      string      // the origin that was expected: "contrail/<tenant>"
	First, Next int64       // the bundle's range
	Checkpoint  *Checkpoint // the bundle's checkpoint, when its signature and origin verified
	Saved       *Checkpoint // the saved checkpoint, when given and verified
	Unreadable  bool        // the bundle could not be read (its problem says why)
	Problems    []Problem
}

// OK says whether everything held.
func (r Report) OK() bool { return len(r.Problems) == 0 && r.Checkpoint != nil }

// Verdict is the one-line outcome:
// "OK contrail/acme: 360 events [120,480) verified against checkpoint 480 signed 2026-12-07T05:00:00Z"
// or "FAIL contrail/acme: 2 problems in events [120,480) against checkpoint 480 signed ...".
func (r Report) Verdict() string {
	if r.OK() {
		s := fmt.Sprintf("OK %s: %d events [%d,%d) verified against %s", r.Origin, r.Next-r.First, r.First, r.Next, r.Checkpoint.Describe())
		if r.Saved != nil {
			s += ", consistent with saved " + r.Saved.Describe()
		}
		return s
	}
	if r.Unreadable {
		return fmt.Sprintf("FAIL %s: the bundle cannot be read", r.Origin)
	}
	noun := "problems"
	if len(r.Problems) == 1 {
		noun = "problem"
	}
	against := "; the checkpoint did not verify"
	if r.Checkpoint != nil {
		against = " against " + r.Checkpoint.Describe()
	}
	return fmt.Sprintf("FAIL %s: %d %s in events [%d,%d)%s", r.Origin, len(r.Problems), noun, r.First, r.Next, against)
}

// Verify checks a bundle held in memory. Its error is only for unusable Options (no or a
// malformed key, a bad tenant id); everything wrong with the bundle is in the Report.
func Verify(b *Bundle, opts Options) (Report, error) {
	v, err := newVerifier(opts)
	if err != nil {
		return Report{}, err
	}
	for _, e := range b.Entries {
		v.add(e)
	}
	return v.finish(b.Header, b.Tiles), nil
}

// VerifyReader reads and checks a bundle in one pass, keeping of each entry only its hash,
// event id and time, so a year of a busy tenant fits in memory. A bundle that cannot be
// read is a failed verification, not an error.
func VerifyReader(r io.Reader, opts Options) (Report, error) {
	v, err := newVerifier(opts)
	if err != nil {
		return Report{}, err
	}
	h, tiles, err := decode(r, func(e Entry) error { v.add(e); return nil })
	if err != nil {
		return Report{Origin: v.origin, Unreadable: true, Problems: []Problem{{Kind: KindBundle, Index: -1, Message: err.Error()}}}, nil
	}
	return v.finish(h, tiles), nil
}

type verifier struct {
	keys    note.Verifiers
	origin  string
	saved   []byte
	maxAge  time.Duration
	now     time.Time
	entries []leafSummary
	report  *Report
	hasher  hash.Hash // leafHash's, and its sum
	sum     []byte
}

// leafSummary is what verification needs of an entry.
type leafSummary struct {
	index int64
	hash  tlog.Hash
	id    string // event_id, "" when the leaf has none
	at    string // occurred_at
}

func newVerifier(opts Options) (*verifier, error) {
	keys, err := Verifiers(opts.Keys)
	if err != nil {
		return nil, fmt.Errorf("verify bundle: %w", err)
	}
	id, err := tenant.Parse(opts.Tenant)
	if err != nil {
		return nil, fmt.Errorf("verify bundle: %w", err)
	}
	v := &verifier{keys: keys, origin: OriginPrefix + string(id), maxAge: opts.MaxAge, now: opts.Now}
	if len(opts.Saved) > 0 {
		v.saved = opts.Saved
	}
	if v.maxAge <= 0 {
		v.maxAge = DefaultMaxAge
	}
	if v.now.IsZero() {
		v.now = time.Now()
	}
	return v, nil
}

func (v *verifier) add(e Entry) {
	s := leafSummary{index: e.Index, hash: v.leafHash(e.Leaf)}
	if id, at, ok := leafNames(e.Leaf); ok {
		s.id, s.at = id, at
	} else {
		var f struct {
			EventID    string `json:"event_id"`
			OccurredAt string `json:"occurred_at"`
		}
		if json.Unmarshal(e.Leaf, &f) == nil {
			s.id, s.at = f.EventID, f.OccurredAt
		}
	}
	v.entries = append(v.entries, s)
}

// leafHash is LeafHash with one hasher for every leaf: a million leaves, a million fewer
// hashers and sums allocated.
func (v *verifier) leafHash(leaf []byte) (h tlog.Hash) {
	if v.hasher == nil {
		v.hasher, v.sum = sha256.New(), make([]byte, 0, sha256.Size)
	}
	v.hasher.Reset()
	v.hasher.Write(leafPrefix)
	v.hasher.Write(leaf)
	v.sum = v.hasher.Sum(v.sum[:0])
	copy(h[:], v.sum)
	return h
}

// leafPrefix starts what a leaf's hash hashes (RFC 6962).
var leafPrefix = []byte{0x00}

// leafNames reads event_id and occurred_at, the names a problem gives an event, from a leaf
// in the canonical encoding (one object, no whitespace, keys without escapes) without
// decoding the rest: a year's bundle has a million leaves, and decoding each with
// encoding/json cost a third of the verification. ok is false for anything else (the caller
// decodes those with encoding/json): whitespace, an escaped key, a wanted value escaped or
// not UTF-8, or a value it does not recognise.
func leafNames(leaf []byte) (id, at string, ok bool) {
	n := len(leaf)
	if n < 2 || leaf[0] != '{' || leaf[n-1] != '}' {
		return "", "", false
	}
	i := 1
	for i < n-1 {
		if leaf[i] != '"' {
			return "", "", false
		}
		end := i + 1
		for end < n && leaf[end] != '"' && leaf[end] != '\\' {
			end++
		}
		if end+1 >= n || leaf[end] != '"' || leaf[end+1] != ':' {
			return "", "", false
		}
		key := leaf[i+1 : end]
		i = end + 2
		next, str, ok := skipValue(leaf, i)
		if !ok {
			return "", "", false
		}
		switch string(key) {
		case "event_id", "occurred_at":
			if !str || bytes.IndexByte(leaf[i:next], '\\') >= 0 || !utf8.Valid(leaf[i:next]) {
				return "", "", false
			}
			if key[0] == 'e' {
				id = string(leaf[i+1 : next-1])
			} else {
				at = string(leaf[i+1 : next-1])
			}
		}
		i = next
		switch {
		case i >= n-1:
			return id, at, i == n-1
		case leaf[i] != ',':
			return "", "", false
		}
		i++
	}
	return id, at, i == n-1
}

// skipValue returns the end of the JSON value starting at leaf[i] and whether it is a
// string; ok is false when none starts there. Objects and arrays are skipped by depth,
// strings inside them by their quotes.
func skipValue(leaf []byte, i int) (end int, str, ok bool) {
	n := len(leaf)
	if i >= n {
		return 0, false, false
	}
	skipString := func(j int) (int, bool) { // j is after the opening quote
		for j < n {
			if stringByte[leaf[j]] {
				j++
				continue
			}
			switch leaf[j] {
			case '\\':
				j += 2
			case '"':
				return j + 1, true
			default:
				j++
			}
		}
		return 0, false
	}
	switch c := leaf[i]; {
	case c == '"':
		e, ok := skipString(i + 1)
		return e, true, ok
	case c == '{' || c == '[':
		depth := 0
		for j := i; j < n; {
			switch leaf[j] {
			case '"':
				e, ok := skipString(j + 1)
				if !ok {
					return 0, false, false
				}
				j = e
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, false, true
				}
			}
			j++
		}
		return 0, false, false
	case c == '-' || c >= '0' && c <= '9' || c == 't' || c == 'f' || c == 'n':
		j := i
		for j < n && leaf[j] != ',' && leaf[j] != '}' {
			j++
		}
		return j, false, j > i
	}
	return 0, false, false
}

// stringByte marks the bytes that neither end a string nor start an escape.
var stringByte = func() (t [256]bool) {
	for c := range t {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func (v *verifier) problem(kind Kind, index int64, id, tile, format string, a ...any) {
	v.report.Problems = append(v.report.Problems, Problem{Kind: kind, Index: index, EventID: id, Tile: tile, Message: fmt.Sprintf(format, a...)})
}

func (v *verifier) finish(h Header, tiles map[string][]byte) Report {
	rep := Report{Origin: v.origin, First: h.First, Next: h.Next}
	v.report = &rep
	if h.Origin != v.origin {
		v.problem(KindOrigin, -1, "", "", "the bundle is of %s, not %s", h.Origin, v.origin)
	}
	rangeOK := h.First >= 0 && h.Next >= h.First
	if !rangeOK {
		v.problem(KindBundle, -1, "", "", "the bundle's range [%d,%d) is not a range of leaf indices", h.First, h.Next)
	}
	cp, err := OpenCheckpoint([]byte(h.Checkpoint), v.keys)
	switch {
	case err != nil:
		v.problem(KindCheckpoint, -1, "", "", "checkpoint: %v", err)
	case cp.Origin != v.origin:
		v.problem(KindOrigin, -1, "", "", "the checkpoint is of %s, not %s", cp.Origin, v.origin)
	default:
		rep.Checkpoint = &cp
		if rangeOK && h.Next > cp.Size {
			v.problem(KindBundle, -1, "", "", "the bundle claims events up to index %d, but %s holds only %d", h.Next-1, cp.Describe(), cp.Size)
		}
	}
	sort.SliceStable(v.entries, func(i, j int) bool { return v.entries[i].index < v.entries[j].index })
	if rangeOK {
		v.checkContiguity(h)
	}
	var tt *trustedTiles
	if rep.Checkpoint != nil {
		tt = v.checkTiles(cp, tiles)
	}
	if tt != nil && rangeOK {
		v.checkLeaves(h, tt)
	}
	if rep.Checkpoint != nil {
		v.checkSaved(cp, tt)
		v.checkFresh(cp)
	}
	return rep
}

// describe names an event in a message: "01J... (2026-12-07T04:12:00.123Z, index 5)".
func describe(s *leafSummary) string {
	switch {
	case s == nil:
		return ""
	case s.id == "":
		return fmt.Sprintf("the event at index %d", s.index)
	case s.at == "":
		return fmt.Sprintf("%s (index %d)", s.id, s.index)
	}
	return fmt.Sprintf("%s (%s, index %d)", s.id, s.at, s.index)
}

func eventName(s *leafSummary) string {
	if s.id == "" {
		return "the event"
	}
	return "event " + s.id
}

// checkContiguity: every index of [First, Next) exactly once, no event id twice.
func (v *verifier) checkContiguity(h Header) {
	expected := h.First
	var prev *leafSummary
	firstAt := make(map[string]int64, len(v.entries)) // sized once: growing it cost more than using it
	for i := range v.entries {
		e := &v.entries[i]
		if e.index < h.First || e.index >= h.Next {
			v.problem(KindBundle, e.index, e.id, "", "%s lies outside the bundle's range [%d,%d)", describe(e), h.First, h.Next)
			continue
		}
		if prev != nil && e.index == prev.index {
			v.problem(KindDuplicate, e.index, e.id, "", "index %d is given twice: %s and %s", e.index, describe(prev), describe(e))
			continue
		}
		if e.index > expected {
			v.missing(expected, e.index-1, prev, e)
		}
		if j, ok := firstAt[e.id]; ok && e.id != "" {
			v.problem(KindDuplicate, e.index, e.id, "", "event %s appears twice, at indices %d and %d", e.id, j, e.index)
		} else {
			firstAt[e.id] = e.index
		}
		expected, prev = e.index+1, e
	}
	if expected < h.Next {
		v.missing(expected, h.Next-1, prev, nil)
	}
}

func (v *verifier) missing(from, to int64, before, after *leafSummary) {
	var between string
	switch {
	case before == nil && after == nil:
		between = "the whole bundle's range"
	case before == nil:
		between = "the start of the bundle and " + describe(after)
	case after == nil:
		between = describe(before) + " and the end of the bundle"
	default:
		between = describe(before) + " and " + describe(after)
	}
	if from == to {
		v.problem(KindMissing, from, "", "", "index %d missing: an event between %s was deleted", from, between)
		return
	}
	v.problem(KindMissing, from, "", "", "indices %d-%d missing: %d events between %s were deleted", from, to, to-from+1, between)
}

// trustedTiles are a bundle's tiles with the ones that verified against the checkpoint.
type trustedTiles struct {
	size    int64
	data    tileStore
	trusted map[tlog.Tile]bool // nil: every tile verified
	hr      tlog.HashReader    // authenticated reader; nil unless every tile verified
}

// tileAt is the tile of the tree of size n holding the hash at level L*8, position k.
func tileAt(l int, k, n int64) tlog.Tile {
	t := tlog.Tile{H: TileHeight, L: l, N: k >> TileHeight, W: 1 << TileHeight}
	if last := n >> uint(l*TileHeight); t.N<<TileHeight+int64(t.W) > last {
		t.W = int(last - t.N<<TileHeight)
	}
	return t
}

// leaf is the log's hash of leaf i, if the tile holding it verified.
func (tt *trustedTiles) leaf(i int64) (tlog.Hash, tlog.Tile, bool) {
	t := tileAt(0, i, tt.size)
	if tt.trusted != nil && !tt.trusted[t] {
		return tlog.Hash{}, t, false
	}
	h, err := tlog.HashFromTile(t, tt.data[t], tlog.StoredHashIndex(0, i))
	return h, t, err == nil
}

// checkTiles checks that the bundle holds exactly the tiles of the checkpoint's tree and
// authenticates them against its root with tlog.TileHashReader; when that fails it names
// the tiles that do not verify. It returns nil when no event can be checked.
func (v *verifier) checkTiles(cp Checkpoint, raw map[string][]byte) *trustedTiles {
	want := map[tlog.Tile]bool{}
	treeTiles := tlog.NewTiles(TileHeight, 0, cp.Size)
	for _, t := range treeTiles {
		want[t] = true
	}
	paths := make([]string, 0, len(raw))
	for p := range raw {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	store := tileStore{}
	given := map[tlog.Tile]bool{}
	complete := true
	for _, p := range paths {
		t, err := ParseTilePath(p)
		if err != nil {
			v.problem(KindTile, -1, "", p, "%v", err)
			continue
		}
		if !want[t] {
			v.problem(KindTile, -1, "", p, "tile %s is not a tile of the tree of %s", p, cp.Describe())
			continue
		}
		given[t] = true
		if len(raw[p]) != t.W*tlog.HashSize {
			v.problem(KindTile, -1, "", p, "tile %s holds %d bytes; it must hold %d hashes of %d bytes", p, len(raw[p]), t.W, tlog.HashSize)
			complete = false
			continue
		}
		store[t] = raw[p]
	}
	for _, t := range treeTiles {
		if !given[t] {
			v.problem(KindTile, -1, "", TilePath(t), "tile %s is missing", TilePath(t))
			complete = false
		}
	}
	if !complete {
		v.problem(KindUnchecked, -1, "", "", "no event was checked: the bundle does not hold every tile of the tree of %s", cp.Describe())
		return nil
	}
	tt := &trustedTiles{size: cp.Size, data: store}
	if cp.Size == 0 {
		return tt
	}
	hr := tlog.TileHashReader(tlog.Tree{N: cp.Size, Hash: cp.Root}, store)
	// One hash of every tile makes the reader fetch, and authenticate, every tile.
	indexes := make([]int64, len(treeTiles))
	for i, t := range treeTiles {
		indexes[i] = tlog.StoredHashIndex(t.L*t.H, t.N<<uint(t.H))
	}
	if _, err := hr.ReadHashes(indexes); err == nil {
		tt.hr = hr
		return tt
	}
	tt.trusted = v.nameBadTiles(cp, store, treeTiles, hr)
	return tt
}

// nameBadTiles runs only when the tiles did not verify: it trusts the right-edge (partial)
// tiles if they hash to the checkpoint's root, then each full tile whose parent is trusted
// and holds its hash, top level first, and names the first tile on each path that fails.
func (v *verifier) nameBadTiles(cp Checkpoint, store tileStore, treeTiles []tlog.Tile, hr tlog.HashReader) map[tlog.Tile]bool {
	before := len(v.report.Problems)
	trusted := map[tlog.Tile]bool{}
	var edge []string
	for _, t := range treeTiles {
		if t.W < 1<<TileHeight {
			edge = append(edge, TilePath(t))
		}
	}
	if _, err := hr.ReadHashes(nil); err != nil {
		v.problem(KindTile, -1, "", strings.Join(edge, " "), "tiles %s do not hash to the root of %s: at least one of them was altered", strings.Join(edge, ", "), cp.Describe())
		return trusted
	}
	for _, t := range treeTiles {
		if t.W < 1<<TileHeight {
			trusted[t] = true
		}
	}
	for l := treeTiles[len(treeTiles)-1].L; l >= 0; l-- {
		for _, t := range treeTiles {
			if t.L != l || t.W < 1<<TileHeight {
				continue
			}
			p := tileAt(t.L+1, t.N, cp.Size)
			if !trusted[p] {
				continue // under a tile already named
			}
			want, err1 := tlog.HashFromTile(p, store[p], tlog.StoredHashIndex(p.L*p.H, t.N))
			got, err2 := fullTileHash(t, store[t])
			if err1 == nil && err2 == nil && got == want {
				trusted[t] = true
				continue
			}
			v.problem(KindTile, -1, "", TilePath(t), "tile %s was altered: its hashes do not add up to hash %d of tile %s, which the checkpoint's root covers", TilePath(t), t.N-p.N<<TileHeight, TilePath(p))
		}
	}
	if len(v.report.Problems) == before {
		v.problem(KindTile, -1, "", "", "the tiles do not verify against the root of %s", cp.Describe())
	}
	return trusted
}

// checkLeaves compares each entry's leaf hash with the log's hash at its index, and tells
// an altered event from one moved to another index.
func (v *verifier) checkLeaves(h Header, tt *trustedTiles) {
	type mismatch struct {
		e     *leafSummary
		moved int64 // the index whose hash the leaf has, -1 for none
	}
	var bad []mismatch
	unchecked := map[tlog.Tile][2]int64{}
	var uncheckedOrder []tlog.Tile
	end := min(h.Next, tt.size)
	for i := range v.entries {
		e := &v.entries[i]
		if e.index < h.First || e.index >= end || (i > 0 && v.entries[i-1].index == e.index) {
			continue
		}
		stored, t, ok := tt.leaf(e.index)
		if !ok {
			r, seen := unchecked[t]
			if !seen {
				uncheckedOrder = append(uncheckedOrder, t)
				r[0] = e.index
			}
			r[1] = e.index
			unchecked[t] = r
			continue
		}
		if stored != e.hash {
			bad = append(bad, mismatch{e: e, moved: -1})
		}
	}
	for _, t := range uncheckedOrder {
		r := unchecked[t]
		v.problem(KindUnchecked, r[0], "", TilePath(t), "events at indices %d-%d were not checked: tile %s (or one above it) did not verify", r[0], r[1], TilePath(t))
	}
	if len(bad) == 0 {
		return
	}
	// Where does each mismatching leaf belong? Look its hash up in the bundle's range.
	at := map[tlog.Hash]int64{}
	for i := h.First; i < end; i++ {
		if hash, _, ok := tt.leaf(i); ok {
			at[hash] = i
		}
	}
	movedTo := map[int64]int64{}
	for k := range bad {
		if j, ok := at[bad[k].e.hash]; ok && j != bad[k].e.index {
			bad[k].moved = j
			movedTo[bad[k].e.index] = j
		}
	}
	byIndex := map[int64]*leafSummary{}
	for _, m := range bad {
		byIndex[m.e.index] = m.e
	}
	done := map[int64]bool{}
	for k := 0; k < len(bad); k++ {
		m := bad[k]
		i := m.e.index
		if done[i] {
			continue
		}
		switch {
		case m.moved < 0:
			v.problem(KindAltered, i, m.e.id, "", "%s at index %d was altered: its bytes are not the leaf the log recorded at that index", eventName(m.e), i)
		case movedTo[m.moved] == i:
			o := byIndex[m.moved]
			done[m.moved] = true
			v.problem(KindReordered, i, m.e.id, "", "events swapped: %s is at index %d and %s at index %d, each where the log recorded the other", eventName(m.e), i, eventName(o), m.moved)
		default:
			// A run of consecutive entries all moved by the same offset is one problem.
			d, n := m.moved-i, 1
			for k+n < len(bad) && bad[k+n].e.index == i+int64(n) && bad[k+n].moved == bad[k+n].e.index+d && movedTo[bad[k+n].moved] != bad[k+n].e.index {
				done[bad[k+n].e.index] = true
				n++
			}
			if n == 1 {
				v.problem(KindReordered, i, m.e.id, "", "%s is at index %d, but the log recorded it at index %d: events were reordered", eventName(m.e), i, m.moved)
			} else {
				v.problem(KindReordered, i, m.e.id, "", "events at indices %d-%d are those the log recorded at %d-%d: events were reordered (moved by %d)", i, i+int64(n)-1, m.moved, m.moved+int64(n)-1, -d)
			}
		}
	}
}

// checkSaved proves the bundle's checkpoint extends the one the tenant saved earlier.
func (v *verifier) checkSaved(cp Checkpoint, tt *trustedTiles) {
	if v.saved == nil {
		return
	}
	sc, err := OpenCheckpoint(v.saved, v.keys)
	if err != nil {
		v.problem(KindSaved, -1, "", "", "saved checkpoint: %v", err)
		return
	}
	if sc.Origin != v.origin {
		v.problem(KindSaved, -1, "", "", "the saved checkpoint is of %s, not %s", sc.Origin, v.origin)
		return
	}
	v.report.Saved = &sc
	switch {
	case sc.Size > cp.Size:
		v.problem(KindShrank, cp.Size, "", "", "the log shrank from %d to %d: the newest events were removed (saved %s; the bundle's %s)", sc.Size, cp.Size, sc.Describe(), cp.Describe())
	case sc.Size == cp.Size:
		if sc.Root != cp.Root {
			v.problem(KindFork, -1, "", "", "fork: the saved %s and the bundle's %s are trees of the same size with different roots: the log was rewritten", sc.Describe(), cp.Describe())
		}
	case tt == nil || tt.hr == nil:
		v.problem(KindSaved, -1, "", "", "consistency with the saved %s was not checked: the bundle's tiles did not verify", sc.Describe())
	default:
		proof, err := tlog.ProveTree(cp.Size, sc.Size, tt.hr)
		if err != nil {
			v.problem(KindSaved, -1, "", "", "consistency with the saved %s was not checked: %v", sc.Describe(), err)
			return
		}
		if tlog.CheckTree(proof, cp.Size, cp.Root, sc.Size, sc.Root) != nil {
			v.problem(KindFork, -1, "", "", "fork: the bundle's %s does not extend the saved %s: the log's first %d events were rewritten", cp.Describe(), sc.Describe(), sc.Size)
		}
	}
}

// checkFresh: a checkpoint older than MaxAge may hide events cut off after it.
func (v *verifier) checkFresh(cp Checkpoint) {
	if cp.Time.IsZero() {
		v.problem(KindStale, -1, "", "", "the checkpoint has no time line: its freshness cannot be checked")
		return
	}
	if age := v.now.Sub(cp.Time); age > v.maxAge {
		v.problem(KindStale, -1, "", "", "stale: newest checkpoint is from %s, %s before %s (at most %s allowed); events after it may have been cut off",
			cp.Time.Format(time.RFC3339), age.Round(time.Second), v.now.UTC().Format(time.RFC3339), v.maxAge)
	}
}

var _ tlog.TileReader = tileStore(nil)
