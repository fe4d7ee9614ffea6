package worker

import (
	"time"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/export"
	"github.com/contrail/contrail/shared/export/files"
	"github.com/contrail/contrail/shared/mail"
	"github.com/contrail/contrail/shared/pii"
	"github.com/contrail/contrail/shared/s3bucket"
)

// Config is what the worker function reads from its environment. (The archive its reports
// read is archive.ReadBucket's.)
type Config struct {
	JobsTable string            // JOBS_TABLE
	Audit     audit.StoreConfig // REPORT_EXPORTED goes here
	Exports   s3bucket.Config   // EXPORTS_BUCKET: exports/ holds the files
	Mail      mail.Identity     // the sender of the links, as the mailer's
	Timeout   time.Duration     // EXPORT_TIMEOUT_SECONDS: the function's timeout
	Keys      pii.Config        // the personal-data keys the exports open names and fields with
}

// ReadConfig reads the worker's configuration.
func ReadConfig(r *env.Reader) Config {
	return Config{
		JobsTable: export.ReadJobsTable(r),
		Audit:     audit.ReadStore(r),
		Exports:   files.ReadBucket(r),
		Mail:      mail.ReadIdentity(r),
		Timeout:   time.Duration(r.Int("EXPORT_TIMEOUT_SECONDS", 10, 900)) * time.Second,
		Keys:      pii.ReadConfig(r),
	}
}
