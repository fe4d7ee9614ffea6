package contact_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/pii"
)

// TestStoredEventsSealed: every event a contact action writes holds its personal fields
// (contact name, email, phone, channel identity, texts, changes) sealed under the contact's
// data key: none of them is in the stored audit items in plaintext, while the responses and
// the history (which opens them) show them as they were written.
func TestStoredEventsSealed(t *testing.T) {
	h := newHarness(t)
	a := h.create(`{"name": "Siti Rahma", "email": "siti@example.com", "phone": "+62 811 222 333", "channel": "whatsapp", "externalId": "+6281122233399"}`)
	b := h.create(`{"name": "Rahma Dua", "email": "rahma2@example.com"}`)
	h.ok(req{route: "PATCH /v1/contacts/{id}", id: a, as: agent, body: `{"name": "Siti Rahmawati", "phone": "+62 811 999 000"}`}, 200)
	h.ok(req{route: "POST /v1/contacts/{id}/channels", id: b, as: agent, body: `{"channel": "sms", "externalId": "+6281199988877"}`}, 201)
	h.ok(req{route: "POST /v1/contacts/{id}/invite", id: a, as: agent, body: `{"email": "siti.work@example.com"}`}, 202)
	h.ok(req{route: "POST /v1/contacts/{id}/messages", id: a, as: agent, body: `{"text": "Paket Anda sudah dikirim."}`}, 202)
	h.ok(req{route: "POST /v1/contacts/{id}/share", id: a, as: agent, body: `{"email": "sales@example.com", "note": "Ingin penawaran harga."}`}, 202)
	got := h.ok(req{route: "POST /v1/contacts/{id}/comments", id: a, as: agent, body: `{"text": "Lebih suka WhatsApp."}`}, 201)
	stacktest.Diff(t, "the comment's response is plaintext", "Lebih suka WhatsApp.", got["text"])
	h.ok(req{route: "POST /v1/contacts/{id}/archive", id: b, as: agent}, 200)
	h.ok(req{route: "POST /v1/contacts/{id}/unarchive", id: b, as: agent}, 200)
	merged := h.ok(req{route: "POST /v1/contacts/merge", as: agent, body: `{"primaryId": "` + a + `", "mergedIds": ["` + b + `"]}`}, 200)
	stacktest.Diff(t, "the merge's response is plaintext", "Siti Rahmawati", merged["name"])
	c := h.create(`{"name": "Hapus Saya", "email": "hapus@example.com"}`)
	h.ok(req{route: "DELETE /v1/contacts/{id}", id: c, as: agent}, 204)

	plain := []string{"Siti", "Rahma", "siti@example.com", "+62 811 222 333", "6281122233399", "siti.work@example.com",
		"Paket Anda", "sales@example.com", "Ingin penawaran", "Lebih suka", "+62 811 999 000", "rahma2@example.com",
		"6281199988877", "Hapus Saya", "hapus@example.com"}
	raw := h.rawEvents()
	if len(raw) != 14 {
		t.Fatalf("%d events stored, want 14", len(raw))
	}
	for _, ev := range raw {
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range plain {
			if strings.Contains(string(b), p) {
				t.Errorf("stored %s event %s holds %q in plaintext: %s", ev["type"], ev["id"], p, b)
			}
		}
		if name := ev["contact"].(map[string]any)["name"]; !pii.IsSealed(name) {
			t.Errorf("stored %s event %s: contact.name %v is not sealed", ev["type"], ev["id"], name)
		}
	}
	// The history opens them again.
	hist := h.ok(req{route: "GET /v1/contacts/{id}/history", id: a, as: agent}, 200)
	for _, it := range hist["items"].([]any) {
		ev := it.(map[string]any)
		if ev["type"] == "COMMENT_ADDED" {
			stacktest.Diff(t, "comment in the history", map[string]any{"text": "Lebih suka WhatsApp."}, ev["data"])
			stacktest.Diff(t, "contact in the history", map[string]any{"id": a, "name": "Siti Rahmawati"}, ev["contact"])
		}
	}
}

// TestCreateAfterTenantKeyChanged: a creation seals under the tenant key the keyring keeps
// across requests and checks, in its transaction, that the key item still holds it. When the
// item changed meanwhile (another wrapped key), the transaction writes nothing, the kept key
// is forgotten and the creation runs once more under the key read from the item: one
// contact, one CONTACT_ADDED, its name opening under the new key.
func TestCreateAfterTenantKeyChanged(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.create(`{"name": "Pertama"}`) // makes the tenant key, which the keyring keeps

	pk, err := pii.TenantKeyPK("acme")
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	wrapped, err := h.svc.Keyring.Wrapper.Wrap(ctx, "acme", key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(h.keys), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}},
		UpdateExpression:          aws.String("SET wrappedKey = :w"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":w": &types.AttributeValueMemberB{Value: wrapped}},
	}); err != nil {
		t.Fatal(err)
	}

	id := h.create(`{"name": "Kedua"}`)
	added := 0
	for _, ev := range h.rawEvents() {
		if ev["type"] == "CONTACT_ADDED" {
			added++
		}
	}
	stacktest.Diff(t, "CONTACT_ADDED events", 2, added)
	stacktest.Diff(t, "contacts", 2, len(h.ok(req{route: "GET /v1/contacts", as: agent}, 200)["items"].([]any)))
	// A fresh keyring (another process) opens the new contact's name under the new key.
	h.svc.Keyring = stacktest.Keyring(t, h.keys)
	hist := h.ok(req{route: "GET /v1/contacts/{id}/history", id: id, as: agent}, 200)
	stacktest.Diff(t, "the new contact in its history", map[string]any{"id": id, "name": "Kedua"},
		hist["items"].([]any)[0].(map[string]any)["contact"])
}
