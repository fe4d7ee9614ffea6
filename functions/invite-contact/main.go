// Command invite-contact answers POST /v1/contacts/{id}/invite: it records CONTACT_INVITED; the mailer sends the invitation.
package main

import (
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/lambdafn"
)

func main() {
	lambdafn.Route(httpapi.ContactRoles, lambdafn.New(contact.NewService, contact.ReadConfig).Invite)
}
