// Command create-export answers POST /v1/exports: it validates the export asked for and writes a pending job, whose insert on the jobs table's stream starts the export worker; 202 {"id","status"} (admin only).
package main

import (
	"github.com/contrail/contrail/shared/export"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/lambdafn"
)

func main() {
	lambdafn.Route(httpapi.AdminRoles, lambdafn.New(export.NewService, export.ReadCreateConfig).Create)
}
