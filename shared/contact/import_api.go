package contact

import (
	"context"
	"time"

	"github.com/contrail/contrail/shared/fault"
)

// This file is the contact import's entry into the service (owned by the import; the rest
// of the package by the contact routes).

// AddAt is Add with the time and the id generator chosen by the caller. The import uses it
// with ids derived from its Idempotency-Key and the row number, so a retried import writes
// the same keys: the contact's conditional put then fails with IsExists instead of adding
// the contact a second time. The items written are those of Add (and POST /v1/contacts).
func (s *Service) AddAt(ctx context.Context, by Caller, in CreateInput, at time.Time, ids IDs) (*Contact, error) {
	fixed := *s
	fixed.Clock = func() time.Time { return at }
	fixed.IDs = ids
	return fixed.Add(ctx, by, in)
}

// IsExists reports whether err says the contact's id exists already (putNew's condition).
func IsExists(err error) bool {
	fe := fault.As(err)
	return fe != nil && fe.Code == "contact_exists"
}
