package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/contrail/contrail/local/awsid"
)

// APIVersion is the Runtime API version in every path.
const APIVersion = "2018-06-01"

// InitTimeout bounds a process's start-up until it first asks for an invocation.
var InitTimeout = 10 * time.Second

// instance is one running process of a function and the Runtime API endpoint it polls.
type instance struct {
	fn  Function
	log *slog.Logger
	srv *http.Server
	cmd *exec.Cmd

	served bool             // has taken an invocation before (only the invoking goroutine uses it)
	next   chan *invocation // an invocation waiting for GET .../next
	exited chan struct{}    // closed when the process has exited

	mu      sync.Mutex
	current *invocation // handed out by /next, not yet answered
	initErr *FunctionError
	dead    bool
}

type invocation struct {
	id       string
	payload  []byte
	done     chan result // buffered 1
	atAnswer func()      // set when Faults kill the process at its answer: kills it
}

type result struct {
	payload []byte
	err     error
}

func startInstance(fn Function, out io.Writer, log *slog.Logger) (*instance, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the runtime API of %s: %w", fn.Name, err)
	}
	i := &instance{fn: fn, log: log, next: make(chan *invocation), exited: make(chan struct{})}
	i.srv = &http.Server{Handler: i.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = i.srv.Serve(ln) }()

	cmd := exec.Command(fn.Path)
	cmd.Env = processEnv(fn, ln.Addr().String())
	cmd.Dir = os.TempDir()
	w := newPrefixWriter(out, fn.Name)
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		_ = i.srv.Close()
		return nil, fmt.Errorf("start %s (%s): %w", fn.Name, fn.Path, err)
	}
	i.cmd = cmd
	log.Debug("function process started", "function", fn.Name, "pid", cmd.Process.Pid)
	go func() {
		err := cmd.Wait()
		w.flush()
		i.mu.Lock()
		i.dead = true
		i.mu.Unlock()
		close(i.exited)
		_ = i.srv.Close()
		log.Debug("function process exited", "function", fn.Name, "pid", cmd.Process.Pid, "error", fmt.Sprint(err))
	}()
	return i, nil
}

