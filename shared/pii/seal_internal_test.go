package pii

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
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

// TestOpenDecodesAsJSON: whatever was sealed opens to what encoding/json gives for its JSON
// encoding, through the plain-string shortcut or not.
func TestOpenDecodesAsJSON(t *testing.T) {
	k := testKey(t)
	for _, v := range []any{
		"Ann Example", "", "ann@example.com", "+62 812 555 0101", "Zoë Ñúñez 王小明 🙂",
		"a \"quoted\" name", `back\slash`, "tab\there", "line\nbreak", "<html>&", "\u2028", "bad \xff byte",
		42.5, true, nil, map[string]any{"a": "b"}, []any{"x", 1.0},
	} {
		sealed, err := k.Seal(testEvent, "data.text", v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := k.open(testEvent, "data.text", sealed)
		if err != nil {
			t.Fatalf("open %#v: %v", v, err)
		}
		if want := viaJSON(t, v); !reflect.DeepEqual(got, want) {
			t.Errorf("open %#v = %#v, want %#v", v, got, want)
		}
	}
}

// FuzzPlainJSONString: the shortcut answers only where encoding/json gives the same string.
func FuzzPlainJSONString(f *testing.F) {
	for _, s := range []string{`"Ann"`, `""`, `"a\"b"`, `"\u00e9"`, "\"\xff\"", `"é"`, `"tab	"`, `42`, `"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := plainJSONString(b)
		if !ok {
			return
		}
		var want any
		if err := json.Unmarshal(b, &want); err != nil || want != got {
			t.Errorf("plainJSONString(%q) = %q, encoding/json: %#v, %v", b, got, want, err)
		}
	})
}

func viaJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
