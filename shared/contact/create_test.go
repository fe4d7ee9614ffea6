package contact_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/audit"
)

const at0 = "2026-11-30T01:00:00.000Z"

var expires0 = float64(t0.AddDate(0, 0, 400).Unix())

// wantEvent is the stored audit item of a contact event by agent at t0.
func wantEvent(id, typ, contactID, contactName, source, channel string, data map[string]any, by caller) map[string]any {
	if data == nil {
		data = map[string]any{}
	}
	shard := audit.Keys{Shards: 4}.Shard(id)
	category := audit.CategoryOf(typ)
	e := map[string]any{
		"pk": fmt.Sprintf("T#%s#D#2026-11-30#%d", by.Tenant, shard), "sk": at0 + "#" + id,
		"id": id, "tenantId": by.Tenant, "occurredAt": at0, "recordedAt": at0,
		"type": typ, "category": category,
		"actor":       map[string]any{"type": "user", "id": by.Sub, "name": by.Name},
		"contact":     map[string]any{"id": contactID, "name": contactName},
		"source":      source,
		"data":        data,
		"context":     map[string]any{"ip": "203.0.113.7", "userAgent": "contact-test/1.0", "requestId": "req-1"},
		"contactKey":  "T#" + by.Tenant + "#C#" + contactID,
		"typeKey":     fmt.Sprintf("T#%s#Y#%s#2026-11-30#%d", by.Tenant, typ, shard),
		"categoryKey": fmt.Sprintf("T#%s#G#%s#2026-11-30#%d", by.Tenant, category, shard),
		"actorKey":    fmt.Sprintf("T#%s#A#%s#2026-11-30#%d", by.Tenant, by.Sub, shard),
		"itemType":    "event",
		"expiresAt":   expires0,
	}
	if channel != "" {
		e["channel"] = channel
	}
	return e
}

func TestCreate(t *testing.T) {
	h := newHarness(t)
	got := h.do(req{route: "POST /v1/contacts", as: agent,
		body: `{"name": "  Budi Santoso ", "email": "budi@example.com", "phone": "+62 812-3456-7890", "source": "api"}`})
	stacktest.Diff(t, "response", resp{Status: 201, Headers: map[string]string{"content-type": "application/json"}, Body: stacktest.JSON(t, `{
		"id": "00000000000000000000000001", "name": "Budi Santoso", "email": "budi@example.com", "phone": "+62 812-3456-7890",
		"status": "active", "channels": [], "createdAt": "`+at0+`", "updatedAt": "`+at0+`"}`)}, got)
	stacktest.Diff(t, "contacts table", []map[string]any{{
		"pk": "T#acme#C#00000000000000000000000001", "itemType": "contact", "id": "00000000000000000000000001", "tenantId": "acme", "name": "Budi Santoso",
		"email": "budi@example.com", "phone": "+62 812-3456-7890", "status": "active", "channels": []any{},
		"createdAt": at0, "updatedAt": at0, "version": float64(1), "createdBy": "u-agent",
		"statusKey": "T#acme#active", "createdKey": at0 + "#00000000000000000000000001",
	}}, h.items(h.cfg.ContactsTable))
	stacktest.Diff(t, "audit table", []map[string]any{
		wantEvent("00000000000000000000000002", "CONTACT_ADDED", "00000000000000000000000001", "Budi Santoso", "api", "",
			map[string]any{"email": "budi@example.com", "phone": "+62 812-3456-7890"}, agent),
	}, h.events())

	// The same contact reads back, for any role of the tenant.
	got.Status = 200
	for _, as := range []caller{agent, admin} {
		stacktest.Diff(t, "get", got, h.do(req{route: "GET /v1/contacts/{id}", id: "00000000000000000000000001", as: as}))
	}
}

