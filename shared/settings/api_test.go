package settings_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/settings"
)

// TestGetDefaults: a tenant that never saved settings reads the defaults (co-browsing input
// masked) at version 0, and reading writes nothing.
func TestGetDefaults(t *testing.T) {
	f := newFixture(t)
	stacktest.Diff(t, "GET /v1/settings", defaults, body(t, f.get(t, adminA), http.StatusOK))
	stacktest.Diff(t, "tables", snapshot{Contacts: []map[string]any{}, Audit: []map[string]any{}}, f.snapshot(t))
}

// TestPutRecordsEachChange: each PUT that changes a setting saves the item and records one
// SETTINGS_UPDATED event with what changed, in one transaction; GET reads what was saved; a
// PUT that changes nothing, and one that sent a stale version, write and record nothing.
func TestPutRecordsEachChange(t *testing.T) {
	f := newFixture(t)
	t1, t2, t3, t4 := now, now.Add(time.Hour), now.Add(2*time.Hour), now.Add(3*time.Hour)
	steps := []struct {
		name       string
		at         time.Time
		by         caller
		method     string
		body       string
		wantStatus int
		wantBody   map[string]any
		wantItem   map[string]any                 // the settings item after the step
		wantEvent  func(id string) map[string]any // the event the step adds, if any
	}{
		{"allow clear input text", t1, adminA, "PUT", `{"cobrowse":{"inputText":"clear"}}`, 200,
			view("clear", 1, &t1, &adminA), settingsItem("acme", "clear", 1, t1, adminA),
			func(id string) map[string]any {
				return f.auditItem(t, updated(adminA, id, t1, "clear", 1, change("masked", "clear")))
			}},
		{"GET reads it", t2, adminA, "GET", "", 200, view("clear", 1, &t1, &adminA), settingsItem("acme", "clear", 1, t1, adminA), nil},
		{"the same PUT again changes nothing and records nothing", t2, admin2A, "PUT", `{"cobrowse":{"inputText":"clear"}}`, 200,
			view("clear", 1, &t1, &adminA), settingsItem("acme", "clear", 1, t1, adminA), nil},
		{"trimmed, with the version read", t3, admin2A, "PUT", `{"cobrowse":{"inputText":" masked "},"version":1}`, 200,
			view("masked", 2, &t3, &admin2A), settingsItem("acme", "masked", 2, t3, admin2A),
			func(id string) map[string]any {
				return f.auditItem(t, updated(admin2A, id, t3, "masked", 2, change("clear", "masked")))
			}},
		{"a stale version is 409 and writes nothing", t4, adminA, "PUT", `{"cobrowse":{"inputText":"clear"},"version":1}`, 409,
			map[string]any{"error": map[string]any{"code": "settings_changed", "message": "The settings changed meanwhile; read them with GET /v1/settings and try again."}},
			settingsItem("acme", "masked", 2, t3, admin2A), nil},
		{"back to the defaults' value is a change like any other", t4, adminA, "PUT", `{"cobrowse":{"inputText":"clear"},"version":2}`, 200,
			view("clear", 3, &t4, &adminA), settingsItem("acme", "clear", 3, t4, adminA),
			func(id string) map[string]any {
				return f.auditItem(t, updated(adminA, id, t4, "clear", 3, change("masked", "clear")))
			}},
	}
	var events []map[string]any
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			*f.Now = st.at
			resp := f.do(t, f.svc, request(st.by, st.method, st.body, nil))
			stacktest.Diff(t, "response", st.wantBody, body(t, resp, st.wantStatus))
			got := f.snapshot(t)
			if st.wantEvent != nil {
				if len(got.Audit) != len(events)+1 {
					t.Fatalf("%d events after the step, want %d", len(got.Audit), len(events)+1)
				}
				events = append(events, st.wantEvent(got.Audit[len(events)]["id"].(string)))
			}
			stacktest.Diff(t, "tables", snapshot{Contacts: []map[string]any{st.wantItem}, Audit: orEmpty(events)}, got)
		})
	}
}

func orEmpty(items []map[string]any) []map[string]any {
	if items == nil {
		return []map[string]any{}
	}
	return items
}

