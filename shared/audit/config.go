package audit

import "github.com/contrail/contrail/shared/env"

// StoreConfig is the audit table as a function's environment describes it: every function
// that writes or reads events takes it from ReadStore or ReadTable, so they all agree on
// its variables and bounds.
type StoreConfig struct {
	Table     string    // AUDIT_TABLE
	Shards    int       // AUDIT_WRITE_SHARDS: write shards per tenant-day partition
	Retention Retention // RETENTION_{CONTACT,PLATFORM,ACCESS,COBROWSE}_DAYS: hot retention per category
}

// The bounds of the variables: template.yaml's MinValue and MaxValue of the parameters that
// set them (AuditWriteShards, Retention*Days); the template contract test keeps them equal.
const (
	MinShards, MaxShards               = 1, 32
	MinRetentionDays, MaxRetentionDays = 1, 36500
)

// ReadTable reads what reading events needs: AUDIT_TABLE and AUDIT_WRITE_SHARDS (no
// retention).
func ReadTable(r *env.Reader) StoreConfig {
	return StoreConfig{Table: r.String("AUDIT_TABLE"), Shards: r.Int("AUDIT_WRITE_SHARDS", MinShards, MaxShards)}
}

// ReadStore reads what writing events needs: the table, its shards and the hot retention of
// each category (contact's also covers email).
func ReadStore(r *env.Reader) StoreConfig {
	c := ReadTable(r)
	days := func(name string) int { return r.Int(name, MinRetentionDays, MaxRetentionDays) }
	c.Retention = RetentionDays(days("RETENTION_CONTACT_DAYS"), days("RETENTION_PLATFORM_DAYS"),
		days("RETENTION_ACCESS_DAYS"), days("RETENTION_COBROWSE_DAYS"))
	return c
}

// Keys returns the table's key builder.
func (c StoreConfig) Keys() Keys { return Keys{Shards: c.Shards} }

// Writer returns the writer of ingested events into the table, through db.
func (c StoreConfig) Writer(db TransactWriteAPI) *Writer {
	return &Writer{DB: db, Table: c.Table, Keys: c.Keys(), Retention: c.Retention}
}
