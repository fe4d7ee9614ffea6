// Command archive-contact answers POST /v1/contacts/{id}/archive: it archives a contact and records CONTACT_ARCHIVED.
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
	svc := contact.NewService(awsclient.Load(context.Background()), env.Load(contact.ReadConfig))
	lambda.Start(httpapi.Route(httpapi.ContactRoles, svc.Archive))
}
