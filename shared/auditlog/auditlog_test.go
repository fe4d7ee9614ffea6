package auditlog_test

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/auditlog"
)

var reqContext = &audit.Context{IP: sourceIP, UserAgent: userAgent, RequestID: requestID}

// TestEveryTypeThroughEveryFilter ingests one event of every ingestible type, stores one of
// every type Contrail records itself (as its writers do), and reads each back through the
// query API with every filter.
func TestEveryTypeThroughEveryFilter(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := newFixture(t, now)
	db := stacktest.DynamoDB(t)
	t0 := now.Add(-30 * time.Hour) // the events span two UTC days
	var want []audit.Event

	var platform []map[string]any
	var cobrowse []map[string]any
	var pIdx, cIdx []int
	for i, s := range audit.Specs() {
		at := audit.FormatTime(t0.Add(time.Duration(i) * 37 * time.Minute))
		e := audit.Event{TenantID: "tenant-a", OccurredAt: at, RecordedAt: audit.FormatTime(now), Type: s.Type, Category: s.Category, Data: stacktest.SampleData(s, i)}
		switch s.Origin {
		case audit.Ingested:
			e.Actor = audit.Actor{Type: audit.ActorUser, ID: fmt.Sprintf("user-%d", i%3), Name: "User"}
			e.Source, e.Context, e.SessionID = audit.SourceAPI, reqContext, fmt.Sprintf("call-%d", i)
			platform = append(platform, map[string]any{"type": s.Type, "occurredAt": at, "sessionId": e.SessionID,
				"actor": map[string]any{"type": "user", "id": e.Actor.ID, "name": "User"}, "data": e.Data})
			pIdx = append(pIdx, len(want))
		case audit.Cobrowse:
			agent := i%2 == 0
			e.IsAgent, e.SessionID, e.Source, e.Context = &agent, "cb-1", audit.SourceAPI, reqContext
			e.Actor = audit.Actor{Type: audit.ActorCustomer}
			if agent {
				e.Actor.Type = audit.ActorUser
			}
			sent := e.Data
			if s.Type == "INPUT" { // length is Contrail's, and the tenant keeps the default: masked (TestInputMasking)
				sent = maps.Clone(e.Data)
				delete(sent, "length")
				e.Data["text"], e.Data["length"] = auditlog.MaskedText, float64(utf8.RuneCountInString(sent["text"].(string)))
			}
			cobrowse = append(cobrowse, map[string]any{"type": s.Type, "occurredAt": at, "isAgent": agent, "data": sent})
			cIdx = append(cIdx, len(want))
		default:
			e.ID = fmt.Sprintf("01JRECORDED%015d", i)
			e.Actor = audit.Actor{Type: audit.ActorUser, ID: fmt.Sprintf("user-%d", i%3), Name: "User"}
			e.Source = audit.SourceManual
			if s.Category == audit.CategoryContact || s.Category == audit.CategoryEmail {
				e.Contact = &audit.ContactRef{ID: fmt.Sprintf("contact-%d", i%4), Name: "Wati"}
			}
			item, err := f.svc.Keys.Item(&e, retention)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(f.tables["AuditTable"]), Item: item}); err != nil {
				t.Fatal(err)
			}
		}
		want = append(want, e)
	}
	if len(platform) == 0 || len(cobrowse) == 0 {
		t.Fatal("the registry has no ingestible types")
	}
	ids := decode[map[string][]string](t, call(t, f.ingest(), ingestReq(svcA, platform, nil)), 202)["ids"]
	for k, i := range pIdx {
		want[i].ID = ids[k]
	}
	ids = decode[map[string][]string](t, call(t, f.ingestCobrowse(), cobrowseReq(svcA, "cb-1", cobrowse, nil)), 202)["ids"]
	for k, i := range cIdx {
		want[i].ID = ids[k]
	}
	// Noise the filters must leave out: another tenant's events.
	call(t, f.ingest(), ingestReq(svcB, platform, nil))

	period := url.Values{"from": {audit.FormatTime(t0)}, "to": {audit.FormatTime(now.Add(-time.Hour))}}
	with := func(kv ...string) url.Values {
		q := cloneValues(period)
		for i := 0; i < len(kv); i += 2 {
			q.Add(kv[i], kv[i+1])
		}
		return q
	}
	match := func(keep func(e audit.Event) bool) []audit.Event {
		var out []audit.Event
		for _, e := range want {
			if keep(e) {
				out = append(out, e)
			}
		}
		return newestFirst(out)
	}
	type tc struct {
		name string
		q    url.Values
		want []audit.Event
	}
	cases := []tc{{"no filter", with(), newestFirst(want)}}
	for _, e := range want {
		cases = append(cases, tc{"type " + e.Type, with("type", e.Type), []audit.Event{e}})
		if e.Actor.ID != "" {
			cases = append(cases, tc{"actor and type " + e.Type, with("actorId", e.Actor.ID, "type", e.Type), []audit.Event{e}})
		}
		if e.Contact != nil {
			cases = append(cases, tc{"contact and type " + e.Type, with("contactId", e.Contact.ID, "type", e.Type), []audit.Event{e}})
		}
	}
	for _, c := range audit.Categories() {
		cases = append(cases, tc{"category " + c, with("category", c), match(func(e audit.Event) bool { return e.Category == c })})
		cases = append(cases, tc{"category and actor " + c, with("category", c, "actorId", "user-1"),
			match(func(e audit.Event) bool { return e.Category == c && e.Actor.ID == "user-1" })})
	}
	for _, a := range []string{"user-0", "user-1", "user-2"} {
		cases = append(cases, tc{"actor " + a, with("actorId", a), match(func(e audit.Event) bool { return e.Actor.ID == a })})
	}
	for _, c := range []string{"contact-0", "contact-1", "contact-3"} {
		cases = append(cases, tc{"contact " + c, with("contactId", c), match(func(e audit.Event) bool { return e.Contact != nil && e.Contact.ID == c })})
	}
	cases = append(cases,
		tc{"two types", with("type", "START_CALL", "type", "CLICK"), match(func(e audit.Event) bool { return e.Type == "START_CALL" || e.Type == "CLICK" })},
		tc{"type outside its category", with("type", "START_CALL", "category", "contact"), []audit.Event{}},
		tc{"narrow period", url.Values{"from": {want[3].OccurredAt}, "to": {want[6].OccurredAt}}, newestFirst(want[3:6])},
		tc{"unknown actor", with("actorId", "nobody"), []audit.Event{}},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			limit := max(2, len(c.want)/3) // about three pages each
			got, _ := readAll(t, f.query(), func(q url.Values) eventsReq { return queryReq(adminA, q) }, c.q, limit)
			diffEvents(t, "events", c.want, got)
		})
	}
}