// TestPutUnchangedWritesNothing: a PUT of the value in force, saved or a default, answers
// the settings as they are and writes nothing, its Idempotency-Key record included.
func TestPutUnchangedWritesNothing(t *testing.T) {
	f := newFixture(t)
	for i, b := range []string{`{"cobrowse":{"inputText":"masked"}}`, `{"cobrowse":{"inputText":"masked"},"version":0}`} {
		resp := f.put(t, adminA, b, map[string]string{"Idempotency-Key": fmt.Sprintf("unchanged-%d", i)})
		stacktest.Diff(t, "PUT "+b, defaults, body(t, resp, http.StatusOK))
	}
	stacktest.Diff(t, "tables", snapshot{Contacts: []map[string]any{}, Audit: []map[string]any{}}, f.snapshot(t))
}

// TestPutRejectsBadBodies: a body that is not exactly the settings to change is 400 naming
// what to fix, and writes nothing in either table.
func TestPutRejectsBadBodies(t *testing.T) {
	f := newFixture(t)
	if resp := f.put(t, adminA, `{"cobrowse":{"inputText":"clear"}}`, nil); resp.StatusCode != 200 {
		t.Fatalf("setup: %d %s", resp.StatusCode, resp.Body)
	}
	before := f.snapshot(t)
	invalid := func(message string, fields map[string]any) map[string]any {
		e := map[string]any{"code": "invalid_request", "message": message}
		if fields != nil {
			e["fields"] = fields
		}
		return map[string]any{"error": e}
	}
	fix := func(fields ...string) string {
		return "Fix the fields listed in error.fields: " + strings.Join(fields, ", ") + "."
	}
	const oneOf = "must be one of masked, clear"
	tests := []struct {
		name string
		body string
		want map[string]any
	}{
		{"no body", "", map[string]any{"error": map[string]any{"code": "invalid_body", "message": "Send a JSON object as the request body."}}},
		{"white space", " \n", map[string]any{"error": map[string]any{"code": "invalid_body", "message": "Send a JSON object as the request body."}}},
		{"not JSON", `cobrowse=clear`, map[string]any{"error": map[string]any{"code": "invalid_json", "message": "The request body is not valid JSON."}}},
		{"an array", `[]`, map[string]any{"error": map[string]any{"code": "invalid_body", "message": "Send a JSON object as the request body."}}},
		{"two values", `{"cobrowse":{"inputText":"clear"}} {}`, map[string]any{"error": map[string]any{"code": "invalid_body", "message": "The request body must hold a single JSON object and nothing after it."}}},
		{"empty object", `{}`, invalid(fix("cobrowse"), map[string]any{"cobrowse": `is required: send the settings to change, like {"cobrowse":{"inputText":"clear"}}`})},
		{"null group", `{"cobrowse":null}`, invalid(fix("cobrowse"), map[string]any{"cobrowse": `is required: send the settings to change, like {"cobrowse":{"inputText":"clear"}}`})},
		{"only a version", `{"version":1}`, invalid(fix("cobrowse"), map[string]any{"cobrowse": `is required: send the settings to change, like {"cobrowse":{"inputText":"clear"}}`})},
		{"empty group", `{"cobrowse":{}}`, invalid(fix("cobrowse.inputText"), map[string]any{"cobrowse.inputText": oneOf})},
		{"null setting", `{"cobrowse":{"inputText":null}}`, invalid(fix("cobrowse.inputText"), map[string]any{"cobrowse.inputText": oneOf})},
		{"bad value", `{"cobrowse":{"inputText":"plain"}}`, invalid(fix("cobrowse.inputText"), map[string]any{"cobrowse.inputText": oneOf})},
		{"wrong case", `{"cobrowse":{"inputText":"CLEAR"}}`, invalid(fix("cobrowse.inputText"), map[string]any{"cobrowse.inputText": oneOf})},
		{"empty value", `{"cobrowse":{"inputText":""}}`, invalid(fix("cobrowse.inputText"), map[string]any{"cobrowse.inputText": oneOf})},
		{"wrong type of setting", `{"cobrowse":{"inputText":true}}`, invalid("Fix the field listed in error.fields: cobrowse.inputText.", map[string]any{"cobrowse.inputText": "must be a string"})},
		{"wrong type of group", `{"cobrowse":"clear"}`, invalid("Fix the field listed in error.fields: cobrowse.", map[string]any{"cobrowse": "must be an object"})},
		{"wrong type of version", `{"cobrowse":{"inputText":"masked"},"version":"1"}`, invalid("Fix the field listed in error.fields: version.", map[string]any{"version": "must be a number"})},
		{"negative version", `{"cobrowse":{"inputText":"masked"},"version":-1}`, invalid(fix("version"), map[string]any{"version": "must be the version GET /v1/settings returned (0 or more)"})},
		{"two problems at once", `{"cobrowse":{"inputText":"x"},"version":-1}`, invalid(fix("cobrowse.inputText", "version"), map[string]any{"cobrowse.inputText": oneOf, "version": "must be the version GET /v1/settings returned (0 or more)"})},
		{"unknown setting", `{"cobrowse":{"inputText":"masked","recording":"off"}}`, invalid("Remove the unknown field cobrowse.recording.", map[string]any{"cobrowse.recording": "is not a known field"})},
		{"unknown group", `{"cobrowse":{"inputText":"masked"},"chat":{}}`, invalid("Remove the unknown field chat.", map[string]any{"chat": "is not a known field"})},
		{"a tenant in the body", `{"tenantId":"globex","cobrowse":{"inputText":"masked"}}`, invalid("Remove the unknown field tenantId.", map[string]any{"tenantId": "is not a known field"})},
		{"what only Contrail sets", `{"cobrowse":{"inputText":"masked"},"updatedAt":"2026-11-30T01:20:00.000Z"}`, invalid("Remove the unknown field updatedAt.", map[string]any{"updatedAt": "is not a known field"})},
		{"a name in another case", `{"Cobrowse":{"inputText":"masked"}}`, invalid("Remove the unknown field Cobrowse.", map[string]any{"Cobrowse": "is not a known field"})},
		{"a repeated name", `{"cobrowse":{"inputText":"masked","inputText":"clear"}}`, invalid("Fix the field listed in error.fields: cobrowse.inputText.", map[string]any{"cobrowse.inputText": "is repeated; send each field once"})},
		{"a control character", "{\"cobrowse\":{\"inputText\":\"clear\\u0000\"}}", invalid("Fix the field listed in error.fields: cobrowse.inputText.", map[string]any{"cobrowse.inputText": "must not contain control characters (only tab and line breaks, and only in texts)"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			*f.Now = now.Add(time.Hour)
			stacktest.Diff(t, "response", tt.want, body(t, f.put(t, adminA, tt.body, nil), http.StatusBadRequest))
			stacktest.Diff(t, "tables", before, f.snapshot(t))
		})
	}
}

// TestRoles: only an admin reads or changes the settings; an agent or a service gets 403
// and nothing is written.
func TestRoles(t *testing.T) {
	f := newFixture(t)
	forbidden := map[string]any{"error": map[string]any{"code": "forbidden", "message": "This route needs one of the roles admin."}}
	for _, c := range []caller{agentA, svcA} {
		for _, method := range []string{"GET", "PUT"} {
			t.Run(c.Sub+" "+method, func(t *testing.T) {
				resp := f.do(t, f.svc, request(c, method, `{"cobrowse":{"inputText":"clear"}}`, nil))
				stacktest.Diff(t, "response", forbidden, body(t, resp, http.StatusForbidden))
			})
		}
	}
	stacktest.Diff(t, "tables", snapshot{Contacts: []map[string]any{}, Audit: []map[string]any{}}, f.snapshot(t))
}

// TestTenantIsolation: each tenant has its own settings item; one tenant's change is neither
// seen nor undone by another's.
func TestTenantIsolation(t *testing.T) {
	f := newFixture(t)
	body(t, f.put(t, adminA, `{"cobrowse":{"inputText":"clear"}}`, nil), http.StatusOK)
	stacktest.Diff(t, "tenant B reads its own defaults", defaults, body(t, f.get(t, adminB), http.StatusOK))
	stacktest.Diff(t, "tenant B's PUT of its default changes nothing", defaults, body(t, f.put(t, adminB, `{"cobrowse":{"inputText":"masked"}}`, nil), http.StatusOK))
	stacktest.Diff(t, "tenant B's version is its own", map[string]any{"error": map[string]any{"code": "settings_changed", "message": "The settings changed meanwhile; read them with GET /v1/settings and try again."}},
		body(t, f.put(t, adminB, `{"cobrowse":{"inputText":"clear"},"version":1}`, nil), http.StatusConflict))
	stacktest.Diff(t, "tenant A still reads its change", view("clear", 1, &now, &adminA), body(t, f.get(t, adminA), http.StatusOK))
	got := f.snapshot(t)
	stacktest.Diff(t, "settings items", []map[string]any{settingsItem("acme", "clear", 1, now, adminA)}, got.Contacts)
	if len(got.Audit) != 1 || got.Audit[0]["tenantId"] != "acme" {
		t.Errorf("audit table holds %v, want tenant acme's one event", got.Audit)
	}
}

// TestIdempotencyKey: a PUT retried with its Idempotency-Key replays the first answer and
// records nothing, even after another change; the key with another body is 409.
func TestIdempotencyKey(t *testing.T) {
	f := newFixture(t)
	key := map[string]string{"Idempotency-Key": "settings-1"}
	first := f.put(t, adminA, `{"cobrowse":{"inputText":"clear"}}`, key)
	stacktest.Diff(t, "first", view("clear", 1, &now, &adminA), body(t, first, http.StatusOK))
	*f.Now = now.Add(time.Minute)
	body(t, f.put(t, admin2A, `{"cobrowse":{"inputText":"masked"}}`, nil), http.StatusOK)
	before := f.snapshot(t)

	*f.Now = now.Add(2 * time.Minute)
	retry := f.put(t, adminA, `{"cobrowse":{"inputText":"clear"}}`, key)
	stacktest.Diff(t, "replayed", first.Body, retry.Body)
	stacktest.Diff(t, "replay header", "true", retry.Headers["idempotent-replayed"])
	stacktest.Diff(t, "another body", map[string]any{"error": map[string]any{"code": "idempotency_key_reused", "message": "This Idempotency-Key was used for a different request in the last 24 hours; use a new key."}},
		body(t, f.put(t, adminA, `{"cobrowse":{"inputText":"masked"}}`, key), http.StatusConflict))
	stacktest.Diff(t, "tables", before, f.snapshot(t))
	if len(before.Audit) != 2 {
		t.Errorf("%d events, want 2 (one per change)", len(before.Audit))
	}
}

// TestIdempotentTwins: of two PUTs with the same key at once, the one that commits second
// answers with the first one's response and records nothing.
func TestIdempotentTwins(t *testing.T) {
	f := newFixture(t)
	key := map[string]string{"Idempotency-Key": "twin-1"}
	db := &racing{Client: f.DB}
	var first events.APIGatewayV2HTTPResponse
	db.before = func() {
		db.before = nil
		first = f.put(t, admin2A, `{"cobrowse":{"inputText":"clear"}}`, key)
	}
	second := f.do(t, f.service(db), request(admin2A, "PUT", `{"cobrowse":{"inputText":"clear"}}`, key))
	stacktest.Diff(t, "first", view("clear", 1, &now, &admin2A), body(t, first, http.StatusOK))
	stacktest.Diff(t, "second", first.Body, second.Body)
	stacktest.Diff(t, "replay header", "true", second.Headers["idempotent-replayed"])
	if got := f.snapshot(t); len(got.Audit) != 1 {
		t.Errorf("%d events, want 1", len(got.Audit))
	}
}

// racing is the contacts table's real client with another admin's change slipped in before
// each of the service's transactions, as if it had committed between the service's read and
// its write.
type racing struct {
	settings.Client
	before func()
}

func (r *racing) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if r.before != nil {
		r.before()
	}
	return r.Client.TransactWriteItems(ctx, in, opts...)
}

