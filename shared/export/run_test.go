package export_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/export"
)

func runCall(name, tenant string, headers map[string]string) call {
	return call{method: "POST", route: "/v1/export-schedules/{name}/run", path: "/v1/export-schedules/" + name + "/run",
		params: map[string]string{"name": name}, tenant: tenant, headers: headers}
}

// TestRunSchedule: "run now" creates, through the runner's job path, the export job of the
// schedule's last full period (here the week that ended at midnight in Jakarta), records
// EXPORT_SCHEDULE_RUN in the same transaction, replays with its Idempotency-Key, and leaves
// the schedule's nextRunAt alone; another tenant's or an unknown schedule is 404.
func TestRunSchedule(t *testing.T) {
	f := newFixture(t)
	put := scheduleCall("PUT", "weekly-added", `{"report":"added","frequency":"weekly","format":"csv","recipients":["rina@acme.example.com","ops@acme.example.com"],"tz":"Asia/Jakarta"}`)
	if resp := put.do(t, f.svc.PutSchedule); resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT: %d %s", resp.StatusCode, resp.Body)
	}
	*f.Now = now.Add(30 * time.Minute) // Monday 30 November, 08:50 in Jakarta
	at := *f.Now

	resp := runCall("weekly-added", "", map[string]string{"Idempotency-Key": "run-1"}).do(t, f.svc.RunSchedule)
	body := decode(t, resp)
	id, _ := body["id"].(string)
	// Last full week in Jakarta: Monday 23 November 00:00 to Monday 30 November 00:00.
	wantBody := map[string]any{"id": id, "status": "pending", "report": "added", "format": "csv",
		"from": "2026-11-22T17:00:00.000Z", "to": "2026-11-29T17:00:00.000Z", "tz": "Asia/Jakarta",
		"createdAt": "2026-11-30T01:50:00.000Z", "schedule": "weekly-added"}
	if diff := cmp.Diff(wantBody, body); resp.StatusCode != http.StatusAccepted || diff != "" {
		t.Fatalf("run: status %d (want 202), body (-want +got):\n%s", resp.StatusCode, diff)
	}
	wantJob := []export.Job{{
		PK: export.JobPK("acme", export.ID(id)), SK: "JOB", TenantID: "acme", ID: id, Report: "added",
		From: "2026-11-22T17:00:00.000Z", To: "2026-11-29T17:00:00.000Z", TZ: "Asia/Jakarta", Format: "csv",
		Recipients: []string{"rina@acme.example.com", "ops@acme.example.com"}, Schedule: "weekly-added", Status: "pending",
		CreatedAt: "2026-11-30T01:50:00.000Z", CreatedBy: "u-1", CreatedByName: "Rina Admin", RequestID: "req-1",
		ExpiresAt: at.Add(export.JobTTL).Unix(), DueKey: "OPEN", Deadline: "2026-11-30T02:50:00.000Z",
	}}
	if diff := cmp.Diff(wantJob, f.jobs(t)); diff != "" {
		t.Errorf("jobs (-want +got):\n%s", diff)
	}
	items := f.auditItems(t)
	if len(items) != 2 {
		t.Fatalf("%d audit items, want the schedule's creation and its run", len(items))
	}
	wantRun := f.auditItem(t, adminEvent(ids(items)[1], "EXPORT_SCHEDULE_RUN", at, map[string]any{
		"schedule": "weekly-added", "report": "added", "frequency": "weekly", "format": "csv",
		"recipients": []string{"rina@acme.example.com", "ops@acme.example.com"}, "tz": "Asia/Jakarta",
		"exportId": id, "from": "2026-11-22T17:00:00.000Z", "to": "2026-11-29T17:00:00.000Z",
	}))
	if diff := cmp.Diff(wantRun, items[1]); diff != "" {
		t.Errorf("run event (-want +got):\n%s", diff)
	}

	// A retry with the key replays the 202: no second job, no second event.
	*f.Now = at.Add(time.Minute)
	again := runCall("weekly-added", "", map[string]string{"Idempotency-Key": "run-1"}).do(t, f.svc.RunSchedule)
	if again.StatusCode != http.StatusAccepted || again.Body != resp.Body || again.Headers["idempotent-replayed"] != "true" {
		t.Errorf("retry: %d %s %v; want the first 202 replayed", again.StatusCode, again.Body, again.Headers)
	}

	notFound := errBody("schedule_not_found", "No export schedule has this name; list them with GET /v1/export-schedules.", nil)
	refused := []struct {
		name       string
		call       call
		wantStatus int
		want       map[string]any
	}{
		{"another tenant's schedule", runCall("weekly-added", "globex", nil), http.StatusNotFound, notFound},
		{"an unknown schedule", runCall("monthly", "", nil), http.StatusNotFound, notFound},
		{"not a schedule name", runCall("..", "", nil), http.StatusNotFound, notFound},
		{"a body with fields", func() call {
			c := runCall("weekly-added", "", nil)
			c.body = `{"from":"2026-11-01"}`
			return c
		}(), http.StatusBadRequest, errBody("invalid_request", "Remove the unknown field from.", map[string]any{"from": "is not a known field"})},
		{"an agent", func() call {
			c := runCall("weekly-added", "", nil)
			c.group = "[agent]"
			return c
		}(), http.StatusForbidden, errBody("forbidden", "This route needs one of the roles admin.", nil)},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			resp := tt.call.do(t, f.svc.RunSchedule)
			if diff := cmp.Diff(tt.want, decode(t, resp)); resp.StatusCode != tt.wantStatus || diff != "" {
				t.Errorf("status %d (want %d), body (-want +got):\n%s", resp.StatusCode, tt.wantStatus, diff)
			}
		})
	}
	if n := len(f.jobs(t)); n != 1 {
		t.Errorf("%d jobs after the retry and the refusals, want 1", n)
	}
	if n := len(f.auditItems(t)); n != 2 {
		t.Errorf("%d audit items after the retry and the refusals, want 2", n)
	}
	sc, err := f.svc.Store.Schedule(t.Context(), "acme", "weekly-added")
	if err != nil {
		t.Fatal(err)
	}
	if sc.NextRunAt != "2026-12-06T17:00:00.000Z" || sc.LastExport != "" {
		t.Errorf("schedule after run now: nextRunAt %s, lastExportId %q; want it untouched (2026-12-06T17:00:00.000Z, none)", sc.NextRunAt, sc.LastExport)
	}
}

