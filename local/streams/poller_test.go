package streams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/onfailure"
)

func TestMain(m *testing.M) { stacktest.Main(m) }

// scripted is the function under the poller: it records each batch (the items' pk values)
// and answers with reply(batch, call number).
type scripted struct {
	mu     sync.Mutex
	calls  [][]string
	events []events.DynamoDBEvent
	reply  func(pks []string, seqs []string, call int) (string, error)
	got    chan struct{}
}

func newScripted(reply func(pks, seqs []string, call int) (string, error)) *scripted {
	return &scripted{reply: reply, got: make(chan struct{}, 100)}
}

func (s *scripted) Invoke(_ context.Context, fn string, payload []byte) ([]byte, error) {
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	var pks, seqs []string
	for _, r := range ev.Records {
		pks = append(pks, r.Change.Keys["pk"].String())
		seqs = append(seqs, r.Change.SequenceNumber)
	}
	s.mu.Lock()
	s.calls = append(s.calls, pks)
	s.events = append(s.events, ev)
	call := len(s.calls)
	s.mu.Unlock()
	defer func() { s.got <- struct{}{} }()
	if s.reply == nil {
		return []byte(`null`), nil
	}
	out, err := s.reply(pks, seqs, call)
	return []byte(out), err
}

// wait blocks until n invocations happened (failing after a generous bound) and returns them.
func (s *scripted) wait(t *testing.T, n int) [][]string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		s.mu.Lock()
		have := len(s.calls)
		s.mu.Unlock()
		if have >= n {
			break
		}
		select {
		case <-s.got:
		case <-deadline:
			s.mu.Lock()
			defer s.mu.Unlock()
			t.Fatalf("got %d invocations %v, want %d", have, s.calls, n)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]string(nil), s.calls...)
}

