// Command contact-overview answers GET /v1/reports/contacts/overview (admin only), from the Parquet archive.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/contrail/contrail/shared/awsclient"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/httpapi"
	_ "github.com/contrail/contrail/shared/logging" // JSON logs from the first line on
	"github.com/contrail/contrail/shared/report"
)

func main() {
	svc := report.NewService(awsclient.Load(context.Background()), env.Load(report.ReadOverviewConfig))
	lambda.Start(httpapi.Route(httpapi.AdminRoles, svc.Overview))
}
