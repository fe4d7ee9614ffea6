package contact

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/fault"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/validate"
)

// MaxHistoryDays caps the period of one history read (the contract's limit for logs).
const MaxHistoryDays = 366

// listCursor is the position of GET /v1/contacts: the ByStatus key of the last contact sent.
type listCursor struct {
	ID        ID     `json:"i"`
	CreatedAt string `json:"c"`
}

// List answers GET /v1/contacts?status=active|archived (default active): the tenant's
// contacts in that status, newest first, one Query on GSI ByStatus per page.
func (s *Service) List(ctx context.Context, r *httpapi.Request) (response, error) {
	q := r.Query()
	status := q.Get("status")
	p := validate.Problems{}
	p.OneOf("status", &status, StatusActive, StatusActive, StatusArchived)
	if err := p.Err(); err != nil {
		return response{}, err
	}
	l, err := r.List()
	if err != nil {
		return response{}, err
	}
	scope := "GET /v1/contacts?status=" + status
	var start map[string]types.AttributeValue
	if l.Cursor != "" {
		var c listCursor
		if err := s.Cursors.Open(r.TenantID, scope, l.Cursor, &c); err != nil {
			return response{}, err
		}
		start = map[string]types.AttributeValue{
			"pk":         str(ContactPK(r.TenantID, c.ID)),
			"statusKey":  str(StatusKey(r.TenantID, status)),
			"createdKey": str(CreatedKey(c.CreatedAt, c.ID)),
		}
	}
	// One more than the page, so a full last page does not leave a cursor to an empty one.
	cs, _, err := s.Store.ListByStatus(ctx, r.TenantID, status, l.Limit+1, start)
	if err != nil {
		return response{}, err
	}
	next := ""
	if len(cs) > l.Limit {
		cs = cs[:l.Limit]
		last := cs[len(cs)-1]
		if next, err = s.Cursors.Seal(r.TenantID, scope, listCursor{ID: last.ID, CreatedAt: last.CreatedAt}); err != nil {
			return response{}, err
		}
	}
	views := make([]View, len(cs))
	for i := range cs {
		views[i] = cs[i].View()
	}
	return httpapi.JSON(http.StatusOK, httpapi.NewPage(views, next)), nil
}

// historyCursor is the position in a history read and the period it was read over (so a
// default period, relative to now, stays the same from page to page).
type historyCursor struct {
	After string `json:"a"`
	From  string `json:"f"`
	To    string `json:"t"`
}

// History answers GET /v1/contacts/{id}/history: the contact's events and those of every
// contact merged into it (merges of merges too), newest first, filtered by ?type= (repeatable)
// and the period (default the last 30 days). A deleted contact's history is readable by
// admins only; a merged contact's answers 404 contact_merged with mergedInto.
func (s *Service) History(ctx context.Context, r *httpapi.Request) (response, error) {
	id, err := pathID(r)
	if err != nil {
		return response{}, err
	}
	c, ok, err := s.Store.Get(ctx, r.TenantID, id)
	switch {
	case err != nil:
		return response{}, err
	case !ok || ((c.Status == StatusDeleted || c.ErasedAt != "") && !r.Allowed(httpapi.Admin)):
		return response{}, notFound(id)
	case c.Status == StatusMerged && c.ErasedAt == "":
		return response{}, s.mergedError(ctx, c)
	}
	q := r.Query()
	typesQ := slices.Clone(q["type"])
	p := validate.Problems{}
	for _, t := range typesQ {
		if _, ok := audit.Lookup(t); !ok {
			p.Add("type", "must be an event type, like CONTACT_ADDED; "+t+" is not one")
		}
	}
	if err := p.Err(); err != nil {
		return response{}, err
	}
	slices.Sort(typesQ)
	typesQ = slices.Compact(typesQ)
	l, err := r.List()
	if err != nil {
		return response{}, err
	}
	period, err := r.Period(s.Clock(), MaxHistoryDays)
	if err != nil {
		return response{}, err
	}
	scope := strings.Join([]string{"GET /v1/contacts/{id}/history", string(id), strings.Join(typesQ, ","),
		q.Get("from"), q.Get("to"), q.Get("tz")}, "\x00")
	var cur historyCursor
	if l.Cursor != "" {
		if err := s.Cursors.Open(r.TenantID, scope, l.Cursor, &cur); err != nil {
			return response{}, err
		}
		from, err1 := time.Parse(time.RFC3339Nano, cur.From)
		to, err2 := time.Parse(time.RFC3339Nano, cur.To)
		if err1 != nil || err2 != nil {
			return response{}, fault.InvalidFields("invalid_cursor", "The cursor does not belong to this query; repeat the query without a cursor.", map[string]string{"cursor": "was not issued for this query"})
		}
		period.From, period.To = from, to
	}
	ids := []string{string(c.ID)}
	for _, m := range c.MergedFrom {
		ids = append(ids, string(m))
	}
	evs, after, err := s.Events.History(ctx, r.TenantID, ids, typesQ, period.From, period.To, cur.After, l.Limit)
	if err != nil {
		return response{}, err
	}
	// The one place the history opens personal fields: an erased contact's read "[erased]".
	cache, err := s.keys()
	if err != nil {
		return response{}, err
	}
	if err := cache.Open(ctx, evs); err != nil {
		return response{}, fmt.Errorf("history of contact %s: %w", id, err)
	}
	next := ""
	if after != "" {
		next, err = s.Cursors.Seal(r.TenantID, scope, historyCursor{After: after,
			From: period.From.Format(time.RFC3339Nano), To: period.To.Format(time.RFC3339Nano)})
		if err != nil {
			return response{}, err
		}
	}
	return httpapi.JSON(http.StatusOK, httpapi.NewPage(evs, next)), nil
}
