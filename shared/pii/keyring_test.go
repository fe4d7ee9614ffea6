package pii_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/ddb"
	"github.com/contrail/contrail/shared/pii"
	"github.com/contrail/contrail/shared/tenant"
)

// history is events of several contacts, sealed, with the forms a reader should see.
type history struct {
	events map[pii.ContactID][]audit.Event // as stored (sealed)
	plain  map[pii.ContactID][]audit.Event // opened
	erased map[pii.ContactID][]audit.Event // once the contact is erased
}

// write seals two events of each contact (creating its key when it has none).
func (f *fixture) write(tn tenant.ID, ids ...pii.ContactID) *history {
	f.t.Helper()
	h := &history{events: map[pii.ContactID][]audit.Event{}, plain: map[pii.ContactID][]audit.Event{}, erased: map[pii.ContactID][]audit.Event{}}
	c := f.ring.NewCache()
	for _, id := range ids {
		k, err := c.DataKey(context.Background(), tn, id)
		if err != nil {
			f.t.Fatal(err)
		}
		for _, e := range []audit.Event{
			f.event(tn, id, "CONTACT_ADDED", "Name of "+string(id), map[string]any{"email": string(id) + "@example.com"}),
			f.event(tn, id, "CONTACT_UPDATED", "New name of "+string(id), map[string]any{"changes": map[string]any{"name": map[string]any{"from": "Name of " + string(id), "to": "New name of " + string(id)}}}),
		} {
			h.events[id] = append(h.events[id], sealed(f.t, k, e))
			h.plain[id] = append(h.plain[id], stored(f.t, e))
			h.erased[id] = append(h.erased[id], erasedForm(f.t, e))
		}
	}
	return h
}

// read opens every event of ids with a fresh cache and compares each contact's events with
// the erased form for the contacts in gone, the plain form for the others.
func (f *fixture) read(h *history, ids []pii.ContactID, gone ...pii.ContactID) {
	f.t.Helper()
	var events, want []audit.Event
	for _, id := range ids {
		for i := range h.events[id] {
			events = append(events, stored(f.t, h.events[id][i]))
			w := h.plain[id][i]
			for _, g := range gone {
				if g == id {
					w = h.erased[id][i]
				}
			}
			want = append(want, w)
		}
	}
	if err := f.ring.NewCache().Open(context.Background(), events); err != nil {
		f.t.Fatal(err)
	}
	if d := cmp.Diff(want, events); d != "" {
		f.t.Errorf("read (-want +got):\n%s", d)
	}
}

// TestErase: an erased contact's personal fields read Erased, other contacts' are intact,
// and the contact gets no key again.
func TestErase(t *testing.T) {
	f := newFixture(t)
	tn := f.tenant()
	a, b, c := f.contact(), f.contact(), f.contact()
	h := f.write(tn, a, b, c)
	all := []pii.ContactID{a, b, c}
	f.read(h, all)

	if d := cmp.Diff([]pii.ContactID{b}, f.erase(tn, b)); d != "" {
		t.Errorf("erased (-want +got):\n%s", d)
	}
	f.read(h, all, b)

	if _, err := f.ring.NewCache().DataKey(context.Background(), tn, b); !errors.Is(err, pii.ErrErased) {
		t.Errorf("DataKey of an erased contact: %v, want ErrErased", err)
	}
	if _, put, err := f.ring.NewCache().Create(context.Background(), tn, b); err != nil {
		t.Fatal(err)
	} else if err := f.commit(put.Items()...); !ddb.ConditionFailed(err) {
		t.Errorf("a new key for an erased contact committed: %v", err)
	}
	f.read(h, all, b)
}

// TestEraseTwice: erasing again commits and changes nothing; erasing a contact that never had
// a key leaves a tombstone, so it never gets one.
func TestEraseTwice(t *testing.T) {
	f := newFixture(t)
	tn, a, legacy := f.tenant(), f.contact(), f.contact()
	h := f.write(tn, a)
	f.erase(tn, a)
	pk, _ := pii.DataKeyPK(tn, a)
	first := f.item(pk)
	f.clock.Advance(time.Hour)
	f.erase(tn, a)
	if d := cmp.Diff(first, f.item(pk)); d != "" {
		t.Errorf("the second erasure changed the item (-first +second):\n%s", d)
	}
	f.read(h, []pii.ContactID{a}, a)

	f.erase(tn, legacy)
	lpk, _ := pii.DataKeyPK(tn, legacy)
	want := map[string]any{"pk": lpk, "itemType": "dataKey", "tenantId": string(tn), "contactId": string(legacy), "erasedAt": audit.FormatTime(f.clock.Now())}
	if d := cmp.Diff(want, f.item(lpk)); d != "" {
		t.Errorf("tombstone of a contact without a key (-want +got):\n%s", d)
	}
	if _, err := f.ring.NewCache().DataKey(context.Background(), tn, legacy); !errors.Is(err, pii.ErrErased) {
		t.Errorf("DataKey after erasing a legacy contact: %v, want ErrErased", err)
	}
}

