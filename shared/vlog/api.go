package vlog

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/fault"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/tenant"
	"github.com/contrail/contrail/shared/validate"
)

// EventViewed is the access event each read of the log records.
const EventViewed = "LOG_PROOF_VIEWED"

// EventID is an audit event id as a caller sends it: 1 to 64 letters, digits, '-' or '_'
// (a ULID is 26). ParseEventID is the only way to make one.
type EventID struct{ id string }

// ParseEventID checks s.
func ParseEventID(s string) (EventID, error) {
	if s == "" || len(s) > 64 {
		return EventID{}, errors.New("must be an event id (1 to 64 letters, digits, '-' or '_')")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return EventID{}, errors.New("must be an event id (1 to 64 letters, digits, '-' or '_')")
		}
	}
	return EventID{s}, nil
}

// String returns the id.
func (e EventID) String() string { return e.id }

// Service answers the log routes (admins): the latest checkpoint, inclusion and consistency
// proofs, and tiles, of the caller's tenant only. Each read is recorded as LOG_PROOF_VIEWED.
type Service struct {
	Log    *Log          // DB, Table and Archive: it only reads
	Events *audit.Writer // where the access events go
	IDs    *ident.Generator
}

// CheckpointResponse is GET /v1/log/checkpoint.
type CheckpointResponse struct {
	Origin       string   `json:"origin"`
	Size         int64    `json:"size"`
	RootHash     string   `json:"rootHash"`
	Time         string   `json:"time"`
	Checkpoint   string   `json:"checkpoint"`
	VerifierKeys []string `json:"verifierKeys"`
}

// InclusionResponse is GET /v1/log/proof/inclusion.
type InclusionResponse struct {
	EventID  string   `json:"eventId"`
	Index    int64    `json:"index"`
	Size     int64    `json:"size"`
	RootHash string   `json:"rootHash"`
	Leaf     string   `json:"leaf"`
	Proof    []string `json:"proof"`
}

// ConsistencyResponse is GET /v1/log/proof/consistency.
type ConsistencyResponse struct {
	From     int64    `json:"from"`
	To       int64    `json:"to"`
	FromRoot string   `json:"fromRoot"`
	ToRoot   string   `json:"toRoot"`
	Proof    []string `json:"proof"`
}

var errNoLog = fault.New(fault.NotFound, "no_log", "This tenant's log has no checkpoint yet: its first events are sequenced within minutes of being recorded.")

func b64(h tlog.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }

func hashes64(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = b64(h)
	}
	return out
}

// Checkpoint answers GET /v1/log/checkpoint: the latest signed checkpoint and the verifier
// keys (every key the stack has signed with, newest first).
func (s *Service) Checkpoint(ctx context.Context, r *httpapi.Request) (events.APIGatewayV2HTTPResponse, error) {
	none := events.APIGatewayV2HTTPResponse{}
	if err := noParams(r); err != nil {
		return none, err
	}
	key, err := CheckpointKey(r.TenantID)
	if err != nil {
		return none, err
	}
	signed, err := s.Log.Archive.Get(ctx, key)
	if errors.Is(err, archive.ErrNotFound) {
		return none, errNoLog
	}
	if err != nil {
		return none, err
	}
	vkeys, err := s.Log.VerifierKeys(ctx)
	if err != nil {
		return none, err
	}
	c, err := OpenCheckpoint(signed, vkeys...)
	if err != nil {
		return none, fmt.Errorf("latest checkpoint of %s: %w", r.TenantID, err)
	}
	if err := s.recordView(ctx, r, map[string]any{"read": "checkpoint", "size": c.Size}); err != nil {
		return none, err
	}
	return httpapi.JSON(http.StatusOK, CheckpointResponse{
		Origin: c.Origin, Size: c.Size, RootHash: b64(c.Root), Time: c.Time.Format(time.RFC3339),
		Checkpoint: string(signed), VerifierKeys: vkeys,
	}), nil
}

