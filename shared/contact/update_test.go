package contact_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/contact"
)

var jsonHeaders = map[string]string{"content-type": "application/json"}

func errBody(code, message string) map[string]any {
	return map[string]any{"error": map[string]any{"code": code, "message": message}}
}

func fieldsBody(message string, fields map[string]any) map[string]any {
	return map[string]any{"error": map[string]any{"code": "invalid_request", "message": message, "fields": fields}}
}

func TestUpdate(t *testing.T) {
	h := newHarness(t)
	id := h.create(`{"name": "Budi", "email": "budi@example.com"}`)
	h.clock.Advance(time.Minute)
	const at1 = "2026-11-30T01:01:00.000Z"

	t.Run("changes name and phone, clears email", func(t *testing.T) {
		got := h.do(req{route: "PATCH /v1/contacts/{id}", id: id, as: agent,
			body: `{"name": " Budi Santoso ", "email": null, "phone": "+62 811 000 111"}`})
		stacktest.Diff(t, "response", resp{Status: 200, Headers: jsonHeaders, Body: stacktest.JSON(t, `{"id": "00000000000000000000000001", "name": "Budi Santoso",
			"email": null, "phone": "+62 811 000 111", "status": "active", "channels": [],
			"createdAt": "`+at0+`", "updatedAt": "`+at1+`"}`)}, got)
		stacktest.Diff(t, "stored contact", map[string]any{
			"pk": "T#acme#C#00000000000000000000000001", "itemType": "contact", "id": "00000000000000000000000001", "tenantId": "acme", "name": "Budi Santoso",
			"phone": "+62 811 000 111", "status": "active", "channels": []any{},
			"createdAt": at0, "updatedAt": at1, "version": float64(2), "createdBy": "u-agent",
			"statusKey": "T#acme#active", "createdKey": at0 + "#00000000000000000000000001",
		}, h.item("T#acme#C#00000000000000000000000001"))
		ev := h.events()[1]
		want := wantEvent("00000000000000000000000003", "CONTACT_UPDATED", "00000000000000000000000001", "Budi Santoso", "user", "", map[string]any{"changes": map[string]any{
			"name":  map[string]any{"from": "Budi", "to": "Budi Santoso"},
			"email": map[string]any{"from": "budi@example.com", "to": nil},
			"phone": map[string]any{"from": nil, "to": "+62 811 000 111"},
		}}, agent)
		retime(want, at1)
		stacktest.Diff(t, "event", want, ev)
	})
	t.Run("no change answers 200 and records nothing", func(t *testing.T) {
		got := h.ok(req{route: "PATCH /v1/contacts/{id}", id: id, as: agent, body: `{"name": "Budi Santoso", "email": ""}`}, 200)
		stacktest.Diff(t, "name", "Budi Santoso", got["name"])
		stacktest.Diff(t, "events", []string{"CONTACT_ADDED", "CONTACT_UPDATED"}, h.eventTypes())
	})
	for _, tc := range []struct {
		name, body string
		want       any
	}{
		{"empty object", `{}`, fieldsBody("Fix the fields listed in error.fields: name.", map[string]any{"name": "send at least one of name, email, phone"})},
		{"null name", `{"name": null}`, fieldsBody("Fix the fields listed in error.fields: name.", map[string]any{"name": "must not be null"})},
		{"blank name", `{"name": " "}`, fieldsBody("Fix the fields listed in error.fields: name.", map[string]any{"name": "is required"})},
		{"bad email", `{"email": "a@b"}`, fieldsBody("Fix the fields listed in error.fields: email.", map[string]any{"email": "must be one email address, like name@example.com"})},
		{"a name spelt in another case", `{"Name": "X"}`, map[string]any{"error": map[string]any{"code": "invalid_request", "message": "Remove the unknown field Name.", "fields": map[string]any{"Name": "is not a known field"}}}},
		{"status is not updatable", `{"status": "archived"}`, map[string]any{"error": map[string]any{"code": "invalid_request", "message": "Remove the unknown field status.", "fields": map[string]any{"status": "is not a known field"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stacktest.Diff(t, "response", resp{Status: 400, Headers: jsonHeaders, Body: tc.want},
				h.do(req{route: "PATCH /v1/contacts/{id}", id: id, as: agent, body: tc.body}))
		})
	}
	stacktest.Diff(t, "events after bad requests", []string{"CONTACT_ADDED", "CONTACT_UPDATED"}, h.eventTypes())
}

// retime moves an expected event (built for t0) to occurredAt at.
func retime(e map[string]any, at string) {
	e["occurredAt"], e["recordedAt"] = at, at
	e["sk"] = at + "#" + e["id"].(string)
	ts, _ := time.Parse(time.RFC3339, at)
	e["expiresAt"] = float64(ts.AddDate(0, 0, 400).Unix())
}

// barrierDB holds every contact read until n of them are waiting, so n concurrent actions
// all read the same version before any writes.
type barrierDB struct {
	contact.Client
	mu      sync.Mutex
	waiting int
	n       int
	release chan struct{}
}

func (b *barrierDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	out, err := b.Client.GetItem(ctx, in, opts...)
	if pk := in.Key["pk"]; pk != nil && b.n > 0 {
		b.mu.Lock()
		b.waiting++
		if b.waiting == b.n {
			close(b.release)
		}
		b.mu.Unlock()
		<-b.release
	}
	return out, err
}

func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	var bdb *barrierDB
	h := newHarnessWith(t, func(c contact.Client) contact.Client {
		bdb = &barrierDB{Client: c, release: make(chan struct{})}
		return bdb
	})
	id := h.create(`{"name": "Budi"}`)
	bdb.n = 2 // from now on, the two updates meet after their reads
	bodies := []string{`{"name": "Budi A"}`, `{"phone": "+62 811 222 333"}`}
	got := make([]resp, 2)
	var wg sync.WaitGroup
	for i, body := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = h.do(req{route: "PATCH /v1/contacts/{id}", id: id, as: agent, body: body})
		}()
	}
	wg.Wait()
	bdb.n = 0
	winner, loser := 0, 1
	if got[0].Status != 200 {
		winner, loser = 1, 0
	}
	stacktest.Diff(t, "winner status", 200, got[winner].Status)
	stacktest.Diff(t, "loser", resp{Status: 409, Headers: jsonHeaders, Body: errBody("contact_changed",
		"The contact changed while you were acting on it; reload it and retry.")}, got[loser])
	// The stored contact is the winner's, with one event for it; the loser retries and both
	// changes are kept.
	stored := h.ok(req{route: "GET /v1/contacts/{id}", id: id, as: agent}, 200)
	stacktest.Diff(t, "stored = winner's response", got[winner].Body, any(stored))
	stacktest.Diff(t, "events", []string{"CONTACT_ADDED", "CONTACT_UPDATED"}, h.eventTypes())
	h.ok(req{route: "PATCH /v1/contacts/{id}", id: id, as: agent, body: bodies[loser]}, 200)
	final := h.ok(req{route: "GET /v1/contacts/{id}", id: id, as: agent}, 200)
	stacktest.Diff(t, "both changes", []any{"Budi A", "+62 811 222 333"}, []any{final["name"], final["phone"]})
	stacktest.Diff(t, "events", []string{"CONTACT_ADDED", "CONTACT_UPDATED", "CONTACT_UPDATED"}, h.eventTypes())
}
