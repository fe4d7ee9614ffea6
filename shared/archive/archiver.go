package archive

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/contrail/contrail/shared/tenant"
)

// Archiver writes the audit events of a stream batch to the archive: one part per
// tenant-day in the batch, rows sorted by time, keyed by a digest of the event ids it
// holds, so that a retried batch rewrites its own objects. Readers drop the duplicates a
// retry with a different grouping leaves behind; compaction removes them for good.
type Archiver struct {
	Store Store
	Log   *slog.Logger
	// Parallel is how many tenant-days are encoded and written at once; 0 means 8.
	Parallel int
	// Clock dates the records set aside; nil means time.Now.
	Clock func() time.Time
}

type tenantDay struct {
	tenant tenant.ID
	date   string
}

type dayGroup struct {
	rows []Row
	seqs []string // sequence numbers of the records behind rows
}

// Handle archives a batch. Records that are not inserted audit events (TTL expiries,
// modifications, other item types) are ignored. When the write of a tenant-day fails, the
// sequence numbers of exactly that tenant-day's records are reported as batch item
// failures, so Lambda retries from there. A record that can never be archived (it does not
// convert to a row: a tenant id no partition may hold, a bad time) is set aside at once
// under rejected/ with its reason (SetAside), so it holds back neither its shard nor any
// tenant's reports; it is retried only while setting it aside fails. It never returns an
// error: a failed invocation would retry the whole batch.
func (a *Archiver) Handle(ctx context.Context, batch *StreamBatch) (events.DynamoDBEventResponse, error) {
	log := a.log()
	var failed []string
	var rejected []Rejected
	ignored := 0
	rows := make([]Row, 0, len(batch.Records))
	seqs := make([]string, 0, len(batch.Records))
	for i := range batch.Records {
		rec := &batch.Records[i]
		if !rec.IsEvent() {
			ignored++
			continue
		}
		row, err := rec.DynamoDB.NewImage.Row()
		if err != nil {
			rejected = append(rejected, Rejected{Record: *rec, Reason: err.Error()})
			continue
		}
		rows = append(rows, row)
		seqs = append(seqs, rec.DynamoDB.SequenceNumber)
	}
	if len(rejected) > 0 {
		key, err := a.SetAside(ctx, rejected)
		if err != nil {
			log.ErrorContext(ctx, "audit events cannot be archived nor set aside; they will be retried", "records", len(rejected), "error", err.Error())
			for _, r := range rejected {
				failed = append(failed, r.Record.DynamoDB.SequenceNumber)
			}
		} else {
			for _, r := range rejected {
				log.ErrorContext(ctx, "audit event cannot be archived; set aside for an operator", "sequence_number", r.Record.DynamoDB.SequenceNumber,
					"event_id", r.Record.DynamoDB.NewImage.ID.S, "reason", r.Reason, "key", key)
			}
		}
	}
	parts, notWritten := a.Write(ctx, rows, seqs)
	failed = append(failed, notWritten...)
	sort.Strings(failed)
	var failures []events.DynamoDBBatchItemFailure
	for _, seq := range failed {
		failures = append(failures, events.DynamoDBBatchItemFailure{ItemIdentifier: seq})
	}
	log.InfoContext(ctx, "stream batch archived", "records", len(batch.Records), "ignored", ignored, "parts", parts,
		"set_aside", len(rejected), "failed_records", len(failures))
	return events.DynamoDBEventResponse{BatchItemFailures: failures}, nil
}

// Rejected is a stream record the archiver set aside, with why.
type Rejected struct {
	Record StreamRecord
	Reason string
}

// RejectedBatch is the body of an object under rejected/: a stream batch in the shape Lambda
// delivers (so an operator who fixed the cause can invoke ArchiverFunction with it as the
// payload) plus, per sequence number, why each record was set aside.
type RejectedBatch struct {
	Records    []StreamRecord    `json:"Records"`
	Reasons    map[string]string `json:"reasons"`
	RejectedAt string            `json:"rejectedAt"`
}

// SetAside writes records that can never be archived to one object under rejected/ and
// returns its key. The key is a digest of their sequence numbers, so a retry rewrites it.
func (a *Archiver) SetAside(ctx context.Context, rs []Rejected) (string, error) {
	now := time.Now
	if a.Clock != nil {
		now = a.Clock
	}
	b := RejectedBatch{Reasons: map[string]string{}, RejectedAt: now().UTC().Format(time.RFC3339)}
	seqs := make([]string, len(rs))
	for i, r := range rs {
		b.Records = append(b.Records, r.Record)
		b.Reasons[r.Record.DynamoDB.SequenceNumber] = r.Reason
		seqs[i] = r.Record.DynamoDB.SequenceNumber
	}
	sort.Strings(seqs)
	body, err := json.Marshal(b)
	if err != nil {
		return "", fmt.Errorf("encode rejected records: %w", err)
	}
	key := RejectedKey(now().UTC().Format(time.DateOnly), seqs)
	if err := a.Store.Put(ctx, key, body); err != nil {
		return "", fmt.Errorf("set aside %d records at %s: %w", len(rs), key, err)
	}
	return key, nil
}