func TestCreateWithChannel(t *testing.T) {
	h := newHarness(t)
	t.Run("identity connects the channel and records both events", func(t *testing.T) {
		got := h.ok(req{route: "POST /v1/contacts", as: agent,
			body: `{"name": "Wati", "source": "incoming_message", "channel": "whatsapp", "externalId": "+6281234567890"}`}, 201)
		stacktest.Diff(t, "response", stacktest.JSON(t, `{"id": "00000000000000000000000001", "name": "Wati", "email": null, "phone": null, "status": "active",
			"channels": [{"channel": "whatsapp", "externalId": "+6281234567890", "connectedAt": "`+at0+`"}],
			"createdAt": "`+at0+`", "updatedAt": "`+at0+`"}`), any(got))
		stacktest.Diff(t, "identity item", map[string]any{
			"pk": "T#acme#CH#whatsapp#+6281234567890", "itemType": "channel_identity", "tenantId": "acme",
			"channel": "whatsapp", "externalId": "+6281234567890", "contactId": "00000000000000000000000001", "connectedAt": at0,
		}, h.item("T#acme#CH#whatsapp#+6281234567890"))
		stacktest.Diff(t, "events", []map[string]any{
			wantEvent("00000000000000000000000002", "CONTACT_ADDED", "00000000000000000000000001", "Wati", "incoming_message", "whatsapp", nil, agent),
			wantEvent("00000000000000000000000003", "CONTACT_CONNECTED", "00000000000000000000000001", "Wati", "incoming_message", "whatsapp", map[string]any{"externalId": "+6281234567890"}, agent),
		}, h.events())
	})
	t.Run("the same identity on a second new contact is 409 and writes nothing", func(t *testing.T) {
		before, evs := h.items(h.cfg.ContactsTable), h.events()
		r := h.do(req{route: "POST /v1/contacts", as: agent, body: `{"name": "Other", "channel": "whatsapp", "externalId": "+6281234567890"}`})
		stacktest.Diff(t, "response", resp{Status: 409, Headers: map[string]string{"content-type": "application/json"}, Body: stacktest.JSON(t,
			`{"error": {"code": "channel_identity_taken", "message": "Another contact is connected to this channel identity; merge the two contacts instead."}}`)}, r)
		stacktest.Diff(t, "contacts table", before, h.items(h.cfg.ContactsTable))
		stacktest.Diff(t, "audit table", evs, h.events())
	})
	t.Run("a channel without an identity is recorded on the event only", func(t *testing.T) {
		h := newHarness(t)
		got := h.ok(req{route: "POST /v1/contacts", as: agent, body: `{"name": "Rina", "channel": "telegram"}`}, 201)
		stacktest.Diff(t, "channels", []any{}, got["channels"])
		stacktest.Diff(t, "events", []map[string]any{
			wantEvent("00000000000000000000000002", "CONTACT_ADDED", "00000000000000000000000001", "Rina", "manual", "telegram", nil, agent),
		}, h.events())
	})
}

