// Package fault holds the kinds of failure the domain reports to callers. Domain and store
// code return *fault.Error for anything the caller caused or can retry; the HTTP edge maps
// each Kind to one status (httpapi.Status), in one place.
package fault

import (
	"errors"
	"fmt"
)

// Kind classifies an error for the edge.
type Kind int

// The kinds of failure, each mapped to one HTTP status by httpapi.
const (
	Internal        Kind = iota // 500: a bug or an outage; details are logged, never returned
	Invalid                     // 400: the request is malformed or breaks a rule
	Unauthenticated             // 401: no token or a bad one
	Forbidden                   // 403: the role may not do this
	NotFound                    // 404
	Conflict                    // 409: the state changed meanwhile or the request clashes with it
	TooLarge                    // 413
	Unprocessable               // 422: well-formed but cannot be done for this resource
	Throttled                   // 503: try again
	Unsupported                 // 415: a body in a media type the route does not read
)

// Error is a failure with a machine-readable code and a message a person can act on.
type Error struct {
	Kind    Kind
	Code    string            // snake_case, stable
	Message string            // a sentence a person can act on
	Fields  map[string]string // field -> what is wrong (optional)
	Details map[string]any    // extra top-level members of the error body, e.g. mergedInto
	Err     error             // the cause, for logs only
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error of kind with code and message.
func New(kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// InvalidFields returns a 400-kind error naming the fields at fault.
func InvalidFields(code, message string, fields map[string]string) *Error {
	return &Error{Kind: Invalid, Code: code, Message: message, Fields: fields}
}

// With returns a copy of e carrying detail key=value in the error body.
func (e *Error) With(key string, value any) *Error {
	c := *e
	c.Details = make(map[string]any, len(e.Details)+1)
	for k, v := range e.Details {
		c.Details[k] = v
	}
	c.Details[key] = value
	return &c
}

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var fe *Error
	if errors.As(err, &fe) {
		return fe
	}
	return nil
}

// KindOf returns the kind of err, Internal when it carries none.
func KindOf(err error) Kind {
	if fe := As(err); fe != nil {
		return fe.Kind
	}
	return Internal
}