// Write archives rows, one part per tenant-day, and returns how many parts it wrote and
// the ids (ids[i] names rows[i]: a stream sequence number) of the rows whose tenant-day
// could not be written.
func (a *Archiver) Write(ctx context.Context, rows []Row, ids []string) (parts int, failed []string) {
	log := a.log()
	groups := map[tenantDay]*dayGroup{}
	var order []tenantDay
	for i, row := range rows {
		k := tenantDay{tenant.ID(row.TenantID), row.Date()} // PartKey checks it again
		g := groups[k]
		if g == nil {
			g = &dayGroup{}
			groups[k] = g
			order = append(order, k)
		}
		g.rows = append(g.rows, row)
		g.seqs = append(g.seqs, ids[i])
	}

	parallel := a.Parallel
	if parallel <= 0 {
		parallel = 8
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallel)
	for _, k := range order {
		g := groups[k]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			key, err := a.writePart(ctx, k, g.rows)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				log.ErrorContext(ctx, "archive part not written; its records will be retried", "tenant_id", k.tenant, "date", k.date, "records", len(g.seqs), "error", err.Error())
				failed = append(failed, g.seqs...)
				return
			}
			parts++
			log.DebugContext(ctx, "archive part written", "tenant_id", k.tenant, "date", k.date, "key", key, "events", len(g.rows))
		}()
	}
	wg.Wait()
	return parts, failed
}

func (a *Archiver) log() *slog.Logger {
	if a.Log == nil {
		return slog.Default()
	}
	return a.Log
}

// EncodePart returns the key and body of the part object of rows of one tenant-day, rows in
// the order given (the archiver's are sorted and unique): the body is the rows' Parquet, the
// key is named for the digest of their sorted event ids.
func EncodePart(t tenant.ID, date string, rows []Row) (string, []byte, error) {
	ids := make([]string, len(rows))
	for i := range rows {
		ids[i] = rows[i].EventID
	}
	sort.Strings(ids)
	body, err := Encode(rows, nil)
	if err != nil {
		return "", nil, err
	}
	key, err := PartKey(t, date, ids)
	if err != nil {
		return "", nil, err
	}
	return key, body, nil
}

// writePart writes one tenant-day's rows, marks the day for compaction and records the
// part's events for the log's sequencer. A failure of any of the three fails the tenant-day,
// which the stream then retries: the part and the markers are rewritten.
func (a *Archiver) writePart(ctx context.Context, k tenantDay, rows []Row) (string, error) {
	rows = SortUnique(rows)
	key, body, err := EncodePart(k.tenant, k.date, rows)
	if err != nil {
		return "", err
	}
	mark, err := PendingKey(k.tenant, k.date)
	if err != nil {
		return "", err
	}
	if err := a.Store.Put(ctx, key, body); err != nil {
		return "", err
	}
	// The marker goes after the part: a compactor that deleted it before listing the day
	// either saw this part or finds the marker again on its next run.
	if err := a.Store.Put(ctx, mark, nil); err != nil {
		return "", err
	}
	// The sequence marker goes after the part too: the sequencer reads the part it names.
	if err := a.writeSequenceMarker(ctx, k, key, rows); err != nil {
		return "", err
	}
	return key, nil
}

// writeSequenceMarker writes the marker of the part key: its events in the part's order.
func (a *Archiver) writeSequenceMarker(ctx context.Context, k tenantDay, key string, rows []Row) error {
	now := time.Now
	if a.Clock != nil {
		now = a.Clock
	}
	m := SequenceMarker{Part: key, Date: k.date, EventIDs: make([]string, len(rows))}
	for i := range rows {
		m.EventIDs[i] = rows[i].EventID
	}
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode sequence marker of %s: %w", key, err)
	}
	seqKey, err := SequenceKey(k.tenant, now(), key)
	if err != nil {
		return err
	}
	if err := a.Store.Put(ctx, seqKey, body); err != nil {
		return fmt.Errorf("write sequence marker of %s: %w", key, err)
	}
	return nil
}

// SortUnique sorts rows by (occurred_at, event_id) and drops repeated event ids, in place.
func SortUnique(rows []Row) []Row {
	sort.Slice(rows, func(i, j int) bool { return Less(&rows[i], &rows[j]) })
	out := rows[:0]
	for i := range rows {
		if len(out) > 0 && out[len(out)-1].EventID == rows[i].EventID && out[len(out)-1].OccurredAt == rows[i].OccurredAt {
			continue
		}
		out = append(out, rows[i])
	}
	return out
}
