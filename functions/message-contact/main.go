// Command message-contact answers POST /v1/contacts/{id}/messages: it records MESSAGE_SENT; the mailer sends the message.
package main

import (
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/lambdafn"
)

func main() {
	lambdafn.Route(httpapi.ContactRoles, lambdafn.New(contact.NewService, contact.ReadConfig).Message)
}