// Inclusion answers GET /v1/log/proof/inclusion?eventId=&size=: the event's leaf index, its
// leaf and the proof that it is in the tree of that size (default: the latest).
func (s *Service) Inclusion(ctx context.Context, r *httpapi.Request) (events.APIGatewayV2HTTPResponse, error) {
	none := events.APIGatewayV2HTTPResponse{}
	q := r.Query()
	p := validate.Problems{}
	unknown(r, p, "eventId", "size")
	id, err := ParseEventID(q.Get("eventId"))
	if err != nil {
		p.Add("eventId", err.Error())
	}
	size, hasSize := sizeParam(q.Get("size"), "size", p)
	if err := p.Err(); err != nil {
		return none, err
	}
	head, err := s.head(ctx, r.TenantID)
	if err != nil {
		return none, err
	}
	if !hasSize {
		size = head.CheckpointSize // what the latest checkpoint signs
	}
	if size > head.Size {
		return none, fault.InvalidFields("invalid_request", "Fix the fields listed in error.fields: size.", map[string]string{"size": fmt.Sprintf("must be at most the log's size, %d", head.Size)})
	}
	c, ok, err := s.Log.lookup(ctx, r.TenantID, id)
	if err != nil {
		return none, err
	}
	if !ok {
		return none, fault.New(fault.NotFound, "not_found", "No event with this id is in this tenant's log (yet: events are sequenced within minutes).")
	}
	if c.Index >= size && !hasSize {
		return none, fault.New(fault.NotFound, "not_found", "The event is sequenced but not in a signed checkpoint yet: ask again within a minute.")
	}
	if c.Index >= size {
		return none, fault.InvalidFields("invalid_request", "Fix the fields listed in error.fields: size.", map[string]string{"size": fmt.Sprintf("the event is leaf %d: size must be more than that", c.Index)})
	}
	leaf, err := s.leaf(ctx, r.TenantID, id, c.At)
	if err != nil {
		return none, err
	}
	thr := tlog.TileHashReader(head.tree(), newTileReader(ctx, s.Log.Archive, r.TenantID))
	stored, err := thr.ReadHashes([]int64{tlog.StoredHashIndex(0, c.Index)})
	if err != nil {
		return none, fmt.Errorf("leaf %d of %s: %w", c.Index, r.TenantID, err)
	}
	if stored[0] != tlog.RecordHash(leaf) {
		return none, fmt.Errorf("leaf %d of %s: the archived event %s does not hash to the logged leaf", c.Index, r.TenantID, id)
	}
	proof, err := tlog.ProveRecord(size, c.Index, thr)
	if err != nil {
		return none, fmt.Errorf("prove leaf %d of %s in %d: %w", c.Index, r.TenantID, size, err)
	}
	root, err := tlog.TreeHash(size, thr)
	if err != nil {
		return none, err
	}
	if err := s.recordView(ctx, r, map[string]any{"read": "inclusion", "eventId": id.String(), "size": size}); err != nil {
		return none, err
	}
	return httpapi.JSON(http.StatusOK, InclusionResponse{
		EventID: id.String(), Index: c.Index, Size: size, RootHash: b64(root), Leaf: string(leaf), Proof: hashes64(proof),
	}), nil
}

// Consistency answers GET /v1/log/proof/consistency?from=&to=: the proof that the tree of
// size from is a prefix of the tree of size to (default: the latest).
func (s *Service) Consistency(ctx context.Context, r *httpapi.Request) (events.APIGatewayV2HTTPResponse, error) {
	none := events.APIGatewayV2HTTPResponse{}
	q := r.Query()
	p := validate.Problems{}
	unknown(r, p, "from", "to")
	from, hasFrom := sizeParam(q.Get("from"), "from", p)
	if !hasFrom {
		p.Add("from", "is required: a tree size")
	}
	to, hasTo := sizeParam(q.Get("to"), "to", p)
	if err := p.Err(); err != nil {
		return none, err
	}
	head, err := s.head(ctx, r.TenantID)
	if err != nil {
		return none, err
	}
	if !hasTo {
		to = head.CheckpointSize
	}
	switch {
	case to > head.Size:
		p.Add("to", fmt.Sprintf("must be at most the log's size, %d", head.Size))
	case from > to:
		p.Add("from", "must be at most to")
	}
	if err := p.Err(); err != nil {
		return none, err
	}
	thr := tlog.TileHashReader(head.tree(), newTileReader(ctx, s.Log.Archive, r.TenantID))
	proof, err := tlog.ProveTree(to, from, thr)
	if err != nil {
		return none, fmt.Errorf("prove %d in %d of %s: %w", from, to, r.TenantID, err)
	}
	fromRoot, err := tlog.TreeHash(from, thr)
	if err != nil {
		return none, err
	}
	toRoot, err := tlog.TreeHash(to, thr)
	if err != nil {
		return none, err
	}
	if err := s.recordView(ctx, r, map[string]any{"read": "consistency", "from": from, "to": to}); err != nil {
		return none, err
	}
	return httpapi.JSON(http.StatusOK, ConsistencyResponse{From: from, To: to, FromRoot: b64(fromRoot), ToRoot: b64(toRoot), Proof: hashes64(proof)}), nil
}

