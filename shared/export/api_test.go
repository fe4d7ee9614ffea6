package export_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/export"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/idempotency"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/tenant"
)

// now is the fixed clock of these tests: Monday 30 November 2026, 01:20 UTC.
var now = utc("2026-11-30T01:20:00Z")

type fakeLinks struct{}

func (fakeLinks) Link(_ context.Context, key string) (string, error) {
	return "https://files.example.com/" + key + "?signed=1", nil
}

type fixture struct {
	*stacktest.Stack
	svc *export.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{Stack: stacktest.NewStack(t, now)}
	db, tables, clock := f.DB, f.Tables, f.Clock
	f.svc = &export.Service{
		Store:   &export.Store{DB: db, Table: tables["JobsTable"]},
		Idem:    &idempotency.Store{DB: db, Table: tables["ContactsTable"], Clock: clock},
		Links:   fakeLinks{},
		Cursors: httpapi.NewCursors("test-secret"),
		IDs:     ident.NewGenerator(clock),
		Clock:   clock,

		AuditTable: tables["AuditTable"],
		Keys:       audit.Keys{Shards: 4},
		Retention:  audit.RetentionDays(400, 400, 400, 30),
	}
	return f
}

type call struct {
	method, route, path string
	params              map[string]string
	query               string
	body                string
	tenant, group       string
	headers             map[string]string
}

func (c call) event() events.APIGatewayV2HTTPRequest {
	tenant, group := c.tenant, c.group
	if tenant == "" {
		tenant = "acme"
	}
	if group == "" {
		group = "[admin]"
	}
	return stacktest.Request{
		Route: c.method + " " + c.route, Path: c.path, Params: c.params, Query: c.query, Body: c.body, Headers: c.headers,
		As: stacktest.Caller{Tenant: tenant, Sub: "u-1", Name: "Rina Admin", Groups: group}, RequestID: "req-1",
	}.Event()
}

func (c call) do(t *testing.T, h httpapi.Handler) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := httpapi.Route(httpapi.AdminRoles, h)(context.Background(), c.event())
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// createRefused checks that POST /v1/exports with body is a 400 with the error body want.
func (f *fixture) createRefused(t *testing.T, body string, want map[string]any) {
	t.Helper()
	resp := createCall(body).do(t, f.svc.Create)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d, want 400", resp.StatusCode)
	}
	if diff := cmp.Diff(want, decode(t, resp)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

func decode(t *testing.T, resp events.APIGatewayV2HTTPResponse) map[string]any {
	t.Helper()
	var m map[string]any
	if resp.Body == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(resp.Body), &m); err != nil {
		t.Fatalf("decode %q: %v", resp.Body, err)
	}
	return m
}

func createCall(body string) call {
	return call{method: "POST", route: "/v1/exports", path: "/v1/exports", body: body}
}

func (f *fixture) job(t *testing.T, tenant tenant.ID, id string) *export.Job {
	t.Helper()
	out, err := f.DB.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(f.Tables["JobsTable"]),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: export.JobPK(tenant, export.ID(id))}, "sk": &types.AttributeValueMemberS{Value: "JOB"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Item == nil {
		return nil
	}
	var j export.Job
	if err := attributevalue.UnmarshalMap(out.Item, &j); err != nil {
		t.Fatal(err)
	}
	return &j
}

