// Command create-export answers POST /v1/exports: it validates the export asked for and writes a pending job, whose insert on the jobs table's stream starts the export worker; 202 {"id","status"} (admin only).
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
	svc := export.NewService(awsclient.Load(context.Background()), env.Load(export.ReadCreateConfig))
	lambda.Start(httpapi.Route(httpapi.AdminRoles, svc.Create))
}
