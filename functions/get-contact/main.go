// Command get-contact answers GET /v1/contacts/{id}.
package main

import (
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/lambdafn"
)

func main() {
	lambdafn.Route(httpapi.ContactRoles, lambdafn.New(contact.NewService, contact.ReadGetConfig).Get)
}
