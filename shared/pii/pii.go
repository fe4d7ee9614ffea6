// Package pii holds what makes a contact's personal data erasable from write-once storage
// (crypto-shredding): the personal fields of an audit event (audit.PersonalFields and the
// event's contact.name) are sealed when the event is written, under a data key of the
// event's contact, and erasing the contact destroys that key. The audit table and the
// archive keep the ciphertext; nothing in them is rewritten.
//
// Keys (KeysTable, see keyring.go) are an envelope: each tenant has a 256-bit tenant key,
// wrapped by a Wrapper (KMSWrapper: the KMS key KEYS_KMS_KEY_ARN names; locally the local
// stack's KMS stand-in, local/emulator's KMS, which keeps its key in
// .local/keys/PersonalDataKey.json); each contact has a 256-bit data key, wrapped under its
// tenant's key.
//
//   - Writers seal: Cache.Create (a new contact: the key's Put joins the contact's own
//     transaction) or Cache.DataKey (an existing contact: get or create), then
//     DataKey.SealEvent.
//   - Readers open in one place: Cache.Open (events) or Cache.OpenValues (archive rows),
//     which fetch the keys of a whole batch at once. A field of an erased contact reads
//     Erased; a missing or unusable tenant key, a lost data key and a ciphertext that does
//     not authenticate are errors, never Erased.
//   - Merging records the merged contacts on the primary's key item (Keyring.MergeTx), and
//     erasing (Keyring.EraseTx) destroys the keys of the contact and of every contact
//     merged into it.
//
// What may be kept in memory, and for how long: erasure destroys data keys, never tenant
// keys. So a data key lives only in one invocation's Cache (a key erased by another
// function must not keep opening its contact's fields in a warm container), whereas an
// unwrapped tenant key is kept by the Keyring across invocations, for TenantKeyTTL (10 min
// by default, at most a few dozen tenants): without that, every request of a warm
// container pays a KMS Decrypt, slower than the page it opens. Keeping it reveals nothing
// an erasure removed (a data key must still be read, and an erased one is gone), and it is
// kept by tenant and wrapped bytes, so a changed tenant key item is unwrapped anew. The
// price: a disabled KMS key stops a warm container's reads only when its copy expires.
//
// Values written before sealing existed (plaintext) read as they are.
package pii

import (
	"errors"

	"github.com/contrail/contrail/shared/ident"
)

// Erased is what a reader sees in place of a personal field whose contact was erased.
const Erased = "[erased]"

// ContactID is a contact id as the keyring takes it: a ULID, 26 characters of Crockford's
// base 32 in upper case (the form of shared/contact's ID). It reaches KeysTable keys, so a
// string becomes one only through ParseContactID, and key builders check it again.
type ContactID string

var errMalformedContactID = errors.New("not a contact id: a contact id is 26 characters of Crockford's base 32")

// ParseContactID returns s as a ContactID, or an error when s is not one.
func ParseContactID(s string) (ContactID, error) {
	if !ident.IsULID(s) {
		return "", errMalformedContactID
	}
	return ContactID(s), nil
}

// Valid reports whether id is one ParseContactID would accept.
func (id ContactID) Valid() bool { return ident.IsULID(string(id)) }

// Errors a caller tells apart with errors.Is. Each is wrapped with what was being done.
var (
	// ErrTenantKeyUnavailable: the tenant's key is missing although data is sealed under it,
	// or the Wrapper cannot unwrap it (another or a missing KMS key, KMS refusing). Every
	// sealed value of the tenant is unreadable: log at ERROR and fail, never show Erased.
	ErrTenantKeyUnavailable = errors.New("the tenant's personal-data key is unavailable")
	// ErrDataKeyLost: a value is sealed under a contact's data key, but the keyring has
	// neither the key nor a record of its erasure, or the key does not unwrap under the
	// tenant key (a table restored to before the key, an item altered by hand).
	ErrDataKeyLost = errors.New("the contact's data key is lost (neither present nor erased)")
	// ErrTampered: a sealed value does not authenticate: it was altered, or moved to another
	// event, field, contact or tenant than it was sealed for.
	ErrTampered = errors.New("a sealed personal field does not authenticate (altered or moved)")
	// ErrErased: a writer asked for the data key of a contact that was erased.
	ErrErased = errors.New("the contact was erased: its data key is destroyed")
	// ErrTenantKeyChanged: the tenant key item no longer holds the key a new data key was
	// wrapped under (the KeyWrites.Check of Create failed). Nothing was written: forget the
	// tenant's kept key (Keyring.ForgetTenantKey) and plan the write again.
	ErrTenantKeyChanged = errors.New("the tenant's personal-data key item changed since it was read")
)
