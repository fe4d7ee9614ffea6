// Command list-contacts answers GET /v1/contacts: it lists the tenant's contacts by status, newest first.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/contrail/contrail/shared/awsclient"
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/logging"
)

func main() {
	logging.Setup()
	var r env.Reader
	cfg := contact.Config{
		ContactsTable: r.String("CONTACTS_TABLE"),
		CursorSecret:  r.String("CURSOR_SECRET"),
	}
	r.Must()
	svc := contact.New(cfg, dynamodb.NewFromConfig(awsclient.Load(context.Background())))
	lambda.Start(httpapi.Route(httpapi.ContactRoles, svc.List))
}