// TestQueryRecordsView checks each read records AUDIT_LOG_VIEWED with its filters.
func TestQueryRecordsView(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := newFixture(t, now)
	decode[page](t, call(t, f.query(), queryReq(adminA, url.Values{"type": {"START_CALL", "LOGGED_IN"}, "actorId": {"u-9"}, "from": {"2026-03-01"}, "to": {"2026-03-11"}})), 200)
	f.Set(now.Add(time.Second))
	decode[page](t, call(t, f.session(), sessionReq(adminA, "cb-9", nil)), 200)
	f.Set(now.Add(2 * time.Second))
	got := decode[page](t, call(t, f.query(), queryReq(adminA, url.Values{"type": {"AUDIT_LOG_VIEWED"}, "to": {"2026-03-10T12:00:01.500Z"}})), 200)
	for i := range got.Items {
		got.Items[i].ID = ""
	}
	view := func(at string, filters map[string]any) audit.Event {
		return audit.Event{TenantID: "tenant-a", OccurredAt: at, RecordedAt: at, Type: "AUDIT_LOG_VIEWED", Category: audit.CategoryAccess,
			Actor: audit.Actor{Type: audit.ActorUser, ID: "admin-1", Name: "Rina Admin"}, Source: audit.SourceUser,
			Data: map[string]any{"filters": filters}, Context: reqContext}
	}
	want := []audit.Event{
		view("2026-03-10T12:00:01.000Z", map[string]any{"sessionId": "cb-9"}),
		view("2026-03-10T12:00:00.000Z", map[string]any{"type": []any{"LOGGED_IN", "START_CALL"}, "actorId": "u-9",
			"from": "2026-03-01T00:00:00.000Z", "to": "2026-03-11T00:00:00.000Z"}),
	}
	if diff := cmp.Diff(want, got.Items); diff != "" {
		t.Errorf("views (-want +got):\n%s", diff)
	}
}