// TestConcurrentPuts: a PUT whose write loses to a change saved after its read never records
// a change from the state it read. Without a version it reads again and applies itself to
// the new state (nothing left to change: nothing recorded), up to settings.Attempts times,
// then 409; with the version it read, it is 409 at once.
func TestConcurrentPuts(t *testing.T) {
	conflict := map[string]any{"error": map[string]any{"code": "settings_changed", "message": "The settings changed meanwhile; read them with GET /v1/settings and try again."}}
	tests := []struct {
		name       string
		body       string
		race       []string // the other admin's PUTs before each of our transactions
		races      int      // how many of our transactions are raced
		status     int
		want       map[string]any
		wantItem   map[string]any
		wantEvents int // SETTINGS_UPDATED events in the end
	}{
		{"the same change won meanwhile: nothing left to record", `{"cobrowse":{"inputText":"clear"}}`,
			[]string{"clear"}, 1, 200, view("clear", 1, &now, &admin2A), settingsItem("acme", "clear", 1, now, admin2A), 1},
		{"another change won meanwhile: applied on top of it", `{"cobrowse":{"inputText":"clear"}}`,
			[]string{"clear", "masked"}, 1, 200, view("clear", 3, &now, &adminA), settingsItem("acme", "clear", 3, now, adminA), 3},
		{"with the version read: 409", `{"cobrowse":{"inputText":"clear"},"version":0}`,
			[]string{"clear"}, 1, 409, conflict, settingsItem("acme", "clear", 1, now, admin2A), 1},
		{"raced on every attempt: 409", `{"cobrowse":{"inputText":"clear"}}`,
			[]string{"clear", "masked"}, settings.Attempts, 409, conflict, settingsItem("acme", "masked", 2*float64(settings.Attempts), now, admin2A), 2 * settings.Attempts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			db := &racing{Client: f.DB}
			raced := 0
			db.before = func() {
				if raced >= tt.races {
					return
				}
				raced++
				for _, v := range tt.race {
					body(t, f.put(t, admin2A, `{"cobrowse":{"inputText":"`+v+`"}}`, nil), http.StatusOK)
				}
			}
			resp := f.do(t, f.service(db), request(adminA, "PUT", tt.body, nil))
			stacktest.Diff(t, "response", tt.want, body(t, resp, tt.status))
			got := f.snapshot(t)
			stacktest.Diff(t, "settings item", []map[string]any{tt.wantItem}, got.Contacts)
			stacktest.Diff(t, "events", tt.wantEvents, len(got.Audit))
			// Every event records a change from the state before it: versions 1, 2, ... once
			// each (the events share a millisecond, so their ids do not say which came first).
			var versions, want []float64
			for i, ev := range got.Audit {
				versions = append(versions, ev["data"].(map[string]any)["version"].(float64))
				want = append(want, float64(i+1))
			}
			slices.Sort(versions)
			stacktest.Diff(t, "versions the events record", want, versions)
		})
	}
}