// records waits until n records were delivered, in however many batches, and returns them
// in delivery order (a record written after the poller started may come alone or with the next).
func (s *scripted) records(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		s.mu.Lock()
		var flat []string
		for _, b := range s.calls {
			flat = append(flat, b...)
		}
		s.mu.Unlock()
		if len(flat) >= n {
			time.Sleep(100 * time.Millisecond) // let an unexpected extra record show up
			s.mu.Lock()
			flat = flat[:0]
			for _, b := range s.calls {
				flat = append(flat, b...)
			}
			s.mu.Unlock()
			return flat
		}
		select {
		case <-s.got:
		case <-deadline:
			t.Fatalf("got records %v, want %d", flat, n)
		}
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// start runs a poller on one mapping of the contacts table until the test ends.
func start(t *testing.T, m Mapping, inv Invoker, dir string) (stop func()) {
	t.Helper()
	return startConfig(t, Config{Mappings: []Mapping{m}, Invoker: inv, CheckpointDir: dir})
}

// startConfig runs a poller with c (on DynamoDB Local, quiet, polling fast) until the test ends.
func startConfig(t *testing.T, c Config) (stop func()) {
	t.Helper()
	c.Streams, c.Tables, c.Log = stacktest.DynamoDBStreams(t), stacktest.DynamoDB(t), quiet()
	c.PollInterval, c.RetryDelay = 20*time.Millisecond, 5*time.Millisecond
	p, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	select {
	case <-p.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("poller not ready")
	}
	stop = sync.OnceFunc(func() { cancel(); <-done })
	t.Cleanup(stop)
	return stop
}

func put(t *testing.T, table string, pks ...string) {
	t.Helper()
	for _, pk := range pks {
		kind := "keep"
		if strings.HasPrefix(pk, "drop") {
			kind = "drop"
		}
		_, err := stacktest.DynamoDB(t).PutItem(context.Background(), &dynamodb.PutItemInput{
			TableName: aws.String(table),
			Item:      map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "kind": &types.AttributeValueMemberS{Value: kind}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// contactsTable creates a table shaped like ContactsTable (one pk) with a stream of new and
// old images, which the poller tests write to. (The template's ContactsTable has no stream:
// nothing in the stack consumes one.)
func contactsTable(t *testing.T) string {
	t.Helper()
	db := stacktest.DynamoDB(t)
	name := stacktest.UniqueName("streams-")
	_, err := db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
		StreamSpecification:  &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	return name
}

func TestDelivery(t *testing.T) {
	tests := []struct {
		name    string
		mapping Mapping
		items   []string
		reply   func(pks, seqs []string, call int) (string, error)
		want    [][]string
	}{
		{
			name:    "batch size",
			mapping: Mapping{BatchSize: 3, MaxRetryAttempts: -1},
			items:   []string{"a", "b", "c", "d", "e", "f", "g"},
			want:    [][]string{{"a", "b", "c"}, {"d", "e", "f"}, {"g"}},
		},
		{
			name:    "filter on eventName and NewImage attribute",
			mapping: Mapping{BatchSize: 10, MaxRetryAttempts: -1, Filters: []string{`{"eventName":["INSERT"],"dynamodb":{"NewImage":{"kind":{"S":["keep"]}}}}`}},
			items:   []string{"a", "drop-1", "b", "drop-2", "c"},
			want:    [][]string{{"a", "b", "c"}},
		},
		{
			name:    "partial failure retries from the first failed record",
			mapping: Mapping{BatchSize: 4, MaxRetryAttempts: -1, ReportBatchItemFailures: true},
			items:   []string{"a", "b", "c", "d"},
			reply: func(pks, seqs []string, call int) (string, error) {
				if call == 1 {
					// d and c failed: the retry starts at c, the earlier of the two.
					return fmt.Sprintf(`{"batchItemFailures":[{"itemIdentifier":%q},{"itemIdentifier":%q}]}`, seqs[3], seqs[2]), nil
				}
				return `{"batchItemFailures":[]}`, nil
			},
			want: [][]string{{"a", "b", "c", "d"}, {"c", "d"}},
		},
		{
			name:    "an unknown item identifier fails the whole batch",
			mapping: Mapping{BatchSize: 2, MaxRetryAttempts: 1, ReportBatchItemFailures: true},
			items:   []string{"a", "b", "c"},
			reply: func(pks, seqs []string, call int) (string, error) {
				if call == 1 {
					return `{"batchItemFailures":[{"itemIdentifier":"nope"}]}`, nil
				}
				return `{}`, nil
			},
			want: [][]string{{"a", "b"}, {"a", "b"}, {"c"}},
		},
		{
			name:    "retries exhausted: dropped, then the next batch",
			mapping: Mapping{BatchSize: 2, MaxRetryAttempts: 1},
			items:   []string{"a", "b", "c"},
			reply: func(pks, seqs []string, call int) (string, error) {
				if pks[0] == "a" {
					return "", errors.New("boom")
				}
				return "null", nil
			},
			want: [][]string{{"a", "b"}, {"a", "b"}, {"c"}},
		},
		{
			name:    "bisect on function error",
			mapping: Mapping{BatchSize: 4, MaxRetryAttempts: 0, BisectOnError: true},
			items:   []string{"a", "b", "c", "d"},
			reply: func(pks, seqs []string, call int) (string, error) {
				for _, pk := range pks {
					if pk == "c" {
						return "", errors.New("poison")
					}
				}
				return "null", nil
			},
			want: [][]string{{"a", "b", "c", "d"}, {"a", "b"}, {"c", "d"}, {"c"}, {"d"}},
		},
		{
			name:    "retry forever until it succeeds",
			mapping: Mapping{BatchSize: 5, MaxRetryAttempts: -1},
			items:   []string{"a"},
			reply: func(pks, seqs []string, call int) (string, error) {
				if call < 4 {
					return "", errors.New("not yet")
				}
				return "null", nil
			},
			want: [][]string{{"a"}, {"a"}, {"a"}, {"a"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			table := contactsTable(t)
			// Written before the poller starts, read from TRIM_HORIZON: one GetRecords sees them
			// all, so the batches do not depend on timing.
			put(t, table, tc.items...)
			fn := newScripted(tc.reply)
			m := tc.mapping
			m.Function, m.Table, m.StartingPosition = "ArchiverFunction", table, "TRIM_HORIZON"
			start(t, m, fn, "")
			fn.wait(t, len(tc.want))
			time.Sleep(100 * time.Millisecond) // let an unexpected extra invoke show up
			got := fn.wait(t, len(tc.want))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("invocations (-want +got):\n%s", d)
			}
		})
	}
}

type sent struct {
	destination string
	body        []byte
}

// capture is an on-failure destination that keeps what it is sent.
type capture chan sent

func (c capture) Send(_ context.Context, destination string, body []byte) error {
	c <- sent{destination, body}
	return nil
}

// A batch that exhausts its retries goes to the mapping's on-failure destination as Lambda's
// on-failure record, which the archive's replay reads; the next batch goes on.
func TestOnFailureDestination(t *testing.T) {
	table := contactsTable(t)
	put(t, table, "a", "b", "c")
	fn := newScripted(func(pks, seqs []string, call int) (string, error) {
		if pks[0] == "a" {
			return "", errors.New("boom")
		}
		return "null", nil
	})
	dest := make(capture, 4)
	m := Mapping{Function: "ArchiverFunction", Table: table, StartingPosition: "TRIM_HORIZON", BatchSize: 2, MaxRetryAttempts: 1,
		OnFailure: "ArchiveFailureQueue"}
	startConfig(t, Config{Mappings: []Mapping{m}, Invoker: fn, Destinations: dest})
	if d := cmp.Diff([][]string{{"a", "b"}, {"a", "b"}, {"c"}}, fn.wait(t, 3)); d != "" {
		t.Errorf("invocations (-want +got):\n%s", d)
	}
	var got sent
	select {
	case got = <-dest:
	case <-time.After(30 * time.Second):
		t.Fatal("nothing sent to the on-failure destination")
	}
	if got.destination != "ArchiveFailureQueue" {
		t.Errorf("sent to %q, want ArchiveFailureQueue", got.destination)
	}
	var rec onfailure.Record
	if err := json.Unmarshal(got.body, &rec); err != nil {
		t.Fatal(err)
	}
	fn.mu.Lock()
	failed := fn.events[0].Records
	fn.mu.Unlock()
	arrival := func(r events.DynamoDBEventRecord) string {
		return r.Change.ApproximateCreationDateTime.UTC().Format(time.RFC3339)
	}
	var want onfailure.Record
	want.RequestContext.RequestID = rec.RequestContext.RequestID
	want.RequestContext.FunctionArn = "arn:aws:lambda:us-east-1:000000000000:function:ArchiverFunction"
	want.RequestContext.Condition, want.RequestContext.ApproximateInvokeCount = "RetryAttemptsExhausted", 2
	want.ResponseContext.StatusCode, want.ResponseContext.ExecutedVersion, want.ResponseContext.FunctionError = 200, "$LATEST", "Unhandled"
	want.Version, want.Timestamp = "1.0", rec.Timestamp
	want.DDBStreamBatchInfo = &onfailure.BatchInfo{ShardID: rec.DDBStreamBatchInfo.ShardID,
		StartSequenceNumber: failed[0].Change.SequenceNumber, EndSequenceNumber: failed[1].Change.SequenceNumber,
		ApproximateArrivalOfFirstRecord: arrival(failed[0]), ApproximateArrivalOfLastRecord: arrival(failed[1]),
		BatchSize: 2, StreamArn: failed[0].EventSourceArn}
	if d := cmp.Diff(want, rec); d != "" {
		t.Errorf("on-failure record (-want +got):\n%s", d)
	}
	if len(rec.RequestContext.RequestID) != 32 || !strings.HasPrefix(rec.DDBStreamBatchInfo.ShardID, "shardId-") {
		t.Errorf("request id %q, shard %q: want 32 hex digits and a shard id", rec.RequestContext.RequestID, rec.DDBStreamBatchInfo.ShardID)
	}
	if _, err := time.Parse(time.RFC3339, rec.Timestamp); err != nil {
		t.Errorf("timestamp: %v", err)
	}
	// The consumers, the archive's and the mail's replays, read it.
	if _, err := onfailure.Parse(string(got.body)); err != nil {
		t.Errorf("onfailure.Parse: %v", err)
	}
}

func TestBatchingWindowCollectsRecords(t *testing.T) {
	table := contactsTable(t)
	fn := newScripted(nil)
	start(t, Mapping{Function: "F", Table: table, BatchSize: 100, MaxBatchingWindow: time.Hour, MaxRetryAttempts: -1, StartingPosition: "LATEST"}, fn, "")
	put(t, table, "a", "b")
	time.Sleep(300 * time.Millisecond)
	fn.mu.Lock()
	n := len(fn.calls)
	fn.mu.Unlock()
	if n != 0 {
		t.Errorf("invoked %d times within the batching window; want none until the window or the batch fills", n)
	}
}

func TestEventShape(t *testing.T) {
	table := contactsTable(t)
	fn := newScripted(nil)
	start(t, Mapping{Function: "F", Table: table, BatchSize: 10, MaxRetryAttempts: -1, StartingPosition: "LATEST"}, fn, "")
	put(t, table, "a")
	fn.wait(t, 1)
	desc, err := stacktest.DynamoDB(t).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	got := fn.events[0].Records[0]
	want := events.DynamoDBEventRecord{
		AWSRegion:      "us-east-1",
		EventID:        got.EventID,
		EventName:      "INSERT",
		EventSource:    "aws:dynamodb",
		EventVersion:   got.EventVersion,
		EventSourceArn: aws.ToString(desc.Table.LatestStreamArn),
		Change: events.DynamoDBStreamRecord{
			ApproximateCreationDateTime: got.Change.ApproximateCreationDateTime,
			Keys:                        map[string]events.DynamoDBAttributeValue{"pk": events.NewStringAttribute("a")},
			NewImage:                    map[string]events.DynamoDBAttributeValue{"pk": events.NewStringAttribute("a"), "kind": events.NewStringAttribute("keep")},
			SequenceNumber:              got.Change.SequenceNumber,
			SizeBytes:                   got.Change.SizeBytes,
			StreamViewType:              "NEW_AND_OLD_IMAGES",
		},
	}
	if d := cmp.Diff(want, got, cmp.Comparer(func(a, b events.DynamoDBAttributeValue) bool {
		ab, _ := json.Marshal(a)
		bb, _ := json.Marshal(b)
		return string(ab) == string(bb)
	})); d != "" {
		t.Errorf("record (-want +got):\n%s", d)
	}
	if got.EventID == "" || got.Change.SequenceNumber == "" || got.Change.SizeBytes == 0 || got.Change.ApproximateCreationDateTime.IsZero() {
		t.Errorf("record lacks id, sequence number, size or time: %+v", got)
	}
}

func TestCheckpointsSurviveRestart(t *testing.T) {
	table := contactsTable(t)
	dir := t.TempDir()
	m := Mapping{Function: "F", Table: table, BatchSize: 10, MaxRetryAttempts: -1, StartingPosition: "LATEST"}

	first := newScripted(nil)
	stop := start(t, m, first, dir)
	put(t, table, "a", "b")
	if d := cmp.Diff([]string{"a", "b"}, first.records(t, 2)); d != "" {
		t.Fatalf("first run (-want +got):\n%s", d)
	}
	stop()

	put(t, table, "c") // written while the stack is down
	second := newScripted(nil)
	start(t, m, second, dir)
	put(t, table, "d")
	if d := cmp.Diff([]string{"c", "d"}, second.records(t, 2)); d != "" {
		t.Errorf("second run replayed or missed records (-want +got):\n%s", d)
	}
}

func TestLatestWithoutCheckpointSkipsOldRecords(t *testing.T) {
	table := contactsTable(t)
	put(t, table, "old")
	fn := newScripted(nil)
	start(t, Mapping{Function: "F", Table: table, BatchSize: 10, MaxRetryAttempts: -1, StartingPosition: "LATEST"}, fn, t.TempDir())
	put(t, table, "new")
	if d := cmp.Diff([][]string{{"new"}}, fn.wait(t, 1)); d != "" {
		t.Errorf("invocations (-want +got):\n%s", d)
	}
}

func TestNewRejectsBadMappings(t *testing.T) {
	tests := []struct {
		name string
		m    Mapping
		want string
	}{
		{"bad filter JSON", Mapping{Function: "F", Filters: []string{`{"eventName":`}}, "not a JSON object"},
		{"leaf not a list", Mapping{Function: "F", Filters: []string{`{"eventName":"INSERT"}`}}, "a leaf must be a list"},
		{"unsupported operator", Mapping{Function: "F", Filters: []string{`{"eventName":[{"numeric":[">",1]}]}`}}, `operator "numeric" is not supported`},
		{"bad starting position", Mapping{Function: "F", StartingPosition: "AT_TIMESTAMP"}, "want LATEST or TRIM_HORIZON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Config{Mappings: []Mapping{tc.m}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want %q", err, tc.want)
			}
		})
	}
}
