package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/tenant"
)

// Prefix begins every sealed value; it names the format (version 1). A value without it is
// plaintext written before sealing existed, and reads as it is.
//
// A sealed value is Prefix followed by base64url without padding of nonce (12 bytes) ‖
// AES-256-GCM ciphertext and tag of the value's JSON encoding, under the contact's data key,
// with this associated data (AAD), NUL-separated, none of whose parts holds a NUL:
//
//	"pii1" 0x00 <tenant id> 0x00 <contact id> 0x00 <event id> 0x00 <field>
//
// where field is "contact.name" (audit.ContactNameField) or "data.<name>" (DataField). So a
// ciphertext copied to another event, field, contact or tenant does not open: ErrTampered.
const Prefix = "pii1:"

const (
	keySize   = 32 // AES-256
	nonceSize = 12 // GCM's standard nonce
	tagSize   = 16
)

// DataField names data field name of an event for sealing: "data.<name>".
func DataField(name string) string { return "data." + name }

// DataKey is one contact's data key, ready to seal the personal fields of its events. The
// zero DataKey seals nothing (every call fails).
type DataKey struct {
	Tenant  tenant.ID
	Contact ContactID
	aead    cipher.AEAD
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != keySize {
		return nil, fmt.Errorf("a key is %d bytes, want %d", len(key), keySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// aad is the associated data binding a sealed value to its tenant, contact, event and field.
func aad(t tenant.ID, c ContactID, eventID, field string) []byte {
	b := make([]byte, 0, 5+len(t)+1+len(c)+1+len(eventID)+1+len(field))
	b = append(b, "pii1\x00"...)
	b = append(b, t...)
	b = append(b, 0)
	b = append(b, c...)
	b = append(b, 0)
	b = append(b, eventID...)
	b = append(b, 0)
	return append(b, field...)
}

// checkBinding refuses a part of the AAD that would make it ambiguous or meaningless.
func (k DataKey) checkBinding(eventID, field string) error {
	switch {
	case k.aead == nil:
		return errors.New("no data key (the zero DataKey)")
	case !k.Tenant.Valid() || !k.Contact.Valid():
		return fmt.Errorf("data key of tenant %q, contact %q: not a tenant and contact id", k.Tenant, k.Contact)
	case eventID == "" || strings.IndexByte(eventID, 0) >= 0:
		return fmt.Errorf("event id %q: empty or holding a NUL", eventID)
	case field == "" || strings.IndexByte(field, 0) >= 0:
		return fmt.Errorf("field %q: empty or holding a NUL", field)
	}
	return nil
}

// Seal returns v, JSON-encoded, sealed for field of event eventID of the key's contact.
func (k DataKey) Seal(eventID, field string, v any) (string, error) {
	if err := k.checkBinding(eventID, field); err != nil {
		return "", fmt.Errorf("seal %s of event %s: %w", field, eventID, err)
	}
	plain, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("seal %s of event %s: %w", field, eventID, err)
	}
	buf := make([]byte, nonceSize, nonceSize+len(plain)+tagSize)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("seal %s of event %s: nonce: %w", field, eventID, err)
	}
	buf = k.aead.Seal(buf, buf[:nonceSize], plain, aad(k.Tenant, k.Contact, eventID, field))
	return Prefix + base64.RawURLEncoding.EncodeToString(buf), nil
}

// open returns the value sealed in s for field of event eventID, or ErrTampered. A report
// opens one value a row, so this path allocates little: the ciphertext is opened in place,
// and a JSON string without escapes (a name, an email, a phone number) is taken as it is.
func (k DataKey) open(eventID, field, s string) (any, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(s, Prefix))
	if err != nil || len(raw) < nonceSize+tagSize {
		return nil, ErrTampered
	}
	plain, err := k.aead.Open(raw[nonceSize:nonceSize], raw[:nonceSize], raw[nonceSize:], aad(k.Tenant, k.Contact, eventID, field))
	if err != nil {
		return nil, ErrTampered
	}
	if v, ok := plainJSONString(plain); ok {
		return v, nil
	}
	var v any
	if err := json.Unmarshal(plain, &v); err != nil {
		return nil, fmt.Errorf("%w: not JSON inside", ErrTampered)
	}
	return v, nil
}

// plainJSONString returns the string b encodes when b is a JSON string with nothing to
// unescape: quotes around valid UTF-8 without a backslash, a quote or a control character.
// Such a string decodes to its own bytes, as encoding/json would decode it.
func plainJSONString(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	body := b[1 : len(b)-1]
	for _, c := range body {
		if c < 0x20 || c == '"' || c == '\\' {
			return "", false
		}
	}
	if !utf8.Valid(body) {
		return "", false
	}
	return string(body), true
}

// IsSealed reports whether v is a sealed value (a string beginning with Prefix).
func IsSealed(v any) bool {
	s, ok := v.(string)
	return ok && strings.HasPrefix(s, Prefix)
}

// SealEvent seals e's personal fields in place: its data fields that audit.PersonalFields
// names for its type (when present and not null) and its contact.name (when not empty).
// e must be an event of the key's tenant and contact, with its final id. Call it once per
// event, just before writing it: sealing twice seals the ciphertext again. On error e is
// unchanged.
func (k DataKey) SealEvent(e *audit.Event) error {
	if e.TenantID != k.Tenant || e.Contact == nil || e.Contact.ID != string(k.Contact) {
		contact := ""
		if e.Contact != nil {
			contact = e.Contact.ID
		}
		return fmt.Errorf("seal event %s of tenant %s, contact %q with the data key of tenant %s, contact %s: not its key",
			e.ID, e.TenantID, contact, k.Tenant, k.Contact)
	}
	sealed := map[string]string{}
	for _, name := range audit.PersonalFields(e.Type) {
		v, ok := e.Data[name]
		if !ok || v == nil {
			continue
		}
		s, err := k.Seal(e.ID, DataField(name), v)
		if err != nil {
			return err
		}
		sealed[name] = s
	}
	name := e.Contact.Name
	if name != "" {
		s, err := k.Seal(e.ID, audit.ContactNameField, name)
		if err != nil {
			return err
		}
		name = s
	}
	for f, s := range sealed {
		e.Data[f] = s
	}
	if name != e.Contact.Name {
		// A copy: the ContactRef may be shared with another event or the caller's contact.
		e.Contact = &audit.ContactRef{ID: e.Contact.ID, Name: name}
	}
	return nil
}