func TestLastFullPeriod(t *testing.T) {
	jakarta, _ := time.LoadLocation("Asia/Jakarta")
	tests := []struct {
		freq     string
		at       string
		loc      *time.Location
		from, to string
	}{
		{export.Daily, "2026-11-30T01:20:00Z", time.UTC, "2026-11-29T00:00:00.000Z", "2026-11-30T00:00:00.000Z"},
		{export.Daily, "2026-11-30T00:00:00Z", time.UTC, "2026-11-29T00:00:00.000Z", "2026-11-30T00:00:00.000Z"}, // at midnight: the day just ended
		{export.Daily, "2026-11-30T01:20:00Z", jakarta, "2026-11-28T17:00:00.000Z", "2026-11-29T17:00:00.000Z"},
		{export.Weekly, "2026-12-06T23:59:00Z", time.UTC, "2026-11-23T00:00:00.000Z", "2026-11-30T00:00:00.000Z"}, // Sunday: last week, not this one
		{export.Monthly, "2026-03-15T12:00:00Z", time.UTC, "2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"},
		{export.Monthly, "2026-01-01T06:00:00Z", jakarta, "2025-11-30T17:00:00.000Z", "2025-12-31T17:00:00.000Z"}, // across a year
	}
	for _, tt := range tests {
		t.Run(tt.freq+" "+tt.at+" "+tt.loc.String(), func(t *testing.T) {
			start, end := export.LastFullPeriod(tt.freq, utc(tt.at), tt.loc)
			if got := [2]string{audit.FormatTime(start), audit.FormatTime(end)}; got != [2]string{tt.from, tt.to} {
				t.Errorf("got %v, want [%s %s]", got, tt.from, tt.to)
			}
		})
	}
}
