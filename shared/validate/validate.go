// Package validate checks request fields against the contract's conventions (trimmed strings,
// names of 1-200 characters, one email address without CR or LF, no control characters but
// tab and line breaks in free texts) and collects every problem, so a 400 names each field
// at fault at once.
package validate

import (
	"maps"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/contrail/contrail/shared/fault"
)

// Problems collects field -> what is wrong.
type Problems map[string]string

// Add records a problem for field, keeping the first one per field.
func (p Problems) Add(field, problem string) {
	if _, ok := p[field]; !ok {
		p[field] = problem
	}
}

// Fields returns the fields with a problem, sorted.
func (p Problems) Fields() []string { return slices.Sorted(maps.Keys(p)) }

// Err returns a 400 fault naming every field, or nil when there is none.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	return fault.InvalidFields("invalid_request", "Fix the fields listed in error.fields: "+strings.Join(p.Fields(), ", ")+".", p)
}

// Text trims *s and checks it is one line of valid UTF-8, without control characters (tab,
// CR and LF included) or Unicode line separators, of [lo, hi] characters; lo > 0 makes it
// required. For names, ids and every other single-line field.
func (p Problems) Text(field string, s *string, lo, hi int) {
	p.text(field, s, lo, hi, false)
}

// FreeText is Text for a free text (a message, a comment, a note): it may hold tabs and line
// breaks, no other control character.
func (p Problems) FreeText(field string, s *string, lo, hi int) {
	p.text(field, s, lo, hi, true)
}

func (p Problems) text(field string, s *string, lo, hi int, free bool) {
	*s = strings.TrimSpace(*s)
	n := utf8.RuneCountInString(*s)
	switch {
	case !utf8.ValidString(*s):
		p.Add(field, "must be valid UTF-8")
	case free && strings.ContainsFunc(*s, func(r rune) bool { return IsControl(r) && r != '\t' && r != '\n' && r != '\r' }):
		p.Add(field, "must not contain control characters (only tab and line breaks)")
	case !free && strings.ContainsFunc(*s, func(r rune) bool { return IsControl(r) || r == '\u2028' || r == '\u2029' }):
		p.Add(field, "must be one line, without control characters")
	case n == 0 && lo > 0:
		p.Add(field, "is required")
	case n < lo || n > hi:
		p.Add(field, "must be "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi)+" characters")
	}
}

// IsControl reports whether r is a control character: C0 (tab, CR and LF included), DEL or C1.
func IsControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r <= 0x9f) }

// OptionalText is Text for an optional field: nil or empty after trimming is fine.
func (p Problems) OptionalText(field string, s *string, hi int) {
	if s == nil {
		return
	}
	p.Text(field, s, 0, hi)
}

// OptionalFreeText is FreeText for an optional field.
func (p Problems) OptionalFreeText(field string, s *string, hi int) {
	if s == nil {
		return
	}
	p.FreeText(field, s, 0, hi)
}

// Name checks a required name of 1-200 characters.
func (p Problems) Name(field string, s *string) { p.Text(field, s, 1, 200) }

// Email trims *s and checks it is exactly one address, without a display name, CR or LF.
// Empty is reported only when required.
func (p Problems) Email(field string, s *string, required bool) {
	*s = strings.TrimSpace(*s)
	if *s == "" {
		if required {
			p.Add(field, "is required")
		}
		return
	}
	if msg := EmailProblem(*s); msg != "" {
		p.Add(field, msg)
	}
}

// EmailProblem says what is wrong with an email address, or "" when it is one plain address.
func EmailProblem(s string) string {
	if strings.ContainsAny(s, "\r\n") {
		return "must not contain line breaks"
	}
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	if strings.ContainsFunc(s, IsControl) {
		return "must be one line, without control characters"
	}
	if len(s) > 254 {
		return "must be at most 254 characters"
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "must be one email address, like name@example.com"
	}
	return ""
}

// OneOf checks *s (trimmed) is one of allowed; empty takes def when def != "".
func (p Problems) OneOf(field string, s *string, def string, allowed ...string) {
	*s = strings.TrimSpace(*s)
	if *s == "" && def != "" {
		*s = def
		return
	}
	for _, a := range allowed {
		if *s == a {
			return
		}
	}
	p.Add(field, "must be one of "+strings.Join(allowed, ", "))
}