// TestCreateExport: a valid request is a pending job, its period in the asked time zone. The
// audit report as a bundle (the verifiable export) is a job like any other; the worker writes
// the log's bundle for it (shared/vlog, Exporter), to exports/<tenant>/<id>.json.gz.
func TestCreateExport(t *testing.T) {
	tests := []struct {
		name, body, report, format, key string
		recipients                      []string
	}{
		{"a log as CSV, mailed", `{"report":"added","from":"2026-11-01","to":"2026-12-01","tz":"Asia/Jakarta","format":"csv","email":" rina@acme.example.com "}`,
			"added", "csv", ".csv", []string{"rina@acme.example.com"}},
		{"the verifiable export", `{"report":"audit","format":"bundle","from":"2026-11-01","to":"2026-12-01","tz":"Asia/Jakarta"}`,
			"audit", "bundle", ".json.gz", nil},
		{"the audit events for a security tool", `{"report":"audit","format":"ocsf","from":"2026-11-01","to":"2026-12-01","tz":"Asia/Jakarta"}`,
			"audit", "ocsf", ".ocsf.jsonl.gz", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			resp := createCall(tt.body).do(t, f.svc.Create)
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
			}
			body := decode(t, resp)
			id, _ := body["id"].(string)
			if diff := cmp.Diff(map[string]any{"id": id, "status": "pending"}, body); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			want := &export.Job{
				PK: export.JobPK("acme", export.ID(id)), SK: "JOB", TenantID: "acme", ID: id, Report: tt.report,
				From: "2026-10-31T17:00:00.000Z", To: "2026-11-30T17:00:00.000Z", TZ: "Asia/Jakarta", Format: tt.format,
				Recipients: tt.recipients, Status: "pending", CreatedAt: "2026-11-30T01:20:00.000Z",
				CreatedBy: "u-1", CreatedByName: "Rina Admin", RequestID: "req-1", ExpiresAt: now.Add(7 * 24 * time.Hour).Unix(),
				DueKey: "OPEN", Deadline: "2026-11-30T02:20:00.000Z", // a worker must start it within the hour
			}
			if diff := cmp.Diff(want, f.job(t, "acme", id)); diff != "" {
				t.Errorf("stored job (-want +got):\n%s", diff)
			}
			if got := export.ObjectKey("acme", export.ID(id), tt.format); got != "exports/acme/"+id+tt.key {
				t.Errorf("object key %s", got)
			}
		})
	}
}

func TestCreateExportDefaults(t *testing.T) {
	f := newFixture(t)
	resp := createCall(`{"report":"audit","format":"parquet"}`).do(t, f.svc.Create)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
	}
	j := f.job(t, "acme", decode(t, resp)["id"].(string))
	got := [4]string{j.From, j.To, j.TZ, j.Format}
	if want := [4]string{"2026-11-01T00:00:00.000Z", "2026-12-01T00:00:00.000Z", "UTC", "parquet"}; got != want {
		t.Errorf("defaults: got %v, want %v (the last 30 days in UTC)", got, want)
	}
}

