// Command ingest-audit-events answers POST /v1/audit-events: platform events ingested by a service (or an admin).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/contrail/contrail/shared/auditlog"
	"github.com/contrail/contrail/shared/awsclient"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/httpapi"
	_ "github.com/contrail/contrail/shared/logging" // JSON logs from the first line on
)

func main() {
	svc := auditlog.NewService(awsclient.Load(context.Background()), env.Load(auditlog.ReadIngestConfig))
	lambda.Start(httpapi.Route(httpapi.IngestRoles, svc.Ingest))
}