// processEnv is the environment Lambda gives a provided.al2023 function, plus the function's
// own variables. Nothing of the host's environment leaks in except PATH and HOME.
func processEnv(fn Function, api string) []string {
	env := map[string]string{
		"PATH":                            os.Getenv("PATH"),
		"HOME":                            os.Getenv("HOME"),
		"TZ":                              ":UTC",
		"LANG":                            "en_US.UTF-8",
		"_HANDLER":                        "bootstrap",
		"AWS_LAMBDA_RUNTIME_API":          api,
		"AWS_LAMBDA_FUNCTION_NAME":        fn.Name,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": itoa(fn.Memory),
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + fn.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "local",
		"AWS_EXECUTION_ENV":               "AWS_Lambda_provided.al2023",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
	}
	for k, v := range fn.Env {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func (i *instance) alive() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return !i.dead
}

// kill ends the process group and waits for the process to be reaped.
func (i *instance) kill() {
	i.mu.Lock()
	i.dead = true
	i.mu.Unlock()
	if i.cmd != nil && i.cmd.Process != nil {
		_ = syscall.Kill(-i.cmd.Process.Pid, syscall.SIGKILL)
		<-i.exited
	}
	_ = i.srv.Close()
}

// invoke hands payload to the process and waits for its answer. release is called once the
// process is free again: before invoke returns, or later when the caller gave up (ctx) while
// the function was still running, since Lambda lets an invocation finish.
func (i *instance) invoke(ctx context.Context, payload []byte, timeout time.Duration, faults Faults, release func()) ([]byte, error) {
	released := false
	defer func() {
		if !released {
			release()
		}
	}()
	inv := &invocation{id: awsid.UUID(), payload: payload, done: make(chan result, 1)}
	// A kill the faults ask for: at the answer (handleResponse kills instead of answering) or
	// after a delay, if the invocation is still in flight then.
	var killAfter <-chan time.Time
	if faults != nil {
		if delay, atAnswer, ok := faults.Kill(i.fn.Name); ok && atAnswer {
			inv.atAnswer = func() {
				i.log.Warn("fault injection: killing the function's process at its answer", "function", i.fn.Name, "request_id", inv.id)
				faults.Struck(i.fn.Name, true)
				i.kill()
			}
		} else if ok {
			t := time.NewTimer(delay)
			defer t.Stop()
			killAfter = t.C
		}
	}
	// The clock starts when the runtime takes the invocation, as Lambda's does after init;
	// init itself gets Lambda's 10 s.
	initTimer := time.NewTimer(InitTimeout)
	defer initTimer.Stop()
	select {
	case i.next <- inv:
	case <-i.exited:
		if i.served {
			// It exited between invokes (a panic reports its error, then exits): not this
			// invoke's failure; the pool tries a fresh process.
			return nil, errExitedIdle
		}
		return nil, i.crashError()
	case <-initTimer.C:
		i.log.Warn("function did not ask for an invocation in time; killing its process", "function", i.fn.Name, "init_timeout", InitTimeout.String())
		i.kill()
		return nil, fmt.Errorf("%s init took over %s: %w", i.fn.Name, InitTimeout, ErrTimeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	i.served = true
	timer := time.NewTimer(timeout)
	select {
	case r := <-inv.done:
		timer.Stop()
		return r.payload, r.err
	case <-i.exited:
		timer.Stop()
		// The answer may have been posted just before the exit (a panic reports, then exits).
		select {
		case r := <-inv.done:
			return r.payload, r.err
		default:
		}
		return nil, i.crashError()
	case <-timer.C:
		i.log.Warn("function timed out; killing its process", "function", i.fn.Name, "request_id", inv.id, "timeout", i.fn.Timeout.String())
		i.kill()
		return nil, fmt.Errorf("%s after %s: %w", i.fn.Name, i.fn.Timeout, ErrTimeout)
	case <-killAfter:
		timer.Stop()
		if i.take(inv.id) == nil {
			// It answered as the kill came: the answer stands.
			r := <-inv.done
			return r.payload, r.err
		}
		i.log.Warn("fault injection: killing the function's process mid-invocation", "function", i.fn.Name, "request_id", inv.id)
		faults.Struck(i.fn.Name, false)
		i.kill()
		return nil, fmt.Errorf("%s (killed by fault injection): %w", i.fn.Name, ErrCrashed)
	case <-ctx.Done():
		// The caller left (a client hung up, the stack is stopping): the invocation runs to its
		// end or its timeout, as on Lambda, and the process is reused afterwards.
		released = true
		go func() {
			defer timer.Stop()
			select {
			case <-inv.done:
			case <-i.exited:
			case <-timer.C:
				i.kill()
			}
			release()
		}()
		return nil, ctx.Err()
	}
}

func (i *instance) crashError() error {
	i.mu.Lock()
	initErr := i.initErr
	i.mu.Unlock()
	if initErr != nil {
		return fmt.Errorf("%s init failed: %s: %s: %w", i.fn.Name, initErr.Type, initErr.Message, ErrCrashed)
	}
	state := "unknown"
	if i.cmd != nil && i.cmd.ProcessState != nil {
		state = i.cmd.ProcessState.String()
	}
	return fmt.Errorf("%s (%s): %w", i.fn.Name, state, ErrCrashed)
}

func (i *instance) routes() http.Handler {
	mux := http.NewServeMux()
	base := "/" + APIVersion + "/runtime"
	mux.HandleFunc("GET "+base+"/invocation/next", i.handleNext)
	mux.HandleFunc("POST "+base+"/invocation/{id}/response", i.handleResponse)
	mux.HandleFunc("POST "+base+"/invocation/{id}/error", i.handleError)
	mux.HandleFunc("POST "+base+"/init/error", i.handleInitError)
	return mux
}

func (i *instance) handleNext(w http.ResponseWriter, r *http.Request) {
	select {
	case inv := <-i.next:
		deadline := time.Now().Add(i.fn.Timeout)
		i.mu.Lock()
		i.current = inv
		i.mu.Unlock()
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:"+i.fn.Name)
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-"+strconv.FormatInt(time.Now().Unix(), 16)+"-"+strings.ReplaceAll(inv.id, "-", "")[:24]+";Sampled=0")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(inv.payload)
	case <-r.Context().Done():
	}
}

// take returns the in-flight invocation with id and clears it, or nil.
func (i *instance) take(id string) *invocation {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.current == nil || i.current.id != id {
		return nil
	}
	inv := i.current
	i.current = nil
	return inv
}

func (i *instance) handleResponse(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 6<<20+1))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	inv := i.take(r.PathValue("id"))
	if inv == nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestID", "no invocation in flight with that id")
		return
	}
	if inv.atAnswer != nil {
		// The process dies as it answers: the caller hears of a crash, not of the work done.
		go inv.atAnswer()
		return
	}
	if len(body) > 6<<20 {
		// Lambda's synchronous response limit: the invoke fails rather than being cut.
		inv.done <- result{err: &FunctionError{Type: "Function.ResponseSizeTooLarge", Message: "response payload larger than 6 MB"}}
	} else {
		inv.done <- result{payload: body}
	}
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"status":"OK"}`))
}

func (i *instance) handleError(w http.ResponseWriter, r *http.Request) {
	fe := readFunctionError(r)
	inv := i.take(r.PathValue("id"))
	if inv == nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestID", "no invocation in flight with that id")
		return
	}
	inv.done <- result{err: fe}
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"status":"OK"}`))
}

func (i *instance) handleInitError(w http.ResponseWriter, r *http.Request) {
	fe := readFunctionError(r)
	i.mu.Lock()
	i.initErr = fe
	i.mu.Unlock()
	i.log.Error("function init failed", "function", i.fn.Name, "error_type", fe.Type, "error", fe.Message)
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"status":"OK"}`))
}

func readFunctionError(r *http.Request) *FunctionError {
	fe := &FunctionError{}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if json.Unmarshal(b, fe) != nil || fe.Type == "" {
		if fe.Type = r.Header.Get("Lambda-Runtime-Function-Error-Type"); fe.Type == "" {
			fe.Type = "Unhandled"
		}
		if fe.Message == "" {
			fe.Message = strings.TrimSpace(string(b))
		}
	}
	return fe
}

func writeAPIError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"errorType": typ, "errorMessage": msg})
}

// prefixWriter writes whole lines to out, each prefixed with "[name] ".
type prefixWriter struct {
	mu     sync.Mutex
	out    io.Writer
	prefix string
	buf    []byte
}

func newPrefixWriter(out io.Writer, name string) *prefixWriter {
	return &prefixWriter{out: out, prefix: "[" + name + "] "}
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		n := strings.IndexByte(string(p.buf), '\n')
		if n < 0 {
			break
		}
		_, _ = io.WriteString(p.out, p.prefix+string(p.buf[:n+1]))
		p.buf = p.buf[n+1:]
	}
	return len(b), nil
}

func (p *prefixWriter) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) > 0 {
		_, _ = io.WriteString(p.out, p.prefix+string(p.buf)+"\n")
		p.buf = nil
	}
}
