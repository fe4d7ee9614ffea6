package audit_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
	"github.com/oklog/ulid/v2"

	"github.com/contrail/contrail/local/ddbtest"
	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/audit"
)

func TestBatchID(t *testing.T) {
	at := time.Date(2026, 3, 10, 12, 0, 0, 123_000_000, time.UTC)
	seed := audit.SeedFrom("T#t1#IDEM#POST /v1/audit-events#key-1")
	var ids []string
	for i := range 300 {
		ids = append(ids, audit.BatchID(at, seed, i))
	}
	if !slices.IsSorted(ids) {
		t.Error("ids of one millisecond are not in input order")
	}
	if len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Error("ids of one batch repeat")
	}
	again := audit.BatchID(at, audit.SeedFrom("T#t1#IDEM#POST /v1/audit-events#key-1"), 7)
	if again != ids[7] {
		t.Errorf("same seed and index: id %s, first time %s", again, ids[7])
	}
	if other := audit.BatchID(at, audit.SeedFrom("another key"), 7); other == ids[7] {
		t.Error("another seed gives the same id")
	}
	if got := ulid.Time(ulid.MustParse(ids[0]).Time()); !got.Equal(at) {
		t.Errorf("id time %v, want %v", got, at)
	}
}

// scriptedDB answers TransactWriteItems per call from a script, recording what it was sent.
type scriptedDB struct {
	calls  [][]string // ids sent per call
	answer func(call int, sent []string) error
}

func (d *scriptedDB) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	var ids []string
	for _, it := range in.TransactItems {
		if it.Put == nil || aws.ToString(it.Put.ConditionExpression) != "attribute_not_exists(pk)" {
			return nil, errors.New("not a put conditional on attribute_not_exists(pk)")
		}
		ids = append(ids, it.Put.Item["id"].(*types.AttributeValueMemberS).Value)
	}
	d.calls = append(d.calls, ids)
	return &dynamodb.TransactWriteItemsOutput{}, d.answer(len(d.calls)-1, ids)
}

// cancelled is DynamoDB's answer to a cancelled transaction: code for the ids in failing,
// None for the others.
func cancelled(sent []string, code string, failing ...string) error {
	codes := make([]string, len(sent))
	for i, id := range sent {
		codes[i] = "None"
		if slices.Contains(failing, id) {
			codes[i] = code
		}
	}
	return ddbtest.Canceled(codes...)
}

func batch(n int) ([]audit.Event, []string) {
	at := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	var evs []audit.Event
	var ids []string
	for i := range n {
		e := event("t1", audit.BatchID(at, audit.SeedFrom("b"), i), "LOGGED_IN", at, "", nil)
		evs = append(evs, e)
		ids = append(ids, e.ID)
	}
	return evs, ids
}

func TestWriterRetries(t *testing.T) {
	evs, ids := batch(60)
	cases := []struct {
		name      string
		answer    func(call int, sent []string) error
		want      audit.Written
		wantErr   bool
		wantCalls [][]string
		wantWaits int
	}{
		{
			name:      "all stored first time",
			answer:    func(int, []string) error { return nil },
			want:      audit.Written{Stored: ids},
			wantCalls: [][]string{ids[:25], ids[25:50], ids[50:]},
		},
		{
			name: "a throttled transaction is sent again until written",
			answer: func(call int, sent []string) error {
				if call < 2 {
					return cancelled(sent, "ThrottlingError", sent[3])
				}
				return nil
			},
			want:      audit.Written{Stored: ids},
			wantCalls: [][]string{ids[:25], ids[:25], ids[:25], ids[25:50], ids[50:]},
			wantWaits: 2,
		},
		{
			name: "events stored already (a retried batch) are not written again",
			answer: func(call int, sent []string) error {
				if call == 0 || call == 2 {
					return cancelled(sent, "ConditionalCheckFailed", ids[3], ids[40])
				}
				return nil
			},
			want: audit.Written{Stored: ids},
			wantCalls: [][]string{ids[:25], slices.Concat(ids[:3], ids[4:25]),
				ids[25:50], slices.Concat(ids[25:40], ids[41:50]), ids[50:]},
		},
		{
			name: "a chunk never written is named, and stops the batch",
			answer: func(call int, sent []string) error {
				if call >= 1 {
					return cancelled(sent, "TransactionConflict", sent[0])
				}
				return nil
			},
			want:      audit.Written{Stored: ids[:25], NotStored: ids[25:]},
			wantErr:   true,
			wantCalls: [][]string{ids[:25], ids[25:50], ids[25:50], ids[25:50], ids[25:50]},
			wantWaits: 3,
		},
		{
			name: "a failed call stops the batch",
			answer: func(call int, sent []string) error {
				if call == 1 {
					return errors.New("service unavailable")
				}
				return nil
			},
			want:      audit.Written{Stored: ids[:25], NotStored: ids[25:]},
			wantErr:   true,
			wantCalls: [][]string{ids[:25], ids[25:50]},
		},
		{
			name: "a transaction cancelled for another reason is not retried",
			answer: func(call int, sent []string) error {
				if call == 0 {
					return cancelled(sent, "ValidationError", sent[7])
				}
				return nil
			},
			want:      audit.Written{NotStored: ids},
			wantErr:   true,
			wantCalls: [][]string{ids[:25]},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := &scriptedDB{answer: tc.answer}
			waits := 0
			w := &audit.Writer{DB: db, Table: "T", Keys: audit.Keys{Shards: 4}, Retention: retention, Attempts: 4,
				Sleep: func(context.Context, time.Duration) error { waits++; return nil }}
			got, err := w.Write(context.Background(), evs)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("written (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantCalls, db.calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if waits != tc.wantWaits {
				t.Errorf("%d waits, want %d", waits, tc.wantWaits)
			}
		})
	}
}

func TestWriterStoresAndRewrites(t *testing.T) {
	db := stacktest.DynamoDB(t)
	table := stacktest.Tables(t)["AuditTable"]
	keys := audit.Keys{Shards: 3}
	evs, ids := batch(60)
	w := &audit.Writer{DB: db, Table: table, Keys: keys, Retention: retention}
	for attempt := range 2 { // the second write is a retry: same ids, same items
		got, err := w.Write(context.Background(), evs)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(audit.Written{Stored: ids}, got); diff != "" {
			t.Errorf("attempt %d: written (-want +got):\n%s", attempt, diff)
		}
	}
	r := &audit.Reader{DB: db, Table: table, Keys: keys}
	at := evs[0].Occurred()
	read, next, err := r.Log(context.Background(), "t1", audit.Filter{From: at.Add(-time.Hour), To: at.Add(time.Hour)}, "", 100)
	if err != nil || next != "" {
		t.Fatalf("read: next %q, error %v", next, err)
	}
	if diff := cmp.Diff(newestFirst(evs), read); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
}
