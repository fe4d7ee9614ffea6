package export

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/ident"
)

// Config is what the export API functions and the scheduler read from their environment,
// each with the reader of what it uses. (The worker's is worker.Config; the bucket of the
// export files, for GET /v1/exports/{id}, is files.ReadBucket's.)
type Config struct {
	JobsTable     string            // JOBS_TABLE: jobs and schedules
	ContactsTable string            // CONTACTS_TABLE: Idempotency-Key records (POST and DELETE)
	Audit         audit.StoreConfig // the routes that change or run a schedule record it here
	// The key the schedule list's cursors are signed with: the secret CursorSecretARN
	// names, which NewService reads; tests set CursorSecret itself.
	CursorSecretARN string
	CursorSecret    string
}

// ReadJobsTable reads JOBS_TABLE, for every function of the exports (the worker too).
func ReadJobsTable(r *env.Reader) string { return r.String("JOBS_TABLE") }

// ReadJobsConfig reads what reading jobs needs (GET /v1/exports/{id}, the scheduler): the
// jobs table.
func ReadJobsConfig(r *env.Reader) Config { return Config{JobsTable: ReadJobsTable(r)} }

// ReadCreateConfig reads what POST /v1/exports needs: the jobs table and the contacts
// table, where its Idempotency-Key records are.
func ReadCreateConfig(r *env.Reader) Config {
	return Config{JobsTable: ReadJobsTable(r), ContactsTable: contact.ReadTable(r)}
}

// ReadScheduleConfig reads what the routes that change or run a schedule need: the jobs
// table, the contacts table (Idempotency-Key records) and the audit table they record in.
func ReadScheduleConfig(r *env.Reader) Config {
	return Config{JobsTable: ReadJobsTable(r), ContactsTable: contact.ReadTable(r), Audit: audit.ReadStore(r)}
}

// ReadListConfig reads what the schedule list needs: the jobs table and the cursor key.
func ReadListConfig(r *env.Reader) Config {
	return Config{JobsTable: ReadJobsTable(r), CursorSecretARN: httpapi.ReadCursorSecretARN(r)}
}

// NewRunner returns the scheduler's runner over the configured jobs table, with a client of
// awsCfg and the system clock.
func NewRunner(awsCfg aws.Config, cfg Config) *Runner {
	return &Runner{Store: &Store{DB: dynamodb.NewFromConfig(awsCfg), Table: cfg.JobsTable}, Clock: ident.SystemClock}
}
