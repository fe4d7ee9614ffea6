package pii_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/ddb"
	"github.com/contrail/contrail/shared/pii"
)

// TestTenantKeyKept: the keyring keeps an unwrapped tenant key for every Cache: two requests
// in a row of one tenant cost one Unwrap (a KMS Decrypt); another wrapped key for the tenant
// is unwrapped again, never answered from the kept one; a kept key expires after
// TenantKeyTTL; a negative TTL keeps nothing. Data keys are never kept: an erasure is seen
// by the next Cache at once.
func TestTenantKeyKept(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	tn, a, b := f.tenant(), f.contact(), f.contact()
	ka := f.create(tn, a)
	kb := f.create(tn, b)
	ea := f.event(tn, a, "COMMENT_ADDED", "Ana", map[string]any{"text": "hello"})
	eb := f.event(tn, b, "COMMENT_ADDED", "Budi", map[string]any{"text": "hi"})
	sa, sb := sealed(t, ka, ea), sealed(t, kb, eb)
	open := func(r *pii.Keyring) ([]audit.Event, error) {
		evs := []audit.Event{sa, sb}
		for i := range evs {
			evs[i].Data = cloneData(evs[i].Data)
		}
		err := r.NewCache().Open(ctx, evs)
		return evs, err
	}
	unwraps := func() int32 { return f.wrapper.unwraps.Swap(0) }

	f.ring.ForgetTenantKeys()
	unwraps()
	for i := range 3 {
		evs, err := open(f.ring)
		if err != nil {
			t.Fatal(err)
		}
		if evs[0].Contact.Name != "Ana" || evs[1].Data["text"] != "hi" {
			t.Fatalf("request %d opened %v", i, evs)
		}
	}
	if n := unwraps(); n != 1 {
		t.Errorf("three requests unwrapped the tenant key %d times, want 1", n)
	}

	// Data keys are not kept: the next request sees an erasure at once.
	f.erase(tn, b)
	evs, err := open(f.ring)
	if err != nil {
		t.Fatal(err)
	}
	if evs[0].Contact.Name != "Ana" || evs[1].Contact.Name != pii.Erased || evs[1].Data["text"] != pii.Erased {
		t.Errorf("after erasing b: %v", evs)
	}
	if n := unwraps(); n != 0 {
		t.Errorf("unwrapped %d times, want 0 (kept)", n)
	}

	// Expiry.
	f.clock.Advance(pii.DefaultTenantKeyTTL)
	if _, err := open(f.ring); err != nil {
		t.Fatal(err)
	}
	if n := unwraps(); n != 1 {
		t.Errorf("after the TTL: unwrapped %d times, want 1", n)
	}

	// Another wrapped key for the tenant (the item changed): unwrapped anew, and a's data key,
	// wrapped under the old tenant key, is lost under the new one.
	f.replaceTenantKey(tn)
	unwraps()
	if _, err := open(f.ring); !errors.Is(err, pii.ErrDataKeyLost) {
		t.Errorf("under another tenant key: %v, want ErrDataKeyLost", err)
	}
	if n := unwraps(); n != 1 {
		t.Errorf("another wrapped key: unwrapped %d times, want 1", n)
	}

	// Not kept with a negative TTL.
	off := pii.Keyring{DB: f.ring.DB, Table: f.ring.Table, Wrapper: f.ring.Wrapper, Clock: f.ring.Clock, TenantKeyTTL: -1}
	for range 2 {
		_, _ = open(&off)
	}
	if n := unwraps(); n != 2 {
		t.Errorf("TenantKeyTTL < 0: unwrapped %d times, want 2", n)
	}
}

