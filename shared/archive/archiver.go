package archive

import (
	"context"
	"log/slog"
	"sort"
	"sync"

	"github.com/aws/aws-lambda-go/events"
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
}

type tenantDay struct{ tenant, date string }

type dayGroup struct {
	rows []Row
	seqs []string // sequence numbers of the records behind rows
}

// Handle archives a batch. Records that are not inserted audit events (TTL expiries,
// modifications, other item types) are ignored. When the write of a tenant-day fails, the
// sequence numbers of exactly that tenant-day's records are reported as batch item
// failures, so Lambda retries from there; a record that cannot be converted is reported
// too (after the retries, the on-failure destination records it). It never returns an
// error: a failed invocation would retry the whole batch.
func (a *Archiver) Handle(ctx context.Context, batch *StreamBatch) (events.DynamoDBEventResponse, error) {
	log := a.log()
	var failed []string
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
			log.ErrorContext(ctx, "audit event cannot be archived", "sequence_number", rec.DynamoDB.SequenceNumber, "event_id", rec.DynamoDB.NewImage.ID.S, "error", err.Error())
			failed = append(failed, rec.DynamoDB.SequenceNumber)
			continue
		}
		rows = append(rows, row)
		seqs = append(seqs, rec.DynamoDB.SequenceNumber)
	}
	parts, notWritten := a.Write(ctx, rows, seqs)
	failed = append(failed, notWritten...)
	sort.Strings(failed)
	var failures []events.DynamoDBBatchItemFailure
	for _, seq := range failed {
		failures = append(failures, events.DynamoDBBatchItemFailure{ItemIdentifier: seq})
	}
	log.InfoContext(ctx, "stream batch archived", "records", len(batch.Records), "ignored", ignored, "parts", parts, "failed_records", len(failures))
	return events.DynamoDBEventResponse{BatchItemFailures: failures}, nil
}

// Write archives rows, one part per tenant-day, and returns how many parts it wrote and
// the ids (ids[i] names rows[i]: a stream sequence number) of the rows whose tenant-day
// could not be written.
func (a *Archiver) Write(ctx context.Context, rows []Row, ids []string) (parts int, failed []string) {
	log := a.log()
	groups := map[tenantDay]*dayGroup{}
	var order []tenantDay
	for i, row := range rows {
		k := tenantDay{row.TenantID, row.Date()}
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

// writePart writes one tenant-day's rows and marks the day for compaction.
func (a *Archiver) writePart(ctx context.Context, k tenantDay, rows []Row) (string, error) {
	rows = SortUnique(rows)
	ids := make([]string, len(rows))
	for i := range rows {
		ids[i] = rows[i].EventID
	}
	sort.Strings(ids)
	body, err := Encode(rows, nil)
	if err != nil {
		return "", err
	}
	key := PartKey(k.tenant, k.date, ids)
	if err := a.Store.Put(ctx, key, body); err != nil {
		return "", err
	}
	// The marker goes after the part: a compactor that deleted it before listing the day
	// either saw this part or finds the marker again on its next run.
	if err := a.Store.Put(ctx, PendingKey(k.tenant, k.date), nil); err != nil {
		return "", err
	}
	return key, nil
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
