// Command unarchive-contact answers POST /v1/contacts/{id}/unarchive: it makes an archived contact active and records CONTACT_UNARCHIVED.
package main

import (
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/lambdafn"
)

func main() {
	lambdafn.Route(httpapi.ContactRoles, lambdafn.New(contact.NewService, contact.ReadConfig).Unarchive)
}