func TestCreateRejectsBadInput(t *testing.T) {
	h := newHarness(t)
	invalid := func(msg string, fields map[string]any) any {
		return map[string]any{"error": map[string]any{"code": "invalid_request", "message": msg, "fields": fields}}
	}
	long := strings.Repeat("n", 201)
	for _, tc := range []struct {
		name   string
		body   string
		as     caller
		key    string
		status int
		want   any
	}{
		{"missing name", `{"email": "a@example.com"}`, agent, "", 400, invalid("Fix the fields listed in error.fields: name.", map[string]any{"name": "is required"})},
		{"blank name", `{"name": "   "}`, agent, "", 400, invalid("Fix the fields listed in error.fields: name.", map[string]any{"name": "is required"})},
		{"name too long", `{"name": "` + long + `"}`, agent, "", 400, invalid("Fix the fields listed in error.fields: name.", map[string]any{"name": "must be 1 to 200 characters"})},
		{"bad email and phone", `{"name": "A", "email": "not-an-email", "phone": "12ab"}`, agent, "", 400, invalid("Fix the fields listed in error.fields: email, phone.", map[string]any{
			"email": "must be one email address, like name@example.com",
			"phone": "must be a phone number like +62 812-3456-7890: an optional +, then 6 to 20 digits with spaces, dashes, dots or parentheses"})},
		{"email with a line break", `{"name": "A", "email": "a@example.com\r\nBcc: x@example.com"}`, agent, "", 400, invalid("Fix the fields listed in error.fields: email.", map[string]any{"email": "must not contain line breaks"})},
		{"two addresses", `{"name": "A", "email": "a@example.com, b@example.com"}`, agent, "", 400, invalid("Fix the fields listed in error.fields: email.", map[string]any{"email": "must be one email address, like name@example.com"})},
		{"unknown source", `{"name": "A", "source": "import"}`, agent, "", 400, invalid("Fix the fields listed in error.fields: source.", map[string]any{"source": "must be one of manual, api, incoming_message"})},
		{"unknown channel", `{"name": "A", "channel": "pigeon"}`, agent, "", 400, invalid("Fix the fields listed in error.fields: channel.", map[string]any{"channel": "must be one of whatsapp, telegram, instagram, messenger, webchat, email, sms"})},
		{"externalId without channel", `{"name": "A", "externalId": "123"}`, agent, "", 400, invalid("Fix the fields listed in error.fields: channel.", map[string]any{"channel": "is required with externalId"})},
		{"NUL in the name", `{"name": "Ada\u0000Lovelace"}`, agent, "", 400, invalid("Fix the field listed in error.fields: name.", map[string]any{"name": "must not contain control characters (only tab and line breaks, and only in texts)"})},
		{"a line break in the name", `{"name": "Ada\nLovelace"}`, agent, "", 400, invalid("Fix the fields listed in error.fields: name.", map[string]any{"name": "must be one line, without control characters"})},
		{"a tab in the email", `{"name": "A", "email": "a\t@example.com"}`, agent, "", 400, invalid("Fix the fields listed in error.fields: email.", map[string]any{"email": "must be one line, without control characters"})},
		{"invalid UTF-8 in the name", "{\"name\": \"Ad\xe1\"}", agent, "", 400, invalid("Fix the field listed in error.fields: name.", map[string]any{"name": "must be valid UTF-8"})},
		{"a lone surrogate in the phone", `{"name": "A", "phone": "\ud800"}`, agent, "", 400, invalid("Fix the field listed in error.fields: phone.", map[string]any{"phone": `must be valid UTF-8: \ud800 is half of a UTF-16 surrogate pair`})},
		{"a repeated field", `{"name": "a", "name": "b"}`, agent, "", 400, invalid("Fix the field listed in error.fields: name.", map[string]any{"name": "is repeated; send each field once"})},
		{"unknown field", `{"name": "A", "tenantId": "globex"}`, agent, "", 400, invalid("Remove the unknown field tenantId.", map[string]any{"tenantId": "is not a known field"})},
		{"a field spelt in another case", `{"name": "A", "EMAIL": "a@example.com"}`, agent, "", 400, invalid("Remove the unknown field EMAIL.", map[string]any{"EMAIL": "is not a known field"})},
		{"wrong type", `{"name": 42}`, agent, "", 400, invalid("Fix the field listed in error.fields: name.", map[string]any{"name": "must be a string"})},
		{"not JSON", `{"name": `, agent, "", 400, map[string]any{"error": map[string]any{"code": "invalid_json", "message": "The request body is not valid JSON."}}},
		{"empty body", ``, agent, "", 400, map[string]any{"error": map[string]any{"code": "invalid_body", "message": "Send a JSON object as the request body."}}},
		{"two values", `{"name": "A"} {"name": "B"}`, agent, "", 400, map[string]any{"error": map[string]any{"code": "invalid_body", "message": "The request body must hold a single JSON object and nothing after it."}}},
		{"too large", `{"name": "A", "phone": "` + strings.Repeat(" ", 256<<10) + `"}`, agent, "", 413, map[string]any{"error": map[string]any{"code": "body_too_large", "message": fmt.Sprintf("The request body is %d bytes; send at most 262144.", 256<<10+26)}}},
		{"idempotency key too long", `{"name": "A"}`, agent, strings.Repeat("k", 129), 400, map[string]any{"error": map[string]any{"code": "invalid_idempotency_key", "message": "Send an Idempotency-Key of 1 to 128 characters.", "fields": map[string]any{"Idempotency-Key": "must be 1 to 128 characters"}}}},
		{"no token", `{"name": "A"}`, nobody, "", 401, map[string]any{"error": map[string]any{"code": "unauthorized", "message": "Send a valid bearer token in the Authorization header."}}},
		{"service role", `{"name": "A"}`, caller{Tenant: "acme", Sub: "svc", Name: "Svc", Groups: "[service]"}, "", 403, map[string]any{"error": map[string]any{"code": "forbidden", "message": "This route needs one of the roles agent or admin."}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := req{route: "POST /v1/contacts", body: tc.body, as: tc.as}
			if tc.key != "" {
				q.headers = map[string]string{"Idempotency-Key": tc.key}
			}
			got := h.do(q)
			stacktest.Diff(t, "response", resp{Status: tc.status, Headers: map[string]string{"content-type": "application/json"}, Body: tc.want}, got)
		})
	}
	stacktest.Diff(t, "contacts table after bad requests", []map[string]any(nil), h.items(h.cfg.ContactsTable))
	stacktest.Diff(t, "audit table after bad requests", []map[string]any(nil), h.events())
}

