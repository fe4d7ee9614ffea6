package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/contrail/contrail/shared/fault"
	"github.com/contrail/contrail/shared/tenant"
)

// List holds the contract's list parameters.
type List struct {
	Limit  int
	Cursor string
}

// Page is the contract's list response.
type Page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"nextCursor"`
}

// NewPage returns a page whose items encode as [] rather than null.
func NewPage[T any](items []T, next string) Page[T] {
	if items == nil {
		items = []T{}
	}
	p := Page[T]{Items: items}
	if next != "" {
		p.NextCursor = &next
	}
	return p
}

// List reads ?limit= (1-500, default 50) and ?cursor=.
func (r *Request) List() (List, error) {
	q := r.Query()
	l := List{Limit: 50, Cursor: q.Get("cursor")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			return l, fault.InvalidFields("invalid_request", "Use a limit from 1 to 500.", map[string]string{"limit": "must be an integer from 1 to 500"})
		}
		l.Limit = n
	}
	return l, nil
}

// Period is a half-open time range [From, To) with the time zone of its day boundaries.
type Period struct {
	From, To time.Time
	TZ       *time.Location
}

// Period reads from, to (RFC 3339 or YYYY-MM-DD, a date being midnight in tz) and tz
// (IANA name, default UTC). Without from and to it is the last 30 whole days in tz up to
// the end of today; with only one, the other is 30 days away. maxDays > 0 caps the length.
func (r *Request) Period(now time.Time, maxDays int) (Period, error) {
	q := r.Query()
	return ParsePeriod(q.Get("from"), q.Get("to"), q.Get("tz"), now, maxDays)
}

// ParsePeriod is Period for values already read.
func ParsePeriod(fromS, toS, tzS string, now time.Time, maxDays int) (Period, error) {
	p := Period{TZ: time.UTC}
	bad := map[string]string{}
	if tzS != "" {
		loc, err := time.LoadLocation(tzS)
		if err != nil || tzS == "Local" {
			bad["tz"] = "must be an IANA time zone name, like Asia/Jakarta"
		} else {
			p.TZ = loc
		}
	}
	var err error
	if fromS != "" {
		if p.From, err = parseTime(fromS, p.TZ); err != nil {
			bad["from"] = "must be RFC 3339 (2026-01-31T10:00:00Z) or a date (2026-01-31)"
		}
	}
	if toS != "" {
		if p.To, err = parseTime(toS, p.TZ); err != nil {
			bad["to"] = "must be RFC 3339 (2026-01-31T10:00:00Z) or a date (2026-01-31)"
		}
	}
	if len(bad) > 0 {
		return p, fault.InvalidFields("invalid_period", "Fix the period parameters listed in error.fields.", bad)
	}
	switch {
	case fromS == "" && toS == "":
		y, m, d := now.In(p.TZ).Date()
		p.To = time.Date(y, m, d+1, 0, 0, 0, 0, p.TZ)
		p.From = time.Date(y, m, d-29, 0, 0, 0, 0, p.TZ)
	case fromS == "":
		p.From = p.To.AddDate(0, 0, -30)
	case toS == "":
		p.To = p.From.AddDate(0, 0, 30)
	}
	p.From, p.To = p.From.UTC(), p.To.UTC()
	// Partitions, keys and file names write a date with a four-digit year and read it back,
	// and readers take a zero time (0001-01-01T00:00Z) for a bound not given: a period past
	// 9999 (from=9999-12-31, to the default 30 days later) or reaching back to year 1 cannot be
	// read. Event times are Unix milliseconds and none precedes 1970, so that is the floor.
	for name, t := range map[string]time.Time{"from": p.From, "to": p.To} {
		if y := t.Year(); y < 1970 || y > 9999 {
			bad[name] = "must lie in the years 1970 to 9999 (UTC); without to, the period ends 30 days after from, and without from it starts 30 days before to"
		}
	}
	if len(bad) > 0 {
		return p, fault.InvalidFields("invalid_period", "Ask for a period within the years 1970 to 9999.", bad)
	}
	if !p.From.Before(p.To) {
		return p, fault.InvalidFields("invalid_period", "Make from earlier than to.", map[string]string{"from": "must be before to"})
	}
	if maxDays > 0 && p.To.Sub(p.From) > time.Duration(maxDays)*24*time.Hour+time.Hour { // an hour of slack for a DST change
		return p, fault.InvalidFields("period_too_long", fmt.Sprintf("Ask for at most %d days at a time.", maxDays), map[string]string{"to": fmt.Sprintf("must be at most %d days after from", maxDays)})
	}
	return p, nil
}

func parseTime(s string, tz *time.Location) (time.Time, error) {
	if len(s) == len("2006-01-02") {
		return time.ParseInLocation("2006-01-02", s, tz)
	}
	return time.Parse(time.RFC3339Nano, s)
}

// Cursors seals list positions into opaque tokens bound to a tenant and a query, so a cursor
// from another tenant or another query is rejected (400) instead of being followed.
type Cursors struct{ key []byte }

// NewCursors returns cursors signed with secret.
func NewCursors(secret string) *Cursors { return &Cursors{key: []byte(secret)} }

// Seal encodes state as a cursor for tenant and scope (the route and its filters).
func (c *Cursors) Seal(tenant tenant.ID, scope string, state any) (string, error) {
	b, err := json.Marshal(state)
	if err != nil {
		return "", fmt.Errorf("seal cursor: %w", err)
	}
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + c.mac(tenant, scope, payload), nil
}

// Open decodes a cursor made by Seal for the same tenant and scope into state.
func (c *Cursors) Open(tenant tenant.ID, scope, cursor string, state any) error {
	bad := fault.InvalidFields("invalid_cursor", "The cursor does not belong to this query; repeat the query without a cursor.", map[string]string{"cursor": "was not issued for this query"})
	payload, sig, ok := strings.Cut(cursor, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(c.mac(tenant, scope, payload))) {
		return bad
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || json.Unmarshal(b, state) != nil {
		return bad
	}
	return nil
}

func (c *Cursors) mac(tenant tenant.ID, scope, payload string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(tenant))
	m.Write([]byte{0})
	m.Write([]byte(scope))
	m.Write([]byte{0})
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}
