// Command connected-log answers GET /v1/reports/contacts/connected (admin only), from the Parquet archive.
package main

import (
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/lambdafn"
	"github.com/contrail/contrail/shared/report"
)

func main() {
	lambdafn.Route(httpapi.AdminRoles, lambdafn.New(report.NewService, report.ReadConfig).Log(report.Connected))
}
