package contact_test

import (
	"testing"

	"github.com/contrail/contrail/shared/pii"
)

// erasedBody is the 200 of an erasure at the harness's time.
func erasedBody(id string) map[string]any { return map[string]any{"id": id, "erasedAt": at0} }

// TestErase: an admin erases a contact with its channel identity: one transaction scrubs the
// contact item, releases the identity, destroys the data key and records CONTACT_ERASED;
// every earlier event reads "[erased]" in its personal fields and nothing else changes; the
// contact answers 404 and is gone from the list; erasing again answers the same, recording
// nothing more.
func TestErase(t *testing.T) {
	h := newHarness(t)
	a := h.create(`{"name": "Siti", "email": "siti@example.com", "phone": "+62 811 222 333", "channel": "whatsapp", "externalId": "+6281122233399"}`) // 1; events 2, 3
	h.ok(req{route: "POST /v1/contacts/{id}/comments", id: a, as: agent, body: `{"text": "Lebih suka WhatsApp."}`}, 201)                              // 4
	before := h.events()

	diff(t, "agent", 403, h.do(req{route: "POST /v1/contacts/{id}/erase", id: a, as: agent}).Status)
	diff(t, "other tenant", resp{Status: 404, Headers: jsonHeaders, Body: errBody("contact_not_found", "There is no contact "+a+"; check the id.")},
		h.do(req{route: "POST /v1/contacts/{id}/erase", id: a, as: other}))
	diff(t, "malformed id: as GET answers", h.do(req{route: "GET /v1/contacts/{id}", id: "nope", as: admin}),
		h.do(req{route: "POST /v1/contacts/{id}/erase", id: "nope", as: admin}))

	diff(t, "erase", resp{Status: 200, Headers: jsonHeaders, Body: erasedBody(a)}, h.do(req{route: "POST /v1/contacts/{id}/erase", id: a, as: admin}))
	diff(t, "contact item", map[string]any{
		"pk": "T#acme#C#" + a, "itemType": "contact", "id": a, "tenantId": "acme", "name": "[erased]",
		"status": "active", "channels": []any{}, "createdAt": at0, "updatedAt": at0, "version": float64(3),
		"createdBy": "u-agent", "createdKey": at0 + "#" + a, "erasedAt": at0,
	}, h.item("T#acme#C#"+a))
	diff(t, "identity released", map[string]any(nil), h.item("T#acme#CH#whatsapp#+6281122233399"))

	after := h.events()
	diff(t, "the erasure's event", wantEvent("00000000000000000000000005", "CONTACT_ERASED", a, "[erased]", "user", "", nil, admin), after[len(after)-1])
	for i := range before {
		before[i]["contact"].(map[string]any)["name"] = pii.Erased
		data := before[i]["data"].(map[string]any)
		for k := range data {
			data[k] = pii.Erased
		}
	}
	diff(t, "earlier events read [erased] in personal fields only", before, after[:len(after)-1])

	notFound := resp{Status: 404, Headers: jsonHeaders, Body: errBody("contact_not_found", "There is no contact "+a+"; check the id.")}
	diff(t, "GET", notFound, h.do(req{route: "GET /v1/contacts/{id}", id: a, as: agent}))
	diff(t, "PATCH", notFound, h.do(req{route: "PATCH /v1/contacts/{id}", id: a, as: agent, body: `{"name": "X"}`}))
	diff(t, "comment", notFound, h.do(req{route: "POST /v1/contacts/{id}/comments", id: a, as: agent, body: `{"text": "x"}`}))
	diff(t, "list", []any{}, h.ok(req{route: "GET /v1/contacts", as: agent}, 200)["items"])

	h.clock.Advance(60_000_000_000)
	diff(t, "again", resp{Status: 200, Headers: jsonHeaders, Body: erasedBody(a)}, h.do(req{route: "POST /v1/contacts/{id}/erase", id: a, as: admin}))
	diff(t, "one CONTACT_ERASED", []string{"CONTACT_ADDED", "CONTACT_CONNECTED", "COMMENT_ADDED", "CONTACT_ERASED"}, h.eventTypes())
	diff(t, "the identity can be connected again", 201, h.do(req{route: "POST /v1/contacts", as: agent,
		body: `{"name": "New", "channel": "whatsapp", "externalId": "+6281122233399"}`}).Status)
}

// TestEraseStatuses: archived, deleted and merged contacts can be erased too.
func TestEraseStatuses(t *testing.T) {
	h := newHarness(t)
	ar := h.create(`{"name": "Archived"}`)
	h.ok(req{route: "POST /v1/contacts/{id}/archive", id: ar, as: agent}, 200)
	de := h.create(`{"name": "Deleted"}`)
	h.ok(req{route: "DELETE /v1/contacts/{id}", id: de, as: agent}, 204)
	for _, id := range []string{ar, de} {
		diff(t, "erase", resp{Status: 200, Headers: jsonHeaders, Body: erasedBody(id)}, h.do(req{route: "POST /v1/contacts/{id}/erase", id: id, as: admin}))
		if h.item("T#acme#C#" + id)["statusKey"] != nil {
			t.Errorf("%s is still in ByStatus", id)
		}
	}
	diff(t, "archived list", []any{}, h.ok(req{route: "GET /v1/contacts", query: "status=archived", as: agent}, 200)["items"])
}

// TestEraseMerged: B merged into A. Erasing B erases B's earlier events only (A's stay
// readable); erasing A erases A's and every merged contact's.
func TestEraseMerged(t *testing.T) {
	for _, tc := range []struct {
		name          string
		erase         func(a, b string) string
		aErased, bErs bool
	}{
		{"erase the merged-away contact", func(a, b string) string { return b }, false, true},
		{"erase the primary", func(a, b string) string { return a }, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			a := h.create(`{"name": "Ana", "email": "ana@example.com"}`)
			b := h.create(`{"name": "Budi", "email": "budi@example.com"}`)
			h.ok(req{route: "POST /v1/contacts/merge", as: agent, body: `{"primaryId": "` + a + `", "mergedIds": ["` + b + `"]}`}, 200)
			id := tc.erase(a, b)
			diff(t, "erase", resp{Status: 200, Headers: jsonHeaders, Body: erasedBody(id)}, h.do(req{route: "POST /v1/contacts/{id}/erase", id: id, as: admin}))
			names := map[string]any{}
			for _, ev := range h.events() {
				if ev["type"] == "CONTACT_ADDED" {
					names[ev["contact"].(map[string]any)["id"].(string)] = []any{ev["contact"].(map[string]any)["name"], ev["data"].(map[string]any)["email"]}
				}
			}
			want := map[string]any{a: []any{"Ana", "ana@example.com"}, b: []any{"Budi", "budi@example.com"}}
			if tc.aErased {
				want[a] = []any{pii.Erased, pii.Erased}
			}
			if tc.bErs {
				want[b] = []any{pii.Erased, pii.Erased}
			}
			diff(t, "CONTACT_ADDED as a reader opens it", want, names)
			diff(t, "B's item is scrubbed", "[erased]", h.item("T#acme#C#" + b)["name"])
			wantA := "Ana"
			if tc.aErased {
				wantA = "[erased]"
			}
			diff(t, "A's item", wantA, h.item("T#acme#C#" + a)["name"])
			diff(t, "B answers 404", 404, h.do(req{route: "GET /v1/contacts/{id}", id: b, as: agent}).Status)
		})
	}
}
