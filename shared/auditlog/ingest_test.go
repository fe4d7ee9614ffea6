package auditlog_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/httpapi"
)

// count returns how many items the audit table holds.
func count(t *testing.T, f *fixture) int32 {
	t.Helper()
	out, err := stacktest.DynamoDB(t).Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(f.tables["AuditTable"]), Select: "COUNT"})
	if err != nil {
		t.Fatal(err)
	}
	return out.Count
}

func invalid(message string, fields map[string]string) errorBody {
	var b errorBody
	b.Error.Code, b.Error.Message, b.Error.Fields = "invalid_request", message, fields
	return b
}

func TestIngestRejectsBadBatches(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := newFixture(t, now)
	good := map[string]any{"type": "START_CALL", "data": map[string]any{"callId": "c1", "customerId": "k1"}}
	click := func(extra map[string]any) map[string]any {
		e := map[string]any{"type": "CLICK", "occurredAt": "2026-03-10T11:59:00Z", "isAgent": true, "data": map[string]any{"element": "#a"}}
		for k, v := range extra {
			if v == nil {
				delete(e, k)
			} else {
				e[k] = v
			}
		}
		return e
	}
	many := func(n int, e map[string]any) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			out[i] = e
		}
		return out
	}
	for _, tc := range []struct {
		name string
		req  eventsReq
		h    eventsHandler
		want errorBody
	}{
		{"a missing data field among good events", ingestReq(svcA, []map[string]any{good, good, good,
			{"type": "START_CALL", "data": map[string]any{"callId": "c1"}}, good}, nil), f.ingest(),
			invalid("Fix the fields listed in error.fields: events[3].data.customerId.", map[string]string{"events[3].data.customerId": "is required for START_CALL"})},
		{"every bad event is named", ingestReq(svcA, []map[string]any{
			{"type": "PERMISSION_CHANGE", "data": map[string]any{"roleName": "x", "permissions": "all"}},
			good,
			{"type": "MEETING_CHANGE", "data": map[string]any{"operation": "MOVE", "conference": map[string]any{}, "extra": 1}},
			{"type": "NOPE"},
			{"type": "LOGGED_IN", "surprise": true},
			{"data": map[string]any{}},
			{"type": "LOGGED_IN", "occurredAt": "yesterday"},
			{"type": "LOGGED_IN", "sessionId": ""},
		}, nil), f.ingest(),
			invalid("Fix the fields listed in error.fields: events[0].data.permissions, events[2].data.extra, events[2].data.operation, events[3].type, events[4].surprise, events[5].type, events[6].occurredAt, events[7].sessionId.", map[string]string{
				"events[0].data.permissions": "must be an array of strings",
				"events[2].data.operation":   "must be one of [CREATE_OR_UPDATE DELETE]",
				"events[2].data.extra":       "is not a field of MEETING_CHANGE",
				"events[3].type":             "is not an event type (see the event reference)",
				"events[4].surprise":         "is not a known field",
				"events[5].type":             "is required",
				"events[6].occurredAt":       "must be an RFC 3339 time, like 2026-01-31T10:00:00.000Z",
				"events[7].sessionId":        "must not be empty",
			})},
		{"types Contrail records itself", ingestReq(svcA, []map[string]any{
			{"type": "CONTACT_ADDED"}, {"type": "EMAIL_FAILED"}, {"type": "AUDIT_LOG_VIEWED"}, {"type": "CLICK"}}, nil), f.ingest(),
			invalid("Fix the fields listed in error.fields: events[0].type, events[1].type, events[2].type, events[3].type.", map[string]string{
				"events[0].type": "is recorded by Contrail itself and cannot be ingested",
				"events[1].type": "is recorded by Contrail itself and cannot be ingested",
				"events[2].type": "is recorded by Contrail itself and cannot be ingested",
				"events[3].type": "is a co-browsing event; send it to POST /v1/cobrowse/sessions/{sessionId}/events",
			})},
		{"occurredAt too far ahead or too old", ingestReq(svcA, []map[string]any{
			{"type": "LOGGED_IN", "occurredAt": "2026-03-10T12:05:00Z"},
			{"type": "LOGGED_IN", "occurredAt": "2026-03-10T12:05:00.001Z"},
			{"type": "LOGGED_IN", "occurredAt": "2025-02-04T12:00:00Z"},
			{"type": "LOGGED_IN", "occurredAt": "2025-02-03T11:59:59Z"},
		}, nil), f.ingest(),
			invalid("Fix the fields listed in error.fields: events[1].occurredAt, events[3].occurredAt.", map[string]string{
				"events[1].occurredAt": "must not be more than 5 minutes in the future",
				"events[3].occurredAt": "must be within the last 400 days (the retention of platform events)",
			})},
		{"actor", ingestReq(svcA, []map[string]any{
			{"type": "LOGGED_IN", "actor": map[string]any{"type": "robot", "id": "r"}},
			{"type": "LOGGED_IN", "actor": map[string]any{"type": "user"}},
			{"type": "LOGGED_IN", "actor": map[string]any{"type": "system"}},
			{"type": "LOGGED_IN", "actor": map[string]any{"type": "user", "id": "u", "role": "x"}},
		}, nil), f.ingest(),
			invalid("Fix the fields listed in error.fields: events[0].actor.type, events[1].actor.id, events[3].actor.role.", map[string]string{
				"events[0].actor.type": "must be one of user, customer, service, system",
				"events[1].actor.id":   "must not be empty",
				"events[3].actor.role": "is not a known field",
			})},
		{"an admin may not name another actor", ingestReq(adminA, []map[string]any{{"type": "LOGGED_IN", "actor": map[string]any{"type": "user", "id": "u"}}}, nil), f.ingest(),
			invalid("Fix the fields listed in error.fields: events[0].actor.", map[string]string{"events[0].actor": "is taken from your token; only a service may record events on someone else's behalf"})},
		{"no events", ingestReq(svcA, []map[string]any{}, nil), f.ingest(),
			invalid("Send 1 to 100 events in a batch.", map[string]string{"events": "must hold 1 to 100 events"})},
		{"101 events", ingestReq(svcA, many(101, good), nil), f.ingest(),
			invalid("Send 1 to 100 events in a batch.", map[string]string{"events": "must hold 1 to 100 events"})},
		{"unknown top-level field", request(svcA, "POST /v1/audit-events", nil, nil, `{"events":[{"type":"LOGGED_IN"}],"tenantId":"other"}`, nil), f.ingest(),
			invalid("Remove the unknown field tenantId.", map[string]string{"tenantId": "is not a known field"})},
		{"a null event", request(svcA, "POST /v1/audit-events", nil, nil, `{"events":[{"type":"LOGGED_IN"},null,7]}`, nil), f.ingest(),
			invalid("Fix the fields listed in error.fields: events[1], events[2].", map[string]string{"events[1]": "must be an event object", "events[2]": "must be an event object"})},
		{"co-browsing: required fields and types", cobrowseReq(svcA, "cb-1", []map[string]any{
			click(nil), click(map[string]any{"isAgent": nil}), click(map[string]any{"occurredAt": nil}), click(map[string]any{"isAgent": "yes"}),
			click(map[string]any{"data": map[string]any{}}), click(map[string]any{"type": "LOGGED_IN"}), click(map[string]any{"sessionId": "x"}),
			click(map[string]any{"occurredAt": "2026-02-08T11:59:59Z"}), click(map[string]any{"occurredAt": "2026-02-08T12:00:00Z"}),
		}, nil), f.ingestCobrowse(),
			invalid("Fix the fields listed in error.fields: events[1].isAgent, events[2].occurredAt, events[3].isAgent, events[4].data.element, events[5].type, events[6].sessionId, events[7].occurredAt.", map[string]string{
				"events[1].isAgent":      "is required (true when the agent acted, false for the customer)",
				"events[2].occurredAt":   "is required",
				"events[3].isAgent":      "must be true or false",
				"events[4].data.element": "is required for CLICK",
				"events[5].type":         "is a platform event; send it to POST /v1/audit-events",
				"events[6].sessionId":    "is not a known field",
				"events[7].occurredAt":   "must be within the last 30 days (the retention of cobrowse events)",
			})},
		{"co-browsing: 501 events", cobrowseReq(svcA, "cb-1", many(501, click(nil)), nil), f.ingestCobrowse(),
			invalid("Send 1 to 500 events in a batch.", map[string]string{"events": "must hold 1 to 500 events"})},
		{"co-browsing: session id too long", cobrowseReq(svcA, strings.Repeat("s", 201), []map[string]any{click(nil)}, nil), f.ingestCobrowse(),
			invalid(sessionRule, map[string]string{"sessionId": "must be at most 200 characters"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := decode[errorBody](t, call(t, tc.h, tc.req), 400)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if n := count(t, f); n != 0 {
				t.Errorf("the table holds %d items after a rejected batch", n)
			}
		})
	}
}

