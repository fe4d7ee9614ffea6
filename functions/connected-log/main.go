// Command connected-log answers GET /v1/reports/contacts/connected (admin only), from the Parquet archive.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/contrail/contrail/shared/awsclient"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/logging"
	"github.com/contrail/contrail/shared/report"
)

func main() {
	logging.Setup()
	var r env.Reader
	c := report.Config{
		AuditTable:          r.String("AUDIT_TABLE"),
		ArchiveBucket:       r.String("ARCHIVE_BUCKET"),
		CursorSecret:        r.String("CURSOR_SECRET"),
		AuditWriteShards:    r.Int("AUDIT_WRITE_SHARDS", 1, 32),
		AccessRetentionDays: r.Int("RETENTION_ACCESS_DAYS", 1, 100000),
		S3ForcePathStyle:    r.Optional("S3_FORCE_PATH_STYLE", ""),
	}
	r.Must()
	svc := report.NewService(awsclient.Load(context.Background()), c)
	lambda.Start(httpapi.Route(httpapi.AdminRoles, svc.Log(report.Connected)))
}