// TestMergeThenErase: merged contacts' events stay readable under their own keys; erasing the
// primary erases what the merges brought in (transitively), erasing a merged contact only
// itself.
func TestMergeThenErase(t *testing.T) {
	tests := []struct {
		name   string
		erase  string   // "a", "b" or "c"
		wantTx []string // contacts EraseTx destroys
		gone   []string // contacts whose events read Erased
	}{
		{"erase the primary", "a", []string{"a", "b", "c"}, []string{"a", "b", "c"}},
		{"erase a merged contact alone", "b", []string{"b", "c"}, []string{"b", "c"}},
		{"erase the merged contact's merged contact", "c", []string{"c"}, []string{"c"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			tn := f.tenant()
			ids := map[string]pii.ContactID{"a": f.contact(), "b": f.contact(), "c": f.contact(), "d": f.contact()}
			all := []pii.ContactID{ids["a"], ids["b"], ids["c"], ids["d"]}
			h := f.write(tn, all...)
			f.merge(tn, ids["b"], ids["c"]) // c into b, then b into a: a merge of a merge
			f.merge(tn, ids["a"], ids["b"])
			f.read(h, all)

			var want []pii.ContactID
			for _, n := range tc.wantTx {
				want = append(want, ids[n])
			}
			if d := cmp.Diff(want, f.erase(tn, ids[tc.erase])); d != "" {
				t.Errorf("erased (-want +got):\n%s", d)
			}
			var gone []pii.ContactID
			for _, n := range tc.gone {
				gone = append(gone, ids[n])
			}
			f.read(h, all, gone...)
		})
	}
}

// TestMergeIntoLegacyPrimary: a primary without a key (a contact from before sealing) records
// the merge all the same, gets its key later, and erasing it erases the merged contact.
func TestMergeIntoLegacyPrimary(t *testing.T) {
	f := newFixture(t)
	tn, a, b := f.tenant(), f.contact(), f.contact()
	hb := f.write(tn, b)
	f.merge(tn, a, b)
	ha := f.write(tn, a) // DataKey creates a's key on the merge record
	f.read(ha, []pii.ContactID{a})
	f.read(hb, []pii.ContactID{b})
	f.erase(tn, a)
	f.read(ha, []pii.ContactID{a}, a)
	f.read(hb, []pii.ContactID{b}, b)
}

// TestEraseWithContactsMergedBefore: a merge made before the keyring recorded merges is
// erased through the contact's own mergedFrom, passed to EraseTx.
func TestEraseWithContactsMergedBefore(t *testing.T) {
	f := newFixture(t)
	tn, a, b, c := f.tenant(), f.contact(), f.contact(), f.contact()
	h := f.write(tn, a, b, c)
	f.merge(tn, b, c) // recorded: c into b
	items, ids, err := f.ring.EraseTx(context.Background(), tn, a, b, a)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]pii.ContactID{a, b, c}, ids); d != "" {
		t.Errorf("erased (-want +got):\n%s", d)
	}
	f.mustCommit(items...)
	f.read(h, []pii.ContactID{a, b, c}, a, b, c)
	if _, _, err := f.ring.EraseTx(context.Background(), tn, a, "not-an-id"); err == nil {
		t.Error("EraseTx accepted a malformed merged contact id")
	}
}

// TestMergeRefusals: a merge into an erased contact does not commit; a merge of nothing or
// of a malformed id is refused.
func TestMergeRefusals(t *testing.T) {
	f := newFixture(t)
	tn, a, b := f.tenant(), f.contact(), f.contact()
	f.erase(tn, a)
	tx, err := f.ring.MergeTx(tn, a, []pii.ContactID{b})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.commit(tx); !ddb.ConditionFailed(err) {
		t.Errorf("a merge into an erased contact committed: %v", err)
	}
	for _, merged := range [][]pii.ContactID{nil, {a}, {"not-an-id"}} {
		if _, err := f.ring.MergeTx(tn, a, merged); err == nil {
			t.Errorf("MergeTx(%v) accepted", merged)
		}
	}
}

