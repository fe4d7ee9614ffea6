// Command contact-history answers GET /v1/contacts/{id}/history: it reads a contact's history, merged contacts included.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/contrail/contrail/shared/awsclient"
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/httpapi"
	_ "github.com/contrail/contrail/shared/logging" // JSON logs from the first line on
)

func main() {
	svc := contact.NewService(awsclient.Load(context.Background()), env.Load(contact.ReadHistoryConfig))
	lambda.Start(httpapi.Route(httpapi.ContactRoles, svc.History))
}
