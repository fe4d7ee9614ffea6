// Command merge-contacts answers POST /v1/contacts/merge: it merges contacts into a primary one and records CONTACT_MERGED.
package main

import (
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/lambdafn"
)

func main() {
	lambdafn.Route(httpapi.ContactRoles, lambdafn.New(contact.NewService, contact.ReadConfig).Merge)
}
