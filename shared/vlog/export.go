package vlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/tenant"
	"github.com/contrail/contrail/shared/vlog/bundle"
)

// Exporter writes the verifiable export of a tenant's period: a bundle
// (contrail-log-bundle/v1, docs/verifying.md) holding, from the first leaf whose event
// occurred in the period to the last, every leaf of the tenant's log in stored form with its
// index, the latest signed checkpoint and every tile of the tree it signs.
//
// It reports what storage holds, not what the log says should be there: a leaf is rebuilt
// from the audit table while the table retains the event (the item converted as the
// archiver converts its stream image), else from the Parquet archive (parts or compacted
// objects, archive.Reader). An event found in neither is left out and an event whose bytes
// changed is written as found, each with a warning, so that contrail-verify names the
// problem; the tiles are copied as stored, not checked. Memory is bounded: the appends are
// read a page at a time, leaves resolved Chunk at a time, tiles fetched a batch at a time.
type Exporter struct {
	// Log reads LogTable (the append records: each leaf's event id, time and hash) and the
	// archive bucket (the latest checkpoint, the tiles, archived events). It writes nothing.
	Log *Log
	// The audit table, where an event is read while it is retained (Retention): Log.DB
	// reads it.
	AuditTable string
	AuditKeys  audit.Keys
	Retention  audit.Retention
	// Clock is the time retention is judged at; nil means time.Now.
	Clock func() time.Time
	// Chunk is how many leaves are resolved at once; 0 means 4096.
	Chunk int
}

// NewExporter returns the exporter over LogTable logTable, the archive store and the audit
// table cfg describes, with db reading both tables.
func NewExporter(db DB, logTable string, store archive.Store, cfg audit.StoreConfig) *Exporter {
	return &Exporter{Log: &Log{DB: db, Table: logTable, Archive: store}, AuditTable: cfg.Table, AuditKeys: cfg.Keys(), Retention: cfg.Retention}
}