func TestCreateIdempotency(t *testing.T) {
	h := newHarness(t)
	key := map[string]string{"Idempotency-Key": "create-1"}
	first := h.do(req{route: "POST /v1/contacts", as: agent, headers: key, body: `{"name": "Budi"}`})
	if first.Status != 201 {
		t.Fatalf("first: %v", first)
	}
	again := h.do(req{route: "POST /v1/contacts", as: agent, headers: key, body: `{"name": "Budi"}`})
	want := first
	want.Headers = map[string]string{"content-type": "application/json", "idempotent-replayed": "true"}
	stacktest.Diff(t, "replay", want, again)
	stacktest.Diff(t, "events", []string{"CONTACT_ADDED"}, h.eventTypes())

	reused := h.do(req{route: "POST /v1/contacts", as: agent, headers: key, body: `{"name": "Someone else"}`})
	stacktest.Diff(t, "reuse with another body", resp{Status: 409, Headers: map[string]string{"content-type": "application/json"}, Body: stacktest.JSON(t,
		`{"error": {"code": "idempotency_key_reused", "message": "This Idempotency-Key was used for a different request in the last 24 hours; use a new key."}}`)}, reused)

	// Keys are per tenant: another tenant may use the same key for its own request.
	theirs := h.ok(req{route: "POST /v1/contacts", as: other, headers: key, body: `{"name": "Budi"}`}, 201)
	stacktest.Diff(t, "other tenant's contact id", "00000000000000000000000003", theirs["id"])
	stacktest.Diff(t, "events", []string{"CONTACT_ADDED", "CONTACT_ADDED"}, h.eventTypes())
}

func TestGet(t *testing.T) {
	h := newHarness(t)
	id := h.create(`{"name": "Budi"}`)
	notFound := func(id string) resp {
		return resp{Status: 404, Headers: map[string]string{"content-type": "application/json"}, Body: map[string]any{"error": map[string]any{
			"code": "contact_not_found", "message": "There is no contact " + id + "; check the id."}}}
	}
	stacktest.Diff(t, "unknown id", notFound(unknownID), h.do(req{route: "GET /v1/contacts/{id}", id: unknownID, as: agent}))
	stacktest.Diff(t, "another tenant", notFound(id), h.do(req{route: "GET /v1/contacts/{id}", id: id, as: other}))
	stacktest.Diff(t, "no token", 401, h.do(req{route: "GET /v1/contacts/{id}", id: id}).Status)
	stacktest.Diff(t, "service role", 403, h.do(req{route: "GET /v1/contacts/{id}", id: id, as: caller{Tenant: "acme", Sub: "svc", Name: "Svc", Groups: "[service]"}}).Status)
}

// An Idempotency-Key names one request of the tenant, whatever its route: reusing it on
// another route (or another contact) is 409 and changes nothing.
func TestIdempotencyKeyReusedOnAnotherRoute(t *testing.T) {
	h := newHarness(t)
	key := map[string]string{"Idempotency-Key": "k-1"}
	id := h.ok(req{route: "POST /v1/contacts", as: agent, headers: key, body: `{"name": "Budi"}`}, 201)["id"].(string)
	other := h.create(`{"name": "Ani"}`)
	contacts, evs := h.items(h.cfg.ContactsTable), h.events()
	reused := resp{Status: 409, Headers: jsonHeaders, Body: errBody("idempotency_key_reused",
		"This Idempotency-Key was used for a different request in the last 24 hours; use a new key.")}
	for _, q := range []req{
		{route: "PATCH /v1/contacts/{id}", id: id, body: `{"name": "Changed"}`},
		{route: "POST /v1/contacts/{id}/comments", id: id, body: `{"text": "hi"}`},
		{route: "POST /v1/contacts/{id}/archive", id: id},
		{route: "DELETE /v1/contacts/{id}", id: id},
		{route: "DELETE /v1/contacts/{id}", id: other},
		{route: "POST /v1/contacts/merge", body: `{"primaryId": "` + id + `", "mergedIds": ["` + other + `"]}`},
	} {
		q.as, q.headers = agent, key
		stacktest.Diff(t, q.route+" with the key of POST /v1/contacts", reused, h.do(q))
	}
	stacktest.Diff(t, "contacts table", contacts, h.items(h.cfg.ContactsTable))
	stacktest.Diff(t, "audit table", evs, h.events())
}

