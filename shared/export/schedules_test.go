package export_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/httpapi"
)

func scheduleCall(method, name, body string) call {
	return call{method: method, route: "/v1/export-schedules/{name}", path: "/v1/export-schedules/" + name,
		params: map[string]string{"name": name}, body: body}
}

func TestSchedules(t *testing.T) {
	f := newFixture(t)
	body := `{"report":"added","frequency":"weekly","format":"csv","recipients":["rina@acme.example.com"," ops@acme.example.com"],"tz":"Asia/Jakarta"}`
	weekly := map[string]any{
		"name": "weekly-added", "report": "added", "frequency": "weekly", "format": "csv",
		"recipients": []any{"rina@acme.example.com", "ops@acme.example.com"}, "tz": "Asia/Jakarta",
		// now is Monday 08:20 in Jakarta: the week ends Monday 7 December, 00:00 Jakarta.
		"nextRunAt": "2026-12-06T17:00:00.000Z", "createdAt": "2026-11-30T01:20:00.000Z", "updatedAt": "2026-11-30T01:20:00.000Z",
	}
	list := call{method: "GET", route: "/v1/export-schedules", path: "/v1/export-schedules"}

	resp := scheduleCall("PUT", "weekly-added", body).do(t, f.svc.PutSchedule)
	if diff := cmp.Diff(weekly, decode(t, resp)); resp.StatusCode != http.StatusOK || diff != "" {
		t.Fatalf("PUT: status %d, body (-want +got):\n%s", resp.StatusCode, diff)
	}

	// An edit that keeps frequency and time zone keeps the period due next.
	*f.Now = now.Add(time.Hour)
	edited := strings.Replace(body, `"format":"csv"`, `"format":"parquet"`, 1)
	resp = scheduleCall("PUT", "weekly-added", edited).do(t, f.svc.PutSchedule)
	weekly["format"], weekly["updatedAt"] = "parquet", "2026-11-30T02:20:00.000Z"
	if diff := cmp.Diff(weekly, decode(t, resp)); resp.StatusCode != http.StatusOK || diff != "" {
		t.Fatalf("PUT edit: status %d, body (-want +got):\n%s", resp.StatusCode, diff)
	}

	resp = scheduleCall("PUT", "daily", `{"report":"audit","frequency":"daily","format":"parquet","recipients":["sec@acme.example.com"]}`).do(t, f.svc.PutSchedule)
	daily := map[string]any{
		"name": "daily", "report": "audit", "frequency": "daily", "format": "parquet", "recipients": []any{"sec@acme.example.com"},
		"tz": "UTC", "nextRunAt": "2026-12-01T00:00:00.000Z", "createdAt": "2026-11-30T02:20:00.000Z", "updatedAt": "2026-11-30T02:20:00.000Z",
	}
	if diff := cmp.Diff(daily, decode(t, resp)); resp.StatusCode != http.StatusOK || diff != "" {
		t.Fatalf("PUT daily: status %d, body (-want +got):\n%s", resp.StatusCode, diff)
	}

	// Another tenant sees none of them.
	other := list
	other.tenant = "globex"
	if diff := cmp.Diff(map[string]any{"items": []any{}, "nextCursor": nil}, decode(t, other.do(t, f.svc.ListSchedules))); diff != "" {
		t.Errorf("another tenant's list (-want +got):\n%s", diff)
	}

	// Pages of one, by name.
	page1 := list
	page1.query = "limit=1"
	got1 := decode(t, page1.do(t, f.svc.ListSchedules))
	cursor, _ := got1["nextCursor"].(string)
	if diff := cmp.Diff(map[string]any{"items": []any{daily}, "nextCursor": cursor}, got1); cursor == "" || diff != "" {
		t.Errorf("first page (-want +got):\n%s", diff)
	}
	page2 := list
	page2.query = "limit=1&cursor=" + cursor
	got2 := decode(t, page2.do(t, f.svc.ListSchedules))
	if diff := cmp.Diff([]any{weekly}, got2["items"]); diff != "" {
		t.Errorf("second page (-want +got):\n%s", diff)
	}
	stolen := page2
	stolen.tenant = "globex"
	if resp := stolen.do(t, f.svc.ListSchedules); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("another tenant's cursor: status %d, want 400", resp.StatusCode)
	}

	resp = scheduleCall("DELETE", "daily", "").do(t, f.svc.DeleteSchedule)
	if resp.StatusCode != http.StatusNoContent || resp.Body != "" {
		t.Errorf("DELETE: %d %q, want 204", resp.StatusCode, resp.Body)
	}
	resp = scheduleCall("DELETE", "daily", "").do(t, f.svc.DeleteSchedule)
	want404 := errBody("schedule_not_found", "No export schedule has this name; list them with GET /v1/export-schedules.", nil)
	if diff := cmp.Diff(want404, decode(t, resp)); resp.StatusCode != http.StatusNotFound || diff != "" {
		t.Errorf("DELETE again: status %d (want 404), body (-want +got):\n%s", resp.StatusCode, diff)
	}
	if diff := cmp.Diff(map[string]any{"items": []any{weekly}, "nextCursor": nil}, decode(t, list.do(t, f.svc.ListSchedules))); diff != "" {
		t.Errorf("list after delete (-want +got):\n%s", diff)
	}
}

