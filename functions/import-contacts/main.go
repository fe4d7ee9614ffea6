// Command import-contacts answers POST /v1/contacts/import: CSV or JSON, up to 1000 rows;
// each valid row adds a contact and records CONTACT_ADDED (source import) in one transaction,
// invalid rows are reported by number.
package main

import (
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/contactimport"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/lambdafn"
)

func main() {
	lambdafn.Route(httpapi.ContactRoles, lambdafn.New(contactimport.NewService, contact.ReadConfig).Handle)
}
