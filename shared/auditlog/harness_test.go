package auditlog_test

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/auditlog"
	"github.com/contrail/contrail/shared/httpapi"
)

func TestMain(m *testing.M) { stacktest.Main(m) }

var retention = audit.RetentionDays(400, 400, 400, 30)

// fixture is the service over fresh tables with a clock the test sets.
type fixture struct {
	svc    *auditlog.Service
	tables map[string]string
	*stacktest.Clock
}

func newFixture(t *testing.T, now time.Time) *fixture {
	t.Helper()
	f := &fixture{tables: stacktest.Tables(t), Clock: stacktest.NewClock(now)}
	f.svc = auditlog.New(auditlog.Config{
		Audit:         audit.StoreConfig{Table: f.tables["AuditTable"], Shards: 4, Retention: retention},
		ContactsTable: f.tables["ContactsTable"], CursorSecret: "test-cursor-secret",
	}, stacktest.DynamoDB(t), f.Now)
	return f
}

// The routes as the functions wire them.
func (f *fixture) ingest() httpapi.LambdaHandler {
	return httpapi.Route(httpapi.IngestRoles, f.svc.Ingest)
}
func (f *fixture) ingestCobrowse() httpapi.LambdaHandler {
	return httpapi.Route(httpapi.ServiceRoles, f.svc.IngestCobrowse)
}
func (f *fixture) query() httpapi.LambdaHandler {
	return httpapi.Route(httpapi.AdminRoles, f.svc.Query)
}
func (f *fixture) session() httpapi.LambdaHandler {
	return httpapi.Route(httpapi.AdminRoles, f.svc.Session)
}

type caller = stacktest.Caller

var (
	svcA   = caller{Tenant: "tenant-a", Sub: "svc-telephony", Name: "Telephony", Groups: "[service]"}
	adminA = caller{Tenant: "tenant-a", Sub: "admin-1", Name: "Rina Admin", Groups: "[admin]"}
	agentA = caller{Tenant: "tenant-a", Sub: "agent-1", Name: "Ayu Agent", Groups: "[agent]"}
	svcB   = caller{Tenant: "tenant-b", Sub: "svc-b", Name: "Service B", Groups: "[service]"}
	adminB = caller{Tenant: "tenant-b", Sub: "admin-b", Name: "Admin B", Groups: "[admin]"}
)

const (
	sourceIP  = "203.0.113.7"
	userAgent = "contrail-test/1"
	requestID = "req-1"
)

// request is an API Gateway event of route by c; a body that is not a string is sent as JSON.
func request(c caller, route string, params map[string]string, query url.Values, body any, headers map[string]string) events.APIGatewayV2HTTPRequest {
	r := stacktest.Request{
		Route: route, Params: params, Query: query.Encode(), As: c,
		Headers:   map[string]string{"user-agent": userAgent},
		RequestID: requestID, SourceIP: sourceIP, UserAgent: userAgent,
	}
	for k, v := range headers {
		r.Headers[k] = v
	}
	if body != nil {
		switch b := body.(type) {
		case string:
			r.Body = b
		default:
			raw, err := json.Marshal(b)
			if err != nil {
				panic(err)
			}
			r.Body = string(raw)
		}
		r.Headers["content-type"] = "application/json"
	}
	return r.Event()
}

func ingestReq(c caller, evs []map[string]any, headers map[string]string) events.APIGatewayV2HTTPRequest {
	return request(c, "POST /v1/audit-events", nil, nil, map[string]any{"events": evs}, headers)
}

func cobrowseReq(c caller, session string, evs []map[string]any, headers map[string]string) events.APIGatewayV2HTTPRequest {
	return request(c, "POST /v1/cobrowse/sessions/{sessionId}/events", map[string]string{"sessionId": session}, nil, map[string]any{"events": evs}, headers)
}

func queryReq(c caller, q url.Values) events.APIGatewayV2HTTPRequest {
	return request(c, "GET /v1/audit-events", nil, q, nil, nil)
}

func sessionReq(c caller, session string, q url.Values) events.APIGatewayV2HTTPRequest {
	return request(c, "GET /v1/cobrowse/sessions/{sessionId}/events", map[string]string{"sessionId": session}, q, nil, nil)
}

func call(t *testing.T, h httpapi.LambdaHandler, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := h(context.Background(), req)
	if err != nil {
		t.Fatalf("handler error: %v", err)
	}
	return resp
}

// decode reads a response body, failing on an unexpected status.
func decode[T any](t *testing.T, resp events.APIGatewayV2HTTPResponse, status int) T {
	t.Helper()
	var v T
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, resp.Body)
	}
	if err := json.Unmarshal([]byte(resp.Body), &v); err != nil {
		t.Fatalf("decode %s: %v", resp.Body, err)
	}
	return v
}

type page struct {
	Items      []audit.Event `json:"items"`
	NextCursor *string       `json:"nextCursor"`
}

type errorBody struct {
	Error struct {
		Code      string            `json:"code"`
		Message   string            `json:"message"`
		Fields    map[string]string `json:"fields"`
		Stored    []string          `json:"stored"`
		NotStored []string          `json:"notStored"`
	} `json:"error"`
}

// readAll follows nextCursor to the end, failing on a repeated event.
func readAll(t *testing.T, h httpapi.LambdaHandler, mk func(q url.Values) events.APIGatewayV2HTTPRequest, q url.Values, limit int) ([]audit.Event, int) {
	t.Helper()
	var all []audit.Event
	seen := map[string]bool{}
	pages := 0
	q = cloneValues(q)
	q.Set("limit", itoa(limit))
	for {
		pages++
		if pages > 1000 {
			t.Fatal("no end of pages")
		}
		p := decode[page](t, call(t, h, mk(q)), 200)
		if len(p.Items) > limit {
			t.Fatalf("page of %d items, limit %d", len(p.Items), limit)
		}
		for _, e := range p.Items {
			if seen[e.ID] {
				t.Fatalf("event %s repeated on page %d", e.ID, pages)
			}
			seen[e.ID] = true
		}
		all = append(all, p.Items...)
		if p.NextCursor == nil {
			break
		}
		if len(p.Items) != limit {
			t.Fatalf("short page %d of %d items with a next cursor", pages, len(p.Items))
		}
		q.Set("cursor", *p.NextCursor)
	}
	if all == nil {
		all = []audit.Event{}
	}
	return all, pages
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = slices.Clone(v)
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

func newestFirst(evs []audit.Event) []audit.Event {
	out := slices.Clone(evs)
	slices.SortFunc(out, func(a, b audit.Event) int {
		return -strings.Compare(audit.SK(a.OccurredAt, a.ID), audit.SK(b.OccurredAt, b.ID))
	})
	if out == nil {
		out = []audit.Event{}
	}
	return out
}

func diffEvents(t *testing.T, what string, want, got []audit.Event) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

func ptr[T any](v T) *T { return &v }

type eventsReq = events.APIGatewayV2HTTPRequest
type eventsHandler = httpapi.LambdaHandler