// TestEraseMeetsMerge: an erasure read before a merge into the same contact does not commit,
// so no merged key escapes it; read again, it does.
func TestEraseMeetsMerge(t *testing.T) {
	f := newFixture(t)
	tn, a, b := f.tenant(), f.contact(), f.contact()
	h := f.write(tn, a, b)
	items, _, err := f.ring.EraseTx(context.Background(), tn, a)
	if err != nil {
		t.Fatal(err)
	}
	f.merge(tn, a, b)
	if err := f.commit(items...); !ddb.ConditionFailed(err) {
		t.Fatalf("a stale erasure committed: %v", err)
	}
	f.erase(tn, a)
	f.read(h, []pii.ContactID{a, b}, a, b)
}

// TestKeyItems pins KeysTable's items: the tenant key, a data key made with a new contact, one
// made for an existing contact, a merge record, and a tombstone.
func TestKeyItems(t *testing.T) {
	f := newFixture(t)
	tn, a, b := f.tenant(), f.contact(), f.contact()
	at := audit.FormatTime(t0)
	f.create(tn, a)
	if _, err := f.ring.NewCache().DataKey(context.Background(), tn, b); err != nil {
		t.Fatal(err)
	}
	f.merge(tn, a, b)
	tpk, _ := pii.TenantKeyPK(tn)
	apk, _ := pii.DataKeyPK(tn, a)
	bpk, _ := pii.DataKeyPK(tn, b)
	if tpk != "T#"+string(tn)+"#TK" || apk != "T#"+string(tn)+"#DK#"+string(a) {
		t.Errorf("keys %q, %q", tpk, apk)
	}
	// wrapped: a data key is nonce (12) ‖ 32-byte key ‖ tag (16); a tenant key is the KMS
	// stand-in's ciphertext blob: version (1) ‖ key id (36) ‖ nonce (12) ‖ key (32) ‖ tag (16).
	wrapped := func(item map[string]any) map[string]any {
		if w, ok := item["wrappedKey"].([]byte); ok {
			item["wrappedKey"] = len(w)
		}
		return item
	}
	tests := []struct {
		name string
		pk   string
		want map[string]any
	}{
		{"tenant key", tpk, map[string]any{"pk": tpk, "itemType": "tenantKey", "tenantId": string(tn), "wrappedKey": 97, "createdAt": at}},
		{"data key with a merge", apk, map[string]any{"pk": apk, "itemType": "dataKey", "tenantId": string(tn), "contactId": string(a), "wrappedKey": 60, "createdAt": at,
			"mergedFrom": []string{string(b)}}},
		{"data key made for an existing contact", bpk, map[string]any{"pk": bpk, "itemType": "dataKey", "tenantId": string(tn), "contactId": string(b), "wrappedKey": 60, "createdAt": at}},
	}
	for _, tc := range tests {
		if d := cmp.Diff(tc.want, wrapped(f.item(tc.pk))); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, d)
		}
	}
	f.clock.Advance(time.Minute)
	f.erase(tn, a)
	gone := audit.FormatTime(t0.Add(time.Minute))
	want := map[string]any{"pk": apk, "itemType": "dataKey", "tenantId": string(tn), "contactId": string(a), "createdAt": at, "mergedFrom": []string{string(b)}, "erasedAt": gone}
	if d := cmp.Diff(want, f.item(apk)); d != "" {
		t.Errorf("tombstone (-want +got):\n%s", d)
	}
	want = map[string]any{"pk": bpk, "itemType": "dataKey", "tenantId": string(tn), "contactId": string(b), "createdAt": at, "erasedAt": gone}
	if d := cmp.Diff(want, f.item(bpk)); d != "" {
		t.Errorf("merged contact's tombstone (-want +got):\n%s", d)
	}
}

