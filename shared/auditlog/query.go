package auditlog

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/fault"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/validate"
)

// MaxPeriodDays is the longest period one audit log query may cover.
const MaxPeriodDays = 366

// logCursor is the state a /v1/audit-events cursor carries: the position of the last event
// returned and the period the first page resolved (so a defaulted period does not move
// between pages).
type logCursor struct {
	After string `json:"a"`
	From  string `json:"f"`
	To    string `json:"t"`
}

type sessionCursor struct {
	After string `json:"a"`
}

var logParams = []string{"category", "type", "actorId", "contactId", "from", "to", "tz", "limit", "cursor"}

// Query answers GET /v1/audit-events (admin): the tenant's events newest first, filtered by
// category, type (repeatable), actorId, contactId and period, a page at a time. Each query
// is itself recorded as AUDIT_LOG_VIEWED with its filters.
func (s *Service) Query(ctx context.Context, r *httpapi.Request) (events.APIGatewayV2HTTPResponse, error) {
	none := events.APIGatewayV2HTTPResponse{}
	q := r.Query()
	p := validate.Problems{}
	unknownParams(q, logParams, p)
	f := audit.Filter{
		Category:  strings.TrimSpace(q.Get("category")),
		ActorID:   strings.TrimSpace(q.Get("actorId")),
		ContactID: strings.TrimSpace(q.Get("contactId")),
	}
	if _, ok := q["category"]; ok && !slices.Contains(audit.Categories(), f.Category) {
		p.Add("category", "must be one of "+strings.Join(audit.Categories(), ", "))
	}
	for _, v := range q["type"] {
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimSpace(t)
			if _, ok := audit.Lookup(t); !ok {
				p.Add("type", "must be event types of the event reference; "+quote(t)+" is not one")
				continue
			}
			if !slices.Contains(f.Types, t) {
				f.Types = append(f.Types, t)
			}
		}
	}
	slices.Sort(f.Types)
	for name, v := range map[string]string{"actorId": f.ActorID, "contactId": f.ContactID} {
		if _, ok := q[name]; ok {
			if msg := idProblem(v); msg != "" {
				p.Add(name, msg)
			}
		}
	}
	if err := p.Err(); err != nil {
		return none, err
	}
	period, err := r.Period(s.Clock(), MaxPeriodDays)
	if err != nil {
		return none, err
	}
	list, err := r.List()
	if err != nil {
		return none, err
	}
	f.From, f.To = period.From, period.To

	scope := "GET /v1/audit-events?" + url.Values{
		"category": {f.Category}, "type": {strings.Join(f.Types, ",")}, "actorId": {f.ActorID}, "contactId": {f.ContactID},
		"from": {q.Get("from")}, "to": {q.Get("to")}, "tz": {q.Get("tz")},
	}.Encode()
	var cur logCursor
	if list.Cursor != "" {
		if err := s.Cursors.Open(r.TenantID, scope, list.Cursor, &cur); err != nil {
			return none, err
		}
		from, err1 := audit.ParseTime(cur.From)
		to, err2 := audit.ParseTime(cur.To)
		if err1 != nil || err2 != nil {
			return none, fault.InvalidFields("invalid_cursor", "The cursor does not belong to this query; repeat the query without a cursor.", map[string]string{"cursor": "was not issued for this query"})
		}
		f.From, f.To = from, to
	}

	evs, next, err := s.Reader.Log(ctx, r.TenantID, f, cur.After, list.Limit)
	if err != nil {
		return none, err
	}
	nextCursor := func(after string) any {
		return logCursor{After: after, From: audit.FormatTime(f.From), To: audit.FormatTime(f.To)}
	}
	return s.page(ctx, r, evs, scope, next, nextCursor, filtersOf(f))
}

