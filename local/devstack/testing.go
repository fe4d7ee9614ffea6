package devstack

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"
)

// StartTest starts a stack for an end-to-end test and stops it when the test ends. Unless
// set, the state lives in a fresh t.TempDir() (so a test starts empty) and the API is on a
// free port; schedules are off unless o.ScheduleScale is set. Name the functions a test
// needs in o.Functions to keep the build short. The stack's output is shown only when the
// test fails.
//
//	s := devstack.StartTest(t, devstack.Options{Functions: []string{"CreateContactFunction", "ArchiverFunction"}})
//	tok, _ := s.Token(devauth.Claims{Tenant: "acme", Roles: []string{"agent"}})
//	// POST s.URL+"/v1/contacts" with "Authorization: Bearer "+tok ...
func StartTest(t testing.TB, o Options) *Stack {
	t.Helper()
	if o.StateDir == "" {
		o.StateDir = t.TempDir()
	}
	if o.Out == nil {
		out := &lockedBuffer{}
		o.Out = out
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("local stack output:\n%s", out.String())
			}
		})
	}
	if o.ScheduleScale == 0 && !o.NoSchedules {
		o.NoSchedules = true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	s, err := Start(ctx, o)
	if err != nil {
		t.Fatalf("start the local stack: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop the local stack: %v", err)
		}
	})
	return s
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