// TestDataKeyGetOrCreate: a contact without a key gets one, the same on every later call;
// a key's Put for an existing contact fails its condition.
func TestDataKeyGetOrCreate(t *testing.T) {
	f := newFixture(t)
	tn, legacy := f.tenant(), f.contact()
	ctx := context.Background()
	k1, err := f.ring.NewCache().DataKey(ctx, tn, legacy)
	if err != nil {
		t.Fatal(err)
	}
	e := f.event(tn, legacy, "COMMENT_ADDED", "Lee", map[string]any{"text": "hello"})
	s1 := sealed(t, k1, e)
	k2, err := f.ring.NewCache().DataKey(ctx, tn, legacy)
	if err != nil {
		t.Fatal(err)
	}
	s2 := sealed(t, k2, e)
	events := []audit.Event{s1, s2}
	if err := f.ring.NewCache().Open(ctx, events); err != nil {
		t.Fatalf("keys from two calls differ: %v", err)
	}
	if _, put, err := f.ring.NewCache().Create(ctx, tn, legacy); err != nil {
		t.Fatal(err)
	} else if err := f.commit(put.Items()...); !ddb.ConditionFailed(err) {
		t.Errorf("a second key for a contact committed: %v", err)
	}
	if _, err := f.ring.NewCache().DataKey(ctx, tn, "not-a-contact-id"); err == nil {
		t.Error("DataKey accepted a malformed contact id")
	}
}

// TestConcurrentKeyCreation: writers racing on a new tenant end up with one tenant key, and
// writers racing on one legacy contact with one data key: every event they sealed opens.
func TestConcurrentKeyCreation(t *testing.T) {
	f := newFixture(t)
	tn, shared := f.tenant(), f.contact()
	const writers = 8
	var mu sync.Mutex
	var events, want []audit.Event
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		own := f.contact()
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := f.ring.NewCache() // each writer is its own invocation
			k, put, err := c.Create(context.Background(), tn, own)
			if err == nil {
				err = f.commit(put.Items()...)
			}
			var ks pii.DataKey
			if err == nil {
				ks, err = c.DataKey(context.Background(), tn, shared)
			}
			if err != nil {
				errs[i] = err
				return
			}
			e1 := f.event(tn, own, "COMMENT_ADDED", "Own", map[string]any{"text": "mine"})
			e2 := f.event(tn, shared, "COMMENT_ADDED", "Shared", map[string]any{"text": "ours"})
			mu.Lock()
			defer mu.Unlock()
			events = append(events, sealed(t, k, e1), sealed(t, ks, e2))
			want = append(want, stored(t, e1), stored(t, e2))
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if err := f.ring.NewCache().Open(context.Background(), events); err != nil {
		t.Fatalf("events sealed by racing writers do not open: %v", err)
	}
	if d := cmp.Diff(want, events); d != "" {
		t.Errorf("opened (-want +got):\n%s", d)
	}
}

// TestKeyLoss: a tenant key that is missing or does not unwrap, or a data key that is gone
// without an erasure record, is an error, never Erased; an erased contact in the same batch
// still reads Erased, so "erased on purpose" stays distinct from "key lost".
func TestKeyLoss(t *testing.T) {
	tests := []struct {
		name   string
		damage func(f *fixture, tn tenant.ID, a, b pii.ContactID) *pii.Keyring
		want   error
	}{
		{"another KMS key", func(f *fixture, tn tenant.ID, a, b pii.ContactID) *pii.Keyring {
			k, client := localKMS(f.t) // a KMS whose key never wrapped the tenant's
			return &pii.Keyring{DB: f.db, Table: f.table, Wrapper: &pii.KMSWrapper{KMS: client, KeyID: k.KeyARN()}}
		}, pii.ErrTenantKeyUnavailable},
		{"KMS key missing", func(f *fixture, tn tenant.ID, a, b pii.ContactID) *pii.Keyring {
			return &pii.Keyring{DB: f.db, Table: f.table, Wrapper: &pii.KMSWrapper{KMS: f.kms, KeyID: "alias/deleted"}}
		}, pii.ErrTenantKeyUnavailable},
		{"wrapped tenant key damaged", func(f *fixture, tn tenant.ID, a, b pii.ContactID) *pii.Keyring {
			// The same keyring, which keeps the unwrapped key: changed bytes are unwrapped anew.
			pk, _ := pii.TenantKeyPK(tn)
			item := f.item(pk)
			w := item["wrappedKey"].([]byte)
			w[len(w)-1] ^= 1
			f.putItem(item)
			return f.ring
		}, pii.ErrTenantKeyUnavailable},
		{"tenant key item deleted", func(f *fixture, tn tenant.ID, a, b pii.ContactID) *pii.Keyring {
			pk, _ := pii.TenantKeyPK(tn)
			f.deleteItem(pk)
			return f.ring
		}, pii.ErrTenantKeyUnavailable},
		{"data key item deleted", func(f *fixture, tn tenant.ID, a, b pii.ContactID) *pii.Keyring {
			pk, _ := pii.DataKeyPK(tn, a)
			f.deleteItem(pk)
			return f.ring
		}, pii.ErrDataKeyLost},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			tn, a, b := f.tenant(), f.contact(), f.contact()
			h := f.write(tn, a, b)
			f.erase(tn, b)
			ring := tc.damage(f, tn, a, b)

			events := append(append([]audit.Event(nil), h.events[a]...), h.events[b]...)
			for i := range events {
				events[i] = stored(t, events[i])
			}
			err := ring.NewCache().Open(context.Background(), events)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open error = %v, want %v", err, tc.want)
			}
			for i, e := range events[:2] {
				if d := cmp.Diff(stored(t, h.events[a][i]), e); d != "" {
					t.Errorf("a's event %d is not left sealed (-stored +got):\n%s", i, d)
				}
			}
			if d := cmp.Diff(h.erased[b], events[2:]); d != "" {
				t.Errorf("the erased contact's events (-want +got):\n%s", d)
			}
		})
	}
}

