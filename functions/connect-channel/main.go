// Command connect-channel answers POST /v1/contacts/{id}/channels: it connects a channel identity to a contact and records CONTACT_CONNECTED.
package main

import (
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/lambdafn"
)

func main() {
	lambdafn.Route(httpapi.ContactRoles, lambdafn.New(contact.NewService, contact.ReadConfig).Connect)
}
