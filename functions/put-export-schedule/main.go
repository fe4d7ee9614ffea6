// Command put-export-schedule answers PUT /v1/export-schedules/{name}: it creates or replaces a tenant's export schedule (admin only).
package main

import (
	"github.com/contrail/contrail/shared/export"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/lambdafn"
)

func main() {
	lambdafn.Route(httpapi.AdminRoles, lambdafn.New(export.NewService, export.ReadScheduleConfig).PutSchedule)
}