// TestConcurrentPutsAtOnce: admins saving the same change at the same moment record it
// once, whoever wins; the others find nothing left to change, lose the race (409) or are
// told to retry (503, a transaction conflict).
func TestConcurrentPutsAtOnce(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	statuses := make([]int, 8)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := httpapi.Route(httpapi.AdminRoles, f.svc.Put)(context.Background(), request(adminA, "PUT", `{"cobrowse":{"inputText":"clear"}}`, nil))
			if err != nil {
				t.Error(err)
			}
			statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	for i, s := range statuses {
		if s != 200 && s != 409 && s != 503 {
			t.Errorf("PUT %d: status %d", i, s)
		}
	}
	got := f.snapshot(t)
	stacktest.Diff(t, "settings item", []map[string]any{settingsItem("acme", "clear", 1, now, adminA)}, got.Contacts)
	stacktest.Diff(t, "events", 1, len(got.Audit))
}

// TestSampleEvents runs the settings functions' sample events (events/*.json, what
// `sam local invoke -e` would send) through their routes.
func TestSampleEvents(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct {
		file string
		want map[string]any
	}{
		{"get-settings-default.json", defaults},
		{"put-settings-clear-input.json", view("clear", 1, &now, &caller{Sub: "7c0e9a52-0000-4000-8000-00000000ad01", Name: "Rina Admin"})},
	} {
		t.Run(tt.file, func(t *testing.T) {
			ev := stacktest.Sample[events.APIGatewayV2HTTPRequest](t, tt.file)
			stacktest.Diff(t, "response", tt.want, body(t, f.do(t, f.svc, ev), http.StatusOK))
		})
	}
}
