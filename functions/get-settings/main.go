// Command get-settings answers GET /v1/settings: the tenant's settings, the defaults when it saved none (admin only).
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
	svc := settings.NewService(awsclient.Load(context.Background()), env.Load(settings.ReadGetConfig))
	lambda.Start(httpapi.Route(httpapi.AdminRoles, svc.Get))
}
