package settings_test

import (
	"context"
	"encoding/json"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/settings"
)

func TestMain(m *testing.M) { stacktest.Main(m) }

// now is the fixed clock of these tests: Monday 30 November 2026, 01:20 UTC.
var now = time.Date(2026, 11, 30, 1, 20, 0, 0, time.UTC)

type fixture struct {
	*stacktest.Stack
	svc *settings.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{Stack: stacktest.NewStack(t, now)}
	f.svc = f.service(f.DB)
	return f
}

// service is the service as the functions build it (4 write shards, access events kept 400
// days), over db, with the fixture's clock.
func (f *fixture) service(db settings.Client) *settings.Service {
	return settings.NewWith(settings.Config{
		ContactsTable: f.Tables["ContactsTable"],
		Audit:         stacktest.AuditStore(f.Tables),
	}, db, f.Clock)
}

type caller = stacktest.Caller

var (
	adminA  = caller{Tenant: "acme", Sub: "u-1", Name: "Rina Admin", Groups: "[admin]"}
	admin2A = caller{Tenant: "acme", Sub: "u-2", Name: "Budi Admin", Groups: "[admin]"}
	agentA  = caller{Tenant: "acme", Sub: "agent-1", Name: "Ayu Agent", Groups: "[agent]"}
	svcA    = caller{Tenant: "acme", Sub: "svc-1", Name: "Cobrowse", Groups: "[service]"}
	adminB  = caller{Tenant: "globex", Sub: "u-b", Name: "Admin B", Groups: "[admin]"}
)

// request is an API Gateway event of GET or PUT /v1/settings by c.
func request(c caller, method, body string, headers map[string]string) events.APIGatewayV2HTTPRequest {
	r := stacktest.Request{
		Route: method + " /v1/settings", Body: body, As: c,
		Headers:   map[string]string{"user-agent": "settings-test/1"},
		RequestID: "req-1", SourceIP: "203.0.113.7", UserAgent: "settings-test/1",
	}
	for k, v := range headers {
		r.Headers[k] = v
	}
	return r.Event()
}

// get and put call the routes as the functions wire them.
func (f *fixture) get(t *testing.T, c caller) events.APIGatewayV2HTTPResponse {
	t.Helper()
	return f.do(t, f.svc, request(c, "GET", "", nil))
}

func (f *fixture) put(t *testing.T, c caller, body string, headers map[string]string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	return f.do(t, f.svc, request(c, "PUT", body, headers))
}

func (f *fixture) do(t *testing.T, svc *settings.Service, ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	h := svc.Get
	if ev.RequestContext.HTTP.Method == "PUT" {
		h = svc.Put
	}
	resp, err := httpapi.Route(httpapi.AdminRoles, h)(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// body decodes a JSON response body, failing on an unexpected status.
func body(t *testing.T, resp events.APIGatewayV2HTTPResponse, status int) map[string]any {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d %s, want %d", resp.StatusCode, resp.Body, status)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &m); err != nil {
		t.Fatalf("decode %q: %v", resp.Body, err)
	}
	return m
}

// items returns every item of a table, whole: events oldest first, other items by pk.
func (f *fixture) items(t *testing.T, table string) []map[string]any {
	t.Helper()
	items := f.Items(t, table)
	sort.Slice(items, func(i, k int) bool { // events by time and id (sk), other items by pk
		si, _ := items[i]["sk"].(string)
		sk, _ := items[k]["sk"].(string)
		if si != sk {
			return si < sk
		}
		return items[i]["pk"].(string) < items[k]["pk"].(string)
	})
	return items
}

// snapshot is both tables, whole.
type snapshot struct{ Contacts, Audit []map[string]any }

func (f *fixture) snapshot(t *testing.T) snapshot {
	return snapshot{f.items(t, "ContactsTable"), f.items(t, "AuditTable")}
}

// auditItem is the whole audit table item of ev as the service must write it.
func (f *fixture) auditItem(t *testing.T, ev audit.Event) map[string]any {
	t.Helper()
	return stacktest.AuditItem(t, f.svc.Keys, f.svc.Retention, ev)
}

// updated is the SETTINGS_UPDATED event by c at at.
func updated(c caller, id string, at time.Time, inputText string, version int, changes map[string]any) audit.Event {
	ts := audit.FormatTime(at)
	return audit.Event{
		ID: id, TenantID: "acme", OccurredAt: ts, RecordedAt: ts, Type: "SETTINGS_UPDATED", Category: "access",
		Actor: audit.Actor{Type: "user", ID: c.Sub, Name: c.Name}, Source: "user",
		Data: map[string]any{
			"settings": map[string]any{"cobrowse": map[string]any{"inputText": inputText}},
			"version":  version,
			"changes":  changes,
		},
		Context: &audit.Context{IP: "203.0.113.7", UserAgent: "settings-test/1", RequestID: "req-1"},
	}
}

func change(from, to string) map[string]any {
	return map[string]any{"cobrowse.inputText": map[string]any{"from": from, "to": to}}
}

// settingsItem is the whole stored settings item of tenant.
func settingsItem(tenant, inputText string, version float64, at time.Time, by caller) map[string]any {
	return map[string]any{
		"pk": "T#" + tenant + "#SETTINGS", "itemType": "settings", "tenantId": tenant,
		"settings": map[string]any{"cobrowse": map[string]any{"inputText": inputText}},
		"version":  version, "updatedAt": audit.FormatTime(at), "updatedBy": by.Sub, "updatedByName": by.Name,
	}
}

// view is a whole GET or PUT response body.
func view(inputText string, version float64, at *time.Time, by *caller) map[string]any {
	v := map[string]any{"cobrowse": map[string]any{"inputText": inputText}, "version": version, "updatedAt": nil, "updatedBy": nil}
	if at != nil {
		v["updatedAt"] = audit.FormatTime(*at)
	}
	if by != nil {
		v["updatedBy"] = map[string]any{"id": by.Sub, "name": by.Name}
	}
	return v
}

var defaults = view("masked", 0, nil, nil)
