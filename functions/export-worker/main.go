// Command export-worker runs export jobs: the jobs table's stream hands it each new job
// (INSERT of sk JOB); it writes the report to S3, marks the job done or failed with its
// REPORT_EXPORTED event, and emails the link once when asked.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/awsclient"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/export/source"
	"github.com/contrail/contrail/shared/export/worker"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/logging"
	"github.com/contrail/contrail/shared/report"
)

func main() {
	logging.Setup()
	var r env.Reader
	cfg := worker.Config{
		JobsTable:        r.String("JOBS_TABLE"),
		AuditTable:       r.String("AUDIT_TABLE"),
		Bucket:           r.String("EXPORTS_BUCKET"), // export files, never in the write-once archive
		MailFrom:         r.String("MAIL_FROM"),
		ConfigurationSet: r.Optional("MAIL_CONFIGURATION_SET", ""),
		AuditShards:      r.Int("AUDIT_WRITE_SHARDS", 1, 32),
		Retention: audit.RetentionDays(r.Int("RETENTION_CONTACT_DAYS", 1, 36500), r.Int("RETENTION_PLATFORM_DAYS", 1, 36500),
			r.Int("RETENTION_ACCESS_DAYS", 1, 36500), r.Int("RETENTION_COBROWSE_DAYS", 1, 36500)),
		Timeout: time.Duration(r.Int("EXPORT_TIMEOUT_SECONDS", 10, 900)) * time.Second,
	}
	archiveBucket := r.String("ARCHIVE_BUCKET")
	pathStyle := r.Optional("S3_FORCE_PATH_STYLE", "false")
	r.Must()
	aws := awsclient.Load(context.Background())
	s3c := s3.NewFromConfig(aws, archive.S3Options(pathStyle))
	db := dynamodb.NewFromConfig(aws)
	store := &archive.S3Store{Client: s3c, Bucket: archiveBucket}
	engine := report.NewEngine(store, ident.SystemClock).WithAuditTable(db, cfg.AuditTable, cfg.AuditShards)
	src := &source.Reports{Engine: engine, Archive: &archive.Reader{Store: store}}
	w := worker.New(cfg, db, s3c, sesv2.NewFromConfig(aws), src)
	lambda.Start(w.Handle)
}
