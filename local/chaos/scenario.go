package chaos

// The scenarios: a load of contact actions (each with an email), audit event batches and
// exports sent through a local stack's API while faults are injected, then, once the faults
// stop, the stack drained and checked: the reconciliation agrees, no event is lost or
// duplicated, every email went out at most once.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/contrail/contrail/local/devstack"
)

// The functions the scenarios run: the routes of the load, the stream consumers, the
// scheduled functions and the replays.
var Functions = []string{
	"CreateContactFunction", "InviteContactFunction", "MessageContactFunction", "ShareContactFunction",
	"IngestAuditEventsFunction", "CreateExportFunction", "GetExportFunction",
	"MailerFunction", "ArchiverFunction", "CompactorFunction", "ArchiveReplayFunction", "SequenceLogFunction", "ExportWorkerFunction",
	"ExportSchedulerFunction", "MailReplayFunction",
}

// Killable are the functions the kill scenario kills mid-invocation.
var Killable = []string{"ArchiverFunction", "CompactorFunction", "MailerFunction", "ExportWorkerFunction", "ArchiveReplayFunction", "SequenceLogFunction"}

// Scenario is one way of attacking the stack.
type Scenario struct {
	Name string
	Plan Plan
	// Restart stops the whole stack half way through the load and starts it again on the
	// same state.
	Restart bool
	// Replay hands the archive replay the audit stream's records during the load, as Lambda
	// does with a batch the archiver gave up on (some archived already).
	Replay bool
}

// Scenarios are the scenarios of `make chaos` and of the seeded run in `make test`.
func Scenarios() []Scenario {
	return []Scenario{
		{Name: "S3 faults", Plan: Plan{Rates: map[Kind]float64{
			S3InternalError: 0.08, S3SlowDown: 0.08, S3Reset: 0.04, S3ResetAfter: 0.04, S3Slow: 0.03,
		}}},
		{Name: "DynamoDB faults", Plan: Plan{Rates: map[Kind]float64{
			DynamoDBThroughput: 0.04, DynamoDBThrottling: 0.04, DynamoDBInternal: 0.03, DynamoDBInternalAfter: 0.03,
			DynamoDBTxCanceled: 0.12, DynamoDBUnprocessed: 0.5,
		}}},
		{Name: "SES faults", Plan: Plan{Rates: map[Kind]float64{SESThrottling: 0.3, SESFailure: 0.2}}},
		{Name: "functions killed", Replay: true, Plan: Plan{Kill: Killable, KillEach: true, KillWithin: 80 * time.Millisecond, Rates: map[Kind]float64{Kill: 0.4, KillAtAnswer: 0.2}}},
		{Name: "stack restarted", Restart: true},
	}
}

// Load sizes a scenario's run.
type Load struct {
	Workers int // concurrent callers
	Rounds  int // rounds of each caller while faults are on (a round: a contact, an event batch, an invite, a message, a share)
	Exports int // exports with an email, spread over the rounds
	// FaultsFor keeps the faults on at least this long, so the stream consumers and the
	// scheduled functions meet them too, not only the API.
	FaultsFor time.Duration
	// Drain bounds the wait, once faults stop, for the stack to settle.
	Drain time.Duration
}

// Harness runs scenarios against one local stack, restarting it when a scenario asks.
type Harness struct {
	In *Injector
	// Progress receives a line per step; nil = none.
	Progress io.Writer

	opts  devstack.Options
	mu    sync.RWMutex
	stack *devstack.Stack
	// restarting is set while the stack is down on purpose (a fault, for the 5xx count).
	restarting bool
}

// Open starts a stack of Functions with in's faults (none injected until a scenario starts
// them) on o's state folder, its API on a port that stays the same across restarts.
func Open(ctx context.Context, o devstack.Options, in *Injector) (*Harness, error) {
	o.Faults, o.Functions, o.NoSchedules = in, Functions, true
	if o.Port == 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("chaos: a port for the API: %w", err)
		}
		o.Port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	s, err := devstack.Start(ctx, o)
	if err != nil {
		return nil, err
	}
	return &Harness{In: in, opts: o, stack: s}, nil
}

// Stack returns the stack running now.
func (h *Harness) Stack() *devstack.Stack {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.stack
}

// Close stops the stack.
func (h *Harness) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stack == nil {
		return nil
	}
	return h.stack.Stop()
}

// restart stops the whole stack (API, poller, every function process, the stand-ins) and
// starts it again on the same state.
func (h *Harness) restart(ctx context.Context) error {
	h.mu.Lock()
	h.restarting = true
	old := h.stack
	h.mu.Unlock()
	h.In.Count(Restart, 1)
	h.say("  restarting the whole stack")
	stopErr := old.Stop()
	// After the stop: an email SES accepted from a mailer the stop killed was sent before
	// this time, its redelivery after it (the documented exception, counted as such).
	h.In.Restarted(time.Now())
	s, err := devstack.Start(ctx, h.opts)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.restarting = false
	if err != nil {
		return errors.Join(stopErr, fmt.Errorf("start the stack again: %w", err))
	}
	h.stack = s
	h.say("  the stack is back")
	return stopErr
}

// faulty reports whether a fault is being injected now (or the stack is restarting).
func (h *Harness) faulty() bool {
	h.mu.RLock()
	r := h.restarting
	h.mu.RUnlock()
	return r || h.In.On()
}

func (h *Harness) say(format string, args ...any) {
	if h.Progress != nil {
		fmt.Fprintf(h.Progress, format+"\n", args...)
	}
}

// invoke runs a function of the stack running now, as its schedule or queue would.
func (h *Harness) invoke(ctx context.Context, function string, payload []byte) error {
	h.mu.RLock()
	s, r := h.stack, h.restarting
	h.mu.RUnlock()
	if r {
		return errors.New("the stack is restarting")
	}
	_, err := s.Invoke(ctx, function, payload)
	return err
}

// scheduled is the event EventBridge sends a scheduled function.
const scheduled = `{"version":"0","id":"chaos","detail-type":"Scheduled Event","source":"aws.events","account":"000000000000","time":"2026-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail":{}}`

// background runs the scheduled functions (compactor, sequencer) and, when asked, the
// replay, every period until ctx ends; their failures under faults are expected and retried
// by the next run.
func (h *Harness) background(ctx context.Context, period time.Duration, replay bool, t *tracker) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, f := range []string{"CompactorFunction", "SequenceLogFunction"} {
			_ = h.invoke(ctx, f, []byte(scheduled))
		}
		if replay {
			if err := h.replay(ctx); err != nil && ctx.Err() == nil {
				t.note("replay: %v", err)
			}
		}
	}
}