// TestTenantKeyKeptConcurrently: many requests of several tenants at once through one
// keyring (run with -race) all open, and each tenant key is unwrapped at most once per
// request and at least once.
func TestTenantKeyKeptConcurrently(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	var events []audit.Event
	for range 3 {
		tn, id := f.tenant(), f.contact()
		k := f.create(tn, id)
		events = append(events, sealed(t, k, f.event(tn, id, "COMMENT_ADDED", "Person", map[string]any{"text": "x"})))
	}
	f.ring.ForgetTenantKeys()
	f.wrapper.unwraps.Store(0)
	const requests = 24
	var wg sync.WaitGroup
	errs := make([]error, requests)
	for i := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			evs := make([]audit.Event, len(events))
			for j, e := range events {
				e.Data = cloneData(e.Data)
				evs[j] = e
			}
			errs[i] = f.ring.NewCache().Open(ctx, evs)
			for _, e := range evs {
				if e.Contact.Name != "Person" || e.Data["text"] != "x" {
					errs[i] = errors.Join(errs[i], errors.New("not opened: "+e.ID))
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if n := f.wrapper.unwraps.Load(); n < 3 || n > 3*requests {
		t.Errorf("%d unwraps for 3 tenants and %d requests", n, requests)
	}
	f.wrapper.unwraps.Store(0)
	if err := f.ring.NewCache().Open(ctx, events[:1]); err != nil {
		t.Fatal(err)
	}
	if n := f.wrapper.unwraps.Load(); n != 0 {
		t.Errorf("after the burst: %d unwraps, want 0 (kept)", n)
	}
}

// TestCreateWithKeptTenantKey: a creation whose tenant key the keyring keeps reads nothing
// (no GetItem or BatchGetItem of the key item) and checks the key item in its transaction
// instead; when the item changed meanwhile that check fails the transaction (nothing
// written) and, once the kept key is forgotten, the next creation reads the item and wraps
// under the new key. A creation without a kept key reads the item and carries no check.
func TestCreateWithKeptTenantKey(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	tn := f.tenant()
	f.create(tn, f.contact()) // makes the tenant key and keeps it

	// Kept: no read, a check.
	f.db.Calls()
	id := f.contact()
	k, w, err := f.ring.NewCache().Create(ctx, tn, id)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]int{}, f.db.Calls()); d != "" {
		t.Errorf("calls with a kept tenant key (-want +got):\n%s", d)
	}
	if w.Check == nil || w.Check.ConditionCheck == nil || len(w.Items()) != 2 {
		t.Fatalf("writes with a kept tenant key: %+v, want a Put and a ConditionCheck", w)
	}
	f.mustCommit(w.Items()...)
	e := f.event(tn, id, "COMMENT_ADDED", "Ana", map[string]any{"text": "hello"})
	evs := []audit.Event{sealed(t, k, e)}
	if err := f.ring.NewCache().Open(ctx, evs); err != nil || evs[0].Contact.Name != "Ana" {
		t.Fatalf("opening what the kept key's data key sealed: %v, %v", evs, err)
	}

	// The key item changes (another wrapped key): the check fails, nothing is written.
	f.replaceTenantKey(tn)
	stale := f.contact()
	_, w, err = f.ring.NewCache().Create(ctx, tn, stale)
	if err != nil {
		t.Fatal(err)
	}
	err = f.commit(w.Items()...)
	if reasons := ddb.Reasons(err); len(reasons) != 2 || reasons[0] == ddb.ReasonConditionFailed || reasons[1] != ddb.ReasonConditionFailed {
		t.Fatalf("commit under a changed key item: %v (reasons %v), want the check (item 2) to fail", err, reasons)
	}
	dpk, _ := pii.DataKeyPK(tn, stale)
	if got := f.item(dpk); got != nil {
		t.Errorf("a failed check left a data key item: %v", got)
	}

	// Forgotten: read again, no check, and the data key opens under the new tenant key.
	f.ring.ForgetTenantKey(tn)
	f.db.Calls()
	k, w, err = f.ring.NewCache().Create(ctx, tn, stale)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]int{"GetItem": 1}, f.db.Calls()); d != "" {
		t.Errorf("calls without a kept tenant key (-want +got):\n%s", d)
	}
	if w.Check != nil {
		t.Errorf("a creation that read the key item carries a check: %+v", w.Check)
	}
	f.mustCommit(w.Items()...)
	e = f.event(tn, stale, "COMMENT_ADDED", "Budi", map[string]any{"text": "hi"})
	evs = []audit.Event{sealed(t, k, e)}
	if err := f.ring.NewCache().Open(ctx, evs); err != nil || evs[0].Contact.Name != "Budi" {
		t.Fatalf("opening under the new tenant key: %v, %v", evs, err)
	}
}
