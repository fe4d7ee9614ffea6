// Command import-contacts answers POST /v1/contacts/import: CSV or JSON, up to 1000 rows;
// each valid row adds a contact and records CONTACT_ADDED (source import) in one transaction,
// invalid rows are reported by number.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/contrail/contrail/shared/awsclient"
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/contactimport"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/httpapi"
	_ "github.com/contrail/contrail/shared/logging" // JSON logs from the first line on
)

func main() {
	im := contactimport.New(env.Load(contact.ReadConfig), dynamodb.NewFromConfig(awsclient.Load(context.Background())))
	lambda.Start(httpapi.Route(httpapi.ContactRoles, im.Handle))
}
