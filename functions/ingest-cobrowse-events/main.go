// Command ingest-cobrowse-events answers POST /v1/cobrowse/sessions/{sessionId}/events: co-browsing events of one session, ingested by a service.
package main

import (
	"github.com/contrail/contrail/shared/auditlog"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/lambdafn"
)

func main() {
	lambdafn.Route(httpapi.ServiceRoles, lambdafn.New(auditlog.NewService, auditlog.ReadIngestConfig).IngestCobrowse)
}
