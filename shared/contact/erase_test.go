package contact_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/contrail/contrail/local/stacktest"
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

	stacktest.Diff(t, "agent", 403, h.do(req{route: "POST /v1/contacts/{id}/erase", id: a, as: agent}).Status)
	stacktest.Diff(t, "other tenant", resp{Status: 404, Headers: jsonHeaders, Body: errBody("contact_not_found", "There is no contact "+a+"; check the id.")},
		h.do(req{route: "POST /v1/contacts/{id}/erase", id: a, as: other}))
	stacktest.Diff(t, "malformed id: as GET answers", h.do(req{route: "GET /v1/contacts/{id}", id: "nope", as: admin}),
		h.do(req{route: "POST /v1/contacts/{id}/erase", id: "nope", as: admin}))

	stacktest.Diff(t, "erase", resp{Status: 200, Headers: jsonHeaders, Body: erasedBody(a)}, h.do(req{route: "POST /v1/contacts/{id}/erase", id: a, as: admin}))
	stacktest.Diff(t, "contact item", map[string]any{
		"pk": "T#acme#C#" + a, "itemType": "contact", "id": a, "tenantId": "acme", "name": "[erased]",
		"status": "active", "channels": []any{}, "createdAt": at0, "updatedAt": at0, "version": float64(3),
		"createdBy": "u-agent", "createdKey": at0 + "#" + a, "erasedAt": at0,
	}, h.item("T#acme#C#"+a))
	stacktest.Diff(t, "identity released", map[string]any(nil), h.item("T#acme#CH#whatsapp#+6281122233399"))

	after := h.events()
	stacktest.Diff(t, "the erasure's event", wantEvent("00000000000000000000000005", "CONTACT_ERASED", a, "[erased]", "user", "", nil, admin), after[len(after)-1])
	for i := range before {
		before[i]["contact"].(map[string]any)["name"] = pii.Erased
		data := before[i]["data"].(map[string]any)
		for k := range data {
			data[k] = pii.Erased
		}
	}
	stacktest.Diff(t, "earlier events read [erased] in personal fields only", before, after[:len(after)-1])

	notFound := resp{Status: 404, Headers: jsonHeaders, Body: errBody("contact_not_found", "There is no contact "+a+"; check the id.")}
	stacktest.Diff(t, "GET", notFound, h.do(req{route: "GET /v1/contacts/{id}", id: a, as: agent}))
	stacktest.Diff(t, "PATCH", notFound, h.do(req{route: "PATCH /v1/contacts/{id}", id: a, as: agent, body: `{"name": "X"}`}))
	stacktest.Diff(t, "comment", notFound, h.do(req{route: "POST /v1/contacts/{id}/comments", id: a, as: agent, body: `{"text": "x"}`}))
	stacktest.Diff(t, "list", []any{}, h.ok(req{route: "GET /v1/contacts", as: agent}, 200)["items"])

	h.clock.Advance(60_000_000_000)
	stacktest.Diff(t, "again", resp{Status: 200, Headers: jsonHeaders, Body: erasedBody(a)}, h.do(req{route: "POST /v1/contacts/{id}/erase", id: a, as: admin}))
	stacktest.Diff(t, "one CONTACT_ERASED", []string{"CONTACT_ADDED", "CONTACT_CONNECTED", "COMMENT_ADDED", "CONTACT_ERASED"}, h.eventTypes())
	stacktest.Diff(t, "the identity can be connected again", 201, h.do(req{route: "POST /v1/contacts", as: agent,
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
		stacktest.Diff(t, "erase", resp{Status: 200, Headers: jsonHeaders, Body: erasedBody(id)}, h.do(req{route: "POST /v1/contacts/{id}/erase", id: id, as: admin}))
		if h.item("T#acme#C#" + id)["statusKey"] != nil {
			t.Errorf("%s is still in ByStatus", id)
		}
	}
	stacktest.Diff(t, "archived list", []any{}, h.ok(req{route: "GET /v1/contacts", query: "status=archived", as: agent}, 200)["items"])
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
			stacktest.Diff(t, "erase", resp{Status: 200, Headers: jsonHeaders, Body: erasedBody(id)}, h.do(req{route: "POST /v1/contacts/{id}/erase", id: id, as: admin}))
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
			stacktest.Diff(t, "CONTACT_ADDED as a reader opens it", want, names)
			stacktest.Diff(t, "B's item is scrubbed", "[erased]", h.item("T#acme#C#" + b)["name"])
			wantA := "Ana"
			if tc.aErased {
				wantA = "[erased]"
			}
			stacktest.Diff(t, "A's item", wantA, h.item("T#acme#C#" + a)["name"])
			stacktest.Diff(t, "B answers 404", 404, h.do(req{route: "GET /v1/contacts/{id}", id: b, as: agent}).Status)
		})
	}
}

