package contact_test

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/httpapi"
)

func TestMain(m *testing.M) { stacktest.Main(m) }

// t0 is the fixed time every harness starts at.
var t0 = time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)

// harness is one service over fresh tables of DynamoDB Local.
type harness struct {
	t      *testing.T
	db     *dynamodb.Client
	cfg    contact.Config
	svc    *contact.Service
	clock  *stacktest.Clock
	ids    *stacktest.ULIDs // ids of a ULID's form, or the ones a test queues in Next
	routes map[string]httpapi.LambdaHandler
	keys   string // KeysTable
}

const secret = "test-cursor-secret"

func newHarness(t *testing.T) *harness {
	return newHarnessWith(t, nil)
}

// newHarnessWith builds the harness over db (wrapping the DynamoDB Local client) when wrap is set.
func newHarnessWith(t *testing.T, wrap func(contact.Client) contact.Client) *harness {
	t.Helper()
	db := stacktest.DynamoDB(t)
	tables := stacktest.Tables(t)
	h := &harness{t: t, db: db, clock: stacktest.NewClock(t0), ids: &stacktest.ULIDs{}}
	h.cfg = contact.Config{
		ContactsTable: tables["ContactsTable"],
		Audit:         stacktest.AuditStore(tables),
		CursorSecret:  secret,
	}
	var client contact.Client = db
	if wrap != nil {
		client = wrap(db)
	}
	h.svc = contact.NewWith(h.cfg, client, h.clock.Now, h.ids)
	h.svc.Keyring = stacktest.Keyring(t, tables["KeysTable"])
	h.keys = tables["KeysTable"]
	s := h.svc
	r := func(hd httpapi.Handler) httpapi.LambdaHandler { return httpapi.Route(httpapi.ContactRoles, hd) }
	h.routes = map[string]httpapi.LambdaHandler{
		"POST /v1/contacts":                r(s.Create),
		"GET /v1/contacts/{id}":            r(s.Get),
		"GET /v1/contacts":                 r(s.List),
		"PATCH /v1/contacts/{id}":          r(s.Update),
		"POST /v1/contacts/{id}/channels":  r(s.Connect),
		"POST /v1/contacts/{id}/archive":   r(s.Archive),
		"POST /v1/contacts/{id}/unarchive": r(s.Unarchive),
		"DELETE /v1/contacts/{id}":         r(s.Delete),
		"POST /v1/contacts/merge":          r(s.Merge),
		"POST /v1/contacts/{id}/invite":    r(s.Invite),
		"POST /v1/contacts/{id}/messages":  r(s.Message),
		"POST /v1/contacts/{id}/share":     r(s.Share),
		"POST /v1/contacts/{id}/comments":  r(s.AddComment),
		"GET /v1/contacts/{id}/history":    r(s.History),
		"POST /v1/contacts/{id}/erase":     httpapi.Route(httpapi.AdminRoles, s.Erase),
	}
	return h
}

// The callers of the tests; nobody sends no token.
var (
	agent  = caller{Tenant: "acme", Sub: "u-agent", Name: "Ayu Agent", Groups: "[agent]"}
	admin  = caller{Tenant: "acme", Sub: "u-admin", Name: "Adi Admin", Groups: "[admin]"}
	other  = caller{Tenant: "globex", Sub: "u-other", Name: "Otto Other", Groups: "[agent admin]"}
	nobody = caller{}
)

type caller = stacktest.Caller

// req is one API request to a route of the harness.
type req struct {
	route   string // "POST /v1/contacts/{id}/archive"
	id      string // the {id} path parameter
	query   string // raw query string
	body    string
	headers map[string]string
	as      caller
}

// resp is a response with its body decoded.
type resp struct {
	Status  int
	Headers map[string]string
	Body    any
}

func (h *harness) do(q req) resp {
	h.t.Helper()
	handler, ok := h.routes[q.route]
	if !ok {
		h.t.Fatalf("no route %q in the harness", q.route)
	}
	_, pattern, _ := strings.Cut(q.route, " ")
	r := stacktest.Request{
		Route: q.route, Path: strings.ReplaceAll(pattern, "{id}", q.id), Query: q.query, Body: q.body, As: q.as,
		Headers:   map[string]string{"content-type": "application/json"},
		RequestID: "req-1", SourceIP: "203.0.113.7", UserAgent: "contact-test/1.0",
	}
	for k, v := range q.headers {
		r.Headers[k] = v
	}
	if q.id != "" {
		r.Params = map[string]string{"id": q.id}
	}
	out := stacktest.Call(h.t, handler, r)
	got := resp{Status: out.StatusCode, Headers: out.Headers}
	if out.Body != "" {
		got.Body = stacktest.JSON(h.t, out.Body)
	}
	return got
}

// ok sends q and fails the test unless the status is want; it returns the body.
func (h *harness) ok(q req, want int) map[string]any {
	h.t.Helper()
	r := h.do(q)
	if r.Status != want {
		h.t.Fatalf("%s %s: status %d, want %d; body %v", q.route, q.id, r.Status, want, r.Body)
	}
	m, _ := r.Body.(map[string]any)
	return m
}

// create adds a contact as agent and returns its id.
func (h *harness) create(body string) string {
	h.t.Helper()
	return h.ok(req{route: "POST /v1/contacts", body: body, as: agent}, 201)["id"].(string)
}

// items returns every item of a table as plain values, sorted by pk then sk.
func (h *harness) items(table string) []map[string]any {
	h.t.Helper()
	items := stacktest.Scan(h.t, h.db, table)
	if len(items) == 0 {
		return nil
	}
	return stacktest.SortByKey(items)
}

// item returns the contacts-table item with pk, nil when there is none.
func (h *harness) item(pk string) map[string]any {
	h.t.Helper()
	for _, it := range h.items(h.cfg.ContactsTable) {
		if it["pk"] == pk {
			return it
		}
	}
	return nil
}

// events returns the stored audit items, oldest first (by sk), with their personal fields
// opened as a reader opens them (pii.Cache.OpenValues): what was written before sealing.
func (h *harness) events() []map[string]any {
	h.t.Helper()
	items := h.rawEvents()
	stacktest.OpenItems(h.t, h.svc.Keyring, items)
	return items
}

// rawEvents returns the stored audit items as stored, oldest first (by sk).
func (h *harness) rawEvents() []map[string]any {
	h.t.Helper()
	items := h.items(h.cfg.Audit.Table)
	sort.SliceStable(items, func(i, j int) bool { return items[i]["sk"].(string) < items[j]["sk"].(string) })
	return items
}

// eventTypes lists the types of the stored events, oldest first.
func (h *harness) eventTypes() []string {
	var ts []string
	for _, e := range h.events() {
		ts = append(ts, e["type"].(string))
	}
	return ts
}
