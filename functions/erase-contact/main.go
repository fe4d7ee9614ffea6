// Command erase-contact answers POST /v1/contacts/{id}/erase (admins): it erases a contact's
// personal data, and that of the contacts merged into it, by destroying their data keys and
// scrubbing their contact items, and records CONTACT_ERASED, in one transaction.
package main

import (
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/lambdafn"
)

func main() {
	lambdafn.Route(httpapi.AdminRoles, lambdafn.New(contact.NewService, contact.ReadConfig).Erase)
}
