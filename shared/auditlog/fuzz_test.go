package auditlog

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/validate"
)

// FuzzEventValidation: whatever one event's JSON is, validation never panics, and an event it
// accepts is of an ingestible type with data the registry accepts and a time in bounds.
func FuzzEventValidation(f *testing.F) {
	for _, s := range []string{
		`{"type":"START_CALL","data":{"callId":"c","customerId":"k"}}`,
		`{"type":"LOGGED_IN","occurredAt":"2026-03-10T11:00:00Z","actor":{"type":"user","id":"u"}}`,
		`{"type":"MEETING_CHANGE","data":{"operation":"DELETE","conference":{}}}`,
		`{"type":"CLICK","occurredAt":"2026-03-10T11:00:00Z","isAgent":true,"data":{"element":"a"}}`,
		`{"type":"PERMISSION_CHANGE","data":{"roleName":"r","permissions":["a",1]}}`,
		`{"type":"SCROLL","occurredAt":"9999-12-31T23:59:59Z","isAgent":false,"data":{"position":null}}`,
		`null`, `[]`, `{"type":7}`, `{"data":{"a":{"b":[{}]}}}`,
	} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	svc := &Service{Retention: audit.RetentionDays(400, 400, 400, 30)}
	r := &httpapi.Request{Principal: httpapi.Principal{TenantID: "t", UserID: "u", Roles: []httpapi.Role{httpapi.Service}}, Event: &events.APIGatewayV2HTTPRequest{}}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, origin := range []audit.Origin{audit.Ingested, audit.Cobrowse} {
			p := validate.Problems{}
			var e audit.Event
			if origin == audit.Ingested {
				var in PlatformEvent
				if decodeEvent(json.RawMessage(raw), &in, "events[0].", p) {
					e = svc.platformEvent(r, &in, now, "events[0].", p)
				}
			} else {
				var in CobrowseEvent
				if decodeEvent(json.RawMessage(raw), &in, "events[0].", p) {
					e = svc.cobrowseEvent(r, "s", &in, now, "events[0].", p)
				}
			}
			if len(p) > 0 {
				continue
			}
			spec, ok := audit.Lookup(e.Type)
			if !ok || spec.Origin != origin || e.Category != spec.Category {
				t.Fatalf("accepted %s as %v: type %q category %q", raw, origin, e.Type, e.Category)
			}
			if probs := spec.CheckData("", e.Data); len(probs) > 0 {
				t.Fatalf("accepted %s with data problems %v", raw, probs)
			}
			if e.OccurredAt != "" {
				at, err := audit.ParseTime(e.OccurredAt)
				if err != nil || at.After(now.Add(MaxSkew)) || at.Before(now.Add(-400*24*time.Hour)) {
					t.Fatalf("accepted %s with occurredAt %q", raw, e.OccurredAt)
				}
			}
		}
	})
}
