package bundle

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/tlog"
)

// Writer writes a bundle one entry at a time, so an export of a year of a busy tenant never
// holds its leaves in memory: NewWriter writes the header, Add each entry in index order,
// Close the tiles. The output has one entry and one tile a line.
type Writer struct {
	w     *bufio.Writer
	buf   bytes.Buffer // one encoded entry
	enc   *json.Encoder
	h     Header
	count int
	last  int64
	err   error
	// tiles counts the tiles AddTile wrote; lastTile is the latest.
	tiles    int
	lastTile tlog.Tile
}

// NewWriter writes h (its Format set to v1 when empty) and opens the entries.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	if h.Format == "" {
		h.Format = Format
	}
	if h.Format != Format {
		return nil, fmt.Errorf("write bundle: format %q is not %s", h.Format, Format)
	}
	wr := &Writer{w: bufio.NewWriterSize(w, 64<<10), h: h}
	wr.enc = json.NewEncoder(&wr.buf)
	wr.enc.SetEscapeHTML(false)
	head, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("write bundle header: %w", err)
	}
	// The header's fields, then the entries: `{...,"checkpoint":"...",` + "\n\"entries\":[".
	wr.write(head[:len(head)-1])
	wr.write([]byte(",\n\"entries\":["))
	return wr, wr.err
}

func (w *Writer) write(p []byte) {
	if w.err == nil {
		_, w.err = w.w.Write(p)
	}
}

// Add writes one entry. Entries come in increasing index order, inside [First, Next); a leaf
// must be valid UTF-8, since it travels as a JSON string and must come back byte for byte.
func (w *Writer) Add(e Entry) error {
	if w.err != nil {
		return w.err
	}
	switch {
	case e.Index < w.h.First || e.Index >= w.h.Next:
		return fmt.Errorf("write bundle entry %d: outside [%d,%d)", e.Index, w.h.First, w.h.Next)
	case w.tiles > 0:
		return fmt.Errorf("write bundle entry %d: the tiles have begun; entries go first", e.Index)
	case w.count > 0 && e.Index <= w.last:
		return fmt.Errorf("write bundle entry %d: after entry %d; entries go in increasing index order", e.Index, w.last)
	case !utf8.Valid(e.Leaf):
		return fmt.Errorf("write bundle entry %d: leaf is not valid UTF-8 and would not survive a JSON string", e.Index)
	}
	if w.count > 0 {
		w.write([]byte(","))
	}
	w.write([]byte("\n"))
	w.buf.Reset()
	if err := w.enc.Encode(entryJSON{Index: &e.Index, Leaf: ptr(string(e.Leaf))}); err != nil {
		w.err = err
	}
	w.write(bytes.TrimSuffix(w.buf.Bytes(), []byte("\n")))
	w.count++
	w.last = e.Index
	return w.err
}

// AddTile writes one tile after the last entry, so that an export need not hold every tile
// of a large tree at once: tiles come in tlog.NewTiles order (level by level, then by
// number), each once. A writer that added tiles is ended by Close(nil).
func (w *Writer) AddTile(path string, data []byte) error {
	if w.err != nil {
		return w.err
	}
	t, err := ParseTilePath(path)
	if err != nil {
		return fmt.Errorf("write bundle tiles: %w", err)
	}
	if w.tiles > 0 && (t.L < w.lastTile.L || t.L == w.lastTile.L && t.N <= w.lastTile.N) {
		return fmt.Errorf("write bundle tile %s: after tile %s; tiles go level by level, in increasing number", path, TilePath(w.lastTile))
	}
	w.tile(path, data)
	w.lastTile = t
	return w.err
}

// tile writes one tile, opening the tiles first.
func (w *Writer) tile(path string, data []byte) {
	if w.tiles == 0 {
		w.write([]byte("\n],\n\"tiles\":{"))
	} else {
		w.write([]byte(","))
	}
	w.write(fmt.Appendf(nil, "\n%q:%q", path, base64.StdEncoding.EncodeToString(data)))
	w.tiles++
}

// Close writes the tiles (C2SP path to hashes) and ends the bundle; after AddTile, tiles
// must be nil. It does not close the underlying writer.
func (w *Writer) Close(tiles map[string][]byte) error {
	if w.tiles > 0 && len(tiles) > 0 {
		return fmt.Errorf("write bundle tiles: %d tiles were added one by one; Close takes no more", w.tiles)
	}
	paths := make([]string, 0, len(tiles))
	for p := range tiles {
		if _, err := ParseTilePath(p); err != nil {
			return fmt.Errorf("write bundle tiles: %w", err)
		}
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		w.tile(p, tiles[p])
	}
	if w.tiles == 0 {
		w.write([]byte("\n],\n\"tiles\":{"))
	}
	w.write([]byte("\n}}\n"))
	if w.err == nil {
		w.err = w.w.Flush()
	}
	if w.err != nil {
		return fmt.Errorf("write bundle: %w", w.err)
	}
	return nil
}