// TestDataKeyUnderAnotherTenantKey: a data key item copied from another contact (or altered)
// does not unwrap: its AAD binds tenant and contact.
func TestDataKeyUnderAnotherTenantKey(t *testing.T) {
	f := newFixture(t)
	tn, a, b := f.tenant(), f.contact(), f.contact()
	h := f.write(tn, a, b)
	apk, _ := pii.DataKeyPK(tn, a)
	bpk, _ := pii.DataKeyPK(tn, b)
	item := f.item(bpk)
	// a's item with b's wrapped key.
	f.putItem(map[string]any{"pk": apk, "itemType": "dataKey", "tenantId": string(tn), "contactId": string(a), "wrappedKey": item["wrappedKey"], "createdAt": item["createdAt"]})
	events := []audit.Event{stored(t, h.events[a][0])}
	if err := f.ring.NewCache().Open(context.Background(), events); !errors.Is(err, pii.ErrDataKeyLost) {
		t.Errorf("Open error = %v, want ErrDataKeyLost", err)
	}
}

func TestParseContactID(t *testing.T) {
	for _, s := range []string{"01JD0000000000000000000000", "7ZZZZZZZZZZZZZZZZZZZZZZZZZ"} {
		if id, err := pii.ParseContactID(s); err != nil || string(id) != s || !id.Valid() {
			t.Errorf("ParseContactID(%q) = %q, %v", s, id, err)
		}
	}
	for _, s := range []string{"", "01jd0000000000000000000000", "81JD0000000000000000000000", "01JD000000000000000000000", "01JD0000000000000000000000#", "01JD00000000000000000000IL"} {
		if _, err := pii.ParseContactID(s); err == nil {
			t.Errorf("ParseContactID(%q) accepted", s)
		}
	}
	if _, err := pii.DataKeyPK("bad#tenant", "01JD0000000000000000000000"); err == nil {
		t.Error("DataKeyPK accepted a malformed tenant")
	}
	if _, err := pii.DataKeyPK(tenant.ID(stacktest.UniqueName("t")), "x#y"); err == nil {
		t.Error("DataKeyPK accepted a malformed contact id")
	}
}

// TestKeyringWithKMS: the keyring end to end with the KMS wrapper; with another KMS key (a
// key lost or a wrong key configured) the tenant key is unavailable, not erased.
func TestKeyringWithKMS(t *testing.T) {
	f := newFixture(t)
	_, client := localKMS(t)
	f.ring.Wrapper = &pii.KMSWrapper{KMS: client, KeyID: "alias/contrail-pii"}
	tn, id := f.tenant(), f.contact()
	k := f.create(tn, id)
	e := f.event(tn, id, "MESSAGE_SENT", "Kim", map[string]any{"text": "Hi Kim", "to": "kim@example.com"})
	events := []audit.Event{sealed(t, k, e)}
	if err := f.ring.NewCache().Open(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(stored(t, e), events[0]); d != "" {
		t.Errorf("opened (-want +got):\n%s", d)
	}

	_, other := localKMS(t)
	lost := &pii.Keyring{DB: f.db, Table: f.table, Wrapper: &pii.KMSWrapper{KMS: other, KeyID: "alias/contrail-pii"}}
	events = []audit.Event{sealed(t, k, e)}
	if err := lost.NewCache().Open(context.Background(), events); !errors.Is(err, pii.ErrTenantKeyUnavailable) {
		t.Errorf("Open with another KMS key: %v, want ErrTenantKeyUnavailable", err)
	}
	if events[0].Data["to"] == pii.Erased {
		t.Error("a lost tenant key reads [erased]")
	}
}
