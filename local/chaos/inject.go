// Package chaos injects faults at the seams of a local stack (local/devstack): an Injector
// wraps the DynamoDB front, the S3 server and the SES emulator's front with handlers that
// answer some requests with the errors AWS answers under stress (throttling, 500s, cancelled
// transactions, unprocessed batch items, slow answers, reset connections), and tells the
// local Lambda runtime to kill function processes in the middle of invocations. Which
// request gets which fault is drawn from a seeded generator at the rates a Plan gives;
// nothing is injected until Start, and nothing after Stop. The scenarios (scenario.go) run a
// load through a stack while faults are on, stop them, let the stack drain, and check that
// the reconciliation agrees and every email went out at most once.
package chaos

import (
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Kind is one kind of fault, named as the table of `make chaos` prints it.
type Kind string

// The faults an Injector can inject.
const (
	S3InternalError Kind = "S3 500 InternalError"
	S3SlowDown      Kind = "S3 503 SlowDown"
	S3Slow          Kind = "S3 slow answer"
	S3Reset         Kind = "S3 connection reset"
	// S3ResetAfter resets the connection after the request was carried out: a PUT is stored,
	// its caller never hears so.
	S3ResetAfter Kind = "S3 reset after the request ran"

	DynamoDBThroughput Kind = "DynamoDB ProvisionedThroughputExceeded"
	DynamoDBThrottling Kind = "DynamoDB ThrottlingException"
	DynamoDBInternal   Kind = "DynamoDB 500 InternalServerError"
	// DynamoDBInternalAfter answers 500 after DynamoDB carried the request out: a write is
	// done, its caller is told it failed (DynamoDB documents that a 500 leaves a write's
	// outcome unknown).
	DynamoDBInternalAfter Kind = "DynamoDB 500 after the request ran"
	DynamoDBTxCanceled    Kind = "DynamoDB TransactionCanceled (conflict)"
	DynamoDBUnprocessed   Kind = "DynamoDB unprocessed batch items"

	SESThrottling Kind = "SES TooManyRequests"
	SESFailure    Kind = "SES 500 InternalFailure"

	// Kill is a function process killed while it runs an invocation, after a drawn delay;
	// KillAtAnswer kills it when it posts its answer: the work is done, the caller is told
	// the process crashed.
	Kill         Kind = "function killed mid-invocation"
	KillAtAnswer Kind = "function killed at its answer"
	Restart      Kind = "whole stack restarted"
)

// Kinds lists every kind in the order tables print them.
var Kinds = []Kind{
	S3InternalError, S3SlowDown, S3Slow, S3Reset, S3ResetAfter,
	DynamoDBThroughput, DynamoDBThrottling, DynamoDBInternal, DynamoDBInternalAfter, DynamoDBTxCanceled, DynamoDBUnprocessed,
	SESThrottling, SESFailure,
	Kill, KillAtAnswer, Restart,
}

// Plan is what to inject while an Injector runs: for each kind the chance (0 to 1) that a
// request it applies to gets it, and for the kills which functions and how late.
type Plan struct {
	Rates map[Kind]float64
	// Kill names the functions whose invocations Kill and KillAtAnswer apply to.
	Kill []string
	// KillEach kills every function of Kill once for sure: its invocations are killed at
	// their answer until one such kill strikes, then drawn as the rates say (a short run
	// meets every function's death).
	KillEach bool
	// KillWithin bounds the delay after which a Kill strikes (drawn uniformly); 0 = 300 ms.
	KillWithin time.Duration
	// Slow is how long an S3Slow answer is held back; 0 = 1.5 s.
	Slow time.Duration
}

// Injector draws and counts faults. Its handlers (DynamoDB, S3, SES) and its Killer are
// given to devstack.Options.Faults; it outlives a stack, so a restarted stack keeps one
// account (the SES messages included).
type Injector struct {
	mu     sync.Mutex
	rng    *rand.Rand
	plan   Plan
	on     bool
	counts map[Kind]int
	kills  map[string][]time.Time // function -> when its processes were killed
	// restarts is when the whole stack was stopped (every function process with it).
	restarts []time.Time
	// midKills counts, by function, the kills that struck mid-invocation (not at the answer).
	midKills    map[string]int
	answerKills map[string]int // the kills at the answer
	invocations map[string]int // invocations started, by function
	mail        *Mailbox
}

// New returns an injector whose draws come from seed. It injects nothing until Start.
func New(seed uint64) *Injector {
	return &Injector{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), counts: map[Kind]int{}, kills: map[string][]time.Time{}, midKills: map[string]int{}, answerKills: map[string]int{}, invocations: map[string]int{}, mail: &Mailbox{byKey: map[string][]Sent{}}}
}

