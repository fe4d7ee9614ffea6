package auditlog_test

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	mu     sync.Mutex
	now    time.Time
}

func newFixture(t *testing.T, now time.Time) *fixture {
	t.Helper()
	f := &fixture{tables: stacktest.Tables(t), now: now}
	f.svc = auditlog.New(auditlog.Config{
		Audit:         audit.StoreConfig{Table: f.tables["AuditTable"], Shards: 4, Retention: retention},
		ContactsTable: f.tables["ContactsTable"], CursorSecret: "test-cursor-secret",
	}, stacktest.DynamoDB(t), f.clock)
	return f
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) setNow(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t
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

// caller is a verified token's claims.
type caller struct{ tenant, sub, name, groups string }

var (
	svcA   = caller{"tenant-a", "svc-telephony", "Telephony", "[service]"}
	adminA = caller{"tenant-a", "admin-1", "Rina Admin", "[admin]"}
	agentA = caller{"tenant-a", "agent-1", "Ayu Agent", "[agent]"}
	svcB   = caller{"tenant-b", "svc-b", "Service B", "[service]"}
	adminB = caller{"tenant-b", "admin-b", "Admin B", "[admin]"}
)

const (
	sourceIP  = "203.0.113.7"
	userAgent = "contrail-test/1"
	requestID = "req-1"
)

func request(c caller, method, routeKey, path string, query url.Values, body any, headers map[string]string) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: routeKey, RawPath: path, RawQueryString: query.Encode(),
		Headers: map[string]string{"user-agent": userAgent},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: routeKey, RequestID: requestID,
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, SourceIP: sourceIP, UserAgent: userAgent},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
				Claims: map[string]string{"sub": c.sub, "name": c.name, "custom:tenant_id": c.tenant, "cognito:groups": c.groups},
			}},
		},
	}
	for k, v := range headers {
		ev.Headers[k] = v
	}
	if body != nil {
		switch b := body.(type) {
		case string:
			ev.Body = b
		default:
			raw, err := json.Marshal(b)
			if err != nil {
				panic(err)
			}
			ev.Body = string(raw)
		}
		ev.Headers["content-type"] = "application/json"
	}
	return ev
}

func ingestReq(c caller, evs []map[string]any, headers map[string]string) events.APIGatewayV2HTTPRequest {
	return request(c, "POST", "POST /v1/audit-events", "/v1/audit-events", nil, map[string]any{"events": evs}, headers)
}

func cobrowseReq(c caller, session string, evs []map[string]any, headers map[string]string) events.APIGatewayV2HTTPRequest {
	r := request(c, "POST", "POST /v1/cobrowse/sessions/{sessionId}/events", "/v1/cobrowse/sessions/"+session+"/events", nil, map[string]any{"events": evs}, headers)
	r.PathParameters = map[string]string{"sessionId": session}
	return r
}

func queryReq(c caller, q url.Values) events.APIGatewayV2HTTPRequest {
	return request(c, "GET", "GET /v1/audit-events", "/v1/audit-events", q, nil, nil)
}

func sessionReq(c caller, session string, q url.Values) events.APIGatewayV2HTTPRequest {
	r := request(c, "GET", "GET /v1/cobrowse/sessions/{sessionId}/events", "/v1/cobrowse/sessions/"+session+"/events", q, nil, nil)
	r.PathParameters = map[string]string{"sessionId": session}
	return r
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
