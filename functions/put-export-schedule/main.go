// Command put-export-schedule answers PUT /v1/export-schedules/{name}: it creates or replaces a tenant's export schedule (admin only).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/contrail/contrail/shared/awsclient"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/export"
	"github.com/contrail/contrail/shared/httpapi"
	_ "github.com/contrail/contrail/shared/logging" // JSON logs from the first line on
)

func main() {
	svc := export.NewService(awsclient.Load(context.Background()), env.Load(export.ReadScheduleConfig))
	lambda.Start(httpapi.Route(httpapi.AdminRoles, svc.PutSchedule))
}
