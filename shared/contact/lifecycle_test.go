package contact_test

import (
	"strings"
	"testing"

	"github.com/contrail/contrail/local/stacktest"
)

func TestConnect(t *testing.T) {
	h := newHarness(t)
	a := h.create(`{"name": "Ani"}`)
	b := h.create(`{"name": "Bayu"}`)
	wa := `{"channel": "whatsapp", "externalId": "+6281234567890"}`

	t.Run("connects and records CONTACT_CONNECTED", func(t *testing.T) {
		got := h.do(req{route: "POST /v1/contacts/{id}/channels", id: a, as: agent, body: wa})
		stacktest.Diff(t, "response", resp{Status: 201, Headers: jsonHeaders, Body: stacktest.JSON(t, `{"id": "00000000000000000000000001", "name": "Ani", "email": null, "phone": null,
			"status": "active", "channels": [{"channel": "whatsapp", "externalId": "+6281234567890", "connectedAt": "`+at0+`"}],
			"createdAt": "`+at0+`", "updatedAt": "`+at0+`"}`)}, got)
		stacktest.Diff(t, "identity", map[string]any{"pk": "T#acme#CH#whatsapp#+6281234567890", "itemType": "channel_identity",
			"tenantId": "acme", "channel": "whatsapp", "externalId": "+6281234567890", "contactId": a, "connectedAt": at0,
		}, h.item("T#acme#CH#whatsapp#+6281234567890"))
		stacktest.Diff(t, "event", wantEvent("00000000000000000000000005", "CONTACT_CONNECTED", a, "Ani", "incoming_message", "whatsapp",
			map[string]any{"externalId": "+6281234567890"}, agent), h.events()[2])
	})
	t.Run("the same identity on another contact is 409 and writes nothing", func(t *testing.T) {
		before, evs := h.items(h.cfg.ContactsTable), h.events()
		got := h.do(req{route: "POST /v1/contacts/{id}/channels", id: b, as: agent, body: `{"channel": "whatsapp", "externalId": " +6281234567890 ", "source": "manual"}`})
		stacktest.Diff(t, "response", resp{Status: 409, Headers: jsonHeaders, Body: errBody("channel_identity_taken",
			"Another contact is connected to this channel identity; merge the two contacts instead.")}, got)
		stacktest.Diff(t, "contacts table", before, h.items(h.cfg.ContactsTable))
		stacktest.Diff(t, "audit table", evs, h.events())
	})
	t.Run("the same identity again on the same contact is 409", func(t *testing.T) {
		got := h.do(req{route: "POST /v1/contacts/{id}/channels", id: a, as: agent, body: wa})
		stacktest.Diff(t, "response", resp{Status: 409, Headers: jsonHeaders, Body: errBody("channel_already_connected",
			"This contact is connected to this channel identity already.")}, got)
	})
	t.Run("the same identity in another tenant is free", func(t *testing.T) {
		id := h.ok(req{route: "POST /v1/contacts", as: other, body: `{"name": "Theirs"}`}, 201)["id"].(string)
		h.ok(req{route: "POST /v1/contacts/{id}/channels", id: id, as: other, body: wa}, 201)
	})
	for _, tc := range []struct {
		name, body string
		want       any
	}{
		{"missing fields", `{}`, fieldsBody("Fix the fields listed in error.fields: channel, externalId.", map[string]any{"channel": "is required", "externalId": "is required"})},
		{"bad channel and source", `{"channel": "fax", "externalId": "1", "source": "import"}`, fieldsBody("Fix the fields listed in error.fields: channel, source.", map[string]any{
			"channel": "must be one of whatsapp, telegram, instagram, messenger, webchat, email, sms", "source": "must be one of incoming_message, manual, api"})},
		{"externalId too long", `{"channel": "sms", "externalId": "` + strings.Repeat("9", 201) + `"}`, fieldsBody("Fix the fields listed in error.fields: externalId.", map[string]any{"externalId": "must be 1 to 200 characters"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stacktest.Diff(t, "response", resp{Status: 400, Headers: jsonHeaders, Body: tc.want},
				h.do(req{route: "POST /v1/contacts/{id}/channels", id: b, as: agent, body: tc.body}))
		})
	}
}

func TestArchiveUnarchiveAndList(t *testing.T) {
	h := newHarness(t)
	a := h.create(`{"name": "Ani"}`)
	b := h.create(`{"name": "Bayu"}`)
	archived := h.ok(req{route: "POST /v1/contacts/{id}/archive", id: a, as: agent}, 200)
	stacktest.Diff(t, "status", "archived", archived["status"])
	stacktest.Diff(t, "stored", map[string]any{
		"pk": "T#acme#C#" + a, "itemType": "contact", "id": a, "tenantId": "acme", "name": "Ani", "status": "archived",
		"channels": []any{}, "createdAt": at0, "updatedAt": at0, "version": float64(2), "createdBy": "u-agent",
		"statusKey": "T#acme#archived", "createdKey": at0 + "#" + a,
	}, h.item("T#acme#C#"+a))
	stacktest.Diff(t, "archive again", resp{Status: 409, Headers: jsonHeaders, Body: errBody("contact_already_archived", "The contact is archived already.")},
		h.do(req{route: "POST /v1/contacts/{id}/archive", id: a, as: agent, body: `{}`}))
	stacktest.Diff(t, "unarchive an active one", resp{Status: 409, Headers: jsonHeaders, Body: errBody("contact_not_archived", "The contact is not archived.")},
		h.do(req{route: "POST /v1/contacts/{id}/unarchive", id: b, as: agent}))
	stacktest.Diff(t, "a body with fields", 400, h.do(req{route: "POST /v1/contacts/{id}/archive", id: b, as: agent, body: `{"reason": "x"}`}).Status)

	list := func(query string) map[string]any {
		return h.ok(req{route: "GET /v1/contacts", query: query, as: agent}, 200)
	}
	ids := func(page map[string]any) []any {
		var out []any
		for _, it := range page["items"].([]any) {
			out = append(out, it.(map[string]any)["id"])
		}
		return out
	}
	stacktest.Diff(t, "active", []any{b}, ids(list("")))
	stacktest.Diff(t, "archived", []any{a}, ids(list("status=archived")))
	stacktest.Diff(t, "archived page", stacktest.JSON(t, `{"items": [{"id": "`+a+`", "name": "Ani", "email": null, "phone": null, "status": "archived",
		"channels": [], "createdAt": "`+at0+`", "updatedAt": "`+at0+`"}], "nextCursor": null}`), any(list("status=archived")))

	h.ok(req{route: "POST /v1/contacts/{id}/unarchive", id: a, as: agent}, 200)
	stacktest.Diff(t, "active after unarchive", []any{b, a}, ids(list("status=active")))
	stacktest.Diff(t, "events", []string{"CONTACT_ADDED", "CONTACT_ADDED", "CONTACT_ARCHIVED", "CONTACT_UNARCHIVED"}, h.eventTypes())
	stacktest.Diff(t, "bad status", resp{Status: 400, Headers: jsonHeaders, Body: fieldsBody("Fix the fields listed in error.fields: status.",
		map[string]any{"status": "must be one of active, archived"})}, h.do(req{route: "GET /v1/contacts", query: "status=deleted", as: agent}))
}

func TestListPages(t *testing.T) {
	h := newHarness(t)
	var want []any
	for _, n := range []string{"A", "B", "C", "D", "E"} {
		want = append([]any{h.create(`{"name": "` + n + `"}`)}, want...) // newest first
	}
	var got []any
	cursor := ""
	pages := 0
	for {
		q := "limit=2"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		page := h.ok(req{route: "GET /v1/contacts", query: q, as: agent}, 200)
		pages++
		for _, it := range page["items"].([]any) {
			got = append(got, it.(map[string]any)["id"])
		}
		if page["nextCursor"] == nil {
			break
		}
		cursor = page["nextCursor"].(string)
		// A cursor is bound to the tenant and the query.
		bad := resp{Status: 400, Headers: jsonHeaders, Body: map[string]any{"error": map[string]any{"code": "invalid_cursor",
			"message": "The cursor does not belong to this query; repeat the query without a cursor.", "fields": map[string]any{"cursor": "was not issued for this query"}}}}
		stacktest.Diff(t, "other tenant's cursor", bad, h.do(req{route: "GET /v1/contacts", query: "cursor=" + cursor, as: other}))
		stacktest.Diff(t, "other status's cursor", bad, h.do(req{route: "GET /v1/contacts", query: "status=archived&cursor=" + cursor, as: agent}))
	}
	stacktest.Diff(t, "every contact once, newest first", want, got)
	stacktest.Diff(t, "pages", 3, pages)
	stacktest.Diff(t, "bad limit", 400, h.do(req{route: "GET /v1/contacts", query: "limit=501", as: agent}).Status)
}

func TestDelete(t *testing.T) {
	h := newHarness(t)
	a := h.create(`{"name": "Ani", "email": "ani@example.com", "channel": "telegram", "externalId": "ani_tg"}`)
	key := map[string]string{"Idempotency-Key": "del-1"}
	got := h.do(req{route: "DELETE /v1/contacts/{id}", id: a, as: agent, headers: key})
	stacktest.Diff(t, "response", resp{Status: 204}, got)
	stacktest.Diff(t, "replay", resp{Status: 204, Headers: map[string]string{"idempotent-replayed": "true"}},
		h.do(req{route: "DELETE /v1/contacts/{id}", id: a, as: agent, headers: key}))
	stacktest.Diff(t, "tombstone", map[string]any{
		"pk": "T#acme#C#" + a, "itemType": "contact", "id": a, "tenantId": "acme", "name": "Ani", "status": "deleted",
		"channels": []any{}, "createdAt": at0, "updatedAt": at0, "version": float64(2), "createdBy": "u-agent",
		"createdKey": at0 + "#" + a,
	}, h.item("T#acme#C#"+a))
	stacktest.Diff(t, "identity released", map[string]any(nil), h.item("T#acme#CH#telegram#ani_tg"))
	stacktest.Diff(t, "event keeps the name", wantEvent("00000000000000000000000004", "CONTACT_DELETED", a, "Ani", "user", "", nil, agent), h.events()[2])
	stacktest.Diff(t, "one delete event", []string{"CONTACT_ADDED", "CONTACT_CONNECTED", "CONTACT_DELETED"}, h.eventTypes())

	notFound := resp{Status: 404, Headers: jsonHeaders, Body: errBody("contact_not_found", "There is no contact "+a+"; check the id.")}
	for _, q := range idRoutes {
		q.id, q.as = a, agent
		stacktest.Diff(t, q.route+" on a deleted contact", notFound, h.do(q))
	}
	// The identity is free again.
	b := h.create(`{"name": "Ani again"}`)
	h.ok(req{route: "POST /v1/contacts/{id}/channels", id: b, as: agent, body: `{"channel": "telegram", "externalId": "ani_tg"}`}, 201)
}