// TestPaging reads 250 events spread over two UTC days and four write shards 50 at a time,
// through each kind of index.
func TestPaging(t *testing.T) {
	now := time.Date(2026, 3, 11, 6, 0, 0, 0, time.UTC)
	f := newFixture(t, now)
	start := time.Date(2026, 3, 10, 22, 10, 0, 0, time.UTC) // midnight falls inside the second page
	var want []audit.Event
	for b := range 3 {
		var batch []map[string]any
		for i := range 100 {
			n := b*100 + i
			if n == 250 {
				break
			}
			// Five events share each millisecond: the id orders them.
			at := audit.FormatTime(start.Add(time.Duration(n/5) * 3 * time.Minute))
			typ := []string{"LOGGED_IN", "ONLINE_STATUS_ONLINE", "ONLINE_STATUS_OFFLINE"}[n%3]
			batch = append(batch, map[string]any{"type": typ, "occurredAt": at, "actor": map[string]any{"type": "user", "id": "u-1"}})
			want = append(want, audit.Event{TenantID: "tenant-a", OccurredAt: at, RecordedAt: audit.FormatTime(now), Type: typ,
				Category: audit.CategoryPlatform, Actor: audit.Actor{Type: audit.ActorUser, ID: "u-1"}, Source: audit.SourceAPI,
				Data: map[string]any{}, Context: reqContext})
		}
		ids := decode[map[string][]string](t, call(t, f.ingest(), ingestReq(svcA, batch, nil)), 202)["ids"]
		for i, id := range ids {
			want[b*100+i].ID = id
		}
	}
	if audit.Day(want[0].OccurredAt) == audit.Day(want[249].OccurredAt) {
		t.Fatal("the events do not cross a day")
	}
	period := url.Values{"from": {"2026-03-10"}, "to": {"2026-03-12"}}
	for _, tc := range []struct {
		name  string
		extra url.Values
	}{
		{"table shards", nil},
		{"ByCategory", url.Values{"category": {"platform"}}},
		{"ByType, three types", url.Values{"type": {"LOGGED_IN", "ONLINE_STATUS_ONLINE", "ONLINE_STATUS_OFFLINE"}}},
		{"ByActor", url.Values{"actorId": {"u-1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := cloneValues(period)
			for k, v := range tc.extra {
				q[k] = v
			}
			got, pages := readAll(t, f.query(), func(q url.Values) eventsReq { return queryReq(adminA, q) }, q, 50)
			diffEvents(t, "all pages", newestFirst(want), got)
			if pages != 5 {
				t.Errorf("%d pages, want 5", pages)
			}
			crossing := 0
			for i := 0; i+50 <= len(got); i += 50 {
				if audit.Day(got[i].OccurredAt) != audit.Day(got[i+49].OccurredAt) {
					crossing++
				}
			}
			if crossing != 1 {
				t.Errorf("%d pages cross a day, want 1", crossing)
			}
		})
	}
}

func TestCobrowseSessionInOrder(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := newFixture(t, now)
	start := now.Add(-2 * time.Hour)
	var batch []map[string]any
	var want []audit.Event
	for i := range 500 {
		at := audit.FormatTime(start.Add(time.Duration(i/2) * 250 * time.Millisecond)) // pairs share a millisecond
		agent := i%3 == 0
		actor := audit.Actor{Type: audit.ActorCustomer}
		if agent {
			actor.Type = audit.ActorUser
		}
		data := map[string]any{"element": fmt.Sprintf("#el-%d", i)}
		batch = append(batch, map[string]any{"type": "CLICK", "occurredAt": at, "isAgent": agent, "data": data})
		want = append(want, audit.Event{TenantID: "tenant-a", OccurredAt: at, RecordedAt: audit.FormatTime(now), Type: "CLICK",
			Category: audit.CategoryCobrowse, Actor: actor, Source: audit.SourceAPI, SessionID: "cb-500", IsAgent: &agent,
			Data: data, Context: reqContext})
	}
	ids := decode[map[string][]string](t, call(t, f.ingestCobrowse(), cobrowseReq(svcA, "cb-500", batch, nil)), 202)["ids"]
	for i, id := range ids {
		want[i].ID = id
	}
	// Another session and another tenant's session of the same id stay out.
	call(t, f.ingestCobrowse(), cobrowseReq(svcA, "cb-other", batch[:3], nil))
	call(t, f.ingestCobrowse(), cobrowseReq(svcB, "cb-500", batch[:3], nil))
	for _, limit := range []int{500, 100, 7} {
		t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
			got, _ := readAll(t, f.session(), func(q url.Values) eventsReq { return sessionReq(adminA, "cb-500", q) }, nil, limit)
			diffEvents(t, "session", want, got)
		})
	}
}

