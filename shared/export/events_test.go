package export_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/httpapi"
)

// TestSampleEvents runs the API functions' sample events (events/*.json, what
// `sam local invoke -e` would send) through their handlers.
func TestSampleEvents(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		file       string
		h          httpapi.Handler
		wantStatus int
	}{
		{"create-export-added-csv.json", f.svc.Create, http.StatusAccepted},
		{"create-export-audit-ocsf.json", f.svc.Create, http.StatusAccepted},
		{"create-export-agent-forbidden.json", f.svc.Create, http.StatusForbidden},
		{"put-export-schedule-weekly.json", f.svc.PutSchedule, http.StatusOK},
		{"list-export-schedules-first-page.json", f.svc.ListSchedules, http.StatusOK},
		{"run-export-schedule-weekly-added.json", f.svc.RunSchedule, http.StatusAccepted},
		{"delete-export-schedule-ok.json", f.svc.DeleteSchedule, http.StatusNoContent},
		{"get-export-done.json", f.svc.Get, http.StatusNotFound}, // no such job in a fresh table
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev := stacktest.Sample[events.APIGatewayV2HTTPRequest](t, tt.file)
			resp, err := httpapi.Route(httpapi.AdminRoles, tt.h)(context.Background(), ev)
			if err != nil || resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d %s (err %v), want %d", resp.StatusCode, resp.Body, err, tt.wantStatus)
			}
		})
	}
}