func TestIdempotency(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := newFixture(t, now)
	key := map[string]string{"Idempotency-Key": "batch-1"}
	evs := []map[string]any{{"type": "LOGGED_IN"}, {"type": "ONLINE_STATUS_ONLINE"}}
	first := call(t, f.ingest(), ingestReq(svcA, evs, key))
	ids := decode[map[string][]string](t, first, 202)["ids"]

	f.Set(now.Add(time.Minute))
	again := call(t, f.ingest(), ingestReq(svcA, evs, key))
	if again.StatusCode != 202 || again.Body != first.Body || again.Headers["idempotent-replayed"] != "true" {
		t.Errorf("replay: %d %v %s, want the first response %s", again.StatusCode, again.Headers, again.Body, first.Body)
	}
	reused := decode[errorBody](t, call(t, f.ingest(), ingestReq(svcA, evs[:1], key)), 409)
	if reused.Error.Code != "idempotency_key_reused" {
		t.Errorf("reuse with another body: %+v", reused)
	}
	// A key names one request of the tenant: the same key on the other ingest route is
	// reused too, and stores nothing.
	otherRoute := decode[errorBody](t, call(t, f.ingestCobrowse(), cobrowseReq(svcA, "cb-1", []map[string]any{
		{"type": "CLICK", "occurredAt": "2026-03-10T11:00:00Z", "isAgent": true, "data": map[string]any{"element": "a"}}}, key)), 409)
	if diff := cmp.Diff(reused, otherRoute); diff != "" {
		t.Errorf("reuse on another route (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]audit.Event{}, decode[page](t, call(t, f.query(), queryReq(adminA, url.Values{"category": {"cobrowse"}})), 200).Items); diff != "" {
		t.Errorf("co-browsing events stored (-want +got):\n%s", diff)
	}

	got := decode[page](t, call(t, f.query(), queryReq(adminA, url.Values{"category": {"platform"}})), 200)
	var gotIDs []string
	for _, e := range got.Items {
		gotIDs = append(gotIDs, e.ID)
	}
	if diff := cmp.Diff([]string{ids[1], ids[0]}, gotIDs); diff != "" {
		t.Errorf("stored events (-want +got):\n%s", diff)
	}
}

// flakyDB fails every TransactWriteItems after the first ok calls.
type flakyDB struct {
	audit.TransactWriteAPI
	ok int
}

func (d *flakyDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if d.ok == 0 {
		return nil, errors.New("service unavailable")
	}
	d.ok--
	return d.TransactWriteAPI.TransactWriteItems(ctx, in, opts...)
}

// TestPartialWrite: a batch the table takes only in part is answered 503 with the ids stored
// and not stored; the retry with the same Idempotency-Key stores the rest under the same ids.
func TestPartialWrite(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := newFixture(t, now)
	var evs []map[string]any
	for range 60 {
		evs = append(evs, map[string]any{"type": "LOGGED_IN"}) // occurredAt defaults to the server time
	}
	key := map[string]string{"Idempotency-Key": "partial-1"}
	real := f.svc.Writer.DB
	f.svc.Writer.DB = &flakyDB{TransactWriteAPI: real, ok: 1}
	got := decode[errorBody](t, call(t, f.ingest(), ingestReq(svcA, evs, key)), 503)
	if got.Error.Code != "events_partially_stored" || len(got.Error.Stored) != 25 || len(got.Error.NotStored) != 35 {
		t.Fatalf("partial answer: %+v", got.Error)
	}
	if n := count(t, f); n != 25 {
		t.Errorf("%d items stored, want 25", n)
	}

	f.svc.Writer.DB = real
	f.Set(now.Add(90 * time.Second)) // the retry comes later; defaulted times stay the first attempt's
	ids := decode[map[string][]string](t, call(t, f.ingest(), ingestReq(svcA, evs, key)), 202)["ids"]
	if diff := cmp.Diff(append(got.Error.Stored, got.Error.NotStored...), ids); diff != "" {
		t.Errorf("ids of the retry (-first attempt +retry):\n%s", diff)
	}
	if n := count(t, f); n != 60 {
		t.Errorf("%d items stored after the retry, want 60", n)
	}
	all, _ := readAll(t, f.query(), func(q url.Values) eventsReq { return queryReq(adminA, q) }, url.Values{"type": {"LOGGED_IN"}}, 500)
	for _, e := range all {
		if e.OccurredAt != "2026-03-10T12:00:00.000Z" || e.RecordedAt != e.OccurredAt {
			t.Fatalf("event %s occurred %s, recorded %s; want the first attempt's time", e.ID, e.OccurredAt, e.RecordedAt)
		}
	}

	// Nothing stored at all: events_not_stored.
	f.svc.Writer.DB = &flakyDB{TransactWriteAPI: real}
	none := decode[errorBody](t, call(t, f.ingest(), ingestReq(svcA, evs[:2], nil)), 503)
	want := errorBody{}
	want.Error.Code, want.Error.Message = "events_not_stored", "No event of the batch was stored; send the same request again in a moment."
	want.Error.Stored, want.Error.NotStored = []string{}, none.Error.NotStored
	if diff := cmp.Diff(want, none); diff != "" || len(none.Error.NotStored) != 2 {
		t.Errorf("nothing stored (-want +got):\n%s", diff)
	}
}

const sessionRule = "Use a session id of 1 to 200 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-'."

// TestMalformedSessionIDs: a {sessionId} (or a platform event's sessionId) outside the
// documented form is a 400 naming it, on both co-browsing routes, before anything is read
// or written. Neither route has a not-found: one records under the id, the other answers an
// unknown session with an empty list.
func TestMalformedSessionIDs(t *testing.T) {
	f := newFixture(t, time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	click := []map[string]any{{"type": "CLICK", "occurredAt": "2026-03-10T11:00:00Z", "isAgent": true, "data": map[string]any{"element": "a"}}}
	const chars = "must hold only A-Z, a-z, 0-9, '.', '_', ':' and '-'"
	for _, tc := range []struct{ name, id, problem string }{
		{"2,100 characters", strings.Repeat("s", 2100), "must be at most 200 characters"},
		{"NUL", "cb\x00", chars},
		{"percent-encoded NUL", "cb%00", chars},
		{"dot dot slash", "../x", chars},
		{"hash", "cb#1", chars},
		{"not UTF-8", "cb\xff", chars},
		{"a space", "cb 1", chars},
		{"empty", "", "must not be empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fields := map[string]string{"sessionId": tc.problem}
			inBody := invalid("Fix the fields listed in error.fields: events[0].sessionId.", map[string]string{"events[0].sessionId": tc.problem})
			if tc.name == "NUL" { // in a body, the decoder refuses it first
				inBody = invalid("Fix the field listed in error.fields: events[0].sessionId.", map[string]string{
					"events[0].sessionId": "must not contain control characters (only tab and line breaks, and only in texts)"})
			}
			for _, c := range []struct {
				route string
				h     httpapi.LambdaHandler
				req   events.APIGatewayV2HTTPRequest
				want  errorBody
			}{
				{"POST", f.ingestCobrowse(), cobrowseReq(svcA, tc.id, click, nil), invalid(sessionRule, fields)},
				{"GET", f.session(), sessionReq(adminA, tc.id, nil), invalid("Fix the fields listed in error.fields: sessionId.", fields)},
				{"platform event", f.ingest(), ingestReq(svcA, []map[string]any{{"type": "LIVE_VIEW", "sessionId": tc.id, "data": map[string]any{"sessionId": "x"}}}, nil), inBody},
			} {
				got := decode[errorBody](t, call(t, c.h, c.req), 400)
				if diff := cmp.Diff(c.want, got); diff != "" {
					t.Errorf("%s (-want +got):\n%s", c.route, diff)
				}
			}
			if n := count(t, f); n != 0 {
				t.Errorf("the table holds %d items after rejected requests", n)
			}
		})
	}
}
