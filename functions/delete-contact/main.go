// Command delete-contact answers DELETE /v1/contacts/{id}: it deletes a contact and records CONTACT_DELETED.
package main

import (
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/lambdafn"
)

func main() {
	lambdafn.Route(httpapi.ContactRoles, lambdafn.New(contact.NewService, contact.ReadConfig).Delete)
}
