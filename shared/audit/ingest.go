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
)

// BatchWriteAPI is the part of the DynamoDB client the batch writer uses.
type BatchWriteAPI interface {
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

var _ BatchWriteAPI = (*dynamodb.Client)(nil)

// BatchSize is the most items one BatchWriteItem call takes.
const BatchSize = 25

// Writer stores batches of ingested events (platform and co-browsing events, which change
// no other state and so need no transaction). Writes are plain puts of items whose keys come
// from the event ids: writing the same events again overwrites them with themselves, so a
// retried batch (same Idempotency-Key, hence same ids) is safe.
type Writer struct {
	DB        BatchWriteAPI
	Table     string
	Keys      Keys
	Retention Retention
	// Attempts is how many times unprocessed items are sent (default 8); Backoff the first
	// wait (default 50 ms), doubled each time up to 2 s, with full jitter.
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

// Write stores evs, BatchSize at a time, retrying unprocessed items with exponential backoff
// and jitter. It reports exactly which ids were stored: when err is not nil, NotStored lists
// the events that may not have been (they can be written again safely).
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
		left, err := w.writeChunk(ctx, chunk)
		for _, id := range left {
			failed[id] = true
		}
		if err != nil {
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
	if firstErr != nil {
		return res, firstErr
	}
	if len(res.NotStored) > 0 {
		return res, fmt.Errorf("write events: %d of %d still unprocessed after %d attempts", len(res.NotStored), len(evs), w.attempts())
	}
	return res, nil
}

func (w *Writer) attempts() int {
	if w.Attempts > 0 {
		return w.Attempts
	}
	return 8
}

// writeChunk writes at most BatchSize events and returns the ids not written.
func (w *Writer) writeChunk(ctx context.Context, chunk []Event) ([]string, error) {
	reqs := make([]types.WriteRequest, len(chunk))
	idOf := map[string]string{} // sk -> id, to name unprocessed items
	for i := range chunk {
		item, err := w.Keys.Item(&chunk[i], w.Retention)
		if err != nil {
			return ids(chunk), err
		}
		idOf[SK(chunk[i].OccurredAt, chunk[i].ID)] = chunk[i].ID
		reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: item}}
	}
	backoff := w.Backoff
	if backoff <= 0 {
		backoff = 50 * time.Millisecond
	}
	for attempt := 1; ; attempt++ {
		out, err := w.DB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{w.Table: reqs},
		})
		if err != nil {
			return pending(reqs, idOf), fmt.Errorf("write %d events: %w", len(reqs), err)
		}
		reqs = out.UnprocessedItems[w.Table]
		if len(reqs) == 0 {
			return nil, nil
		}
		if attempt >= w.attempts() {
			return pending(reqs, idOf), nil
		}
		wait := time.Duration(rand.Int64N(int64(backoff) + 1)) // full jitter
		if err := w.sleep(ctx, wait); err != nil {
			return pending(reqs, idOf), fmt.Errorf("wait to retry %d unprocessed events: %w", len(reqs), err)
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}

func (w *Writer) sleep(ctx context.Context, d time.Duration) error {
	if w.Sleep != nil {
		return w.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func ids(evs []Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func pending(reqs []types.WriteRequest, idOf map[string]string) []string {
	out := make([]string, 0, len(reqs))
	for _, r := range reqs {
		if r.PutRequest == nil {
			continue
		}
		if sk, ok := r.PutRequest.Item["sk"].(*types.AttributeValueMemberS); ok {
			out = append(out, idOf[sk.Value])
		}
	}
	return out
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
