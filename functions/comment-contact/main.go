// Command comment-contact answers POST /v1/contacts/{id}/comments: it adds a comment to a contact's activity (COMMENT_ADDED).
package main

import (
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/lambdafn"
)

func main() {
	lambdafn.Route(httpapi.ContactRoles, lambdafn.New(contact.NewService, contact.ReadConfig).AddComment)
}
