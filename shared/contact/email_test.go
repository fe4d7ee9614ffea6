package contact_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/validate"
)

func TestEmailActionsAndComments(t *testing.T) {
	h := newHarness(t)
	a := h.create(`{"name": "Ani", "email": "ani@example.com"}`) // 00000000000000000000000001, event 00000000000000000000000002
	n := h.create(`{"name": "No Mail"}`)                         // 00000000000000000000000003, event 00000000000000000000000004
	queued := func(id string) resp {
		return resp{Status: 202, Headers: jsonHeaders, Body: map[string]any{"eventId": id, "status": "queued"}}
	}
	for _, tc := range []struct {
		name, route, id, body string
		want                  resp
		event                 map[string]any
	}{
		{"invite", "POST /v1/contacts/{id}/invite", a, `{"email": " ani.work@example.com "}`, queued("00000000000000000000000005"),
			wantEvent("00000000000000000000000005", "CONTACT_INVITED", a, "Ani", "user", "", map[string]any{"email": "ani.work@example.com"}, agent)},
		{"message", "POST /v1/contacts/{id}/messages", a, `{"text": "Your order <b>shipped</b>."}`, queued("00000000000000000000000006"),
			wantEvent("00000000000000000000000006", "MESSAGE_SENT", a, "Ani", "user", "", map[string]any{"text": "Your order <b>shipped</b>.", "to": "ani@example.com"}, agent)},
		{"share to the contact's own email", "POST /v1/contacts/{id}/share", a, `{}`, queued("00000000000000000000000007"),
			wantEvent("00000000000000000000000007", "CONTACT_SHARED", a, "Ani", "user", "", map[string]any{"email": "ani@example.com"}, agent)},
		{"share to a colleague with a note", "POST /v1/contacts/{id}/share", n, `{"email": "sales@example.com", "note": " Wants a quote. "}`, queued("00000000000000000000000008"),
			wantEvent("00000000000000000000000008", "CONTACT_SHARED", n, "No Mail", "user", "", map[string]any{"email": "sales@example.com", "note": "Wants a quote."}, agent)},
		{"comment", "POST /v1/contacts/{id}/comments", a, `{"text": "Prefers WhatsApp."}`,
			resp{Status: 201, Headers: jsonHeaders, Body: stacktest.JSON(t, `{"id": "00000000000000000000000009", "text": "Prefers WhatsApp.", "createdAt": "`+at0+`",
				"author": {"type": "user", "id": "u-agent", "name": "Ayu Agent"}}`)},
			wantEvent("00000000000000000000000009", "COMMENT_ADDED", a, "Ani", "user", "", map[string]any{"text": "Prefers WhatsApp."}, agent)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := h.item("T#acme#C#" + tc.id)["version"].(float64)
			stacktest.Diff(t, "response", tc.want, h.do(req{route: tc.route, id: tc.id, as: agent, body: tc.body}))
			evs := h.events()
			stacktest.Diff(t, "event", tc.event, evs[len(evs)-1])
			stacktest.Diff(t, "version bumped with the event", before+1, h.item("T#acme#C#" + tc.id)["version"])
		})
	}
	evsBefore := h.events()
	for _, tc := range []struct {
		name, route, id, body string
		want                  resp
	}{
		{"message without email", "POST /v1/contacts/{id}/messages", n, `{"text": "hi"}`, resp{Status: 422, Headers: jsonHeaders,
			Body: errBody("contact_has_no_email", "The contact has no email address; add one with PATCH /v1/contacts/{id} first.")}},
		{"share without any email", "POST /v1/contacts/{id}/share", n, `{"note": "x"}`, resp{Status: 422, Headers: jsonHeaders,
			Body: errBody("contact_has_no_email", "The contact has no email address; add one with PATCH /v1/contacts/{id} first.")}},
		{"invite without email", "POST /v1/contacts/{id}/invite", a, `{}`, resp{Status: 400, Headers: jsonHeaders,
			Body: fieldsBody("Fix the fields listed in error.fields: email.", map[string]any{"email": "is required"})}},
		{"invite with a header injection", "POST /v1/contacts/{id}/invite", a, `{"email": "a@example.com\nBcc: b@example.com"}`, resp{Status: 400, Headers: jsonHeaders,
			Body: fieldsBody("Fix the fields listed in error.fields: email.", map[string]any{"email": "must not contain line breaks"})}},
		{"empty message", "POST /v1/contacts/{id}/messages", a, `{"text": "  "}`, resp{Status: 400, Headers: jsonHeaders,
			Body: fieldsBody("Fix the fields listed in error.fields: text.", map[string]any{"text": "is required"})}},
		{"message too long", "POST /v1/contacts/{id}/messages", a, `{"text": "` + strings.Repeat("é", 10001) + `"}`, resp{Status: 400, Headers: jsonHeaders,
			Body: fieldsBody("Fix the fields listed in error.fields: text.", map[string]any{"text": "must be 1 to 10000 characters"})}},
		{"comment too long", "POST /v1/contacts/{id}/comments", a, `{"text": "` + strings.Repeat("x", 10001) + `"}`, resp{Status: 400, Headers: jsonHeaders,
			Body: fieldsBody("Fix the fields listed in error.fields: text.", map[string]any{"text": "must be 1 to 10000 characters"})}},
		{"share to a bad address", "POST /v1/contacts/{id}/share", a, `{"email": "Sales <sales@example.com>"}`, resp{Status: 400, Headers: jsonHeaders,
			Body: fieldsBody("Fix the fields listed in error.fields: email.", map[string]any{"email": "must be one email address, like name@example.com"})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stacktest.Diff(t, "response", tc.want, h.do(req{route: tc.route, id: tc.id, as: agent, body: tc.body}))
		})
	}
	stacktest.Diff(t, "no event from bad requests", evsBefore, h.events())
}

