package audit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/oklog/ulid/v2"

	"github.com/contrail/contrail/shared/ddb"
	"github.com/contrail/contrail/shared/retry"
)

// TransactWriteAPI is the part of the DynamoDB client the batch writer uses.
type TransactWriteAPI interface {
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ TransactWriteAPI = (*dynamodb.Client)(nil)

// BatchSize is the most events one transaction writes (DynamoDB takes up to 100 items; 25
// keeps a transaction's retry cheap and under the 4 MB request limit with room to spare).
const BatchSize = 25

// Writer stores batches of ingested events (platform and co-browsing events, which change
// no other state). Each chunk of BatchSize events is one transaction of puts conditional on
// attribute_not_exists(pk): an event is only ever added, never overwritten, and a chunk is
// stored whole or not at all. Keys come from the event ids, so a retried batch (same
// Idempotency-Key, hence same ids and items) finds the events it stored already: those count
// as stored and are not written again.
type Writer struct {
	DB        TransactWriteAPI
	Table     string
	Keys      Keys
	Retention Retention
	// Attempts is how many times a chunk is sent when DynamoDB cancels it for throttling or
	// a conflicting transaction (default 8); Backoff the first wait (default 50 ms), doubled
	// each time up to 2 s, with full jitter.
	Attempts int
	Backoff  time.Duration
	// Sleep waits d or until ctx ends; tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Written says which events of a batch are stored, by id, in input order.
type Written struct {
	Stored    []string
	NotStored []string
}

// Write stores evs, BatchSize at a time, retrying cancelled transactions with exponential
// backoff and jitter. It reports exactly which ids were stored: when err is not nil,
// NotStored lists the events that were not (they can be sent again safely).
func (w *Writer) Write(ctx context.Context, evs []Event) (Written, error) {
	var res Written
	failed := map[string]bool{}
	var firstErr error
	for start := 0; start < len(evs); start += BatchSize {
		chunk := evs[start:min(start+BatchSize, len(evs))]
		if firstErr != nil {
			for _, e := range chunk {
				failed[e.ID] = true
			}
			continue
		}
		if err := w.writeChunk(ctx, chunk); err != nil {
			for _, e := range chunk {
				failed[e.ID] = true
			}
			firstErr = err
		}
	}
	for _, e := range evs {
		if failed[e.ID] {
			res.NotStored = append(res.NotStored, e.ID)
		} else {
			res.Stored = append(res.Stored, e.ID)
		}
	}
	return res, firstErr
}

func (w *Writer) attempts() int {
	if w.Attempts > 0 {
		return w.Attempts
	}
	return 8
}

// writeChunk writes at most BatchSize events in one transaction; nil when every event of
// the chunk is stored (by this call or an earlier one).
func (w *Writer) writeChunk(ctx context.Context, chunk []Event) error {
	items := make([]types.TransactWriteItem, len(chunk))
	for i := range chunk {
		tx, err := w.Keys.PutTx(w.Table, &chunk[i], w.Retention)
		if err != nil {
			return err
		}
		items[i] = tx
	}
	backoff := w.Backoff
	if backoff <= 0 {
		backoff = 50 * time.Millisecond
	}
	for attempt := 1; ; attempt++ {
		_, err := w.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return nil
		}
		reasons := ddb.Reasons(err)
		if reasons == nil {
			return fmt.Errorf("write %d events: %w", len(items), err)
		}
		left, retry := remaining(items, reasons)
		switch {
		case len(left) == 0: // every event was there already: a retried batch
			return nil
		case !retry:
			return fmt.Errorf("write %d events: %w", len(items), err)
		case len(left) < len(items): // drop those stored already; the rest go again at once
			items = left
			continue
		case attempt >= w.attempts():
			return fmt.Errorf("write %d events: still cancelled after %d attempts: %w", len(items), attempt, err)
		}
		wait := time.Duration(rand.Int64N(int64(backoff) + 1)) // full jitter
		if err := w.sleep(ctx, wait); err != nil {
			return fmt.Errorf("wait to retry %d events: %w", len(items), err)
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}

// remaining reads a cancelled transaction's reasons: the items to send again (all but those
// whose condition failed, which exist already) and whether sending them can succeed (every
// other reason is none, throttling or a conflicting transaction).
func remaining(items []types.TransactWriteItem, reasons []string) ([]types.TransactWriteItem, bool) {
	if len(reasons) != len(items) {
		return items, false
	}
	var left []types.TransactWriteItem
	retry := true
	for i, code := range reasons {
		if code == ddb.ReasonConditionFailed {
			continue
		}
		left = append(left, items[i])
		retry = retry && ddb.Transient(code)
	}
	return left, retry
}

func (w *Writer) sleep(ctx context.Context, d time.Duration) error {
	if w.Sleep != nil {
		return w.Sleep(ctx, d)
	}
	return retry.Sleep(ctx, d)
}

// BatchSeed is the 6 bytes shared by the ids of one batch.
type BatchSeed [6]byte

// SeedFrom derives a batch seed from s (an idempotency key record), so a retried batch gets
// the same ids.
func SeedFrom(s string) BatchSeed {
	sum := sha256.Sum256([]byte(s))
	var b BatchSeed
	copy(b[:], sum[:])
	return b
}

// BatchID returns the id of the index-th event of a batch: a ULID with the event's time and,
// as its entropy, the batch seed then the index. Ids are unique within the batch, the same
// for the same seed, and events of a batch that share a millisecond sort in input order.
func BatchID(at time.Time, seed BatchSeed, index int) string {
	var entropy [10]byte
	copy(entropy[:6], seed[:])
	binary.BigEndian.PutUint32(entropy[6:], uint32(index))
	var id ulid.ULID
	if err := id.SetTime(ulid.Timestamp(at)); err != nil {
		panic(fmt.Sprintf("event time %v out of ULID range", at))
	}
	if err := id.SetEntropy(entropy[:]); err != nil {
		panic(err)
	}
	return id.String()
}

// KeysOf returns the base-table key of an event, for reads by id.
func (k Keys) KeysOf(e *Event) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: PK(e.TenantID, Day(e.OccurredAt), k.Shard(e.ID))},
		"sk": &types.AttributeValueMemberS{Value: SK(e.OccurredAt, e.ID)},
	}
}
