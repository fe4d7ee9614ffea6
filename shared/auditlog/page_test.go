package auditlog

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/httpapi"
)

// TestPageResponseIsEncodingJSONs checks that a read's 200 is byte for byte the response
// httpapi.JSON gives for the same page, whether audit.AppendJSON writes the events or
// leaves them to encoding/json.
func TestPageResponseIsEncodingJSONs(t *testing.T) {
	agent := false
	evs := []audit.Event{
		{ID: "01JZ1", TenantID: "acme", OccurredAt: "2026-12-07T10:00:00.000Z", RecordedAt: "2026-12-07T10:00:00.000Z", Type: "CLICK",
			Category: audit.CategoryCobrowse, Actor: audit.Actor{Type: audit.ActorCustomer}, Source: audit.SourceAPI, SessionID: "cb-1",
			IsAgent: &agent, Data: map[string]any{"element": "#buy<now>&", "y": 1200.0}},
		{ID: "01JZ2", TenantID: "acme", OccurredAt: "2026-12-07T10:00:01.000Z", RecordedAt: "2026-12-07T10:00:01.000Z", Type: "AUDIT_LOG_VIEWED",
			Category: audit.CategoryAccess, Actor: audit.Actor{Type: audit.ActorUser, ID: "u-1", Name: "Rina"},
			Data: map[string]any{"filters": map[string]any{"type": []any{"LOGGED_IN"}}}, Context: &audit.Context{RequestID: "r-1"}},
	}
	odd := []audit.Event{evs[0], {ID: "01JZ3", Data: map[string]any{"x": []string{"not from an item"}}}}
	tests := []struct {
		name string
		evs  []audit.Event
		next string
	}{
		{"no events", nil, ""},
		{"empty page", []audit.Event{}, ""},
		{"a page and a cursor", evs, "eyJhIjoi<x>&y"},
		{"the last page", evs, ""},
		{"an event left to encoding/json", odd, "c"},
		{"a NaN left to encoding/json (which refuses it)", []audit.Event{{Data: map[string]any{"x": math.NaN()}}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := httpapi.JSON(200, httpapi.NewPage(tc.evs, tc.next))
			if diff := cmp.Diff(want, pageResponse(tc.evs, tc.next)); diff != "" {
				t.Errorf("pageResponse differs from httpapi.JSON (-JSON +pageResponse):\n%s", diff)
			}
		})
	}
}