// Start injects faults as p says until Stop.
func (in *Injector) Start(p Plan) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.plan, in.on = p, true
}

// Stop ends the injection; requests and invocations already delayed run on.
func (in *Injector) Stop() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.on = false
}

// On reports whether faults are being injected.
func (in *Injector) On() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.on
}

// draw reports whether a request eligible for kind gets it now, and counts it when it does.
func (in *Injector) draw(kind Kind, count bool) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.on {
		return false
	}
	rate := in.plan.Rates[kind]
	if rate <= 0 || in.rng.Float64() >= rate {
		return false
	}
	if count {
		in.counts[kind]++
	}
	return true
}

// first returns the first of kinds drawn for a request, or "" when none is, and counts it.
func (in *Injector) first(kinds ...Kind) Kind {
	for _, k := range kinds {
		if in.draw(k, true) {
			return k
		}
	}
	return ""
}

// duration draws a duration in [0, max).
func (in *Injector) duration(max time.Duration) time.Duration {
	in.mu.Lock()
	defer in.mu.Unlock()
	return time.Duration(in.rng.Int64N(int64(max)))
}

// Count adds n faults of kind injected outside the handlers (a restart).
func (in *Injector) Count(kind Kind, n int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.counts[kind] += n
}

// uncount takes back a fault drawn but not injected (a batch of one item cannot be split).
func (in *Injector) uncount(kind Kind) { in.Count(kind, -1) }

// Kills returns when each process of function was killed (mid-invocation or at its
// answer), oldest first.
func (in *Injector) Kills(function string) []time.Time {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]time.Time(nil), in.kills[function]...)
}

// Restarted records that the whole stack was stopped at at, every function process with it.
func (in *Injector) Restarted(at time.Time) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.restarts = append(in.restarts, at)
}

// Stops returns when a process of function stopped without finishing: its kills and the
// whole stack's restarts, oldest first.
func (in *Injector) Stops(function string) []time.Time {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := slices.Concat(in.kills[function], in.restarts)
	slices.SortFunc(out, time.Time.Compare)
	return out
}

// Counts returns the faults injected so far by kind (kinds never injected are absent).
func (in *Injector) Counts() map[Kind]int {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make(map[Kind]int, len(in.counts))
	for k, n := range in.counts {
		if n != 0 {
			out[k] = n
		}
	}
	return out
}

// MidKills returns how many processes of function were killed mid-invocation so far.
func (in *Injector) MidKills(function string) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.midKills[function]
}

// Invocations returns how many invocations of function started so far.
func (in *Injector) Invocations(function string) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.invocations[function]
}

// Mail returns the account of every email the SES emulator accepted through the front.
func (in *Injector) Mail() *Mailbox { return in.mail }

// Sent is one email SES accepted.
type Sent struct {
	At        time.Time
	MessageID string
}

// Mailbox counts the emails SES accepted by key: the recipients and the subject, which the
// scenarios make unique per request (an invitation's address, an export's recipient).
type Mailbox struct {
	mu    sync.Mutex
	byKey map[string][]Sent
}

func (m *Mailbox) add(key string, s Sent) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.byKey[key] = append(m.byKey[key], s)
}

// Sent returns the emails accepted for key, oldest first.
func (m *Mailbox) Sent(key string) []Sent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Sent(nil), m.byKey[key]...)
}

// Keys returns every key an email was accepted for, sorted.
func (m *Mailbox) Keys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(maps.Keys(m.byKey))
}
