package pii_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/pii"
)

// personalCases are events of every kind of personal field, as the writers build them.
var personalCases = []struct {
	name string
	typ  string
	who  string // contact.name
	data map[string]any
}{
	{"added with email and phone", "CONTACT_ADDED", "Ann Example", map[string]any{"email": "ann@example.com", "phone": "+44 20 7946 0000"}},
	{"added with nothing else", "CONTACT_ADDED", "Ann Example", nil},
	{"connected", "CONTACT_CONNECTED", "Ann Example", map[string]any{"externalId": "wa:447946000000"}},
	{"updated (an object)", "CONTACT_UPDATED", "Anna Example", map[string]any{"changes": map[string]any{
		"name": map[string]any{"from": "Ann Example", "to": "Anna Example"}, "email": map[string]any{"from": nil, "to": "anna@example.com"}}}},
	{"invited", "CONTACT_INVITED", "Ann Example", map[string]any{"email": "ann@example.com"}},
	{"message sent", "MESSAGE_SENT", "Ann Example", map[string]any{"text": "Héllo «Ann» 👋\n\"quoted\" <b>", "to": "ann@example.com"}},
	{"shared with a note", "CONTACT_SHARED", "Ann Example", map[string]any{"email": "bob@example.com", "note": "Ann's new number"}},
	{"shared without a note", "CONTACT_SHARED", "Ann Example", map[string]any{"email": "bob@example.com"}},
	{"comment", "COMMENT_ADDED", "Ann Example", map[string]any{"text": "Called Ann, she'll call back"}},
	{"email failed", "EMAIL_FAILED", "Ann Example", map[string]any{"requestEventId": "01JD0000000000000000000000", "reason": "MessageRejected: Email address is not verified: ann@example.com"}},
	{"merged (name only)", "CONTACT_MERGED", "Ann Example", map[string]any{"primaryContactId": "01JD0000000000000000000001", "mergedContactIds": []any{"01JD0000000000000000000002"}}},
	{"deleted (name only)", "CONTACT_DELETED", "Ann Example", nil},
	{"no name", "COMMENT_ADDED", "", map[string]any{"text": "a note"}},
}

// TestSealOpenRoundTrip: every kind of personal field is stored sealed (no plaintext left in
// the item) and reads back exactly, through a cache that never saw the key.
func TestSealOpenRoundTrip(t *testing.T) {
	f := newFixture(t)
	tn, id := f.tenant(), f.contact()
	k := f.create(tn, id)
	for _, tc := range personalCases {
		t.Run(tc.name, func(t *testing.T) {
			e := f.event(tn, id, tc.typ, tc.who, tc.data)
			want := stored(t, e)
			got := sealed(t, k, e)

			// Sealed: each personal field present is a sealed string; nothing else changed.
			check := stored(t, got)
			if want.Contact.Name != "" {
				if !pii.IsSealed(check.Contact.Name) {
					t.Errorf("contact.name is stored as %q", check.Contact.Name)
				}
				check.Contact.Name = want.Contact.Name
			}
			for _, name := range audit.PersonalFields(tc.typ) {
				if _, ok := want.Data[name]; ok {
					if !pii.IsSealed(check.Data[name]) {
						t.Errorf("data.%s is stored as %v", name, check.Data[name])
					}
					check.Data[name] = want.Data[name]
				}
			}
			if d := cmp.Diff(want, check); d != "" {
				t.Errorf("sealing changed more than the personal fields (-plain +sealed, personal fields put back):\n%s", d)
			}
			b, _ := json.Marshal(got)
			for _, secret := range []string{"Ann", "ann@", "bob@", "7946", "Called", "Héllo", "a note"} {
				if strings.Contains(string(b), secret) {
					t.Errorf("the sealed event holds %q: %s", secret, b)
				}
			}

			events := []audit.Event{got}
			if err := f.ring.NewCache().Open(context.Background(), events); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, events[0]); d != "" {
				t.Errorf("opened (-want +got):\n%s", d)
			}
		})
	}
}

