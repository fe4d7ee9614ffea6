// Command archive-contact answers POST /v1/contacts/{id}/archive: it archives a contact and records CONTACT_ARCHIVED.
package main

import (
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/lambdafn"
)

func main() {
	lambdafn.Route(httpapi.ContactRoles, lambdafn.New(contact.NewService, contact.ReadConfig).Archive)
}