// WriteBundle writes the bundle of the tenant's events that occurred in [from, to) to w
// (uncompressed JSON) and returns how many entries it holds. ErrNoLog (wrapped) when the
// tenant has no signed checkpoint yet.
func (x *Exporter) WriteBundle(ctx context.Context, w io.Writer, t tenant.ID, from, to time.Time) (int64, error) {
	cp, signed, err := x.latest(ctx, t)
	if err != nil {
		return 0, err
	}
	st := x.Log.state()
	// Pass 1: the period's first and last leaf, and where the append holding the first starts
	// (nothing in the period: an empty range at the tree's end).
	first, next, start, err := st.periodLeaves(ctx, t, cp.Size, from, to)
	if err != nil {
		return 0, fmt.Errorf("export the log of %s: %w", t, err)
	}
	bw, err := bundle.NewWriter(w, bundle.Header{Origin: Origin(t), From: from.UTC(), To: to.UTC(), First: first, Next: next, Checkpoint: string(signed)})
	if err != nil {
		return 0, err
	}
	// Pass 2: the leaves of [first, next), Chunk at a time.
	chunk := x.Chunk
	if chunk <= 0 {
		chunk = 4096
	}
	var written int64
	pending := make([]exportSlot, 0, chunk)
	flush := func() error {
		n, err := x.writeLeaves(ctx, bw, t, pending)
		written += n
		pending = pending[:0]
		return err
	}
	if first < next {
		err = st.eachAppend(ctx, t, start, next, "", func(r *appendRecord) error {
			for i, id := range r.IDs {
				n := r.Start + int64(i)
				if n < first || n >= next {
					continue
				}
				pending = append(pending, exportSlot{index: n, id: id, at: r.Times[i], hash: hashOf(r.Hashes[i*tlog.HashSize:])})
				if len(pending) == chunk {
					if err := flush(); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err == nil {
			err = flush()
		}
		if err != nil {
			return written, fmt.Errorf("export the log of %s: %w", t, err)
		}
	}
	if err := x.writeTiles(ctx, bw, t, cp.Size); err != nil {
		return written, err
	}
	return written, bw.Close(nil)
}

// latest reads the tenant's latest checkpoint as published (not verified: the verifier does).
func (x *Exporter) latest(ctx context.Context, t tenant.ID) (Checkpoint, []byte, error) {
	key, err := CheckpointKey(t)
	if err != nil {
		return Checkpoint{}, nil, err
	}
	signed, err := x.Log.Archive.Get(ctx, key)
	if errors.Is(err, archive.ErrNotFound) {
		return Checkpoint{}, nil, fmt.Errorf("export the log of %s: %w", t, ErrNoLog)
	}
	if err != nil {
		return Checkpoint{}, nil, fmt.Errorf("export the log of %s: latest checkpoint: %w", t, err)
	}
	body, _, ok := strings.Cut(string(signed), "\n\n")
	if !ok {
		return Checkpoint{}, nil, fmt.Errorf("export the log of %s: the latest checkpoint is not a signed note", t)
	}
	c, err := bundle.ParseCheckpointBody(body + "\n")
	if err != nil {
		return Checkpoint{}, nil, fmt.Errorf("export the log of %s: latest checkpoint: %w", t, err)
	}
	if c.Origin != Origin(t) {
		return Checkpoint{}, nil, fmt.Errorf("export the log of %s: the latest checkpoint is of %s", t, c.Origin)
	}
	return c, signed, nil
}

// exportSlot is one leaf to export: what the append record says, and the leaf found.
type exportSlot struct {
	index int64
	id    string
	at    int64 // occurred_at, Unix ms
	hash  tlog.Hash
	leaf  []byte
}

// writeLeaves resolves the leaves of slots (in index order) and writes them.
func (x *Exporter) writeLeaves(ctx context.Context, bw *bundle.Writer, t tenant.ID, slots []exportSlot) (int64, error) {
	if len(slots) == 0 {
		return 0, nil
	}
	if err := x.fromAuditTable(ctx, t, slots); err != nil {
		return 0, err
	}
	if err := x.fromArchive(ctx, t, slots); err != nil {
		return 0, err
	}
	var n int64
	for i := range slots {
		s := &slots[i]
		if s.leaf == nil {
			slog.WarnContext(ctx, "verifiable export: a logged event is in neither the audit table nor the archive; left out", "tenant_id", t, "event_id", s.id, "index", s.index)
			continue
		}
		if bundle.LeafHash(s.leaf) != s.hash {
			slog.WarnContext(ctx, "verifiable export: a stored event is not the leaf the log recorded; written as stored", "tenant_id", t, "event_id", s.id, "index", s.index)
		}
		if err := bw.Add(bundle.Entry{Index: s.index, Leaf: s.leaf}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// maxRetention is the longest the audit table keeps an event of any category.
func (x *Exporter) maxRetention() time.Duration {
	var most time.Duration
	for _, d := range x.Retention {
		most = max(most, d)
	}
	return most
}

func (x *Exporter) now() time.Time {
	if x.Clock == nil {
		return time.Now()
	}
	return x.Clock()
}

// fromAuditTable fills the leaves of the slots whose events the audit table may still
// retain, reading their items by key (BatchGetItem, 100 keys a request, 4 at once).
func (x *Exporter) fromAuditTable(ctx context.Context, t tenant.ID, slots []exportSlot) error {
	if x.AuditTable == "" {
		return nil
	}
	oldest := x.now().Add(-x.maxRetention()).UnixMilli()
	var want []int // slots to look up
	for i := range slots {
		if slots[i].at >= oldest {
			want = append(want, i)
		}
	}
	byKey := make(map[string]int, len(want))
	keys := make([]map[string]types.AttributeValue, len(want))
	for k, i := range want {
		at := audit.FormatTime(time.UnixMilli(slots[i].at))
		pk, sk := audit.PK(t, audit.Day(at), x.AuditKeys.Shard(slots[i].id)), audit.SK(at, slots[i].id)
		keys[k] = map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}}
		byKey[pk+"\x00"+sk] = i
	}
	var mu sync.Mutex
	return inBatches(len(keys), 100, 4, func(lo, hi int) error {
		req := map[string]types.KeysAndAttributes{x.AuditTable: {Keys: keys[lo:hi]}}
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt > 0 {
				if err := sleep(ctx, attempt); err != nil {
					return err
				}
			}
			out, err := x.Log.DB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return fmt.Errorf("read events of %s from the audit table: %w", t, err)
			}
			for _, item := range out.Responses[x.AuditTable] {
				pk, _ := item["pk"].(*types.AttributeValueMemberS)
				sk, _ := item["sk"].(*types.AttributeValueMemberS)
				if pk == nil || sk == nil {
					continue
				}
				i, ok := byKey[pk.Value+"\x00"+sk.Value]
				if !ok {
					continue
				}
				leaf, err := leafOfItem(item)
				if err != nil {
					return fmt.Errorf("event %s of %s in the audit table: %w", slots[i].id, t, err)
				}
				mu.Lock()
				slots[i].leaf = leaf
				mu.Unlock()
			}
			req = out.UnprocessedKeys
		}
		return nil
	})
}

// leafOfItem is the leaf of an audit table item, converted as the archiver converts the
// item's stream image, so it is the leaf the sequencer hashed from the archived row.
func leafOfItem(item map[string]types.AttributeValue) ([]byte, error) {
	row, err := rowOfItem(item)
	if err != nil {
		return nil, err
	}
	return Leaf(&row)
}

// rowOfItem is the archive row of an audit table item, as the archiver makes it from the
// item's stream image.
func rowOfItem(item map[string]types.AttributeValue) (archive.Row, error) {
	raw, err := json.Marshal(audit.ToStreamImage(item))
	if err != nil {
		return archive.Row{}, err
	}
	var im archive.EventImage
	if err := json.Unmarshal(raw, &im); err != nil {
		return archive.Row{}, err
	}
	return im.Row()
}

// fromArchive fills the leaves still missing from the archive: for each UTC date, the rows
// between the earliest and the latest of the events wanted on it.
func (x *Exporter) fromArchive(ctx context.Context, t tenant.ID, slots []exportSlot) error {
	type window struct{ lo, hi int64 }
	wanted := map[string]int{}
	days := map[string]*window{}
	for i := range slots {
		s := &slots[i]
		if s.leaf != nil {
			continue
		}
		wanted[s.id] = i
		d := time.UnixMilli(s.at).UTC().Format(time.DateOnly)
		if w := days[d]; w == nil {
			days[d] = &window{s.at, s.at}
		} else {
			w.lo, w.hi = min(w.lo, s.at), max(w.hi, s.at)
		}
	}
	dates := make([]string, 0, len(days))
	for d := range days {
		dates = append(dates, d)
	}
	slices.Sort(dates)
	r := &archive.Reader{Store: x.Log.Archive}
	for _, d := range dates {
		w := days[d]
		q := archive.Query{Tenant: t, From: time.UnixMilli(w.lo), To: time.UnixMilli(w.hi + 1)}
		err := r.Scan(ctx, q, func(row *archive.Row) error {
			i, ok := wanted[row.EventID]
			if !ok || slots[i].leaf != nil {
				return nil
			}
			leaf, err := Leaf(row)
			if err != nil {
				return err
			}
			slots[i].leaf = leaf
			return nil
		})
		if err != nil {
			return fmt.Errorf("read events of %s from the archive: %w", t, err)
		}
	}
	return nil
}

// exportTileBatch is how many tiles are fetched before they are written.
const exportTileBatch = 64

// writeTiles copies every tile of the tree of size n, as stored, fetching a batch at a time,
// eight at once. A partial tile never stored at its width is cut from a wider one.
func (x *Exporter) writeTiles(ctx context.Context, bw *bundle.Writer, t tenant.ID, n int64) error {
	tiles := tlog.NewTiles(TileHeight, 0, n)
	data := make([][]byte, exportTileBatch)
	for lo := 0; lo < len(tiles); lo += exportTileBatch {
		batch := tiles[lo:min(lo+exportTileBatch, len(tiles))]
		err := inBatches(len(batch), 1, 8, func(i, _ int) error {
			b, err := newTileReader(ctx, x.Log.Archive, t).readTile(batch[i])
			data[i] = b
			return err
		})
		if err != nil {
			return fmt.Errorf("export the log of %s: %w", t, err)
		}
		for i, tile := range batch {
			if err := bw.AddTile(bundle.TilePath(tile), data[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// eachAppend hands fn the append records covering leaves [start, to), in order, a page at a
// time; start must be where a record starts. proj limits the attributes read ("" for all;
// names as #name, the attribute itself).
func (s *state) eachAppend(ctx context.Context, t tenant.ID, start, to int64, proj string, fn func(*appendRecord) error) error {
	if to <= start {
		return nil
	}
	in := &dynamodb.QueryInput{
		TableName: &s.table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: appendPK(t)}, ":from": &types.AttributeValueMemberS{Value: appendSK(start)},
			":to": &types.AttributeValueMemberS{Value: appendSK(to - 1)},
		},
	}
	if proj != "" {
		in.ProjectionExpression = aws.String(proj)
		in.ExpressionAttributeNames = map[string]string{}
		for _, name := range strings.Split(proj, ",") {
			name = strings.TrimSpace(name)
			in.ExpressionAttributeNames[name] = strings.TrimPrefix(name, "#")
		}
	}
	next := start
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return fmt.Errorf("read the appends of %s [%d, %d): %w", t, start, to, err)
		}
		for _, item := range page.Items {
			var r appendRecord
			if err := attributevalue.UnmarshalMap(item, &r); err != nil {
				return fmt.Errorf("read the appends of %s: %w", t, err)
			}
			if r.Start != next || len(r.Times) == 0 || (proj == "" && (len(r.IDs) != len(r.Times) || len(r.Hashes) != len(r.Times)*tlog.HashSize)) {
				return fmt.Errorf("the appends of %s do not cover [%d, %d) in order: one starts at %d", t, start, to, r.Start)
			}
			next += int64(len(r.Times))
			if err := fn(&r); err != nil {
				return err
			}
		}
		if page.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	if next < to {
		return fmt.Errorf("the appends of %s end at %d, not %d", t, next, to)
	}
	return nil
}