// TestEraseIdempotencyRecords: the stored answers to keyed requests about a contact are
// sealed under its data key, so after its erasure the contacts table holds none of its
// personal data (TTL deletion may lag days), and replaying any of them answers the contact's
// 404, doing nothing; another contact's records are untouched and replay as before.
func TestEraseIdempotencyRecords(t *testing.T) {
	h := newHarness(t)
	key := func(k string) map[string]string { return map[string]string{"Idempotency-Key": k} }
	personal := []string{"Siti Rahayu", "siti.rahayu@example.com", "+62 811 222 333", "+6281122233399", "Siti Rahmawati", "Suka WhatsApp saja"}
	sent := []req{
		{route: "POST /v1/contacts", as: agent, headers: key("a-create"),
			body: `{"name": "Siti Rahayu", "email": "siti.rahayu@example.com", "phone": "+62 811 222 333", "channel": "whatsapp", "externalId": "+6281122233399"}`},
		{route: "PATCH /v1/contacts/{id}", as: agent, headers: key("a-update"), body: `{"name": "Siti Rahmawati"}`},
		{route: "POST /v1/contacts/{id}/comments", as: agent, headers: key("a-comment"), body: `{"text": "Suka WhatsApp saja"}`},
	}
	first := h.do(sent[0])
	if first.Status != 201 {
		t.Fatalf("create: %v", first)
	}
	a := first.Body.(map[string]any)["id"].(string)
	for i := range sent[1:] {
		sent[1+i].id = a
		if r := h.do(sent[1+i]); r.Status/100 != 2 {
			t.Fatalf("%s: %v", sent[1+i].route, r)
		}
	}
	replayed := map[string]string{"content-type": "application/json", "idempotent-replayed": "true"}
	again := h.do(sent[0])
	stacktest.Diff(t, "before the erasure, a replay opens the sealed answer", resp{Status: 201, Headers: replayed, Body: first.Body}, again)

	bReq := req{route: "POST /v1/contacts", as: agent, headers: key("b-create"), body: `{"name": "Budi", "email": "budi@example.com"}`}
	bFirst := h.do(bReq)
	b := bFirst.Body.(map[string]any)["id"].(string)
	bRecord := h.item("T#acme#IDEM#b-create")
	if bRecord == nil || bRecord["contactId"] != b {
		t.Fatalf("B's record: %v", bRecord)
	}

	eraseReq := req{route: "POST /v1/contacts/{id}/erase", id: a, as: admin, headers: key("a-erase")}
	h.ok(eraseReq, 200)
	eventsAfter := h.eventTypes()

	out, err := h.db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(h.cfg.ContactsTable), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	raw := fmt.Sprintf("%#v", out.Items)
	for _, it := range out.Items {
		raw += fmt.Sprint(h.item(it["pk"].(*types.AttributeValueMemberS).Value))
	}
	for _, p := range personal {
		if strings.Contains(raw, p) {
			t.Errorf("after the erasure the contacts table still holds %q", p)
		}
	}
	if !strings.Contains(raw, "budi@example.com") {
		t.Errorf("B's contact item lost its email")
	}

	notFound := resp{Status: 404, Headers: jsonHeaders, Body: errBody("contact_not_found", "There is no contact "+a+"; check the id.")}
	for _, q := range sent {
		stacktest.Diff(t, "replay of "+q.route+" after the erasure", notFound, h.do(q))
		other := q
		other.body = `{"name": "Someone else"}`
		stacktest.Diff(t, "the key with another body after the erasure", 409, h.do(other).Status)
	}
	stacktest.Diff(t, "the erasure replays its own answer", resp{Status: 200, Headers: replayed, Body: erasedBody(a)}, h.do(eraseReq))
	stacktest.Diff(t, "replays record nothing", eventsAfter, h.eventTypes())
	stacktest.Diff(t, "no contact re-created", 2, len(h.items(h.cfg.ContactsTable))-countIDEM(h))

	stacktest.Diff(t, "B's record untouched", bRecord, h.item("T#acme#IDEM#b-create"))
	stacktest.Diff(t, "B's create replays", resp{Status: 201, Headers: replayed, Body: bFirst.Body}, h.do(bReq))
}

// countIDEM counts the idempotency records of the contacts table.
func countIDEM(h *harness) int {
	n := 0
	for _, it := range h.items(h.cfg.ContactsTable) {
		if strings.Contains(it["pk"].(string), "#IDEM#") {
			n++
		}
	}
	return n
}
