package auditlog

import (
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/httpapi"
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
}

// ReadIngestConfig reads what the ingest routes need: the audit table and the contacts
// table, where their idempotency records and the tenants' settings are.
func ReadIngestConfig(r *env.Reader) Config {
	return Config{Audit: audit.ReadStore(r), ContactsTable: contact.ReadTable(r)}
}

// ReadQueryConfig reads what the read routes need: the audit table (they record
// AUDIT_LOG_VIEWED in it) and the cursor key.
func ReadQueryConfig(r *env.Reader) Config {
	return Config{Audit: audit.ReadStore(r), CursorSecretARN: httpapi.ReadCursorSecretARN(r)}
}
