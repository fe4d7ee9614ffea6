// Command import-contacts answers POST /v1/contacts/import: CSV or JSON, up to 1000 rows;
// each valid row adds a contact and records CONTACT_ADDED (source import) in one transaction,
// invalid rows are reported by number.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/contrail/contrail/shared/awsclient"
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/contactimport"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/httpapi"
	_ "github.com/contrail/contrail/shared/logging" // JSON logs from the first line on
)

func main() {
	im := contactimport.NewService(awsclient.Load(context.Background()), env.Load(contact.ReadConfig))
	lambda.Start(httpapi.Route(httpapi.ContactRoles, im.Handle))
}