func TestDeleteScheduleIdempotency(t *testing.T) {
	f := newFixture(t)
	scheduleCall("PUT", "d", `{"report":"added","frequency":"daily","format":"csv","recipients":["a@x.com"]}`).do(t, f.svc.PutSchedule)
	del := scheduleCall("DELETE", "d", "")
	del.headers = map[string]string{"Idempotency-Key": "del-1"}
	r1, r2 := del.do(t, f.svc.DeleteSchedule), del.do(t, f.svc.DeleteSchedule)
	if r1.StatusCode != http.StatusNoContent || r2.StatusCode != http.StatusNoContent || r2.Headers["idempotent-replayed"] != "true" {
		t.Errorf("DELETE twice with one key: %d then %d %v; want 204 and the replayed 204", r1.StatusCode, r2.StatusCode, r2.Headers)
	}
}

func TestPutScheduleValidation(t *testing.T) {
	f := newFixture(t)
	many := `"a0@x.com"`
	for i := 1; i < 51; i++ {
		many += `,"a` + string(rune('0'+i/10)) + string(rune('0'+i%10)) + `@x.com"`
	}
	tests := []struct {
		name, schedule, body string
		want                 map[string]any
	}{
		{"name with a slash", "a%2Fb", `{"report":"added","frequency":"daily","format":"csv","recipients":["a@x.com"]}`,
			errBody("invalid_request", "Use a schedule name of 1 to 64 letters, digits, _ or -.", map[string]any{"name": "must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -"})},
		{"name too long", strings.Repeat("n", 65), `{"report":"added","frequency":"daily","format":"csv","recipients":["a@x.com"]}`,
			errBody("invalid_request", "Use a schedule name of 1 to 64 letters, digits, _ or -.", map[string]any{"name": "must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -"})},
		{"enums", "s", `{"report":"all","frequency":"hourly","format":"xml","recipients":["a@x.com"]}`,
			errBody("invalid_request", "Fix the fields listed in error.fields: format, frequency, report.", map[string]any{
				"report": "must be one of overview, added, connected, deleted, merged, audit", "frequency": "must be one of daily, weekly, monthly", "format": "must be one of csv, parquet, bundle, ocsf"})},
		{"a bundle of a contact log", "s", `{"report":"deleted","frequency":"monthly","format":"bundle","recipients":["a@x.com"]}`,
			errBody("invalid_request", "Fix the fields listed in error.fields: format.", map[string]any{
				"format": "bundle (the verifiable log) exports the audit report only; use csv or parquet for the deleted report"})},
		{"OCSF of the overview", "s", `{"report":"overview","frequency":"daily","format":"ocsf","recipients":["a@x.com"]}`,
			errBody("invalid_request", "Fix the fields listed in error.fields: format.", map[string]any{
				"format": "ocsf (audit events for security tools) exports the audit report only; use csv or parquet for the overview report"})},
		{"no recipients", "s", `{"report":"added","frequency":"daily","format":"csv","recipients":[]}`,
			errBody("invalid_request", "Fix the fields listed in error.fields: recipients.", map[string]any{"recipients": "must list 1 to 50 email addresses"})},
		{"51 recipients", "s", `{"report":"added","frequency":"daily","format":"csv","recipients":[` + many + `]}`,
			errBody("invalid_request", "Fix the fields listed in error.fields: recipients.", map[string]any{"recipients": "must list at most 50 email addresses"})},
		{"bad and repeated recipients", "s", `{"report":"added","frequency":"daily","format":"csv","recipients":["a@x.com","nope","A@x.com"]}`,
			errBody("invalid_request", "Fix the fields listed in error.fields: recipients[1], recipients[2].", map[string]any{
				"recipients[1]": "must be one email address, like name@example.com", "recipients[2]": "repeats an earlier recipient"})},
		{"bad time zone", "s", `{"report":"added","frequency":"daily","format":"csv","recipients":["a@x.com"],"tz":"Local"}`,
			errBody("invalid_request", "Fix the fields listed in error.fields: tz.", map[string]any{"tz": "must be an IANA time zone name, like Asia/Jakarta"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := scheduleCall("PUT", tt.schedule, tt.body).do(t, f.svc.PutSchedule)
			if diff := cmp.Diff(tt.want, decode(t, resp)); resp.StatusCode != http.StatusBadRequest || diff != "" {
				t.Errorf("status %d (want 400), body (-want +got):\n%s", resp.StatusCode, diff)
			}
		})
	}
}

// hostile are path parameters that are no export id and no schedule name.
var hostile = []struct{ name, value string }{
	{"2,100 characters", strings.Repeat("A", 2100)},
	{"NUL", "daily\x00"},
	{"percent-encoded NUL", "daily%00"},
	{"dot dot slash", "../x"},
	{"hash", "daily#1"},
	{"not UTF-8", "daily\xff"},
	{"empty", ""},
}

// TestMalformedPathParams: a malformed {id} or {name} is answered before anything is read:
// 404 on the routes that look one up (as for an unknown one), 400 naming the parameter on
// PUT, which creates what it names; nothing is written.
func TestMalformedPathParams(t *testing.T) {
	f := newFixture(t)
	scheduleCall("PUT", "daily", `{"report":"added","frequency":"daily","format":"csv","recipients":["a@x.com"]}`).do(t, f.svc.PutSchedule)
	list := call{method: "GET", route: "/v1/export-schedules", path: "/v1/export-schedules"}
	before := decode(t, list.do(t, f.svc.ListSchedules))
	type answer struct {
		Status int
		Body   map[string]any
	}
	exportNotFound := answer{404, errBody("export_not_found", "No export with this id exists; check the id returned by POST /v1/exports.", nil)}
	scheduleNotFound := answer{404, errBody("schedule_not_found", "No export schedule has this name; list them with GET /v1/export-schedules.", nil)}
	badName := answer{400, errBody("invalid_request", "Use a schedule name of 1 to 64 letters, digits, _ or -.", map[string]any{"name": "must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -"})}
	for _, h := range hostile {
		t.Run(h.name, func(t *testing.T) {
			for _, tc := range []struct {
				route string
				c     call
				h     httpapi.Handler
				want  answer
			}{
				{"GET /v1/exports/{id}", getCall(h.value, "acme"), f.svc.Get, exportNotFound},
				{"PUT /v1/export-schedules/{name}", scheduleCall("PUT", h.value, `{"report":"added","frequency":"daily","format":"csv","recipients":["a@x.com"]}`), f.svc.PutSchedule, badName},
				{"DELETE /v1/export-schedules/{name}", scheduleCall("DELETE", h.value, ""), f.svc.DeleteSchedule, scheduleNotFound},
				{"POST /v1/export-schedules/{name}/run", runCall(h.value, "", nil), f.svc.RunSchedule, scheduleNotFound},
			} {
				resp := tc.c.do(t, tc.h)
				if diff := cmp.Diff(tc.want, answer{resp.StatusCode, decode(t, resp)}); diff != "" {
					t.Errorf("%s (-want +got):\n%s", tc.route, diff)
				}
			}
		})
	}
	if diff := cmp.Diff(before, decode(t, list.do(t, f.svc.ListSchedules))); diff != "" {
		t.Errorf("schedules (-want +got):\n%s", diff)
	}
}
