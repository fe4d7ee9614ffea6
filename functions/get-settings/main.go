// Command get-settings answers GET /v1/settings: the tenant's settings, the defaults when it saved none (admin only).
package main

import (
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/lambdafn"
	"github.com/contrail/contrail/shared/settings"
)

func main() {
	lambdafn.Route(httpapi.AdminRoles, lambdafn.New(settings.NewService, settings.ReadGetConfig).Get)
}
