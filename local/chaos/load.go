package chaos

// The load: callers of one tenant sending contact actions, event batches and exports through
// the API, each request retried with its idempotency key while it fails with a 5xx or no
// answer, and accounted: acknowledged, refused (4xx), or of unknown outcome.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// tracker accounts for a scenario's requests.
type tracker struct {
	mu sync.Mutex
	// acked and unknown count requests by kind (contact, events, invite, message, share, export).
	acked, unknown, refused map[string]int
	ingested                []string          // event ids the API acknowledged
	mails                   map[string]string // mail key -> the request kind that asked for it (acknowledged or unknown)
	exports                 map[string]string // export id -> its recipient
	requests                int               // HTTP requests sent
	statuses                map[int]int
	outside5xx              []string // 5xx answered while no fault was injected
	notes                   []string
	mailerKillsBefore       int // MailerFunction's mid-invocation kills before the scenario
	mailReplaysBefore       int // MailReplayFunction's invocations before the scenario
}

func newTracker() *tracker {
	return &tracker{acked: map[string]int{}, unknown: map[string]int{}, refused: map[string]int{}, mails: map[string]string{},
		exports: map[string]string{}, statuses: map[int]int{}}
}

func (t *tracker) note(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.notes) < 20 {
		t.notes = append(t.notes, fmt.Sprintf(format, args...))
	}
}

// caller sends one tenant's requests.
type caller struct {
	h      *Harness
	t      *tracker
	token  string
	client *http.Client
}

// send sends a request, again with the same idempotency key while it gets a 5xx, no answer
// or a 409 contact_changed (for up to 2 minutes: a restarting stack takes a while), and returns the last
// status and body; status 0 is no answer at all.
func (c *caller) send(ctx context.Context, method, path, key string, body any) (int, []byte) {
	b, _ := json.Marshal(body)
	wait := 200 * time.Millisecond
	deadline := time.Now().Add(2 * time.Minute)
	for {
		faultyBefore := c.h.faulty()
		status, resp := c.once(ctx, method, path, key, b)
		faulty := faultyBefore || c.h.faulty()
		c.t.mu.Lock()
		c.t.requests++
		c.t.statuses[status]++
		if status >= 500 && !faulty {
			c.t.outside5xx = append(c.t.outside5xx, fmt.Sprintf("%s %s: %d %s", method, path, status, truncate(resp, 300)))
		}
		c.t.mu.Unlock()
		// contact_changed asks to retry: under faults it is a transaction conflict.
		again := status == 0 || status >= 500 || (status == http.StatusConflict && bytes.Contains(resp, []byte(`"contact_changed"`)))
		if !again || ctx.Err() != nil || time.Now().After(deadline) {
			return status, resp
		}
		select {
		case <-ctx.Done():
			return status, resp
		case <-time.After(wait):
		}
		wait = min(wait*2, 3*time.Second)
	}
}

func (c *caller) once(ctx context.Context, method, path, key string, body []byte) (int, []byte) {
	url := c.h.Stack().URL + path
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// account records how a request of kind ended: acked (2xx), refused (4xx), else unknown.
func (c *caller) account(kind string, status int, resp []byte) bool {
	c.t.mu.Lock()
	defer c.t.mu.Unlock()
	switch {
	case status >= 200 && status < 300:
		c.t.acked[kind]++
		return true
	case status >= 400 && status < 500:
		c.t.refused[kind]++
		if len(c.t.notes) < 20 {
			c.t.notes = append(c.t.notes, fmt.Sprintf("%s refused: %d %s", kind, status, truncate(resp, 200)))
		}
	default:
		c.t.unknown[kind]++
	}
	return false
}

// round is one round of caller w: a contact; a batch of events; an invite, a message and a
// share of the contact, each mailing an address of its own; an export when export is set.
func (c *caller) round(ctx context.Context, tag string, export bool, day string) {
	id := tag
	status, resp := c.send(ctx, "POST", "/v1/contacts", "c-"+id, map[string]any{
		"name": "Chaos " + id, "email": "c-" + id + "@chaos.example", "phone": "+62 812 0000 0000",
	})
	c.account("contact", status, resp)
	var contact struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(resp, &contact)

	events := make([]map[string]any, 5)
	for i := range events {
		events[i] = map[string]any{"type": "START_CALL", "data": map[string]any{"callId": fmt.Sprintf("call-%s-%d", id, i), "customerId": "cust-" + id}}
	}
	status, resp = c.send(ctx, "POST", "/v1/audit-events", "e-"+id, map[string]any{"events": events})
	if c.account("events", status, resp) {
		var out struct {
			IDs []string `json:"ids"`
		}
		_ = json.Unmarshal(resp, &out)
		c.t.mu.Lock()
		c.t.ingested = append(c.t.ingested, out.IDs...)
		c.t.mu.Unlock()
	}

	if contact.ID != "" {
		for _, a := range []struct {
			kind, path, to string
			body           map[string]any
		}{
			{"invite", "/invite", "inv-" + id + "@chaos.example", map[string]any{"email": "inv-" + id + "@chaos.example"}},
			{"message", "/messages", "c-" + id + "@chaos.example", map[string]any{"text": "Chaos message " + id}},
			{"share", "/share", "sh-" + id + "@chaos.example", map[string]any{"email": "sh-" + id + "@chaos.example", "note": "chaos " + id}},
		} {
			status, resp = c.send(ctx, "POST", "/v1/contacts/"+contact.ID+a.path, a.kind+"-"+id, a.body)
			if c.account(a.kind, status, resp) || status >= 500 || status == 0 {
				c.t.mu.Lock()
				c.t.mails[a.to] = a.kind
				c.t.mu.Unlock()
			}
		}
	}

	if export {
		to := "exp-" + id + "@chaos.example"
		status, resp = c.send(ctx, "POST", "/v1/exports", "x-"+id, map[string]any{
			"report": "added", "from": day, "to": nextDay(day), "format": "csv", "email": to,
		})
		if c.account("export", status, resp) {
			var out struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(resp, &out)
			c.t.mu.Lock()
			c.t.exports[out.ID] = to
			c.t.mu.Unlock()
		}
	}
}

func nextDay(day string) string {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return day
	}
	return d.AddDate(0, 0, 1).Format(time.DateOnly)
}

// mailKey is the key of an email to one recipient in the Mailbox, whatever its subject.
func (m *Mailbox) to(addr string) []Sent {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Sent
	for k, v := range m.byKey {
		if strings.HasPrefix(k, addr+" | ") {
			out = append(out, v...)
		}
	}
	return out
}
