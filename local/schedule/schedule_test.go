package schedule

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	tests := []struct {
		expr    string
		want    Expr
		wantErr string
	}{
		{expr: "rate(1 minute)", want: Rate{time.Minute}},
		{expr: "rate(5 minutes)", want: Rate{5 * time.Minute}},
		{expr: "rate(1 hour)", want: Rate{time.Hour}},
		{expr: "rate(12 hours)", want: Rate{12 * time.Hour}},
		{expr: "rate(1 day)", want: Rate{24 * time.Hour}},
		{expr: "rate(7 days)", want: Rate{7 * 24 * time.Hour}},
		{expr: "rate(1 minutes)", wantErr: "singular"},
		{expr: "rate(5 minute)", wantErr: "plural"},
		{expr: "rate(0 minutes)", wantErr: "positive integer"},
		{expr: "rate(5 weeks)", wantErr: "unit must be"},
		{expr: "every 5 minutes", wantErr: "want rate(...)"},
		{expr: "cron(0 12 * * ? *)", wantErr: "rate(...) expressions only"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			got, err := Parse(tc.expr)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want it to say %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r, ok := tc.want.(Rate); ok && got != r {
				t.Errorf("got %v, want %v", got, r)
			}
		})
	}
}

func TestEventShape(t *testing.T) {
	at := time.Date(2026, 11, 30, 10, 0, 0, 500, time.UTC)
	b, err := json.Marshal(Event(Job{Function: "RunExportsFunction", Name: "RunExportsFunction-schedule-1"}, at))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	id, _ := got["id"].(string)
	want := map[string]any{
		"version":     "0",
		"id":          id,
		"detail-type": "Scheduled Event",
		"source":      "aws.events",
		"account":     "000000000000",
		"time":        "2026-11-30T10:00:00Z",
		"region":      "us-east-1",
		"resources":   []any{"arn:aws:events:us-east-1:000000000000:rule/RunExportsFunction-schedule-1"},
		"detail":      map[string]any{},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("event (-want +got):\n%s", d)
	}
	if len(id) != 36 {
		t.Errorf("id %q is not a UUID", id)
	}
}

type recorder struct {
	mu    sync.Mutex
	calls []string // function: detail-type or raw input
	fired chan struct{}
}

func (r *recorder) Invoke(_ context.Context, fn string, payload []byte) ([]byte, error) {
	var ev struct {
		DetailType string `json:"detail-type"`
	}
	_ = json.Unmarshal(payload, &ev)
	what := ev.DetailType
	if what == "" {
		what = string(payload)
	}
	r.mu.Lock()
	r.calls = append(r.calls, fn+": "+what)
	r.mu.Unlock()
	r.fired <- struct{}{}
	return []byte(`null`), nil
}

func TestRunFiresAtStartThenOnEachTick(t *testing.T) {
	rec := &recorder{fired: make(chan struct{})}
	ticks := make(chan time.Time)
	var waits []time.Duration
	var wmu sync.Mutex
	s, err := New(Config{
		Jobs: []Job{
			{Function: "CompactFunction", Name: "c", Expression: "rate(1 hour)"},
			{Function: "InputFunction", Name: "i", Expression: "rate(1 day)", Input: `{"mode":"daily"}`},
		},
		Invoker: rec,
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Scale:   60,
		After: func(d time.Duration) <-chan time.Time {
			wmu.Lock()
			waits = append(waits, d)
			wmu.Unlock()
			return ticks
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	<-rec.fired // both fire at start
	<-rec.fired
	ticks <- time.Now() // one of them fires again
	<-rec.fired
	cancel()
	<-done

	rec.mu.Lock()
	defer rec.mu.Unlock()
	count := map[string]int{}
	for _, c := range rec.calls {
		count[c]++
	}
	if count["CompactFunction: Scheduled Event"]+count[`InputFunction: {"mode":"daily"}`] != 3 ||
		count["CompactFunction: Scheduled Event"] < 1 || count[`InputFunction: {"mode":"daily"}`] < 1 {
		t.Errorf("calls %v: want each job at start and one more firing", rec.calls)
	}
	wmu.Lock()
	defer wmu.Unlock()
	for _, w := range waits {
		if w != time.Minute && w != 24*time.Minute {
			t.Errorf("waited %s: want rate/60 (1m or 24m)", w)
		}
	}
}

func TestNewRejectsBadExpression(t *testing.T) {
	_, err := New(Config{Jobs: []Job{{Function: "F", Expression: "rate(soon)"}}})
	if err == nil || !strings.Contains(err.Error(), "schedule of F") {
		t.Errorf("error = %v", err)
	}
}

// TestJobScale: a job's own Scale divides its rate on top of the stack's.
func TestJobScale(t *testing.T) {
	for _, tc := range []struct {
		stack, job float64
		want       time.Duration
	}{
		{0, 0, time.Minute},
		{0, 6, 10 * time.Second},
		{60, 6, time.Second / 6},
	} {
		rec := &recorder{fired: make(chan struct{}, 1)}
		waited := make(chan time.Duration, 1)
		s, err := New(Config{
			Jobs:    []Job{{Function: "SequenceLogFunction", Name: "s", Expression: "rate(1 minute)", Scale: tc.job}},
			Invoker: rec, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Scale: tc.stack,
			After: func(d time.Duration) <-chan time.Time { waited <- d; return nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go s.Run(ctx)
		if got := <-waited; got != tc.want {
			t.Errorf("stack scale %v, job scale %v: waited %s, want %s", tc.stack, tc.job, got, tc.want)
		}
		cancel()
	}
}