// Write writes b whole.
func Write(w io.Writer, b *Bundle) error {
	bw, err := NewWriter(w, b.Header)
	if err != nil {
		return err
	}
	for _, e := range b.Entries {
		if err := bw.Add(e); err != nil {
			return err
		}
	}
	return bw.Close(b.Tiles)
}

type entryJSON struct {
	Index *int64  `json:"index"`
	Leaf  *string `json:"leaf"`
}

func ptr[T any](v T) *T { return &v }

// Read reads a whole bundle into memory.
func Read(r io.Reader) (*Bundle, error) {
	b := &Bundle{}
	h, tiles, err := decode(r, func(e Entry) error {
		b.Entries = append(b.Entries, Entry{Index: e.Index, Leaf: bytes.Clone(e.Leaf)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	b.Header, b.Tiles = h, tiles
	return b, nil
}

// decode reads a bundle, handing each entry to each as it comes rather than keeping it
// (an entry's Leaf is valid only until each returns). Fields may come in any order; an
// unknown or repeated field, a missing one or trailing data is an error, and so is any
// format but v1.
func decode(r io.Reader, each func(Entry) error) (Header, map[string][]byte, error) {
	var h Header
	var tiles map[string][]byte
	s := newStream(bufio.NewReaderSize(r, 64<<10))
	fail := func(format string, a ...any) (Header, map[string][]byte, error) {
		return Header{}, nil, fmt.Errorf("read bundle: "+format, a...)
	}
	if err := expectDelim(s.dec, '{'); err != nil {
		return fail("%v", err)
	}
	seen := map[string]bool{}
	for s.dec.More() {
		tok, err := s.dec.Token()
		if err != nil {
			return fail("%v", err)
		}
		key, _ := tok.(string)
		if seen[key] {
			return fail("field %q given twice", key)
		}
		seen[key] = true
		dec := s.dec
		switch key {
		case "format":
			err = dec.Decode(&h.Format)
			if err == nil && h.Format != Format {
				return fail("format %q is not %s, the one this verifier reads", h.Format, Format)
			}
		case "origin":
			err = dec.Decode(&h.Origin)
		case "from":
			err = dec.Decode(&h.From)
		case "to":
			err = dec.Decode(&h.To)
		case "first":
			err = dec.Decode(&h.First)
		case "next":
			err = dec.Decode(&h.Next)
		case "checkpoint":
			err = dec.Decode(&h.Checkpoint)
		case "entries":
			err = decodeEntries(s, each)
		case "tiles":
			tiles, err = decodeTiles(s)
		default:
			return fail("unknown field %q", key)
		}
		if err != nil {
			return fail("field %q: %v", key, err)
		}
	}
	if err := expectDelim(s.dec, '}'); err != nil {
		return fail("%v", err)
	}
	if _, err := s.dec.Token(); err != io.EOF {
		return fail("data after the bundle's closing brace")
	}
	for _, k := range []string{"format", "origin", "first", "next", "checkpoint", "entries", "tiles"} {
		if !seen[k] {
			return fail("field %q missing", k)
		}
	}
	return h, tiles, nil
}

// decodeEntries decodes the entries array, s.dec having read its field name. The entries
// as Writer lays them out are decoded by readEntryLines, which leaves to s.dec (then
// another decoder) whatever else is there.
func decodeEntries(s *stream, each func(Entry) error) error {
	if err := expectDelim(s.dec, '['); err != nil {
		return err
	}
	n := 0
	if fastLines {
		var err error
		if n, err = readEntryLines(s, each); err != nil {
			return err
		}
	}
	for dec := s.dec; dec.More(); n++ {
		var e entryJSON
		if err := dec.Decode(&e); errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("entry %d: the bundle ends here: it was cut short", n)
		} else if err != nil {
			return fmt.Errorf("entry %d: %w", n, err)
		}
		if e.Index == nil || e.Leaf == nil {
			return fmt.Errorf("entry %d: needs both index and leaf", n)
		}
		if err := each(Entry{Index: *e.Index, Leaf: []byte(*e.Leaf)}); err != nil {
			return err
		}
	}
	return expectDelim(s.dec, ']')
}

// decodeTiles decodes the tiles object, s.dec having read its field name: the tiles as
// Writer lays them out by readTileLines, whatever else by s.dec (then another decoder).
// A tile given twice is the last one given, as encoding/json decodes a map.
func decodeTiles(s *stream) (map[string][]byte, error) {
	raw := map[string]string{}
	if fastLines {
		var err error
		if raw, err = readTileLines(s); err != nil {
			return nil, err
		}
	}
	var more map[string]string
	if err := s.dec.Decode(&more); err != nil {
		return nil, err
	}
	maps.Copy(raw, more)
	// In order, so that of two tiles that are not base64 the error names the same one.
	tiles := make(map[string][]byte, len(raw))
	for _, p := range slices.Sorted(maps.Keys(raw)) {
		data, err := base64.StdEncoding.DecodeString(raw[p])
		if err != nil {
			return nil, fmt.Errorf("tile %s: not base64: %w", p, err)
		}
		tiles[p] = data
	}
	return tiles, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("bundle ends where %s was expected: it was cut short", want)
	}
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("found %v where %s was expected", tok, want)
	}
	return nil
}