// TestIdempotentActions: every POST and DELETE answers a retry with the first response and
// records one event; a concurrent twin gets the winner's response.
func TestIdempotentActions(t *testing.T) {
	h := newHarness(t)
	a := h.create(`{"name": "Ani", "email": "ani@example.com"}`)
	b := h.create(`{"name": "Bea"}`)
	for i, q := range []req{
		{route: "POST /v1/contacts/{id}/channels", id: a, body: `{"channel": "sms", "externalId": "+62811000111"}`},
		{route: "PATCH /v1/contacts/{id}", id: a, body: `{"phone": "+62 811 000 111"}`},
		{route: "POST /v1/contacts/{id}/invite", id: a, body: `{"email": "ani@example.com"}`},
		{route: "POST /v1/contacts/{id}/messages", id: a, body: `{"text": "hi"}`},
		{route: "POST /v1/contacts/{id}/share", id: a, body: `{}`},
		{route: "POST /v1/contacts/{id}/comments", id: a, body: `{"text": "hi"}`},
		{route: "POST /v1/contacts/{id}/archive", id: a},
		{route: "POST /v1/contacts/{id}/unarchive", id: a},
		{route: "POST /v1/contacts/merge", body: `{"primaryId": "` + a + `", "mergedIds": ["` + b + `"]}`},
		{route: "DELETE /v1/contacts/{id}", id: a},
	} {
		t.Run(q.route, func(t *testing.T) {
			q.as = agent
			q.headers = map[string]string{"Idempotency-Key": "k-" + string(rune('a'+i))}
			n := len(h.events())
			first := h.do(q)
			if first.Status >= 300 {
				t.Fatalf("first: %v", first)
			}
			again := h.do(q)
			first.Headers = withReplayed(first.Headers)
			stacktest.Diff(t, "replay", first, again)
			stacktest.Diff(t, "one event", n+1, len(h.events()))
			if q.body != "" {
				q.body = strings.Replace(q.body, "}", `, "x": 1}`, 1)
			} else {
				q.body = `{}`
			}
			stacktest.Diff(t, "reuse", 409, h.do(q).Status)
		})
	}

	t.Run("concurrent twins", func(t *testing.T) {
		c := h.create(`{"name": "Cici"}`)
		n := len(h.events())
		q := req{route: "POST /v1/contacts/{id}/comments", id: c, as: agent, body: `{"text": "twin"}`, headers: map[string]string{"Idempotency-Key": "twin"}}
		got := make([]resp, 4)
		var wg sync.WaitGroup
		for i := range got {
			wg.Add(1)
			go func() { defer wg.Done(); got[i] = h.do(q) }()
		}
		wg.Wait()
		stacktest.Diff(t, "one event", n+1, len(h.events()))
		var want any
		for _, r := range got {
			switch {
			case r.Status == 201 && want == nil:
				want = r.Body
			case r.Status == 201:
				stacktest.Diff(t, "same comment for every twin", want, r.Body)
			default:
				// A twin that lost the race on the contact's version before the key's record
				// existed is told to retry (409 contact_changed); its retry replays.
				stacktest.Diff(t, "loser", resp{Status: 409, Headers: jsonHeaders, Body: errBody("contact_changed",
					"The contact changed while you were acting on it; reload it and retry.")}, r)
				retry := h.do(q)
				stacktest.Diff(t, "retry replays", want, retry.Body)
			}
		}
	})
}

