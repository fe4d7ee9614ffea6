package pii

import (
	"bytes"
	"errors"
	"testing"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/tenant"
)

const testContact ContactID = "01JD0000000000000000000001"

const testEvent = "01JD0000000000000000000009"

func testKey(t testing.TB) DataKey {
	aead, err := newAEAD(bytes.Repeat([]byte{1}, keySize))
	if err != nil {
		t.Fatal(err)
	}
	return DataKey{Tenant: "acme", Contact: testContact, aead: aead}
}

// TestAAD pins the associated data's bytes: a reader in another language must build the same.
func TestAAD(t *testing.T) {
	got := aad("acme", testContact, testEvent, "data.email")
	want := []byte("pii1\x00acme\x0001JD0000000000000000000001\x0001JD0000000000000000000009\x00data.email")
	if !bytes.Equal(got, want) {
		t.Errorf("aad = %q, want %q", got, want)
	}
}

// TestAADBindsEveryPart: with the same key material, a value sealed for one tenant, contact,
// event and field opens for exactly those.
func TestAADBindsEveryPart(t *testing.T) {
	k := testKey(t)
	v, err := k.Seal(testEvent, "data.email", "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	other := func(tn tenant.ID, c ContactID) DataKey { o := k; o.Tenant, o.Contact = tn, c; return o }
	tests := []struct {
		name         string
		key          DataKey
		event, field string
		ok           bool
	}{
		{"as sealed", k, testEvent, "data.email", true},
		{"another tenant", other("acme2", testContact), testEvent, "data.email", false},
		{"another contact", other("acme", "01JD0000000000000000000002"), testEvent, "data.email", false},
		{"another event", k, "01JD0000000000000000000008", "data.email", false},
		{"another field", k, testEvent, "data.phone", false},
		{"contact name", k, testEvent, audit.ContactNameField, false},
		// Parts cannot run into each other: the separator is outside every part.
		{"shifted between parts", other("acme\x0001JD", "0000000000000000000001"), testEvent, "data.email", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.key.open(tc.event, tc.field, v)
			if tc.ok {
				if err != nil || got != "ann@example.com" {
					t.Errorf("open = %v, %v", got, err)
				}
				return
			}
			if !errors.Is(err, ErrTampered) {
				t.Errorf("open = %v, %v; want ErrTampered", got, err)
			}
		})
	}
}

// TestSealIsRandomized: the same value sealed twice differs (a fresh nonce each time), so
// equal plaintexts cannot be told apart in the archive.
func TestSealIsRandomized(t *testing.T) {
	k := testKey(t)
	a, _ := k.Seal(testEvent, "data.email", "ann@example.com")
	b, _ := k.Seal(testEvent, "data.email", "ann@example.com")
	if a == b {
		t.Error("sealing the same value twice gave the same text")
	}
}
