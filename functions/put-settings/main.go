// Command put-settings answers PUT /v1/settings: it changes the tenant's settings and records SETTINGS_UPDATED in the same transaction (admin only).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/contrail/contrail/shared/awsclient"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/httpapi"
	_ "github.com/contrail/contrail/shared/logging" // JSON logs from the first line on
	"github.com/contrail/contrail/shared/settings"
)

func main() {
	svc := settings.NewService(awsclient.Load(context.Background()), env.Load(settings.ReadPutConfig))
	lambda.Start(httpapi.Route(httpapi.AdminRoles, svc.Put))
}
