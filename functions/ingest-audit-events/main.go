// Command ingest-audit-events answers POST /v1/audit-events: platform events ingested by a service (or an admin).
package main

import (
	"github.com/contrail/contrail/shared/auditlog"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/lambdafn"
)

func main() {
	lambdafn.Route(httpapi.IngestRoles, lambdafn.New(auditlog.NewService, auditlog.ReadIngestConfig).Ingest)
}
