package httpapi

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/contrail/contrail/shared/validate"
)

// MaxLogFilterChars caps a value of a contact log filter.
const MaxLogFilterChars = 200

// LogFilter narrows a contact log (GET /v1/reports/contacts/<log> and its exports) to the
// events behind one number of the overview. A nil field does not filter; a set one must
// match (every set field, AND), its value compared with the overview's key exactly:
//   - Source: the bySource key, the event's source ("unknown" also takes events without one,
//     as the overview files them there).
//   - Channel: the byChannel key, the event's channel.
//   - User: the byUser userId, the actor's id; "" is the key of actors without an id (the system).
//
// Set but empty is a filter too (user="" lists the system's events); an unknown value lists
// nothing. The report package does the matching; this type is here, beside Period, so the
// export API validates and stores filters without linking the report engine.
type LogFilter struct {
	Source  *string `json:"source,omitempty" dynamodbav:"source,omitempty"`
	Channel *string `json:"channel,omitempty" dynamodbav:"channel,omitempty"`
	User    *string `json:"user,omitempty" dynamodbav:"user,omitempty"`
}

// logFilterParams are the query parameters (and JSON fields) of a LogFilter, in order.
var logFilterParams = []string{"source", "channel", "user"}

func (f *LogFilter) fields() []**string { return []**string{&f.Source, &f.Channel, &f.User} }

// IsZero reports whether f filters nothing.
func (f LogFilter) IsZero() bool { return f.Source == nil && f.Channel == nil && f.User == nil }

// ParseLogFilter reads ?source=, ?channel= and ?user=: each at most once (one value each),
// present means filter (even when empty), values are taken as they are (not trimmed). A
// repeated parameter, a value over MaxLogFilterChars characters or one with a control
// character is a 400 naming the parameter.
func ParseLogFilter(q url.Values) (LogFilter, error) {
	var f LogFilter
	p := validate.Problems{}
	for i, dst := range f.fields() {
		name := logFilterParams[i]
		vs, ok := q[name]
		switch {
		case !ok:
			continue
		case len(vs) != 1:
			p.Add(name, "must be given once")
			continue
		}
		v := vs[0]
		*dst = &v
	}
	f.Check(p)
	return f, p.Err()
}

// Check adds a problem to p for each set value that is not valid UTF-8, is over
// MaxLogFilterChars characters or holds a control character (or a line separator).
func (f LogFilter) Check(p validate.Problems) {
	for i, v := range f.fields() {
		if *v == nil {
			continue
		}
		s := **v
		switch {
		case !utf8.ValidString(s):
			p.Add(logFilterParams[i], "must be valid UTF-8")
		case utf8.RuneCountInString(s) > MaxLogFilterChars:
			p.Add(logFilterParams[i], "must be at most "+strconv.Itoa(MaxLogFilterChars)+" characters")
		case strings.ContainsFunc(s, func(r rune) bool { return validate.IsControl(r) || r == '\u2028' || r == '\u2029' }):
			p.Add(logFilterParams[i], "must be one line, without control characters")
		}
	}
}

// Names returns the parameters f sets, in order.
func (f LogFilter) Names() []string {
	var out []string
	for i, v := range f.fields() {
		if *v != nil {
			out = append(out, logFilterParams[i])
		}
	}
	return out
}

// Query returns the set filters as query parameters ("&source=import&user="), "" when
// none: the part of a log cursor's scope that binds it to its filters.
func (f LogFilter) Query() string {
	var b strings.Builder
	for i, v := range f.fields() {
		if *v != nil {
			b.WriteString("&" + logFilterParams[i] + "=" + url.QueryEscape(**v))
		}
	}
	return b.String()
}

// AddTo sets the filters f sets in m (an event's data.filters), by parameter name.
func (f LogFilter) AddTo(m map[string]any) {
	for i, v := range f.fields() {
		if *v != nil {
			m[logFilterParams[i]] = **v
		}
	}
}

// Normalized returns nil when f filters nothing, else a copy of f: what a job or schedule stores.
func (f LogFilter) Normalized() *LogFilter {
	if f.IsZero() {
		return nil
	}
	return &f
}
