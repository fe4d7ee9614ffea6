package contact_test

import (
	"strings"
	"testing"
	"time"

	"github.com/contrail/contrail/local/stacktest"
)

// historyIDs reads a contact's whole history as caller, page by page, and returns the
// (type, contact id) of each event, newest first.
func (h *harness) history(id, query string, as caller) []string {
	h.t.Helper()
	var out []string
	cursor := ""
	for {
		q := query
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		page := h.ok(req{route: "GET /v1/contacts/{id}/history", id: id, query: q, as: as}, 200)
		for _, it := range page["items"].([]any) {
			e := it.(map[string]any)
			out = append(out, e["type"].(string)+" "+e["contact"].(map[string]any)["id"].(string))
		}
		if page["nextCursor"] == nil {
			return out
		}
		cursor = page["nextCursor"].(string)
	}
}

func TestMergeAndHistory(t *testing.T) {
	h := newHarness(t)
	step := func() { h.clock.Advance(time.Second) }
	a := h.create(`{"name": "Ani", "channel": "whatsapp", "externalId": "wa-ani"}`) // 00000000000000000000000001, events 2, 3
	step()
	b := h.create(`{"name": "Ani B", "channel": "telegram", "externalId": "tg-ani"}`) // 00000000000000000000000004, events 5, 6
	step()
	c := h.create(`{"name": "Ani C", "email": "ani@example.com"}`) // 00000000000000000000000007, event 8
	step()
	h.ok(req{route: "POST /v1/contacts/{id}/comments", id: c, as: agent, body: `{"text": "Same person as Ani?"}`}, 201) // 00000000000000000000000009
	step()

	got := h.do(req{route: "POST /v1/contacts/merge", as: agent, body: `{"primaryId": "` + a + `", "mergedIds": ["` + b + `", "` + c + `"]}`})
	const at4 = "2026-11-30T01:00:04.000Z"
	stacktest.Diff(t, "merge response", resp{Status: 200, Headers: jsonHeaders, Body: stacktest.JSON(t, `{"id": "`+a+`", "name": "Ani", "email": null, "phone": null,
		"status": "active", "channels": [
			{"channel": "whatsapp", "externalId": "wa-ani", "connectedAt": "2026-11-30T01:00:00.000Z"},
			{"channel": "telegram", "externalId": "tg-ani", "connectedAt": "2026-11-30T01:00:01.000Z"}],
		"createdAt": "`+at0+`", "updatedAt": "`+at4+`"}`)}, got)
	stacktest.Diff(t, "primary item", map[string]any{
		"pk": "T#acme#C#" + a, "itemType": "contact", "id": a, "tenantId": "acme", "name": "Ani", "status": "active",
		"channels": []any{
			map[string]any{"channel": "whatsapp", "externalId": "wa-ani", "connectedAt": "2026-11-30T01:00:00.000Z"},
			map[string]any{"channel": "telegram", "externalId": "tg-ani", "connectedAt": "2026-11-30T01:00:01.000Z"}},
		"createdAt": at0, "updatedAt": at4, "version": float64(2), "createdBy": "u-agent",
		"statusKey": "T#acme#active", "createdKey": at0 + "#" + a, "mergedFrom": []any{b, c},
	}, h.item("T#acme#C#"+a))
	stacktest.Diff(t, "merged item", map[string]any{
		"pk": "T#acme#C#" + c, "itemType": "contact", "id": c, "tenantId": "acme", "name": "Ani C", "email": "ani@example.com",
		"status": "merged", "channels": []any{}, "createdAt": "2026-11-30T01:00:02.000Z", "updatedAt": at4,
		"version": float64(3), "createdBy": "u-agent", "createdKey": "2026-11-30T01:00:02.000Z#" + c, "mergedInto": a,
	}, h.item("T#acme#C#"+c))
	stacktest.Diff(t, "identity re-pointed", a, h.item("T#acme#CH#telegram#tg-ani")["contactId"])
	mergedEvent := wantEvent("00000000000000000000000010", "CONTACT_MERGED", a, "Ani", "user", "", map[string]any{
		"primaryContactId": a, "mergedContactIds": []any{b, c}}, agent)
	retime(mergedEvent, at4)
	evs := h.events()
	stacktest.Diff(t, "merge event", mergedEvent, evs[len(evs)-1])

	merged := func(id, into string) resp {
		return resp{Status: 404, Headers: jsonHeaders, Body: map[string]any{"error": map[string]any{"code": "contact_merged",
			"message": "Contact " + id + " was merged into contact " + into + "; use that one.", "mergedInto": into}}}
	}
	stacktest.Diff(t, "GET merged", merged(b, a), h.do(req{route: "GET /v1/contacts/{id}", id: b, as: agent}))
	stacktest.Diff(t, "history of merged", merged(c, a), h.do(req{route: "GET /v1/contacts/{id}/history", id: c, as: agent}))
	stacktest.Diff(t, "action on merged", merged(c, a), h.do(req{route: "POST /v1/contacts/{id}/comments", id: c, as: agent, body: `{"text": "x"}`}))

	stacktest.Diff(t, "history of the primary: all three contacts", []string{
		"CONTACT_MERGED " + a, "COMMENT_ADDED " + c, "CONTACT_ADDED " + c,
		"CONTACT_CONNECTED " + b, "CONTACT_ADDED " + b, "CONTACT_CONNECTED " + a, "CONTACT_ADDED " + a,
	}, h.history(a, "limit=3", agent))
	stacktest.Diff(t, "filtered by type", []string{"CONTACT_CONNECTED " + b, "CONTACT_CONNECTED " + a},
		h.history(a, "type=CONTACT_CONNECTED&limit=1", agent))
	stacktest.Diff(t, "period", []string{"CONTACT_MERGED " + a, "COMMENT_ADDED " + c},
		h.history(a, "from=2026-11-30T01:00:03Z&to=2026-11-30T01:00:05Z", agent))

	// Merges of merges: E takes D, then A takes E; A's history holds D's events too, and D
	// points straight at A.
	step()
	d := h.create(`{"name": "Dewi"}`)
	e := h.create(`{"name": "Dewi E"}`)
	h.ok(req{route: "POST /v1/contacts/merge", as: agent, body: `{"primaryId": "` + e + `", "mergedIds": ["` + d + `"]}`}, 200)
	h.ok(req{route: "POST /v1/contacts/merge", as: admin, body: `{"primaryId": "` + a + `", "mergedIds": ["` + e + `"]}`}, 200)
	stacktest.Diff(t, "mergedFrom", []any{b, c, e, d}, h.item("T#acme#C#" + a)["mergedFrom"])
	stacktest.Diff(t, "GET merge of merge", merged(d, a), h.do(req{route: "GET /v1/contacts/{id}", id: d, as: agent}))
	stacktest.Diff(t, "history after a merge of merges", []string{
		"CONTACT_MERGED " + a, "CONTACT_MERGED " + e, "CONTACT_ADDED " + e, "CONTACT_ADDED " + d,
		"CONTACT_MERGED " + a, "COMMENT_ADDED " + c, "CONTACT_ADDED " + c,
		"CONTACT_CONNECTED " + b, "CONTACT_ADDED " + b, "CONTACT_CONNECTED " + a, "CONTACT_ADDED " + a,
	}, h.history(a, "", agent))

	notMergeable := func(id, status string) resp {
		return resp{Status: 409, Headers: jsonHeaders, Body: map[string]any{"error": map[string]any{"code": "contact_not_mergeable",
			"message": "Contact " + id + " was " + status + " already and cannot take part in a merge.", "contactId": id}}}
	}
	x := h.create(`{"name": "Xena"}`)
	stacktest.Diff(t, "merge a merged contact", notMergeable(b, "merged"),
		h.do(req{route: "POST /v1/contacts/merge", as: agent, body: `{"primaryId": "` + x + `", "mergedIds": ["` + b + `"]}`}))
	stacktest.Diff(t, "merge into a merged contact", notMergeable(d, "merged"),
		h.do(req{route: "POST /v1/contacts/merge", as: agent, body: `{"primaryId": "` + d + `", "mergedIds": ["` + x + `"]}`}))
	y := h.create(`{"name": "Yuni"}`)
	h.ok(req{route: "DELETE /v1/contacts/{id}", id: y, as: agent}, 204)
	stacktest.Diff(t, "merge a deleted contact", notMergeable(y, "deleted"),
		h.do(req{route: "POST /v1/contacts/merge", as: agent, body: `{"primaryId": "` + x + `", "mergedIds": ["` + y + `"]}`}))
	stacktest.Diff(t, "merge an unknown contact", resp{Status: 404, Headers: jsonHeaders, Body: errBody("contact_not_found", "There is no contact "+unknownID+"; check the id.")},
		h.do(req{route: "POST /v1/contacts/merge", as: agent, body: `{"primaryId": "` + x + `", "mergedIds": ["` + unknownID + `"]}`}))
	stacktest.Diff(t, "merge a malformed id", resp{Status: 404, Headers: jsonHeaders, Body: errBody("contact_not_found", malformedMessage)},
		h.do(req{route: "POST /v1/contacts/merge", as: agent, body: `{"primaryId": "` + x + `", "mergedIds": ["` + strings.Repeat("A", 2100) + `"]}`}))

	eleven := `"m1","m2","m3","m4","m5","m6","m7","m8","m9","m10","m11"`
	for _, tc := range []struct{ name, body, field, problem string }{
		{"no mergedIds", `{"primaryId": "p"}`, "mergedIds", "is required"},
		{"empty mergedIds", `{"primaryId": "p", "mergedIds": []}`, "mergedIds", "must list 1 to 10 contact ids"},
		{"eleven mergedIds", `{"primaryId": "p", "mergedIds": [` + eleven + `]}`, "mergedIds", "must list 1 to 10 contact ids"},
		{"repeated id", `{"primaryId": "p", "mergedIds": ["m1", "m1"]}`, "mergedIds", "must not repeat an id"},
		{"the primary itself", `{"primaryId": "p", "mergedIds": ["p"]}`, "mergedIds", "must not contain the primary contact"},
		{"no primary", `{"mergedIds": ["m1"]}`, "primaryId", "is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stacktest.Diff(t, "response", resp{Status: 400, Headers: jsonHeaders, Body: fieldsBody("Fix the fields listed in error.fields: "+tc.field+".",
				map[string]any{tc.field: tc.problem})}, h.do(req{route: "POST /v1/contacts/merge", as: agent, body: tc.body}))
		})
	}
}

