// Command put-settings answers PUT /v1/settings: it changes the tenant's settings and records SETTINGS_UPDATED in the same transaction (admin only).
package main

import (
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/lambdafn"
	"github.com/contrail/contrail/shared/settings"
)

func main() {
	lambdafn.Route(httpapi.AdminRoles, lambdafn.New(settings.NewService, settings.ReadPutConfig).Put)
}
