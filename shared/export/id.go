package export

import (
	"errors"
	"regexp"

	"github.com/contrail/contrail/shared/ident"
)

// ID is an export job's id: a ULID (ident makes those of POST /v1/exports; a schedule's job
// gets a ULID-shaped hash, ScheduledJobID). An id from a request or a stream record becomes
// one only through ParseID, so no raw string reaches a key or an object path.
type ID string

// ScheduleName is an export schedule's name, chosen by the caller of
// PUT /v1/export-schedules/{name}: 1-64 of A-Z, a-z, 0-9, _ and -. It becomes one only
// through ParseScheduleName.
type ScheduleName string

var (
	namePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// ParseID returns s as an export ID, or an error when s is not of the form.
func ParseID(s string) (ID, error) {
	if !ident.IsULID(s) {
		return "", errors.New("not an export id: an export id is 26 characters of Crockford's base 32")
	}
	return ID(s), nil
}

// ParseScheduleName returns s as a ScheduleName, or an error when s is not of the form.
func ParseScheduleName(s string) (ScheduleName, error) {
	if !namePattern.MatchString(s) {
		return "", errors.New("not a schedule name: 1 to 64 characters of A-Z, a-z, 0-9, _ and -")
	}
	return ScheduleName(s), nil
}
