// Command get-settings answers GET /v1/settings: the tenant's settings, the defaults when it saved none (admin only).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/contrail/contrail/shared/awsclient"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/logging"
	"github.com/contrail/contrail/shared/settings"
)

func main() {
	logging.Setup()
	var r env.Reader
	cfg := settings.Config{ContactsTable: r.String("CONTACTS_TABLE")}
	r.Must()
	svc := settings.New(cfg, dynamodb.NewFromConfig(awsclient.Load(context.Background())))
	lambda.Start(httpapi.Route(httpapi.AdminRoles, svc.Get))
}