func TestHistoryRules(t *testing.T) {
	h := newHarness(t)
	a := h.create(`{"name": "Ani"}`)
	h.ok(req{route: "POST /v1/contacts/{id}/comments", id: a, as: agent, body: `{"text": "hello"}`}, 201)

	t.Run("whole event, newest first", func(t *testing.T) {
		page := h.ok(req{route: "GET /v1/contacts/{id}/history", id: a, query: "limit=1", as: agent}, 200)
		stacktest.Diff(t, "items", stacktest.JSON(t, `[{"id": "00000000000000000000000003", "tenantId": "acme", "occurredAt": "`+at0+`", "recordedAt": "`+at0+`",
			"type": "COMMENT_ADDED", "category": "contact", "actor": {"type": "user", "id": "u-agent", "name": "Ayu Agent"},
			"contact": {"id": "`+a+`", "name": "Ani"}, "source": "user", "data": {"text": "hello"},
			"context": {"ip": "203.0.113.7", "userAgent": "contact-test/1.0", "requestId": "req-1"}}]`), page["items"])
		cursor := page["nextCursor"].(string)
		bad := resp{Status: 400, Headers: jsonHeaders, Body: map[string]any{"error": map[string]any{"code": "invalid_cursor",
			"message": "The cursor does not belong to this query; repeat the query without a cursor.", "fields": map[string]any{"cursor": "was not issued for this query"}}}}
		stacktest.Diff(t, "cursor with other types", bad, h.do(req{route: "GET /v1/contacts/{id}/history", id: a, query: "type=CONTACT_ADDED&cursor=" + cursor, as: agent}))
		stacktest.Diff(t, "cursor of another tenant", 404, h.do(req{route: "GET /v1/contacts/{id}/history", id: a, query: "cursor=" + cursor, as: other}).Status)
	})
	t.Run("bad parameters", func(t *testing.T) {
		for _, tc := range []struct {
			query string
			want  any
		}{
			{"type=NOPE", fieldsBody("Fix the fields listed in error.fields: type.", map[string]any{"type": "must be an event type, like CONTACT_ADDED; NOPE is not one"})},
			{"from=2026-11-30&to=2026-11-01", map[string]any{"error": map[string]any{"code": "invalid_period", "message": "Make from earlier than to.", "fields": map[string]any{"from": "must be before to"}}}},
			{"from=2024-01-01&to=2026-01-01", map[string]any{"error": map[string]any{"code": "period_too_long", "message": "Ask for at most 366 days at a time.", "fields": map[string]any{"to": "must be at most 366 days after from"}}}},
			{"from=yesterday", map[string]any{"error": map[string]any{"code": "invalid_period", "message": "Fix the period parameters listed in error.fields.", "fields": map[string]any{"from": "must be RFC 3339 (2026-01-31T10:00:00Z) or a date (2026-01-31)"}}}},
			{"limit=0", map[string]any{"error": map[string]any{"code": "invalid_request", "message": "Use a limit from 1 to 500.", "fields": map[string]any{"limit": "must be an integer from 1 to 500"}}}},
		} {
			stacktest.Diff(t, tc.query, resp{Status: 400, Headers: jsonHeaders, Body: tc.want},
				h.do(req{route: "GET /v1/contacts/{id}/history", id: a, query: tc.query, as: agent}))
		}
	})
	t.Run("default period is the last 30 days", func(t *testing.T) {
		h.clock.Advance(31 * 24 * time.Hour)
		stacktest.Diff(t, "nothing in the last 30 days", []string(nil), h.history(a, "", agent))
		stacktest.Diff(t, "explicit period", []string{"COMMENT_ADDED " + a, "CONTACT_ADDED " + a}, h.history(a, "from=2026-11-01", agent))
	})
	t.Run("a deleted contact's history: admins only", func(t *testing.T) {
		h.ok(req{route: "DELETE /v1/contacts/{id}", id: a, as: agent}, 204)
		stacktest.Diff(t, "admin", []string{"CONTACT_DELETED " + a, "COMMENT_ADDED " + a, "CONTACT_ADDED " + a}, h.history(a, "from=2026-11-01&to=2027-01-01", admin))
		stacktest.Diff(t, "agent", resp{Status: 404, Headers: jsonHeaders, Body: errBody("contact_not_found", "There is no contact "+a+"; check the id.")},
			h.do(req{route: "GET /v1/contacts/{id}/history", id: a, as: agent}))
	})
}