// page answers a read with the events it found, their personal fields opened, and the
// cursor of the next page when there is one (next, sealed for scope as cursor(next) says),
// once the read's AUDIT_LOG_VIEWED (its filters) is recorded.
func (s *Service) page(ctx context.Context, r *httpapi.Request, evs []audit.Event, scope, next string, cursor func(after string) any, filters map[string]any) (events.APIGatewayV2HTTPResponse, error) {
	none := events.APIGatewayV2HTTPResponse{}
	if err := s.open(ctx, string(r.TenantID), evs); err != nil {
		return none, err
	}
	nextCursor := ""
	if next != "" {
		var err error
		if nextCursor, err = s.Cursors.Seal(r.TenantID, scope, cursor(next)); err != nil {
			return none, err
		}
	}
	if err := s.recordView(ctx, r, filters); err != nil {
		return none, err
	}
	return pageResponse(evs, nextCursor), nil
}

// pageResponse is the 200 of a read: httpapi.NewPage(evs, next) as JSON, each event written
// by audit.AppendJSON into one buffer sized for the page (the same bytes encoding/json
// writes, without its reflection), or by encoding/json when an event holds a value
// AppendJSON leaves to it.
func pageResponse(evs []audit.Event, next string) events.APIGatewayV2HTTPResponse {
	b := make([]byte, 0, 64+len(evs)*pageBytesPerEvent)
	b = append(b, `{"items":[`...)
	for i := range evs {
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = audit.AppendJSON(b, &evs[i]); !ok {
			return httpapi.JSON(http.StatusOK, httpapi.NewPage(evs, next))
		}
	}
	b = append(b, `],"nextCursor":`...)
	if next == "" {
		b = append(b, "null"...)
	} else {
		c, _ := json.Marshal(next) // a string always encodes
		b = append(b, c...)
	}
	return httpapi.JSONBytes(http.StatusOK, append(b, '}'))
}

// pageBytesPerEvent is about what one event takes in a page (a co-browsing event 400-500
// bytes): a guess that saves the buffer's regrowth, not a limit.
const pageBytesPerEvent = 512

// filtersOf is the data.filters of the AUDIT_LOG_VIEWED a query records.
func filtersOf(f audit.Filter) map[string]any {
	m := map[string]any{"from": audit.FormatTime(f.From), "to": audit.FormatTime(f.To)}
	if f.Category != "" {
		m["category"] = f.Category
	}
	if len(f.Types) > 0 {
		types := make([]any, len(f.Types))
		for i, t := range f.Types {
			types[i] = t
		}
		m["type"] = types
	}
	if f.ActorID != "" {
		m["actorId"] = f.ActorID
	}
	if f.ContactID != "" {
		m["contactId"] = f.ContactID
	}
	return m
}

// Session answers GET /v1/cobrowse/sessions/{sessionId}/events (admin): the session's
// events oldest first, a page at a time. The read is recorded as AUDIT_LOG_VIEWED.
func (s *Service) Session(ctx context.Context, r *httpapi.Request) (events.APIGatewayV2HTTPResponse, error) {
	none := events.APIGatewayV2HTTPResponse{}
	session, err := audit.ParseSessionID(r.PathParam("sessionId"))
	p := validate.Problems{}
	if err != nil { // an unknown session is an empty list, so a malformed one is a 400
		p.Add("sessionId", err.Error())
	}
	unknownParams(r.Query(), []string{"limit", "cursor"}, p)
	if err := p.Err(); err != nil {
		return none, err
	}
	list, err := r.List()
	if err != nil {
		return none, err
	}
	scope := "GET /v1/cobrowse/sessions/{sessionId}/events?" + url.Values{"sessionId": {string(session)}}.Encode()
	var cur sessionCursor
	if list.Cursor != "" {
		if err := s.Cursors.Open(r.TenantID, scope, list.Cursor, &cur); err != nil {
			return none, err
		}
	}
	evs, next, err := s.Reader.Session(ctx, r.TenantID, session, cur.After, list.Limit)
	if err != nil {
		return none, err
	}
	nextCursor := func(after string) any { return sessionCursor{After: after} }
	return s.page(ctx, r, evs, scope, next, nextCursor, map[string]any{"sessionId": string(session)})
}

func unknownParams(q url.Values, known []string, p validate.Problems) {
	for k := range q {
		if !slices.Contains(known, k) {
			p.Add(k, "is not a parameter of this route")
		}
	}
}

func quote(s string) string { return `"` + s + `"` }
