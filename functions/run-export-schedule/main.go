// Command run-export-schedule answers POST /v1/export-schedules/{name}/run: it creates the export job of the schedule's last full period, which the export worker runs and mails like a scheduled one; 202 with the job (admin only).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/contrail/contrail/shared/awsclient"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/export"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/logging"
)

func main() {
	logging.Setup()
	var r env.Reader
	cfg := export.Config{
		JobsTable:           r.String("JOBS_TABLE"),
		ContactsTable:       r.String("CONTACTS_TABLE"),
		AuditTable:          r.String("AUDIT_TABLE"),
		AuditShards:         r.Int("AUDIT_WRITE_SHARDS", 1, 32),
		AccessRetentionDays: r.Int("RETENTION_ACCESS_DAYS", 1, 36500),
	}
	r.Must()
	svc := export.New(cfg, dynamodb.NewFromConfig(awsclient.Load(context.Background())), nil)
	lambda.Start(httpapi.Route(httpapi.AdminRoles, svc.RunSchedule))
}
