package contact

import (
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/pii"
)

// Config is what a contact function reads from its environment: ReadConfig for the actions,
// a narrower reader for the routes that need less.
type Config struct {
	ContactsTable string            // CONTACTS_TABLE: contacts and their idempotency records
	Audit         audit.StoreConfig // where actions record their events; history reads them
	// The key list cursors are signed with (list and history routes): the secret
	// CursorSecretARN names, which NewService reads; tests set CursorSecret itself.
	CursorSecretARN string
	CursorSecret    string
	// Where the personal-data keys are: the actions seal their events' personal fields, the
	// history opens them (NewService builds the keyring).
	Keys pii.Config
}

// ReadTable reads CONTACTS_TABLE, for every package that keeps records beside the contacts
// (idempotency records, mail claims).
func ReadTable(r *env.Reader) string { return r.String("CONTACTS_TABLE") }

// ReadConfig reads what the contact actions need: the contacts table, the audit table they
// record their events in and the keys they seal them with.
func ReadConfig(r *env.Reader) Config {
	return Config{ContactsTable: ReadTable(r), Audit: audit.ReadStore(r), Keys: pii.ReadConfig(r)}
}

// ReadGetConfig reads what reading one contact needs: the contacts table.
func ReadGetConfig(r *env.Reader) Config { return Config{ContactsTable: ReadTable(r)} }

// ReadListConfig reads what listing contacts needs: the contacts table and the cursor key.
func ReadListConfig(r *env.Reader) Config {
	return Config{ContactsTable: ReadTable(r), CursorSecretARN: httpapi.ReadCursorSecretARN(r)}
}

// ReadHistoryConfig reads what a contact's history needs: the contacts table, the audit
// table it reads (no retention: it writes nothing), the keys it opens the events with and
// the cursor key.
func ReadHistoryConfig(r *env.Reader) Config {
	return Config{ContactsTable: ReadTable(r), Audit: audit.ReadTable(r), Keys: pii.ReadConfig(r), CursorSecretARN: httpapi.ReadCursorSecretARN(r)}
}
