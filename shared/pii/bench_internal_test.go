package pii

import (
	"maps"
	"testing"

	"github.com/contrail/contrail/shared/audit"
)

func benchEvent() audit.Event {
	return audit.Event{
		ID: testEvent, TenantID: "acme", OccurredAt: "2026-11-30T01:00:00.000Z", RecordedAt: "2026-11-30T01:00:00.000Z",
		Type: "MESSAGE_SENT", Category: audit.CategoryContact,
		Actor:   audit.Actor{Type: audit.ActorUser, ID: "user-1", Name: "Agent Smith"},
		Contact: &audit.ContactRef{ID: string(testContact), Name: "Ann Example"}, Source: audit.SourceManual,
		Data: map[string]any{"text": "Hello Ann, your order 4711 has shipped and will arrive on Tuesday.", "to": "ann@example.com"},
	}
}

// BenchmarkSealEvent seals one event's personal fields (MESSAGE_SENT: contact.name, text, to).
func BenchmarkSealEvent(b *testing.B) {
	k := testKey(b)
	src := benchEvent()
	b.ReportAllocs()
	for b.Loop() {
		e := src
		e.Data = maps.Clone(src.Data)
		if err := k.SealEvent(&e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenEvent opens one sealed event with its key already in the invocation's cache
// (the cost per event of a batch; the batch's one BatchGetItem is not included).
func BenchmarkOpenEvent(b *testing.B) {
	k := testKey(b)
	src := benchEvent()
	if err := k.SealEvent(&src); err != nil {
		b.Fatal(err)
	}
	c := (&Keyring{}).NewCache()
	c.keys[keyRef{k.Tenant, k.Contact}] = &keyEntry{state: keyPresent, key: k}
	events := make([]audit.Event, 1)
	b.ReportAllocs()
	for b.Loop() {
		events[0] = src
		events[0].Data = maps.Clone(src.Data)
		if err := c.Open(b.Context(), events); err != nil {
			b.Fatal(err)
		}
	}
	if events[0].Data["to"] != "ann@example.com" || events[0].Contact.Name != "Ann Example" {
		b.Fatalf("opened %+v", events[0])
	}
}
