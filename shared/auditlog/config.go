package auditlog

import (
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/pii"
)

// Config is what the audit log functions read from their environment: ReadIngestConfig or
// ReadQueryConfig.
type Config struct {
	Audit         audit.StoreConfig // the audit table; every route writes to it
	ContactsTable string            // idempotency records and the tenants' settings (ingest routes only)
	// The key list cursors are signed with (read routes only): the secret CursorSecretARN
	// names, which NewService reads; tests set CursorSecret itself.
	CursorSecretARN string
	CursorSecret    string
	// Where the personal-data keys are (read routes only): the events a read returns are
	// opened with them (shared/pii), so an erased contact's fields read "[erased]".
	Keys pii.Config
}

// ReadIngestConfig reads what the ingest routes need: the audit table and the contacts
// table, where their idempotency records and the tenants' settings are.
func ReadIngestConfig(r *env.Reader) Config {
	return Config{Audit: audit.ReadStore(r), ContactsTable: contact.ReadTable(r)}
}

// ReadQueryConfig reads what the audit log query needs: the audit table (it records
// AUDIT_LOG_VIEWED in it), the cursor key and the personal-data keys.
func ReadQueryConfig(r *env.Reader) Config {
	return Config{Audit: audit.ReadStore(r), CursorSecretARN: httpapi.ReadCursorSecretARN(r), Keys: pii.ReadConfig(r)}
}

// ReadSessionConfig reads what the co-browsing session read needs: the audit table and the
// cursor key. A session holds co-browsing and platform events only, which carry no contact
// and no personal field, so it gets no personal-data keys (least privilege); a sealed value
// reaching it anyway fails the read (see Service.open) rather than showing ciphertext.
func ReadSessionConfig(r *env.Reader) Config {
	return Config{Audit: audit.ReadStore(r), CursorSecretARN: httpapi.ReadCursorSecretARN(r)}
}