// Tile answers GET /v1/log/tile/{path+}: one tile of the caller's tenant's log, by its C2SP
// path below tile/ (0/x001/234, 1/000.p/17), as application/octet-stream.
func (s *Service) Tile(ctx context.Context, r *httpapi.Request) (events.APIGatewayV2HTTPResponse, error) {
	none := events.APIGatewayV2HTTPResponse{}
	if err := noParams(r); err != nil {
		return none, err
	}
	tp, err := ParseTilePath("tile/" + r.PathParam("path"))
	if err != nil {
		return none, fault.InvalidFields("invalid_request", "Fix the fields listed in error.fields: path.", map[string]string{"path": "must be a tile path: <level>/<number>[.p/<width>], the number in three-digit groups (x001/234)"})
	}
	key, err := TileKey(r.TenantID, tp)
	if err != nil {
		return none, err
	}
	b, err := s.Log.Archive.Get(ctx, key)
	if errors.Is(err, archive.ErrNotFound) {
		return none, fault.New(fault.NotFound, "not_found", "This tile is not in the log (yet); a partial tile may be, at another width.")
	}
	if err != nil {
		return none, err
	}
	if err := s.recordView(ctx, r, map[string]any{"read": "tile", "tile": tp.String()}); err != nil {
		return none, err
	}
	cache := "private, no-cache"
	if tp.Tile().W == 1<<TileHeight {
		cache = "private, max-age=31536000, immutable" // a full tile never changes
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusOK, IsBase64Encoded: true, Body: base64.StdEncoding.EncodeToString(b),
		Headers: map[string]string{"content-type": "application/octet-stream", "cache-control": cache},
	}, nil
}

func (s *Service) head(ctx context.Context, t tenant.ID) (Head, error) {
	head, err := s.Log.Head(ctx, t)
	if err != nil {
		return head, err
	}
	// Serve what is tiled and signed: a committed rest is tiled by the sequencer's next run.
	if head.Tiled == 0 || head.CheckpointSize == 0 {
		return head, errNoLog
	}
	head.Size, head.Root = head.Tiled, head.TiledRoot
	head.CheckpointSize = min(head.CheckpointSize, head.Tiled)
	return head, nil
}

// leaf reads the event's leaf from the archive: the row at its time with its id.
func (s *Service) leaf(ctx context.Context, t tenant.ID, id EventID, at int64) ([]byte, error) {
	var leaf []byte
	from := time.UnixMilli(at).UTC()
	r := &archive.Reader{Store: s.Log.Archive}
	err := r.Scan(ctx, archive.Query{Tenant: t, From: from, To: from.Add(time.Millisecond)}, func(row *archive.Row) error {
		if row.EventID != id.String() {
			return nil
		}
		var err error
		leaf, err = Leaf(row)
		return err
	})
	if err != nil {
		return nil, err
	}
	if leaf == nil {
		return nil, fmt.Errorf("event %s of %s is in the log but not in the archive at %s", id, t, from.Format(time.RFC3339Nano))
	}
	return leaf, nil
}

// recordView records LOG_PROOF_VIEWED for the caller, with what was read.
func (s *Service) recordView(ctx context.Context, r *httpapi.Request, data map[string]any) error {
	now := s.IDs.Now()
	ev := r.AuditEvent(s.IDs.At(now), EventViewed, now, data)
	if _, err := s.Events.Write(ctx, []audit.Event{*ev}); err != nil {
		return fmt.Errorf("record %s: %w", EventViewed, err)
	}
	return nil
}

// sizeParam reads a tree size parameter: a decimal number from 0; ok is false when absent.
func sizeParam(v, name string, p validate.Problems) (int64, bool) {
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != v {
		p.Add(name, "must be a tree size: a whole number from 0")
		return 0, false
	}
	return n, true
}

// unknown adds a problem for each query parameter not in known.
func unknown(r *httpapi.Request, p validate.Problems, known ...string) {
	for name := range r.Query() {
		ok := false
		for _, k := range known {
			ok = ok || k == name
		}
		if !ok {
			p.Add(name, "is not a parameter of this route")
		}
	}
}

func noParams(r *httpapi.Request) error {
	p := validate.Problems{}
	unknown(r, p)
	return p.Err()
}
