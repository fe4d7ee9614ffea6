package export_test

import (
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/audit"
)

// auditItems returns every item of the audit table, whole, oldest first.
func (f *fixture) auditItems(t *testing.T) []map[string]any {
	t.Helper()
	items := f.Items(t, "AuditTable")
	sort.Slice(items, func(i, k int) bool { return items[i]["sk"].(string) < items[k]["sk"].(string) })
	return items
}

// auditItem is the whole audit table item of ev as the service must write it (4 write
// shards, access events kept 400 days).
func (f *fixture) auditItem(t *testing.T, ev audit.Event) map[string]any {
	t.Helper()
	return stacktest.AuditItem(t, f.svc.Keys, f.svc.Retention, ev)
}

// adminEvent is an access event by the test's admin (call.event's claims) at at.
func adminEvent(id, typ string, at time.Time, data map[string]any) audit.Event {
	ts := audit.FormatTime(at)
	return audit.Event{
		ID: id, TenantID: "acme", OccurredAt: ts, RecordedAt: ts, Type: typ, Category: "access",
		Actor: audit.Actor{Type: "user", ID: "u-1", Name: "Rina Admin"}, Source: "user",
		Data: data, Context: &audit.Context{RequestID: "req-1"},
	}
}

func ids(items []map[string]any) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i], _ = it["id"].(string)
	}
	return out
}

// TestScheduleChangesAreAudited: creating, changing and deleting a schedule each record one
// event with what the schedule sends where, in the change's own transaction; a PUT that
// changes nothing, a refused request and a replayed DELETE record nothing.
func TestScheduleChangesAreAudited(t *testing.T) {
	f := newFixture(t)
	body := `{"report":"added","frequency":"weekly","format":"csv","recipients":["rina@acme.example.com","ops@acme.example.com"],"tz":"Asia/Jakarta"}`
	created := map[string]any{"schedule": "weekly-added", "report": "added", "frequency": "weekly", "format": "csv",
		"recipients": []string{"rina@acme.example.com", "ops@acme.example.com"}, "tz": "Asia/Jakarta"}

	steps := []struct {
		name       string
		at         time.Time
		call       call
		wantStatus int
		want       func(id string, at time.Time) []audit.Event // the events this step adds
	}{
		{"create", now, scheduleCall("PUT", "weekly-added", body), http.StatusOK, func(id string, at time.Time) []audit.Event {
			return []audit.Event{adminEvent(id, "EXPORT_SCHEDULE_CREATED", at, created)}
		}},
		{"the same PUT again changes nothing and records nothing", now.Add(time.Hour), scheduleCall("PUT", "weekly-added", body), http.StatusOK, nil},
		{"a refused PUT records nothing", now.Add(time.Hour), scheduleCall("PUT", "weekly-added", `{"report":"added","frequency":"weekly","format":"csv","recipients":["nope"]}`), http.StatusBadRequest, nil},
		{"an agent's PUT records nothing", now.Add(time.Hour), func() call {
			c := scheduleCall("PUT", "weekly-added", body)
			c.group = "[agent]"
			return c
		}(), http.StatusForbidden, nil},
		{"an edit records what changed", now.Add(2 * time.Hour), scheduleCall("PUT", "weekly-added",
			`{"report":"added","frequency":"weekly","format":"parquet","recipients":["rina@acme.example.com","drop@outside.example.net"],"tz":"Asia/Jakarta"}`), http.StatusOK,
			func(id string, at time.Time) []audit.Event {
				return []audit.Event{adminEvent(id, "EXPORT_SCHEDULE_UPDATED", at, map[string]any{
					"schedule": "weekly-added", "report": "added", "frequency": "weekly", "format": "parquet",
					"recipients": []string{"rina@acme.example.com", "drop@outside.example.net"}, "tz": "Asia/Jakarta",
					"changes": map[string]any{
						"format":     map[string]any{"from": "csv", "to": "parquet"},
						"recipients": map[string]any{"from": []string{"rina@acme.example.com", "ops@acme.example.com"}, "to": []string{"rina@acme.example.com", "drop@outside.example.net"}},
					},
				})}
			}},
		{"delete records the schedule it deleted", now.Add(3 * time.Hour), func() call {
			c := scheduleCall("DELETE", "weekly-added", "")
			c.headers = map[string]string{"Idempotency-Key": "del-1"}
			return c
		}(), http.StatusNoContent, func(id string, at time.Time) []audit.Event {
			return []audit.Event{adminEvent(id, "EXPORT_SCHEDULE_DELETED", at, map[string]any{
				"schedule": "weekly-added", "report": "added", "frequency": "weekly", "format": "parquet",
				"recipients": []string{"rina@acme.example.com", "drop@outside.example.net"}, "tz": "Asia/Jakarta"})}
		}},
		{"a retried DELETE replays and records nothing", now.Add(3*time.Hour + time.Minute), func() call {
			c := scheduleCall("DELETE", "weekly-added", "")
			c.headers = map[string]string{"Idempotency-Key": "del-1"}
			return c
		}(), http.StatusNoContent, nil},
		{"deleting what is gone records nothing", now.Add(4 * time.Hour), scheduleCall("DELETE", "weekly-added", ""), http.StatusNotFound, nil},
	}
	var want []map[string]any
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			*f.Now = st.at
			h := f.svc.PutSchedule
			if st.call.method == "DELETE" {
				h = f.svc.DeleteSchedule
			}
			if resp := st.call.do(t, h); resp.StatusCode != st.wantStatus {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, resp.Body, st.wantStatus)
			}
			got := f.auditItems(t)
			if st.want != nil && len(got) > len(want) {
				for _, ev := range st.want(ids(got)[len(want)], st.at) {
					want = append(want, f.auditItem(t, ev))
				}
			} else if st.want != nil {
				t.Errorf("no event was recorded")
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("audit table (-want +got):\n%s", diff)
			}
		})
	}
}
