package contact

import (
	"errors"

	"github.com/contrail/contrail/shared/fault"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/ident"
)

// ID is a contact id: a ULID as shared/ident makes it, 26 characters of Crockford's base 32
// in upper case. An id from a request becomes one only through ParseID, so no raw string
// reaches a key (DynamoDB refuses a key over 2,048 bytes with a 500-making error).
type ID string

// errMalformedID says an id is not of the contact id's form (its text is not repeated: it
// may be anything a caller sent).
var errMalformedID = errors.New("not a contact id: a contact id is 26 characters of Crockford's base 32")

// ParseID returns s as a contact ID, or an error when s is not one.
func ParseID(s string) (ID, error) {
	if !ident.IsULID(s) {
		return "", errMalformedID
	}
	return ID(s), nil
}

// noSuchContact is the answer to a malformed contact id: a contact that cannot exist is not
// found, like an unknown one, without echoing what was sent.
var noSuchContact = fault.New(fault.NotFound, "contact_not_found",
	"There is no contact with this id; a contact id is the 26-character id returned when the contact was created.")

// pathID parses the {id} path parameter of a contact route before anything is read.
func pathID(r *httpapi.Request) (ID, error) {
	id, err := ParseID(r.PathParam("id"))
	if err != nil {
		return "", noSuchContact
	}
	return id, nil
}