func TestCreateExportValidation(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, body string
		want       map[string]any
	}{
		{"unknown report and format", `{"report":"contacts","format":"xlsx"}`, errBody("invalid_request", "Fix the fields listed in error.fields: format, report.",
			map[string]any{"report": "must be one of overview, added, connected, deleted, merged, audit", "format": "must be one of csv, parquet, bundle, ocsf"})},
		{"a bundle of another report", `{"report":"added","format":"bundle","from":"2026-11-01","to":"2026-12-01"}`, errBody("invalid_request", "Fix the fields listed in error.fields: format.",
			map[string]any{"format": "bundle (the verifiable log) exports the audit report only; use csv or parquet for the added report"})},
		{"OCSF of another report", `{"report":"merged","format":"ocsf","from":"2026-11-01","to":"2026-12-01"}`, errBody("invalid_request", "Fix the fields listed in error.fields: format.",
			map[string]any{"format": "ocsf (audit events for security tools) exports the audit report only; use csv or parquet for the merged report"})},
		{"a bundle of the overview, over 366 days", `{"report":"overview","format":"bundle","from":"2025-01-01","to":"2026-01-03"}`, errBody("invalid_request", "Fix the fields listed in error.fields: format, to.",
			map[string]any{"format": "bundle (the verifiable log) exports the audit report only; use csv or parquet for the overview report", "to": "must be at most 366 days after from"})},
		{"a bundle over 366 days", `{"report":"audit","format":"bundle","from":"2025-01-01","to":"2026-01-03"}`, errBody("period_too_long", "Ask for at most 366 days at a time.",
			map[string]any{"to": "must be at most 366 days after from"})},
		{"a bundle with a log filter", `{"report":"audit","format":"bundle","source":"manual"}`, errBody("invalid_request", "Fix the fields listed in error.fields: source.",
			map[string]any{"source": "filters the added, connected, deleted and merged logs only"})},
		{"missing report", `{"format":"csv"}`, errBody("invalid_request", "Fix the fields listed in error.fields: report.",
			map[string]any{"report": "must be one of overview, added, connected, deleted, merged, audit"})},
		{"bad email", `{"report":"added","format":"csv","email":"rina@acme.example.com\r\nBcc: x@y.z"}`, errBody("invalid_request", "Fix the fields listed in error.fields: email.",
			map[string]any{"email": "must not contain line breaks"})},
		{"two addresses", `{"report":"added","format":"csv","email":"a@x.com, b@x.com"}`, errBody("invalid_request", "Fix the fields listed in error.fields: email.",
			map[string]any{"email": "must be one email address, like name@example.com"})},
		{"from after to", `{"report":"added","format":"csv","from":"2026-11-10","to":"2026-11-01"}`, errBody("invalid_period", "Make from earlier than to.",
			map[string]any{"from": "must be before to"})},
		{"over 366 days", `{"report":"audit","format":"csv","from":"2025-01-01","to":"2026-01-03"}`, errBody("period_too_long", "Ask for at most 366 days at a time.",
			map[string]any{"to": "must be at most 366 days after from"})},
		{"bad time zone", `{"report":"added","format":"csv","tz":"Mars/Olympus"}`, errBody("invalid_period", "Fix the period parameters listed in error.fields.",
			map[string]any{"tz": "must be an IANA time zone name, like Asia/Jakarta"})},
		{"period and field problems together", `{"report":"x","format":"csv","from":"yesterday"}`, errBody("invalid_request", "Fix the fields listed in error.fields: from, report.",
			map[string]any{"report": "must be one of overview, added, connected, deleted, merged, audit", "from": "must be RFC 3339 (2026-01-31T10:00:00Z) or a date (2026-01-31)"})},
		{"unknown field", `{"report":"added","format":"csv","emails":["a@x.com"]}`, errBody("invalid_request", "Remove the unknown field emails.",
			map[string]any{"emails": "is not a known field"})},
		{"wrong type", `{"report":"added","format":"csv","from":20261101}`, errBody("invalid_request", "Fix the field listed in error.fields: from.",
			map[string]any{"from": "must be a string"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { f.createRefused(t, tt.body, tt.want) })
	}
}

func errBody(code, msg string, fields map[string]any) map[string]any {
	e := map[string]any{"code": code, "message": msg}
	if fields != nil {
		e["fields"] = fields
	}
	return map[string]any{"error": e}
}

func TestCreateExportIdempotency(t *testing.T) {
	f := newFixture(t)
	body := `{"report":"deleted","format":"csv"}`
	first := createCall(body)
	first.headers = map[string]string{"idempotency-key": "k-1"}
	r1 := first.do(t, f.svc.Create)
	r2 := first.do(t, f.svc.Create)
	if r1.StatusCode != http.StatusAccepted || r2.StatusCode != http.StatusAccepted || r1.Body != r2.Body {
		t.Errorf("retry with the same key: %d %s then %d %s; want the first 202 twice", r1.StatusCode, r1.Body, r2.StatusCode, r2.Body)
	}
	if r2.Headers["idempotent-replayed"] != "true" {
		t.Errorf("retry headers %v lack idempotent-replayed", r2.Headers)
	}
	other := createCall(`{"report":"merged","format":"csv"}`)
	other.headers = first.headers
	r3 := other.do(t, f.svc.Create)
	if diff := cmp.Diff(errBody("idempotency_key_reused", "This Idempotency-Key was used for a different request in the last 24 hours; use a new key.", nil), decode(t, r3)); r3.StatusCode != http.StatusConflict || diff != "" {
		t.Errorf("same key, other body: status %d (want 409), body (-want +got):\n%s", r3.StatusCode, diff)
	}
}

func getCall(id, tenant string) call {
	return call{method: "GET", route: "/v1/exports/{id}", path: "/v1/exports/" + id, params: map[string]string{"id": id}, tenant: tenant}
}

func TestGetExport(t *testing.T) {
	f := newFixture(t)
	created := decode(t, createCall(`{"report":"connected","from":"2026-11-01","to":"2026-11-08","format":"csv"}`).do(t, f.svc.Create))
	id := created["id"].(string)
	pending := map[string]any{"id": id, "status": "pending", "report": "connected", "format": "csv",
		"from": "2026-11-01T00:00:00.000Z", "to": "2026-11-08T00:00:00.000Z", "tz": "UTC", "createdAt": "2026-11-30T01:20:00.000Z"}
	notFound := errBody("export_not_found", "No export with this id exists; check the id returned by POST /v1/exports.", nil)

	tests := []struct {
		name       string
		call       call
		prepare    func(t *testing.T)
		wantStatus int
		want       map[string]any
	}{
		{"pending", getCall(id, "acme"), nil, http.StatusOK, pending},
		{"another tenant's export", getCall(id, "globex"), nil, http.StatusNotFound, notFound},
		{"not an id", getCall("../SCHEDULE", "acme"), nil, http.StatusNotFound, notFound},
		{"done, with a link", getCall(id, "acme"), func(t *testing.T) {
			j := f.job(t, "acme", id)
			if err := f.svc.Store.Claim(context.Background(), j, now, time.Minute); err != nil {
				t.Fatal(err)
			}
			if err := f.svc.Store.Finish(context.Background(), j, 42, export.ObjectKey("acme", export.ID(id), "csv"), now); err != nil {
				t.Fatal(err)
			}
		}, http.StatusOK, func() map[string]any {
			m := map[string]any{"status": "done", "rows": 42.0, "url": "https://files.example.com/exports/acme/" + id + ".csv?signed=1"}
			for k, v := range pending {
				if k != "status" {
					m[k] = v
				}
			}
			return m
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.prepare != nil {
				tt.prepare(t)
			}
			resp := tt.call.do(t, f.svc.Get)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if diff := cmp.Diff(tt.want, decode(t, resp)); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExportRoutesAreAdminOnly(t *testing.T) {
	f := newFixture(t)
	forbidden := errBody("forbidden", "This route needs one of the roles admin.", nil)
	tests := []struct {
		name string
		call call
		h    httpapi.Handler
	}{
		{"create", createCall(`{"report":"added","format":"csv"}`), f.svc.Create},
		{"create a verifiable export", createCall(`{"report":"audit","format":"bundle"}`), f.svc.Create},
		{"get", getCall("01KB0C9Q2X8V6M3N4P5R7S8T9W", "acme"), f.svc.Get},
		{"put schedule", scheduleCall("PUT", "daily", `{"report":"added","frequency":"daily","format":"csv","recipients":["a@x.com"]}`), f.svc.PutSchedule},
		{"list schedules", call{method: "GET", route: "/v1/export-schedules", path: "/v1/export-schedules"}, f.svc.ListSchedules},
		{"delete schedule", scheduleCall("DELETE", "daily", ""), f.svc.DeleteSchedule},
		{"run schedule", runCall("daily", "", nil), f.svc.RunSchedule},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.call.group = "[agent]"
			resp := tt.call.do(t, tt.h)
			if diff := cmp.Diff(forbidden, decode(t, resp)); resp.StatusCode != http.StatusForbidden || diff != "" {
				t.Errorf("agent: status %d (want 403), body (-want +got):\n%s", resp.StatusCode, diff)
			}
		})
	}
}
