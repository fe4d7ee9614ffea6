// Command share-contact answers POST /v1/contacts/{id}/share: it records CONTACT_SHARED; the mailer sends the contact's details.
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
		AuditTable:    r.String("AUDIT_TABLE"),
		AuditShards:   r.Int("AUDIT_WRITE_SHARDS", 1, 32),
		RetentionDays: r.Int("RETENTION_CONTACT_DAYS", 1, 36500),
	}
	r.Must()
	svc := contact.New(cfg, dynamodb.NewFromConfig(awsclient.Load(context.Background())))
	lambda.Start(httpapi.Route(httpapi.ContactRoles, svc.Share))
}
