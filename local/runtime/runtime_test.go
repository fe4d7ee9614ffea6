package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var probeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "runtime-test")
	if err != nil {
		panic(err)
	}
	probeBin = filepath.Join(dir, "probe")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", probeBin, "./testdata/probe")
	if out, err := cmd.CombinedOutput(); err != nil {
		panic("build probe: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type probeReply struct {
	Action    string            `json:"action"`
	Pid       int               `json:"pid"`
	RequestID string            `json:"requestId"`
	HasDL     bool              `json:"hasDeadline"`
	Env       map[string]string `json:"env,omitempty"`
}

func newRuntime(t *testing.T, fn Function) (*Runtime, *bytes.Buffer) {
	t.Helper()
	var logs syncBuffer
	rt := New(&logs, nil)
	if fn.Path == "" {
		fn.Path = probeBin
	}
	if fn.Name == "" {
		fn.Name = "ProbeFunction"
	}
	rt.Add(fn)
	t.Cleanup(func() { rt.Close() })
	return rt, &logs.Buffer
}

type syncBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

func invoke(t *testing.T, rt *Runtime, ev string) (probeReply, error) {
	t.Helper()
	out, err := rt.Invoke(context.Background(), "ProbeFunction", []byte(ev))
	var r probeReply
	if err == nil {
		if uerr := json.Unmarshal(out, &r); uerr != nil {
			t.Fatalf("decode %s: %v", out, uerr)
		}
	}
	return r, err
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func TestInvokeOutcomes(t *testing.T) {
	tests := []struct {
		name      string
		event     string
		wantErr   error
		wantFErr  *FunctionError
		sameProc  bool // the next invoke reuses the process
		timeoutMs int
	}{
		{name: "echo", event: `{"action":"echo"}`, sameProc: true},
		{name: "handler error", event: `{"action":"error"}`, wantFErr: &FunctionError{Type: "errorString", Message: "boom"}, sameProc: true},
		{name: "panic reports then exits", event: `{"action":"panic"}`, wantFErr: &FunctionError{Type: "string", Message: "kaboom"}},
		{name: "exit crashes", event: `{"action":"exit"}`, wantErr: ErrCrashed},
		{name: "timeout kills", event: `{"action":"sleep","sleepMs":60000}`, wantErr: ErrTimeout, timeoutMs: 2000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			to := 10 * time.Second
			if tc.timeoutMs > 0 {
				to = time.Duration(tc.timeoutMs) * time.Millisecond
			}
			rt, _ := newRuntime(t, Function{Timeout: to})
			first, err := invoke(t, rt, `{"action":"echo"}`)
			if err != nil {
				t.Fatal(err)
			}
			_, err = invoke(t, rt, tc.event)
			var fe *FunctionError
			switch {
			case tc.wantFErr != nil:
				if !errors.As(err, &fe) {
					t.Fatalf("error = %v, want a FunctionError", err)
				}
				if d := cmp.Diff(tc.wantFErr, fe); d != "" {
					t.Errorf("function error (-want +got):\n%s", d)
				}
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("error = %v, want %v", err, tc.wantErr)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
			}
			after, err := invoke(t, rt, `{"action":"echo"}`)
			if err != nil {
				t.Fatalf("invoke after %s: %v", tc.name, err)
			}
			if got := after.Pid == first.Pid; got != tc.sameProc {
				t.Errorf("same process after %s = %v, want %v", tc.name, got, tc.sameProc)
			}
			if !tc.sameProc && alive(first.Pid) {
				t.Errorf("old process %d still alive", first.Pid)
			}
		})
	}
}

func TestEnvironmentAndContext(t *testing.T) {
	t.Setenv("HOST_ONLY_SECRET", "leak")
	rt, _ := newRuntime(t, Function{Env: map[string]string{"CONTACTS_TABLE": "contrail-contacts"}, Memory: 256})
	r, err := invoke(t, rt, `{"action":"env","env":["AWS_LAMBDA_FUNCTION_NAME","AWS_LAMBDA_FUNCTION_MEMORY_SIZE","CONTACTS_TABLE","HOST_ONLY_SECRET","TZ"]}`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "ProbeFunction",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"CONTACTS_TABLE":                  "contrail-contacts",
		"HOST_ONLY_SECRET":                "",
		"TZ":                              ":UTC",
	}
	if d := cmp.Diff(want, r.Env); d != "" {
		t.Errorf("env (-want +got):\n%s", d)
	}
	if len(r.RequestID) != 36 || !r.HasDL {
		t.Errorf("request id %q, deadline %v: want a UUID and a deadline", r.RequestID, r.HasDL)
	}
}

func TestInitFailureIsACrash(t *testing.T) {
	rt, logs := newRuntime(t, Function{Env: map[string]string{"PROBE_FAIL_INIT": "1"}})
	_, err := invoke(t, rt, `{"action":"echo"}`)
	if !errors.Is(err, ErrCrashed) {
		t.Fatalf("error = %v, want ErrCrashed", err)
	}
	if !bytes.Contains(logs.Bytes(), []byte("[ProbeFunction] panic: PROBE_FAIL_INIT is set")) {
		t.Errorf("logs lack the prefixed panic line:\n%s", logs.String())
	}
}

func TestConcurrentInvokesUseSeveralProcesses(t *testing.T) {
	rt, _ := newRuntime(t, Function{MaxInstances: 2, Timeout: time.Minute})
	// Two invokes that block until both are running: only two processes can serve them.
	dir := t.TempDir()
	ev := fmt.Sprintf(`{"action":"block","dir":%q}`, dir)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := rt.Invoke(context.Background(), "ProbeFunction", []byte(ev))
			errs <- err
		}()
	}
	deadline := time.Now().Add(time.Minute)
	for {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 2 invokes running after a minute: concurrent invokes are not served by two processes", len(entries))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := os.WriteFile(filepath.Join(dir, "release"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestCloseLeavesNoProcess(t *testing.T) {
	rt, _ := newRuntime(t, Function{})
	r, err := invoke(t, rt, `{"action":"echo"}`)
	if err != nil {
		t.Fatal(err)
	}
	rt.Close()
	if alive(r.Pid) {
		t.Errorf("process %d alive after Close", r.Pid)
	}
	if _, err := rt.Invoke(context.Background(), "ProbeFunction", []byte(`{}`)); err == nil {
		t.Error("Invoke after Close succeeded")
	}
}

func TestUnknownFunction(t *testing.T) {
	rt, _ := newRuntime(t, Function{})
	if _, err := rt.Invoke(context.Background(), "Nope", nil); !errors.Is(err, ErrUnknownFunction) {
		t.Errorf("error = %v, want ErrUnknownFunction", err)
	}
}

func TestCallerLeavingLetsTheInvocationFinish(t *testing.T) {
	rt, _ := newRuntime(t, Function{MaxInstances: 1})
	first, err := invoke(t, rt, `{"action":"echo"}`)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := rt.Invoke(ctx, "ProbeFunction", []byte(`{"action":"sleep","sleepMs":300}`))
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the sleep start
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	// The only instance is busy until the sleep ends, then serves the next invoke: same process.
	after, err := invoke(t, rt, `{"action":"echo"}`)
	if err != nil {
		t.Fatal(err)
	}
	if after.Pid != first.Pid {
		t.Errorf("process %d replaced by %d: a caller leaving must not kill the function", first.Pid, after.Pid)
	}
}
