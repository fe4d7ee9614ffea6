package queues

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
)

func TestFromTemplate(t *testing.T) {
	tp := stacktest.Template(t)
	want := []Queue{
		{Name: "ArchiveFailureQueue", Subscribers: []string{"ArchiveReplayFunction"}, MaxReceive: 5, Visibility: 30 * time.Minute},
		{Name: "MailerFailureQueue", Subscribers: []string{"MailReplayFunction"}, MaxReceive: 5, Visibility: 70 * time.Second},
	}
	if d := cmp.Diff(want, FromTemplate(tp, func(string) bool { return true })); d != "" {
		t.Errorf("queues (-want +got):\n%s", d)
	}
	if got := FromTemplate(tp, func(fn string) bool { return fn != "ArchiveReplayFunction" && fn != "MailReplayFunction" }); len(got) != 0 {
		t.Errorf("queues without their reader: %+v, want none", got)
	}
}

// script answers each invoke with reply(receive count) and records the events it got.
type script struct {
	mu     sync.Mutex
	fns    []string
	events []events.SQSEvent
	reply  func(id string, receive int) (string, error)
}

func (s *script) Invoke(_ context.Context, fn string, payload []byte) ([]byte, error) {
	var ev events.SQSEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.fns = append(s.fns, fn)
	s.events = append(s.events, ev)
	n := len(s.events)
	s.mu.Unlock()
	out, err := s.reply(ev.Records[0].MessageId, n)
	return []byte(out), err
}

func TestDelivery(t *testing.T) {
	failed := func(id string) string { return fmt.Sprintf(`{"batchItemFailures":[{"itemIdentifier":%q}]}`, id) }
	tests := []struct {
		name     string
		max      int
		reply    func(id string, receive int) (string, error)
		receives int
	}{
		{"processed at once", 5, func(string, int) (string, error) { return `{"batchItemFailures":[]}`, nil }, 1},
		{"null response", 5, func(string, int) (string, error) { return "null", nil }, 1},
		{"another message's failure is not this one's", 5, func(string, int) (string, error) { return failed("other"), nil }, 1},
		{"reported failed twice, then processed", 5, func(id string, n int) (string, error) {
			if n < 3 {
				return failed(id), nil
			}
			return "", nil
		}, 3},
		{"an error every time: dead-letter queue after 3", 3, func(string, int) (string, error) { return "", errors.New("S3 down") }, 3},
		{"a response that is not a list fails it", 2, func(string, int) (string, error) { return `"no"`, nil }, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			fn := &script{reply: tt.reply}
			q := New(ctx, Config{Queues: []Queue{{Name: "ArchiveFailureQueue", Subscribers: []string{"ArchiveReplayFunction"}, MaxReceive: tt.max}},
				Invoker: fn, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), RetryDelay: time.Millisecond})
			before := time.Now()
			if err := q.Send(ctx, "ArchiveFailureQueue", []byte(`{"DDBStreamBatchInfo":{}}`)); err != nil {
				t.Fatal(err)
			}
			q.Wait()
			if len(fn.events) != tt.receives {
				t.Fatalf("%d deliveries, want %d", len(fn.events), tt.receives)
			}
			id := fn.events[0].Records[0].MessageId
			for i, ev := range fn.events {
				m := ev.Records[0]
				sent := time.UnixMilli(mustInt(t, m.Attributes["SentTimestamp"]))
				if sent.Before(before.Truncate(time.Millisecond)) || sent.After(time.Now()) {
					t.Errorf("delivery %d: SentTimestamp %s, want the time of Send", i+1, sent)
				}
				want := Message("ArchiveFailureQueue", id, `{"DDBStreamBatchInfo":{}}`, i+1, sent)
				if d := cmp.Diff(want, ev); d != "" {
					t.Errorf("delivery %d (-want +got):\n%s", i+1, d)
				}
				if fn.fns[i] != "ArchiveReplayFunction" {
					t.Errorf("delivery %d went to %s", i+1, fn.fns[i])
				}
			}
		})
	}
}

// A queue's visibility timeout, when the local queues honour it, is the wait before each
// delivery again; a longer one falls back to the backoff.
func TestVisibilityTimeout(t *testing.T) {
	tests := []struct {
		name                   string
		visibility             time.Duration
		wantAtLeast, wantBelow time.Duration // between the first and the third delivery
	}{
		{"honoured", 150 * time.Millisecond, 300 * time.Millisecond, time.Minute},
		{"longer than MaxVisibility: the backoff (1 ms, then 2 ms)", MaxVisibility + time.Second, 0, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var at []time.Time
			fn := &script{reply: func(id string, n int) (string, error) {
				at = append(at, time.Now())
				if n < 3 {
					return fmt.Sprintf(`{"batchItemFailures":[{"itemIdentifier":%q}]}`, id), nil
				}
				return "", nil
			}}
			q := New(ctx, Config{Queues: []Queue{{Name: "MailerFailureQueue", Subscribers: []string{"MailReplayFunction"}, MaxReceive: 5, Visibility: tt.visibility}},
				Invoker: fn, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), RetryDelay: time.Millisecond})
			if err := q.Send(ctx, "MailerFailureQueue", []byte("{}")); err != nil {
				t.Fatal(err)
			}
			q.Wait()
			if len(at) != 3 {
				t.Fatalf("%d deliveries, want 3", len(at))
			}
			if gap := at[2].Sub(at[0]); gap < tt.wantAtLeast || gap >= tt.wantBelow {
				t.Errorf("first to third delivery took %s, want at least %s and under %s", gap, tt.wantAtLeast, tt.wantBelow)
			}
		})
	}
}

func TestMessage(t *testing.T) {
	at := time.Date(2026, 11, 30, 1, 31, 12, 482_000_000, time.UTC)
	want := events.SQSEvent{Records: []events.SQSMessage{{
		MessageId: "m-1", ReceiptHandle: "m-1#2", Body: "hello", Md5OfBody: "5d41402abc4b2a76b9719d911017c592",
		Attributes: map[string]string{"ApproximateReceiveCount": "2", "SentTimestamp": "1796002272482", "SenderId": "local",
			"ApproximateFirstReceiveTimestamp": "1796002272482"},
		MessageAttributes: map[string]events.SQSMessageAttribute{},
		EventSource:       "aws:sqs", EventSourceARN: "arn:aws:sqs:us-east-1:000000000000:ArchiveFailureQueue", AWSRegion: "us-east-1",
	}}}
	if d := cmp.Diff(want, Message("ArchiveFailureQueue", "m-1", "hello", 2, at)); d != "" {
		t.Errorf("Message (-want +got):\n%s", d)
	}
}

func TestSendToAQueueNobodyReads(t *testing.T) {
	fn := &script{reply: func(string, int) (string, error) { return "", nil }}
	q := New(context.Background(), Config{Queues: []Queue{{Name: "Lonely"}}, Invoker: fn})
	for _, queue := range []string{"Lonely", "Unknown"} {
		err := q.Send(context.Background(), queue, []byte("x"))
		if want := "queue " + queue + ": no running function reads it"; fmt.Sprint(err) != want {
			t.Errorf("Send(%s) = %v, want %q", queue, err, want)
		}
	}
	q.Wait()
	if len(fn.events) != 0 {
		t.Errorf("%d deliveries, want none", len(fn.events))
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}
