// Command delete-export-schedule answers DELETE /v1/export-schedules/{name}: 204, or 404 when the tenant has no such schedule (admin only).
package main

import (
	"github.com/contrail/contrail/shared/export"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/lambdafn"
)

func main() {
	lambdafn.Route(httpapi.AdminRoles, lambdafn.New(export.NewService, export.ReadScheduleConfig).DeleteSchedule)
}
