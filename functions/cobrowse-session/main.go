// Command cobrowse-session answers GET /v1/cobrowse/sessions/{sessionId}/events: one co-browsing session, oldest first (admin); each read records AUDIT_LOG_VIEWED.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/contrail/contrail/shared/auditlog"
	"github.com/contrail/contrail/shared/awsclient"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/httpapi"
	_ "github.com/contrail/contrail/shared/logging" // JSON logs from the first line on
)

func main() {
	svc := auditlog.NewService(awsclient.Load(context.Background()), env.Load(auditlog.ReadSessionConfig))
	lambda.Start(httpapi.Route(httpapi.AdminRoles, svc.Session))
}
