// Command contact-history answers GET /v1/contacts/{id}/history: it reads a contact's history, merged contacts included.
package main

import (
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/lambdafn"
)

func main() {
	lambdafn.Route(httpapi.ContactRoles, lambdafn.New(contact.NewService, contact.ReadHistoryConfig).History)
}
