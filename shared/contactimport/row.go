package contactimport

import (
	"strings"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/validate"
)

// Input checks a row by the rules of POST /v1/contacts (contact.CreateInput.Check: trimmed,
// name 1-200 characters, one email address, a phone number) and returns it as the input of
// a new contact with source import. message is "" for a valid row, otherwise a sentence
// naming each field at fault, e.g. "email: must be one email address, like name@example.com".
func (r *Row) Input() (in contact.CreateInput, message string) {
	if r.Problem != "" {
		return in, r.Problem
	}
	in = contact.CreateInput{Name: r.Name, Source: audit.SourceImport}
	email, phone := r.Email, r.Phone
	in.Email, in.Phone = &email, &phone
	p := validate.Problems{}
	in.Check(p)
	if len(p) > 0 {
		fields := p.Fields()
		msgs := make([]string, len(fields))
		for i, f := range fields {
			msgs[i] = f + ": " + p[f]
		}
		return in, strings.Join(msgs, "; ")
	}
	// Empty optional fields are absent, as in POST /v1/contacts.
	if *in.Email == "" {
		in.Email = nil
	}
	if *in.Phone == "" {
		in.Phone = nil
	}
	return in, ""
}
