// Command run-export-schedule answers POST /v1/export-schedules/{name}/run: it creates the export job of the schedule's last full period, which the export worker runs and mails like a scheduled one; 202 with the job (admin only).
package main

import (
	"github.com/contrail/contrail/shared/export"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/lambdafn"
)

func main() {
	lambdafn.Route(httpapi.AdminRoles, lambdafn.New(export.NewService, export.ReadScheduleConfig).RunSchedule)
}
