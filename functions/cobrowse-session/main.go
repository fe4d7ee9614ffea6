// Command cobrowse-session answers GET /v1/cobrowse/sessions/{sessionId}/events: one co-browsing session, oldest first (admin); each read records AUDIT_LOG_VIEWED.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/auditlog"
	"github.com/contrail/contrail/shared/awsclient"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/logging"
)

func main() {
	logging.Setup()
	var r env.Reader
	cfg := auditlog.Config{
		AuditTable:   r.String("AUDIT_TABLE"),
		CursorSecret: r.String("CURSOR_SECRET"),
		Shards:       r.Int("AUDIT_WRITE_SHARDS", 1, 32),
		Retention: audit.RetentionDays(r.Int("RETENTION_CONTACT_DAYS", 1, 3650), r.Int("RETENTION_PLATFORM_DAYS", 1, 3650),
			r.Int("RETENTION_ACCESS_DAYS", 1, 3650), r.Int("RETENTION_COBROWSE_DAYS", 1, 3650)),
	}
	r.Must()
	svc := auditlog.New(cfg, dynamodb.NewFromConfig(awsclient.Load(context.Background())), ident.SystemClock)
	lambda.Start(httpapi.Route(httpapi.AdminRoles, svc.Session))
}