// TestSealEventRefuses: an event is sealed only with its own contact's key, and only with a
// key (on error it is unchanged).
func TestSealEventRefuses(t *testing.T) {
	f := newFixture(t)
	tn, id := f.tenant(), f.contact()
	k := f.create(tn, id)
	other := f.contact()
	data := map[string]any{"text": "hi"}
	tests := []struct {
		name string
		key  pii.DataKey
		e    audit.Event
	}{
		{"another contact's event", k, f.event(tn, other, "COMMENT_ADDED", "Bob", data)},
		{"another tenant's event", k, f.event(f.tenant(), id, "COMMENT_ADDED", "Ann", data)},
		{"an event without a contact", k, func() audit.Event { e := f.event(tn, id, "COMMENT_ADDED", "Ann", data); e.Contact = nil; return e }()},
		{"an event without an id", k, func() audit.Event { e := f.event(tn, id, "COMMENT_ADDED", "Ann", data); e.ID = ""; return e }()},
		{"no key", pii.DataKey{Tenant: tn, Contact: id}, f.event(tn, id, "COMMENT_ADDED", "Ann", data)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.e
			e.Data = cloneData(e.Data)
			before := stored(t, e)
			if err := tc.key.SealEvent(&e); err == nil {
				t.Fatal("sealed")
			}
			if d := cmp.Diff(before, stored(t, e)); d != "" {
				t.Errorf("a refused event changed (-before +after):\n%s", d)
			}
		})
	}
}

// TestSealedValueIsBound: a ciphertext moved to another event, field, contact or tenant, or
// altered, does not open: ErrTampered, the value left sealed, never Erased; the batch's other
// values still open.
func TestSealedValueIsBound(t *testing.T) {
	f := newFixture(t)
	tn, a, b := f.tenant(), f.contact(), f.contact()
	ka, kb := f.create(tn, a), f.create(tn, b)
	tn2 := f.tenant()
	ka2 := f.create(tn2, a) // the same contact id in another tenant: its own key

	src := sealed(t, ka, f.event(tn, a, "CONTACT_ADDED", "Ann", map[string]any{"email": "ann@example.com", "phone": "+1 555"}))
	email := src.Data["email"].(string)
	tests := []struct {
		name string
		e    audit.Event // an event of a's with src's sealed email put somewhere
	}{
		{"another event", func() audit.Event {
			e := sealed(t, ka, f.event(tn, a, "CONTACT_ADDED", "Ann", map[string]any{"email": "x@example.com"}))
			e.Data["email"] = email
			return e
		}()},
		{"another field", func() audit.Event { e := stored(t, src); e.Data["phone"] = email; return e }()},
		{"the contact's name", func() audit.Event { e := stored(t, src); e.Contact.Name = email; return e }()},
		{"another contact", func() audit.Event {
			e := sealed(t, kb, f.event(tn, b, "CONTACT_ADDED", "Bob", map[string]any{"email": "bob@example.com"}))
			e.Data["email"] = email
			return e
		}()},
		{"another tenant", func() audit.Event {
			e := sealed(t, ka2, f.event(tn2, a, "CONTACT_ADDED", "Ann", map[string]any{"email": "x@example.com"}))
			e.Data["email"] = email
			return e
		}()},
		{"a ciphertext bit flipped", func() audit.Event { e := stored(t, src); e.Data["email"] = flip(t, email, 12); return e }()},
		{"a tag bit flipped", func() audit.Event { e := stored(t, src); e.Data["email"] = flip(t, email, -1); return e }()},
		{"a nonce bit flipped", func() audit.Event { e := stored(t, src); e.Data["email"] = flip(t, email, 0); return e }()},
		{"truncated", func() audit.Event { e := stored(t, src); e.Data["email"] = email[:len(email)-4]; return e }()},
		{"not base64", func() audit.Event { e := stored(t, src); e.Data["email"] = pii.Prefix + "not base64!"; return e }()},
		{"the prefix alone", func() audit.Event { e := stored(t, src); e.Data["email"] = pii.Prefix; return e }()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			good := sealed(t, kb, f.event(tn, b, "COMMENT_ADDED", "Bob", map[string]any{"text": "fine"}))
			moved := stored(t, tc.e)
			events := []audit.Event{good, moved}
			err := f.ring.NewCache().Open(context.Background(), events)
			if !errors.Is(err, pii.ErrTampered) {
				t.Fatalf("Open error = %v, want ErrTampered", err)
			}
			if !strings.Contains(err.Error(), "event "+moved.ID) {
				t.Errorf("the error does not name the event %s: %v", moved.ID, err)
			}
			if v := events[1].Data["email"]; v == pii.Erased {
				t.Error("a moved value reads [erased]")
			}
			if events[0].Data["text"] != "fine" || events[0].Contact.Name != "Bob" {
				t.Errorf("the batch's good event did not open: %+v", events[0])
			}
		})
	}
}

