package export_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/contrail/contrail/shared/export"
	"github.com/contrail/contrail/shared/httpapi"
)

func strp(s string) *string { return &s }

// TestCreateExportFilters: a log export takes the log routes' source, channel and user
// (absent or null: no filter; "" is a filter, user "" being the system), stores them on the
// job and shows them in GET; the same values are refused as the log routes refuse them, and
// the overview and audit exports take none.
func TestCreateExportFilters(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		name string
		body string
		want *httpapi.LogFilter
		view map[string]any // the filter part of GET's body
	}{
		{"all three", `{"report":"connected","format":"csv","from":"2026-11-01","to":"2026-11-08","source":"incoming_message","channel":"whatsapp","user":"u-7"}`,
			&httpapi.LogFilter{Source: strp("incoming_message"), Channel: strp("whatsapp"), User: strp("u-7")},
			map[string]any{"source": "incoming_message", "channel": "whatsapp", "user": "u-7"}},
		{"the system's", `{"report":"added","format":"parquet","from":"2026-11-01","to":"2026-11-08","user":""}`,
			&httpapi.LogFilter{User: strp("")}, map[string]any{"user": ""}},
		{"nulls are no filter", `{"report":"merged","format":"csv","from":"2026-11-01","to":"2026-11-08","source":null,"channel":null,"user":null}`,
			nil, map[string]any{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := createCall(c.body).do(t, f.svc.Create)
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
			}
			id := decode(t, resp)["id"].(string)
			if d := cmp.Diff(c.want, f.job(t, "acme", id).Filter); d != "" {
				t.Errorf("stored filter (-want +got):\n%s", d)
			}
			got := map[string]any{}
			for k, v := range decode(t, getCall(id, "acme").do(t, f.svc.Get)) {
				if k == "source" || k == "channel" || k == "user" {
					got[k] = v
				}
			}
			if d := cmp.Diff(c.view, got); d != "" {
				t.Errorf("GET filters (-want +got):\n%s", d)
			}
		})
	}
	long := strings.Repeat("x", 201)
	for _, c := range []struct {
		name, body string
		want       map[string]any
	}{
		{"too long", `{"report":"added","format":"csv","source":"` + long + `"}`, errBody("invalid_request", "Fix the fields listed in error.fields: source.",
			map[string]any{"source": "must be at most 200 characters"})},
		{"control character", `{"report":"added","format":"csv","channel":"a\tb","user":"x\ny"}`, errBody("invalid_request", "Fix the fields listed in error.fields: channel, user.",
			map[string]any{"channel": "must be one line, without control characters", "user": "must be one line, without control characters"})},
		{"overview takes none", `{"report":"overview","format":"csv","source":"import"}`, errBody("invalid_request", "Fix the fields listed in error.fields: source.",
			map[string]any{"source": "filters the added, connected, deleted and merged logs only"})},
		{"audit takes none", `{"report":"audit","format":"csv","user":""}`, errBody("invalid_request", "Fix the fields listed in error.fields: user.",
			map[string]any{"user": "filters the added, connected, deleted and merged logs only"})},
		{"one value each", `{"report":"added","format":"csv","user":["u-1","u-2"]}`, errBody("invalid_request", "Fix the field listed in error.fields: user.",
			map[string]any{"user": "must be a string"})},
	} {
		t.Run(c.name, func(t *testing.T) { f.createRefused(t, c.body, c.want) })
	}
}

// TestScheduleFilters: a schedule stores its log filters, shows them, records them in its
// events (data.filters; a change of filters in changes.filters) and hands them to every job
// it makes, by the runner and by "run now".
func TestScheduleFilters(t *testing.T) {
	f := newFixture(t)
	put := func(body string) map[string]any {
		t.Helper()
		resp := scheduleCall("PUT", "daily-import", body).do(t, f.svc.PutSchedule)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("PUT: %d %s", resp.StatusCode, resp.Body)
		}
		return decode(t, resp)
	}
	view := put(`{"report":"added","frequency":"daily","format":"csv","recipients":["rina@acme.example.com"],"source":"import","user":""}`)
	if view["source"] != "import" || view["user"] != "" || view["channel"] != nil {
		t.Errorf("PUT view %v: want source import, user \"\", no channel", view)
	}
	*f.Now = now.Add(time.Hour)
	put(`{"report":"added","frequency":"daily","format":"csv","recipients":["rina@acme.example.com"],"source":"import","channel":"sms"}`)
	items := f.auditItems(t)
	if len(items) != 2 {
		t.Fatalf("%d audit items, want 2", len(items))
	}
	data := func(i int) map[string]any { return items[i]["data"].(map[string]any) }
	if d := cmp.Diff(map[string]any{"source": "import", "user": ""}, data(0)["filters"]); d != "" {
		t.Errorf("EXPORT_SCHEDULE_CREATED filters (-want +got):\n%s", d)
	}
	wantChange := map[string]any{"from": map[string]any{"source": "import", "user": ""}, "to": map[string]any{"source": "import", "channel": "sms"}}
	if d := cmp.Diff(wantChange, data(1)["changes"].(map[string]any)["filters"]); d != "" {
		t.Errorf("EXPORT_SCHEDULE_UPDATED changes.filters (-want +got):\n%s", d)
	}

	want := &httpapi.LogFilter{Source: strp("import"), Channel: strp("sms")}
	resp := runCall("daily-import", "", nil).do(t, f.svc.RunSchedule)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("run: %d %s", resp.StatusCode, resp.Body)
	}
	if d := cmp.Diff(want, f.job(t, "acme", decode(t, resp)["id"].(string)).Filter); d != "" {
		t.Errorf("run-now job filter (-want +got):\n%s", d)
	}
	*f.Now = now.Add(48 * time.Hour)
	if _, err := (&export.Runner{Store: f.svc.Store, Clock: func() time.Time { return *f.Now }}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	js := f.jobs(t)
	if len(js) < 2 {
		t.Fatalf("%d jobs, want the run-now job and the runner's", len(js))
	}
	for _, j := range js {
		if d := cmp.Diff(want, j.Filter, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("job %s (%s to %s) filter (-want +got):\n%s", j.ID, j.From, j.To, d)
		}
	}
	resp = scheduleCall("PUT", "daily-overview", `{"report":"overview","frequency":"daily","format":"csv","recipients":["rina@acme.example.com"],"channel":"sms"}`).do(t, f.svc.PutSchedule)
	wantErr := errBody("invalid_request", "Fix the fields listed in error.fields: channel.", map[string]any{"channel": "filters the added, connected, deleted and merged logs only"})
	if d := cmp.Diff(wantErr, decode(t, resp)); resp.StatusCode != http.StatusBadRequest || d != "" {
		t.Errorf("overview schedule with a filter: status %d (want 400), body (-want +got):\n%s", resp.StatusCode, d)
	}
}
