package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contrail/contrail/local/devauth"
)

// StartTest starts a stack for an end-to-end test and stops it when the test ends. Unless
// set, the state lives in a fresh t.TempDir() (so a test starts empty) and the API is on a
// free port; schedules are off unless o.ScheduleScale is set. Name the functions a test
// needs in o.Functions to keep the build short. The stack's output is shown only when the
// test fails.
//
//	s := devstack.StartTest(t, devstack.Options{Functions: []string{"CreateContactFunction", "ArchiverFunction"}})
//	claims := devauth.Claims{Tenant: "acme", Roles: []string{"agent"}}
//	status, body := s.Client(t, claims).Do("POST", "/v1/contacts", "application/json", `{"name":"Ana"}`)
func StartTest(t testing.TB, o Options) *Stack {
	t.Helper()
	if o.StateDir == "" {
		o.StateDir = t.TempDir()
	}
	var out *lockedBuffer
	if o.Out == nil {
		out = &lockedBuffer{}
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
	s.testOut = out
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop the local stack: %v", err)
		}
	})
	return s
}

// Output is what a stack started by StartTest (without Options.Out) printed so far: the
// functions' logs included.
func (s *Stack) Output() string {
	if s.testOut == nil {
		return ""
	}
	return s.testOut.String()
}

// Client calls a stack's API in a test as the bearer of one token.
type Client struct {
	t   testing.TB
	url string
	tok string
}

// Client returns a client of the stack's API that sends a token of claims (signed with the
// stack's key) as its bearer token.
func (s *Stack) Client(t testing.TB, claims devauth.Claims) *Client {
	t.Helper()
	tok, err := s.Token(claims)
	if err != nil {
		t.Fatal(err)
	}
	return &Client{t: t, url: s.URL, tok: tok}
}

// Do sends method path with body, of contentType ("" sends no Content-Type), and returns
// the status and the whole response body. A request that gets no response fails the test.
func (c *Client) Do(method, path, contentType, body string) (int, []byte) {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.url+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.tok)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// JSON is Do that decodes the response body into out, unless out is nil, and returns the
// status; a body that is not JSON fails the test.
func (c *Client) JSON(method, path, contentType, body string, out any) int {
	c.t.Helper()
	status, b := c.Do(method, path, contentType, body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %d %q", method, path, status, b)
		}
	}
	return status
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