// flip returns sealed value v with one bit of its byte i flipped (from the end when i < 0).
func flip(t *testing.T, v string, i int) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(v, pii.Prefix))
	if err != nil {
		t.Fatal(err)
	}
	if i < 0 {
		i += len(raw)
	}
	raw[i] ^= 1
	return pii.Prefix + base64.RawURLEncoding.EncodeToString(raw)
}

// TestLegacyPlaintext: events written before sealing read as they are, and a batch of them
// alone reads no key at all; mixed with sealed events, only the sealed ones' keys are read.
func TestLegacyPlaintext(t *testing.T) {
	f := newFixture(t)
	tn, legacy, sealedC := f.tenant(), f.contact(), f.contact()
	k := f.create(tn, sealedC)
	var old []audit.Event
	for _, tc := range personalCases {
		old = append(old, stored(t, f.event(tn, legacy, tc.typ, tc.who, tc.data)))
	}
	want := append([]audit.Event(nil), old...)
	for i := range want {
		want[i] = stored(t, old[i])
	}
	f.db.Calls()
	if err := f.ring.NewCache().Open(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, old); d != "" {
		t.Errorf("legacy events changed (-want +got):\n%s", d)
	}
	if c := f.db.Calls(); len(c) != 0 {
		t.Errorf("opening plaintext alone called DynamoDB: %v", c)
	}

	newer := f.event(tn, sealedC, "COMMENT_ADDED", "Sam", map[string]any{"text": "new"})
	mixed := append(old, sealed(t, k, newer))
	want = append(want, stored(t, newer))
	if err := f.ring.NewCache().Open(context.Background(), mixed); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, mixed); d != "" {
		t.Errorf("mixed batch (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]int{"BatchGetItem": 1}, f.db.Calls()); d != "" {
		t.Errorf("calls (-want +got):\n%s", d)
	}
}

// TestOpenFetchesKeysOnce: a batch over several contacts of several tenants reads all their
// keys in one BatchGetItem and unwraps each tenant key once; the cache answers the next
// batch without any call; batches of more than 100 keys are split; unprocessed keys are
// read again.
func TestOpenFetchesKeysOnce(t *testing.T) {
	f := newFixture(t)
	type owned struct {
		e    audit.Event
		want audit.Event
	}
	makeEvents := func(tenants, contacts, each int) []owned {
		var out []owned
		for range tenants {
			tn := f.tenant()
			for range contacts {
				id := f.contact()
				k := f.create(tn, id)
				for i := range each {
					e := f.event(tn, id, "COMMENT_ADDED", "Person "+string(id), map[string]any{"text": "comment " + string(rune('a'+i))})
					out = append(out, owned{sealed(t, k, e), stored(t, e)})
				}
			}
		}
		return out
	}
	open := func(t *testing.T, c *pii.Cache, batch []owned) {
		t.Helper()
		events := make([]audit.Event, len(batch))
		want := make([]audit.Event, len(batch))
		for i, o := range batch {
			events[i], want[i] = stored(t, o.e), o.want
		}
		if err := c.Open(context.Background(), events); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, events); d != "" {
			t.Errorf("opened (-want +got):\n%s", d)
		}
	}

	t.Run("several contacts and tenants", func(t *testing.T) {
		batch := makeEvents(2, 3, 2)
		f.db.Calls()
		f.wrapper.unwraps.Store(0)
		f.ring.ForgetTenantKeys() // a fresh process: the writers' unwraps are kept
		c := f.ring.NewCache()
		open(t, c, batch)
		if d := cmp.Diff(map[string]int{"BatchGetItem": 1}, f.db.Calls()); d != "" {
			t.Errorf("calls (-want +got):\n%s", d)
		}
		if n := f.wrapper.unwraps.Load(); n != 2 {
			t.Errorf("%d tenant keys unwrapped, want 2 (one per tenant)", n)
		}
		open(t, c, batch[3:])
		if c := f.db.Calls(); len(c) != 0 || f.wrapper.unwraps.Load() != 2 {
			t.Errorf("the second batch called DynamoDB %v and unwrapped %d tenant keys; the cache has them", c, f.wrapper.unwraps.Load())
		}
	})
	t.Run("more than 100 keys", func(t *testing.T) {
		batch := makeEvents(1, 120, 1)
		f.db.Calls()
		f.db.batchKeys = nil
		open(t, f.ring.NewCache(), batch)
		if d := cmp.Diff(map[string]int{"BatchGetItem": 2}, f.db.Calls()); d != "" {
			t.Errorf("calls (-want +got):\n%s", d)
		}
		got := slices.Clone(f.db.batchKeys)
		slices.Sort(got) // the two calls are in flight at once
		if d := cmp.Diff([]int{21, 100}, got); d != "" {
			t.Errorf("keys per call (-want +got):\n%s", d)
		}
	})
	t.Run("unprocessed keys", func(t *testing.T) {
		batch := makeEvents(1, 6, 1)
		f.db.Calls()
		f.db.batchKeys = nil
		f.db.unprocessed = 2
		open(t, f.ring.NewCache(), batch)
		// 7 keys (6 data keys, 1 tenant key): 3 read, then 2 of 4, then the last 2.
		if d := cmp.Diff([]int{7, 4, 2}, f.db.batchKeys); d != "" {
			t.Errorf("keys per call (-want +got):\n%s", d)
		}
	})
}

