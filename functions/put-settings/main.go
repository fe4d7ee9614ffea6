// Command put-settings answers PUT /v1/settings: it changes the tenant's settings and records SETTINGS_UPDATED in the same transaction (admin only).
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
	cfg := settings.Config{
		ContactsTable:       r.String("CONTACTS_TABLE"),
		AuditTable:          r.String("AUDIT_TABLE"),
		AuditShards:         r.Int("AUDIT_WRITE_SHARDS", 1, 32),
		AccessRetentionDays: r.Int("RETENTION_ACCESS_DAYS", 1, 36500),
	}
	r.Must()
	svc := settings.New(cfg, dynamodb.NewFromConfig(awsclient.Load(context.Background())))
	lambda.Start(httpapi.Route(httpapi.AdminRoles, svc.Put))
}
