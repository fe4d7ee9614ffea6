// Command erase-contact answers POST /v1/contacts/{id}/erase (admins): it erases a contact's
// personal data, and that of the contacts merged into it, by destroying their data keys and
// scrubbing their contact items, and records CONTACT_ERASED, in one transaction.
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
	lambda.Start(httpapi.Route(httpapi.AdminRoles, svc.Erase))
}
