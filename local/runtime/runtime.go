// Package runtime is the local stand-in for the Lambda service: it runs each function's
// binary as a child process with AWS_LAMBDA_RUNTIME_API pointing at an in-process Runtime API
// server (the 2018-06-01 interface every custom runtime, aws-lambda-go included, speaks), and
// hands it invocations one at a time, the way Lambda does. A process that crashes or runs past
// its timeout is killed and replaced on the next invoke.
package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Function is one Lambda function: its binary and its configuration.
type Function struct {
	Name    string            // the LogicalId; AWS_LAMBDA_FUNCTION_NAME
	Path    string            // the built binary (the bootstrap of provided.al2023)
	Env     map[string]string // the function's environment, as template.yaml resolves it
	Timeout time.Duration     // per invoke; 0 = 3 s, Lambda's default
	Memory  int               // MB, for AWS_LAMBDA_FUNCTION_MEMORY_SIZE; 0 = 128
	// MaxInstances caps the processes run at once for concurrent invokes; 0 = 4.
	MaxInstances int
}

// FunctionError is an error the handler returned (or a panic it reported): Lambda's
// "Unhandled" function error. The process stays up unless it then exits.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("function error %s: %s", e.Type, e.Message)
}

// ErrCrashed is returned when the process exited (or failed its init) before answering.
var ErrCrashed = errors.New("function process exited before answering")

// ErrTimeout is returned when the function did not answer within its timeout; the process
// is killed, as Lambda does.
var ErrTimeout = errors.New("function timed out")

// ErrUnknownFunction is returned by Invoke for a name never added.
var ErrUnknownFunction = errors.New("unknown function")

// Faults kills function processes in the middle of invocations (local/chaos); a runtime
// without them lets every invocation run.
type Faults interface {
	// Kill is asked as each invocation starts: kill its process after delay, or when it
	// posts its answer (the work done, the answer lost) when atAnswer; ok false spares it.
	Kill(function string) (delay time.Duration, atAnswer, ok bool)
	// Struck is told of each kill that struck while the invocation was in flight.
	Struck(function string, atAnswer bool)
}

// Invoker runs a function with a JSON payload: *Runtime does; the local event sources
// (gateway, streams, queues, schedule) take one, so their tests can pass a fake.
type Invoker interface {
	Invoke(ctx context.Context, function string, payload []byte) ([]byte, error)
}

var _ Invoker = (*Runtime)(nil)

// Runtime runs functions. The zero value is not usable; call New.
type Runtime struct {
	out    io.Writer
	log    *slog.Logger
	faults Faults

	mu     sync.Mutex
	funcs  map[string]*pool
	closed bool
}

// New returns a runtime that writes the functions' stdout and stderr, each line prefixed
// with the function's name, to out.
func New(out io.Writer, log *slog.Logger) *Runtime {
	if out == nil {
		out = os.Stderr
	}
	if log == nil {
		log = slog.Default()
	}
	return &Runtime{out: out, log: log, funcs: map[string]*pool{}}
}

// Add registers f. Its process starts on its first invoke.
func (r *Runtime) Add(f Function) {
	if f.Timeout <= 0 {
		f.Timeout = 3 * time.Second
	}
	if f.Memory <= 0 {
		f.Memory = 128
	}
	if f.MaxInstances <= 0 {
		f.MaxInstances = 4
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.funcs[f.Name] = &pool{fn: f, rt: r, idle: make(chan *instance, f.MaxInstances), slots: make(chan struct{}, f.MaxInstances)}
}

// SetFaults makes the runtime kill processes as f decides, from the next invocation on.
func (r *Runtime) SetFaults(f Faults) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faults = f
}

// Functions returns the names added, sorted.
func (r *Runtime) Functions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(r.funcs))
}

// Invoke runs the function once with payload (a JSON event) and returns its response payload.
// Errors: *FunctionError when the handler failed, ErrCrashed when the process died (it is
// replaced on the next invoke), ErrTimeout, ErrUnknownFunction, or ctx's error.
func (r *Runtime) Invoke(ctx context.Context, name string, payload []byte) ([]byte, error) {
	r.mu.Lock()
	p, ok := r.funcs[name]
	closed := r.closed
	faults := r.faults
	r.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownFunction, name)
	}
	if closed {
		return nil, errors.New("runtime closed")
	}
	return p.invoke(ctx, payload, faults)
}

// Close kills every function process and waits for them to exit.
func (r *Runtime) Close() error {
	r.mu.Lock()
	r.closed = true
	pools := make([]*pool, 0, len(r.funcs))
	for _, p := range r.funcs {
		pools = append(pools, p)
	}
	r.mu.Unlock()
	for _, p := range pools {
		p.close()
	}
	return nil
}

// pool holds the running instances of one function: idle ones wait in idle, and slots
// counts the instances alive (busy or idle) so no more than MaxInstances run.
type pool struct {
	fn    Function
	rt    *Runtime
	idle  chan *instance
	slots chan struct{}

	mu  sync.Mutex
	all map[*instance]bool
}

func (p *pool) invoke(ctx context.Context, payload []byte, faults Faults) ([]byte, error) {
	for {
		inst, err := p.acquire(ctx)
		if err != nil {
			return nil, err
		}
		out, err := inst.invoke(ctx, payload, p.fn.Timeout, faults, func() { p.release(inst) })
		if err != errExitedIdle {
			return out, err
		}
	}
}

// errExitedIdle: a reused process had exited before taking the invocation; try another.
var errExitedIdle = errors.New("function process exited while idle")

// acquire returns an idle live instance, or starts one when fewer than MaxInstances run.
func (p *pool) acquire(ctx context.Context) (*instance, error) {
	for {
		select {
		case inst := <-p.idle:
			if inst.alive() {
				return inst, nil
			}
			p.drop(inst)
			continue
		default:
		}
		select {
		case inst := <-p.idle:
			if inst.alive() {
				return inst, nil
			}
			p.drop(inst)
		case p.slots <- struct{}{}:
			inst, err := startInstance(p.fn, p.rt.out, p.rt.log)
			if err != nil {
				<-p.slots
				return nil, err
			}
			p.mu.Lock()
			if p.all == nil {
				p.all = map[*instance]bool{}
			}
			p.all[inst] = true
			p.mu.Unlock()
			return inst, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (p *pool) release(inst *instance) {
	if !inst.alive() {
		p.drop(inst)
		return
	}
	p.idle <- inst
}

// drop forgets a dead instance and frees its slot.
func (p *pool) drop(inst *instance) {
	inst.kill()
	p.mu.Lock()
	_, ok := p.all[inst]
	delete(p.all, inst)
	p.mu.Unlock()
	if ok {
		<-p.slots
	}
}

func (p *pool) close() {
	p.mu.Lock()
	insts := make([]*instance, 0, len(p.all))
	for i := range p.all {
		insts = append(insts, i)
	}
	p.mu.Unlock()
	for _, i := range insts {
		i.kill()
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