func TestMergeTooLarge(t *testing.T) {
	h := newHarness(t)
	// 10 contacts of 10 channels each: 1 + 10 contacts + 100 identities + the merge record on
	// the primary's data key + event > 100 writes.
	var ids []string
	for i := range 11 {
		id := h.create(`{"name": "C` + string(rune('A'+i)) + `"}`)
		ids = append(ids, id)
		if i == 0 {
			continue
		}
		for j := range 10 {
			h.ok(req{route: "POST /v1/contacts/{id}/channels", id: id, as: agent,
				body: `{"channel": "sms", "externalId": "+62 811 ` + string(rune('0'+i%10)) + string(rune('0'+j)) + `0000"}`}, 201)
		}
	}
	body := `{"primaryId": "` + ids[0] + `", "mergedIds": ["` + strings.Join(ids[1:], `", "`) + `"]}`
	stacktest.Diff(t, "response", resp{Status: 422, Headers: jsonHeaders, Body: errBody("merge_too_large",
		"This merge needs 113 writes, more than one transaction holds (100); merge fewer contacts at a time.")},
		h.do(req{route: "POST /v1/contacts/merge", as: agent, body: body}))
	// Half of them fit.
	body = `{"primaryId": "` + ids[0] + `", "mergedIds": ["` + strings.Join(ids[1:6], `", "`) + `"]}`
	got := h.ok(req{route: "POST /v1/contacts/merge", as: agent, body: body}, 200)
	stacktest.Diff(t, "channels", 50, len(got["channels"].([]any)))
}
