// Command query-audit-events answers GET /v1/audit-events: the tenant audit log, newest first (admin); each read records AUDIT_LOG_VIEWED.
package main

import (
	"github.com/contrail/contrail/shared/auditlog"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/lambdafn"
)

func main() {
	lambdafn.Route(httpapi.AdminRoles, lambdafn.New(auditlog.NewService, auditlog.ReadQueryConfig).Query)
}