// TestFreeTexts: a message, a comment or a note may hold tabs and line breaks, nothing else
// below U+0020; a bad text writes nothing.
func TestFreeTexts(t *testing.T) {
	h := newHarness(t)
	a := h.create(`{"name": "Ani", "email": "ani@example.com"}`) // 00000000000000000000000001, event 00000000000000000000000002
	got := h.do(req{route: "POST /v1/contacts/{id}/comments", id: a, as: agent, body: `{"text": "Line one\n\tLine two\r\nEnd"}`})
	stacktest.Diff(t, "comment with line breaks and a tab", resp{Status: 201, Headers: jsonHeaders, Body: stacktest.JSON(t, `{"id": "00000000000000000000000003",
		"text": "Line one\n\tLine two\r\nEnd", "createdAt": "`+at0+`", "author": {"type": "user", "id": "u-agent", "name": "Ayu Agent"}}`)}, got)
	items, evs := h.items(h.cfg.ContactsTable), h.events()
	control := "must not contain control characters (only tab and line breaks, and only in texts)"
	for _, tc := range []struct {
		name, route, body string
		want              any
	}{
		{"NUL in a comment", "POST /v1/contacts/{id}/comments", `{"text": "a\u0000b"}`,
			fieldsBody("Fix the field listed in error.fields: text.", map[string]any{"text": control})},
		{"an escape sequence in a message", "POST /v1/contacts/{id}/messages", `{"text": "\u001b[2Jhi"}`,
			fieldsBody("Fix the field listed in error.fields: text.", map[string]any{"text": control})},
		{"a bell in a note", "POST /v1/contacts/{id}/share", `{"note": "ding\u0007"}`,
			fieldsBody("Fix the field listed in error.fields: note.", map[string]any{"note": control})},
		{"invalid UTF-8 in a comment", "POST /v1/contacts/{id}/comments", "{\"text\": \"caf\xe9\"}",
			fieldsBody("Fix the field listed in error.fields: text.", map[string]any{"text": "must be valid UTF-8"})},
		{"a lone surrogate in a message", "POST /v1/contacts/{id}/messages", `{"text": "hi \udbff"}`,
			fieldsBody("Fix the field listed in error.fields: text.", map[string]any{"text": `must be valid UTF-8: \udbff is half of a UTF-16 surrogate pair`})},
		{"text twice", "POST /v1/contacts/{id}/comments", `{"text": "harmless", "text": "\u0000"}`,
			fieldsBody("Fix the field listed in error.fields: text.", map[string]any{"text": "is repeated; send each field once"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stacktest.Diff(t, "response", resp{Status: 400, Headers: jsonHeaders, Body: tc.want}, h.do(req{route: tc.route, id: a, as: agent, body: tc.body}))
		})
	}
	stacktest.Diff(t, "contacts table", items, h.items(h.cfg.ContactsTable))
	stacktest.Diff(t, "audit table", evs, h.events())
}

func withReplayed(h map[string]string) map[string]string {
	out := map[string]string{"idempotent-replayed": "true"}
	for k, v := range h {
		out[k] = v
	}
	return out
}

// TestTenantFromTokenOnly: the same contact id under another tenant's token is 404 on every
// route, and no route takes a tenant from the body (unknown field) or the path.
func TestTenantFromTokenOnly(t *testing.T) {
	h := newHarness(t)
	a := h.create(`{"name": "Ani", "email": "ani@example.com"}`)
	b := h.create(`{"name": "Bea"}`)
	items, evs := h.items(h.cfg.ContactsTable), h.events()
	notFound := func(id string) resp {
		return resp{Status: 404, Headers: jsonHeaders, Body: errBody("contact_not_found", "There is no contact "+id+"; check the id.")}
	}
	for _, q := range idRoutes {
		q.id, q.as = a, other
		stacktest.Diff(t, q.route, notFound(a), h.do(q))
	}
	stacktest.Diff(t, "merge", notFound(a), h.do(req{route: "POST /v1/contacts/merge", as: other, body: `{"primaryId": "` + a + `", "mergedIds": ["` + b + `"]}`}))
	stacktest.Diff(t, "list", map[string]any{"items": []any{}, "nextCursor": nil}, any(h.ok(req{route: "GET /v1/contacts", as: other}, 200)))
	stacktest.Diff(t, "a tenant in the body", 400, h.do(req{route: "POST /v1/contacts", as: other, body: `{"name": "X", "tenantId": "acme"}`}).Status)
	// A tenant in the path or query is ignored: the route reads the token's.
	q := req{route: "GET /v1/contacts/{id}", id: a, as: other, query: "tenant=acme&tenantId=acme"}
	stacktest.Diff(t, "tenant in the query", notFound(a), h.do(q))
	stacktest.Diff(t, "nothing written for the other tenant", items, h.items(h.cfg.ContactsTable))
	stacktest.Diff(t, "no event", evs, h.events())
}

// TestSampleEvents runs every events/ sample of the contact functions through its handler
// against DynamoDB Local, with the sample's contact ids present.
func TestSampleEvents(t *testing.T) {
	h := newHarness(t)
	samples := map[string]int{
		"create-contact-manual": 201, "create-contact-incoming-message": 201, "get-contact-ok": 200,
		"list-contacts-archived": 200, "update-contact-email": 200, "connect-channel-whatsapp": 201,
		"invite-contact-ok": 202, "message-contact-ok": 202, "share-contact-colleague": 202, "comment-contact-ok": 201,
		"contact-history-contact-events": 200, "archive-contact-ok": 200, "unarchive-contact-ok": 200,
		"merge-contacts-two": 200, "delete-contact-ok": 204,
	}
	order := []string{"create-contact-manual", "create-contact-incoming-message", "get-contact-ok", "list-contacts-archived",
		"update-contact-email", "connect-channel-whatsapp", "invite-contact-ok", "message-contact-ok", "share-contact-colleague",
		"comment-contact-ok", "contact-history-contact-events", "archive-contact-ok", "unarchive-contact-ok",
		"merge-contacts-two", "delete-contact-ok"}
	// The samples name these contacts; the first three adds take their ids.
	h.ids.Next = []string{"01JDQ7Z3K8M4N6P8R0T2V4X6Z8", "", "01JDQ80A1B2C3D4E5F6G7H8J9K", "", "01JDQ80B1B2C3D4E5F6G7H8J9K"}
	by := contact.Caller{TenantID: "acme", UserID: "u-seed", Name: "Seed"}
	for _, name := range []string{"Budi", "Ani", "Bea"} {
		in := contact.CreateInput{Name: name, Source: "manual"}
		in.Check(validate.Problems{})
		if _, err := h.svc.Add(context.Background(), by, in); err != nil {
			t.Fatal(err)
		}
	}
	h.clock.Advance(0)
	root := filepath.Join("..", "..", "events")
	for _, name := range order {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(root, name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var ev events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(b, &ev); err != nil {
				t.Fatal(err)
			}
			handler := h.routes[ev.RouteKey]
			if handler == nil {
				t.Fatalf("no handler for %s", ev.RouteKey)
			}
			out, err := handler(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if out.StatusCode != samples[name] {
				t.Errorf("status %d, want %d: %s", out.StatusCode, samples[name], out.Body)
			}
		})
	}
}