func TestCursorIsBound(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := newFixture(t, now)
	var evs []map[string]any
	for i := range 5 {
		evs = append(evs, map[string]any{"type": "LOGGED_IN", "occurredAt": audit.FormatTime(now.Add(-time.Duration(i+1) * time.Minute))})
	}
	for _, c := range []caller{svcA, svcB} {
		decode[map[string][]string](t, call(t, f.ingest(), ingestReq(c, evs, nil)), 202)
		decode[map[string][]string](t, call(t, f.ingestCobrowse(), cobrowseReq(c, "cb-1", []map[string]any{
			{"type": "CLICK", "occurredAt": evs[0]["occurredAt"], "isAgent": true, "data": map[string]any{"element": "a"}},
			{"type": "CLICK", "occurredAt": evs[1]["occurredAt"], "isAgent": true, "data": map[string]any{"element": "b"}},
		}, nil)), 202)
	}
	logQ := url.Values{"type": {"LOGGED_IN"}, "limit": {"2"}}
	logPage := decode[page](t, call(t, f.query(), queryReq(adminA, logQ)), 200)
	sessPage := decode[page](t, call(t, f.session(), sessionReq(adminA, "cb-1", url.Values{"limit": {"1"}})), 200)
	if logPage.NextCursor == nil || sessPage.NextCursor == nil {
		t.Fatal("no next cursor")
	}
	withCursor := func(q url.Values, cur string) url.Values {
		q = cloneValues(q)
		q.Set("cursor", cur)
		return q
	}
	type check struct {
		name string
		h    eventsHandler
		req  eventsReq
	}
	checks := []check{
		{"log cursor with tenant B's token", f.query(), queryReq(adminB, withCursor(logQ, *logPage.NextCursor))},
		{"log cursor with another filter", f.query(), queryReq(adminA, withCursor(url.Values{"type": {"START_CALL"}}, *logPage.NextCursor))},
		{"log cursor with another period", f.query(), queryReq(adminA, withCursor(url.Values{"type": {"LOGGED_IN"}, "from": {"2026-03-01"}}, *logPage.NextCursor))},
		{"log cursor tampered", f.query(), queryReq(adminA, withCursor(logQ, "x"+*logPage.NextCursor))},
		{"session cursor on the log", f.query(), queryReq(adminA, withCursor(logQ, *sessPage.NextCursor))},
		{"session cursor with tenant B's token", f.session(), sessionReq(adminB, "cb-1", withCursor(nil, *sessPage.NextCursor))},
		{"session cursor on another session", f.session(), sessionReq(adminA, "cb-2", withCursor(nil, *sessPage.NextCursor))},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			got := decode[errorBody](t, call(t, c.h, c.req), 400)
			want := errorBody{}
			want.Error.Code = "invalid_cursor"
			want.Error.Message = "The cursor does not belong to this query; repeat the query without a cursor."
			want.Error.Fields = map[string]string{"cursor": "was not issued for this query"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
	// The same cursor with the right token and query goes on.
	next := decode[page](t, call(t, f.query(), queryReq(adminA, withCursor(logQ, *logPage.NextCursor))), 200)
	if len(next.Items) != 2 {
		t.Errorf("second page has %d items, want 2", len(next.Items))
	}
}

func TestRoles(t *testing.T) {
	f := newFixture(t, time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	one := []map[string]any{{"type": "LOGGED_IN"}}
	click := []map[string]any{{"type": "CLICK", "occurredAt": "2026-03-10T11:00:00Z", "isAgent": true, "data": map[string]any{"element": "a"}}}
	forbidden := func(roles string) errorBody {
		var b errorBody
		b.Error.Code, b.Error.Message = "forbidden", "This route needs one of the roles "+roles+"."
		return b
	}
	for _, tc := range []struct {
		name   string
		h      eventsHandler
		req    eventsReq
		status int
		want   *errorBody
	}{
		{"agent reads the log", f.query(), queryReq(agentA, nil), 403, ptr(forbidden("admin"))},
		{"agent reads a session", f.session(), sessionReq(agentA, "cb-1", nil), 403, ptr(forbidden("admin"))},
		{"service reads the log", f.query(), queryReq(svcA, nil), 403, ptr(forbidden("admin"))},
		{"service reads a session", f.session(), sessionReq(svcA, "cb-1", nil), 403, ptr(forbidden("admin"))},
		{"agent ingests", f.ingest(), ingestReq(agentA, one, nil), 403, ptr(forbidden("service or admin"))},
		{"agent ingests co-browsing", f.ingestCobrowse(), cobrowseReq(agentA, "cb-1", click, nil), 403, ptr(forbidden("service"))},
		{"admin ingests co-browsing", f.ingestCobrowse(), cobrowseReq(adminA, "cb-1", click, nil), 403, ptr(forbidden("service"))},
		{"admin reads the log", f.query(), queryReq(adminA, nil), 200, nil},
		{"admin reads a session", f.session(), sessionReq(adminA, "cb-1", nil), 200, nil},
		{"admin ingests", f.ingest(), ingestReq(adminA, one, nil), 202, nil},
		{"service ingests", f.ingest(), ingestReq(svcA, one, nil), 202, nil},
		{"service ingests co-browsing", f.ingestCobrowse(), cobrowseReq(svcA, "cb-1", click, nil), 202, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := call(t, tc.h, tc.req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, resp.Body)
			}
			if tc.want != nil {
				if diff := cmp.Diff(*tc.want, decode[errorBody](t, resp, tc.status)); diff != "" {
					t.Errorf("error (-want +got):\n%s", diff)
				}
			}
		})
	}
	// Who the ingested events name as actor: the admin user, or the service.
	got := decode[page](t, call(t, f.query(), queryReq(adminA, url.Values{"type": {"LOGGED_IN"}})), 200)
	var actors []audit.Actor
	for _, e := range got.Items {
		actors = append(actors, e.Actor)
	}
	slices.SortFunc(actors, func(a, b audit.Actor) int { return cmpString(a.Type, b.Type) })
	if diff := cmp.Diff([]audit.Actor{{Type: "service", ID: "svc-telephony", Name: "Telephony"}, {Type: "user", ID: "admin-1", Name: "Rina Admin"}}, actors); diff != "" {
		t.Errorf("actors (-want +got):\n%s", diff)
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
