// Command list-export-schedules answers GET /v1/export-schedules: the tenant's export schedules by name (admin only).
package main

import (
	"github.com/contrail/contrail/shared/export"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/lambdafn"
)

func main() {
	lambdafn.Route(httpapi.AdminRoles, lambdafn.New(export.NewService, export.ReadListConfig).ListSchedules)
}