// TestOpenValues: rows that are not events (the archive's columns) open through Values.
func TestOpenValues(t *testing.T) {
	f := newFixture(t)
	tn, id := f.tenant(), f.contact()
	k := f.create(tn, id)
	e := sealed(t, k, f.event(tn, id, "CONTACT_INVITED", "Ann", map[string]any{"email": "ann@example.com"}))
	vals := []pii.Value{
		{Tenant: tn, ContactID: string(id), EventID: e.ID, Field: audit.ContactNameField, V: e.Contact.Name},
		{Tenant: tn, ContactID: string(id), EventID: e.ID, Field: pii.DataField("email"), V: e.Data["email"]},
		{Tenant: tn, ContactID: string(id), EventID: e.ID, Field: pii.DataField("email"), V: "plain@example.com"},
	}
	if err := f.ring.NewCache().OpenValues(context.Background(), vals); err != nil {
		t.Fatal(err)
	}
	var got []any
	for _, v := range vals {
		got = append(got, v.V)
	}
	if d := cmp.Diff([]any{"Ann", "ann@example.com", "plain@example.com"}, got); d != "" {
		t.Errorf("values (-want +got):\n%s", d)
	}
}

// Prefetch reads a contact's key (and its tenant's) in one BatchGetItem and creates nothing,
// even for a contact that has no key; DataKey then answers from the cache.
func TestPrefetch(t *testing.T) {
	f := newFixture(t)
	tn := f.tenant()
	known, unknown := f.contact(), f.contact()
	f.create(tn, known)
	f.db.Calls()
	c := f.ring.NewCache()
	if err := c.Prefetch(context.Background(), tn, known, unknown); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]int{"BatchGetItem": 1}, f.db.Calls()); d != "" {
		t.Errorf("prefetch calls (-want +got):\n%s", d)
	}
	got, err := c.DataKey(context.Background(), tn, known)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]int{}, f.db.Calls()); d != "" {
		t.Errorf("DataKey after Prefetch made calls (-want +got):\n%s", d)
	}
	// Sealed with the prefetched key, an event opens with the key the contact was made with.
	e := f.event(tn, known, "COMMENT_ADDED", "Person", map[string]any{"text": "hello"})
	events := []audit.Event{stored(t, sealed(t, got, e))}
	if err := f.ring.NewCache().Open(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]audit.Event{stored(t, e)}, events); d != "" {
		t.Errorf("opened (-want +got):\n%s", d)
	}
	f.db.Calls()
	if err := c.Prefetch(context.Background(), tn, pii.ContactID("not-a-ulid")); err == nil {
		t.Error("Prefetch accepted an id that is not a contact id")
	}
	c2 := f.ring.NewCache()
	if err := c2.Prefetch(context.Background(), tn, unknown); err != nil {
		t.Fatal(err)
	}
	if calls := f.db.Calls(); calls["PutItem"]+calls["UpdateItem"] != 0 {
		t.Errorf("Prefetch wrote: %v", calls)
	}
}