// unknownID is of a contact id's form but names no contact.
const unknownID = "01JDQ7Z3K8M4N6P8R0T2V4X6Z9"

const malformedMessage = "There is no contact with this id; a contact id is the 26-character id returned when the contact was created."

// TestMalformedIDs: an {id} that is not of a contact id's form (a ULID) names a contact that
// cannot exist: every contact route answers 404 contact_not_found, as for an unknown id,
// before reading anything (a 2,100-character id used to reach DynamoDB's 2,048-byte key
// limit: 500), and nothing is written.
func TestMalformedIDs(t *testing.T) {
	h := newHarness(t)
	h.ids.Next = []string{"01JDQ7Z3K8M4N6P8R0T2V4X6Z8"} // with letters, to try it in lower case
	a := h.create(`{"name": "Ani", "email": "ani@example.com"}`)
	items, evs := h.items(h.cfg.ContactsTable), h.events()
	malformed := resp{Status: 404, Headers: jsonHeaders, Body: errBody("contact_not_found", malformedMessage)}
	for _, id := range []struct{ name, id string }{
		{"2,100 characters", strings.Repeat("0", 2100)},
		{"27 characters", a + "0"},
		{"NUL", a[:25] + "\x00"},
		{"percent-encoded NUL", a[:23] + "%00"},
		{"dot dot slash", "../x"},
		{"a path", "../" + a},
		{"hash", a[:25] + "#"},
		{"key separator", "T#acme#C#" + a},
		{"not UTF-8", a[:25] + "\xff"},
		{"empty", ""},
		{"lower case", strings.ToLower(a)},
		{"not Crockford base 32", a[:25] + "U"},
		{"beyond 48-bit time", "8" + a[1:]},
	} {
		for _, q := range idRoutes {
			q.id, q.as = id.id, agent
			q.headers = map[string]string{"Idempotency-Key": "k-" + id.name}
			stacktest.Diff(t, id.name+": "+q.route, malformed, h.do(q))
		}
		stacktest.Diff(t, id.name+": merge", malformed, h.do(req{route: "POST /v1/contacts/merge", as: agent,
			body: `{"primaryId": "` + a + `", "mergedIds": ["` + strings.ToValidUTF8(strings.ReplaceAll(id.id, "\x00", ""), "") + `x"]}`}))
	}
	stacktest.Diff(t, "contacts table", items, h.items(h.cfg.ContactsTable))
	stacktest.Diff(t, "audit table", evs, h.events())
	stacktest.Diff(t, "the contact", 200, h.do(req{route: "GET /v1/contacts/{id}", id: a, as: agent}).Status)
}

// idRoutes is every route with a contact {id}, each with a body it would accept.
var idRoutes = []req{
	{route: "GET /v1/contacts/{id}"},
	{route: "PATCH /v1/contacts/{id}", body: `{"name": "X"}`},
	{route: "POST /v1/contacts/{id}/channels", body: `{"channel": "sms", "externalId": "123456"}`},
	{route: "POST /v1/contacts/{id}/archive"},
	{route: "POST /v1/contacts/{id}/unarchive"},
	{route: "DELETE /v1/contacts/{id}"},
	{route: "POST /v1/contacts/{id}/invite", body: `{"email": "x@example.com"}`},
	{route: "POST /v1/contacts/{id}/messages", body: `{"text": "hi"}`},
	{route: "POST /v1/contacts/{id}/share", body: `{}`},
	{route: "POST /v1/contacts/{id}/comments", body: `{"text": "hi"}`},
	{route: "GET /v1/contacts/{id}/history"},
}
