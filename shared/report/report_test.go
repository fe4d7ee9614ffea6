package report

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/ident"
)

func TestMain(m *testing.M) { stacktest.Main(m) }

var (
	fixtureOnce sync.Once
	theFixture  *fixture
)

// sharedFixture builds the archive once per test binary: the tests only read it.
func sharedFixture(t *testing.T) *fixture {
	t.Helper()
	fixtureOnce.Do(func() {
		st := &archive.S3Store{Client: stacktest.S3(t), Bucket: stacktest.Bucket(t)}
		theFixture = buildFixture(t, st, 40)
		writeRollups(t, theFixture)
	})
	if theFixture == nil {
		t.Fatal("the fixture could not be built")
	}
	return theFixture
}

// stack is a report service over a fixture in gofakes3, with its audit table in DynamoDB Local.
type stack struct {
	fx    *fixture
	svc   *Service
	db    *dynamodb.Client
	table string
}

func newStack(t *testing.T) *stack {
	t.Helper()
	fx := sharedFixture(t)
	st := fx.store
	db := stacktest.DynamoDB(t)
	table := stacktest.Tables(t)["AuditTable"]
	clock := func() time.Time { return fixtureNow }
	return &stack{fx: fx, db: db, table: table, svc: &Service{
		Engine:     NewEngine(st, clock).WithAuditTable(db, table, 1),
		DB:         db,
		AuditTable: table,
		Keys:       audit.Keys{Shards: 1},
		Retention:  audit.RetentionDays(400, 400, 400, 30),
		Cursors:    httpapi.NewCursors("test-secret"),
		IDs:        ident.NewGenerator(clock),
	}}
}

// get calls a route the way API Gateway does.
func get(t *testing.T, h httpapi.LambdaHandler, path string, q url.Values, tenant, groups string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	return stacktest.Call(t, h, stacktest.Request{
		Route: "GET " + path, Query: q.Encode(), Headers: map[string]string{"user-agent": "report-test"},
		As:        stacktest.Caller{Tenant: tenant, Sub: "admin-1", Name: "Rina Admin", Groups: groups},
		RequestID: "req-1", SourceIP: "198.51.100.7", UserAgent: "report-test",
	})
}

func (s *stack) route(k Kind) (httpapi.LambdaHandler, string) {
	return httpapi.Route(httpapi.AdminRoles, s.svc.Log(k)), "/v1/reports/contacts/" + string(k)
}

func mustPeriod(t *testing.T, from, to, tz string) Period {
	t.Helper()
	p, err := httpapi.ParsePeriod(from, to, tz, fixtureNow, 0)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func query(kv ...string) url.Values {
	q := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return q
}

// periods exercised by the log and overview tests.
var periods = []struct{ name, from, to, tz string }{
	{"jakarta", "2026-03-02", "2026-03-12", "Asia/Jakarta"},
	{"new york across DST", "2026-03-05", "2026-03-12", "America/New_York"},
	{"kolkata whole archive", "2026-02-25", "2026-03-16", "Asia/Kolkata"},
	{"utc one day", "2026-03-09", "2026-03-10", ""},
	{"rfc3339 edges", "2026-03-03T10:17:00.5Z", "2026-03-09T23:59:59.999Z", ""},
	{"default last 30 days", "", "", ""},
	{"empty", "2025-01-01", "2025-02-01", "Asia/Jakarta"},
}

func TestLogsJSONPages(t *testing.T) {
	s := newStack(t)
	for _, k := range Kinds {
		for _, pr := range periods {
			for _, limit := range []int{25, 500} {
				t.Run(string(k)+"/"+pr.name+"/limit="+strings.Repeat("", 0)+itoa(limit), func(t *testing.T) {
					p := mustPeriod(t, pr.from, pr.to, pr.tz)
					want, _ := s.fx.wantLog("acme", k, p.From, p.To)
					h, path := s.route(k)
					got := []any{}
					cursor := ""
					for page := 0; ; page++ {
						q := query("from", pr.from, "to", pr.to, "tz", pr.tz, "limit", itoa(limit))
						if cursor != "" {
							q.Set("cursor", cursor)
						}
						resp := get(t, h, path, q, "acme", "[admin]")
						if resp.StatusCode != 200 {
							t.Fatalf("page %d: %d %s", page, resp.StatusCode, resp.Body)
						}
						var body struct {
							Items      []any   `json:"items"`
							NextCursor *string `json:"nextCursor"`
						}
						if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
							t.Fatal(err)
						}
						if len(body.Items) > limit {
							t.Fatalf("page %d has %d items, limit %d", page, len(body.Items), limit)
						}
						got = append(got, body.Items...)
						if body.NextCursor == nil {
							break
						}
						cursor = *body.NextCursor
					}
					if d := cmp.Diff(want, got); d != "" {
						t.Errorf("items (-want +got):\n%s", d)
					}
				})
			}
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestLogsCSV(t *testing.T) {
	s := newStack(t)
	for _, k := range Kinds {
		for _, pr := range periods {
			t.Run(string(k)+"/"+pr.name, func(t *testing.T) {
				p := mustPeriod(t, pr.from, pr.to, pr.tz)
				_, want := s.fx.wantLog("acme", k, p.From, p.To)
				h, path := s.route(k)
				resp := get(t, h, path, query("from", pr.from, "to", pr.to, "tz", pr.tz, "format", "csv"), "acme", "[admin]")
				if resp.StatusCode != 200 {
					t.Fatalf("%d %s", resp.StatusCode, resp.Body)
				}
				wantHeaders := map[string]string{
					"content-type":        "text/csv; charset=utf-8",
					"content-disposition": `attachment; filename="contact-` + string(k) + "-" + localDate(p.From, p.TZ) + "-" + localDate(p.To, p.TZ) + `.csv"`,
				}
				if d := cmp.Diff(wantHeaders, resp.Headers); d != "" {
					t.Errorf("headers (-want +got):\n%s", d)
				}
				if !strings.HasPrefix(resp.Body, "\ufeff") {
					t.Fatalf("no BOM: %q", resp.Body[:min(20, len(resp.Body))])
				}
				r := csv.NewReader(strings.NewReader(strings.TrimPrefix(resp.Body, "\ufeff")))
				got, err := r.ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				titles := map[Kind][]string{
					Added:     {"Created At", "Contact ID", "Contact Name", "Source", "User"},
					Deleted:   {"Created At", "Contact ID", "Contact Name", "Source", "User"},
					Connected: {"Created At", "Contact ID", "Contact Name", "Source", "User", "Channel"},
					Merged:    {"Created At", "Primary Contact ID", "Contact Name", "Merged Contact IDs", "Source", "User"},
				}[k]
				if d := cmp.Diff(append([][]string{titles}, want...), got); d != "" {
					t.Errorf("csv (-want +got):\n%s", d)
				}
				if !strings.Contains(resp.Body, "\r\n") {
					t.Errorf("csv lines do not end in CRLF")
				}
			})
		}
	}
}

func TestOverview(t *testing.T) {
	s := newStack(t)
	h := httpapi.Route(httpapi.AdminRoles, s.svc.Overview)
	for _, pr := range periods {
		t.Run(pr.name, func(t *testing.T) {
			p := mustPeriod(t, pr.from, pr.to, pr.tz)
			tz := p.TZ
			want := s.fx.wantOverview("acme", p.From, p.To, tz)
			want.ArchivedThrough = aws.String(audit.FormatTime(fixtureNow.Add(-commitSlack)))
			resp := get(t, h, "/v1/reports/contacts/overview", query("from", pr.from, "to", pr.to, "tz", pr.tz), "acme", "[admin]")
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, resp.Body)
			}
			var got Overview
			if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("overview (-want +got):\n%s", d)
			}
		})
	}
}

// TestArchivedThrough puts the tenant's newest events in the audit table, some not yet
// archived, and checks the claim stops just before the oldest of those.
func TestArchivedThrough(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	keys := audit.Keys{Shards: 1}
	put := func(e audit.Event) {
		t.Helper()
		item, err := keys.Item(&e, audit.RetentionDays(400, 400, 400, 30))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	// Every archived event of today and yesterday is in the hot table too.
	yesterday := dayStart(fixtureNow).AddDate(0, 0, -1)
	for _, e := range s.fx.tenantEvents("acme", yesterday, fixtureNow) {
		put(e)
	}
	p := mustPeriod(t, "2026-03-14", "2026-03-15", "")
	t.Run("all archived", func(t *testing.T) {
		ov, err := s.svc.Engine.Overview(ctx, "acme", p)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(aws.String("2026-03-14T19:59:55.000Z"), ov.ArchivedThrough); d != "" {
			t.Error(d)
		}
	})
	gen := ident.NewGenerator(func() time.Time { return fixtureNow })
	inFlight := func(occurred, recorded time.Time) audit.Event {
		return audit.Event{ID: gen.At(occurred), TenantID: "acme", OccurredAt: audit.FormatTime(occurred), RecordedAt: audit.FormatTime(recorded),
			Type: TypeAdded, Category: audit.CategoryContact, Actor: users[0], Contact: &audit.ContactRef{ID: "c-new", Name: "New"}, Source: audit.SourceManual, Data: map[string]any{}}
	}
	// Two events of today and one ingested late for yesterday, none archived yet.
	put(inFlight(fixtureNow.Add(-40*time.Second), fixtureNow.Add(-40*time.Second)))
	put(inFlight(fixtureNow.Add(-10*time.Second), fixtureNow.Add(-10*time.Second)))
	put(inFlight(yesterday.Add(3*time.Hour), fixtureNow.Add(-25*time.Second)))
	t.Run("events in flight", func(t *testing.T) {
		ov, err := s.svc.Engine.Overview(ctx, "acme", p)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(aws.String("2026-03-14T19:59:19.999Z"), ov.ArchivedThrough); d != "" {
			t.Error(d)
		}
	})
}

func TestRejects(t *testing.T) {
	s := newStack(t)
	h, path := s.route(Added)
	ov := httpapi.Route(httpapi.AdminRoles, s.svc.Overview)
	first := get(t, h, path, query("from", "2026-03-01", "to", "2026-03-14", "limit", "2"), "acme", "[admin]")
	var page struct {
		NextCursor *string `json:"nextCursor"`
	}
	if err := json.Unmarshal([]byte(first.Body), &page); err != nil || page.NextCursor == nil {
		t.Fatalf("first page: %s %v", first.Body, err)
	}
	cur := *page.NextCursor
	badCursor := `{"error":{"code":"invalid_cursor","fields":{"cursor":"was not issued for this query"},"message":"The cursor does not belong to this query; repeat the query without a cursor."}}`
	cases := []struct {
		name   string
		h      httpapi.LambdaHandler
		path   string
		q      url.Values
		tenant string
		groups string
		status int
		body   string
	}{
		{"from after to", h, path, query("from", "2026-03-10", "to", "2026-03-01"), "acme", "[admin]", 400,
			`{"error":{"code":"invalid_period","fields":{"from":"must be before to"},"message":"Make from earlier than to."}}`},
		{"log over 366 days", h, path, query("from", "2025-01-01", "to", "2026-03-01"), "acme", "[admin]", 400,
			`{"error":{"code":"period_too_long","fields":{"to":"must be at most 366 days after from"},"message":"Ask for at most 366 days at a time."}}`},
		{"csv over 366 days", h, path, query("from", "2025-01-01", "to", "2026-03-01", "format", "csv"), "acme", "[admin]", 400,
			`{"error":{"code":"period_too_long","fields":{"to":"must be at most 366 days after from"},"message":"Ask for at most 366 days at a time."}}`},
		{"overview over 732 days", ov, "/v1/reports/contacts/overview", query("from", "2020-01-01", "to", "2026-03-01"), "acme", "[admin]", 400,
			`{"error":{"code":"period_too_long","fields":{"to":"must be at most 732 days after from"},"message":"Ask for at most 732 days at a time."}}`},
		{"bad time zone", h, path, query("tz", "Mars/Olympus"), "acme", "[admin]", 400,
			`{"error":{"code":"invalid_period","fields":{"tz":"must be an IANA time zone name, like Asia/Jakarta"},"message":"Fix the period parameters listed in error.fields."}}`},
		{"bad date", ov, "/v1/reports/contacts/overview", query("from", "2026-13-01"), "acme", "[admin]", 400,
			`{"error":{"code":"invalid_period","fields":{"from":"must be RFC 3339 (2026-01-31T10:00:00Z) or a date (2026-01-31)"},"message":"Fix the period parameters listed in error.fields."}}`},
		// Found by the route fuzzer (seed 1): the default end, 30 days after from, fell in
		// the year 10000, whose dates do not parse back, and the overview answered 500.
		{"overview from the last date of 9999", ov, "/v1/reports/contacts/overview", query("from", "9999-12-31"), "acme", "[admin]", 400,
			`{"error":{"code":"invalid_period","fields":{"to":"must lie in the years 1970 to 9999 (UTC); without to, the period ends 30 days after from, and without from it starts 30 days before to"},"message":"Ask for a period within the years 1970 to 9999."}}`},
		// Found by the route fuzzer (seed 5): from=0001-01-01 is Go's zero time, which the
		// archive reader takes for a bound not given, and the log answered 500.
		{"log from 0001-01-01", httpapi.Route(httpapi.AdminRoles, s.svc.Log(Deleted)), "/v1/reports/contacts/deleted", query("from", "0001-01-01"), "acme", "[admin]", 400,
			`{"error":{"code":"invalid_period","fields":{"from":"must lie in the years 1970 to 9999 (UTC); without to, the period ends 30 days after from, and without from it starts 30 days before to","to":"must lie in the years 1970 to 9999 (UTC); without to, the period ends 30 days after from, and without from it starts 30 days before to"},"message":"Ask for a period within the years 1970 to 9999."}}`},
		{"log from 1970", h, path, query("from", "1970-01-01", "to", "1970-01-31"), "acme", "[admin]", 200, `{"items":[],"nextCursor":null}`},
		{"log at the end of 9999", h, path, query("from", "9999-12-01", "to", "9999-12-31"), "acme", "[admin]", 200, `{"items":[],"nextCursor":null}`},
		{"bad format", h, path, query("format", "xlsx"), "acme", "[admin]", 400,
			`{"error":{"code":"invalid_request","fields":{"format":"must be json or csv"},"message":"Use format=json or format=csv."}}`},
		{"bad limit", h, path, query("limit", "501"), "acme", "[admin]", 400,
			`{"error":{"code":"invalid_request","fields":{"limit":"must be an integer from 1 to 500"},"message":"Use a limit from 1 to 500."}}`},
		{"cursor of another period", h, path, query("from", "2026-03-02", "to", "2026-03-14", "cursor", cur), "acme", "[admin]", 400, badCursor},
		{"cursor of another time zone", h, path, query("from", "2026-03-01", "to", "2026-03-14", "tz", "Asia/Jakarta", "cursor", cur), "acme", "[admin]", 400, badCursor},
		{"cursor of another log", httpapi.Route(httpapi.AdminRoles, s.svc.Log(Deleted)), "/v1/reports/contacts/deleted", query("from", "2026-03-01", "to", "2026-03-14", "cursor", cur), "acme", "[admin]", 400, badCursor},
		{"cursor of another tenant", h, path, query("from", "2026-03-01", "to", "2026-03-14", "cursor", cur), "other", "[admin]", 400, badCursor},
		{"tampered cursor", h, path, query("from", "2026-03-01", "to", "2026-03-14", "cursor", "x"+cur), "acme", "[admin]", 400, badCursor},
		{"agent on a log", h, path, nil, "acme", "[agent]", 403,
			`{"error":{"code":"forbidden","message":"This route needs one of the roles admin."}}`},
		{"agent on the overview", ov, "/v1/reports/contacts/overview", nil, "acme", "[agent]", 403,
			`{"error":{"code":"forbidden","message":"This route needs one of the roles admin."}}`},
		{"service on a log", h, path, nil, "acme", "[service]", 403,
			`{"error":{"code":"forbidden","message":"This route needs one of the roles admin."}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := get(t, c.h, c.path, c.q, c.tenant, c.groups)
			want := events.APIGatewayV2HTTPResponse{StatusCode: c.status, Headers: map[string]string{"content-type": "application/json"}, Body: c.body}
			if d := cmp.Diff(want, resp); d != "" {
				t.Errorf("response (-want +got):\n%s", d)
			}
		})
	}
}

// TestViewsAreRecorded checks each successful read writes one REPORT_VIEWED event and a
// refused one none.
func TestViewsAreRecorded(t *testing.T) {
	s := newStack(t)
	ov := httpapi.Route(httpapi.AdminRoles, s.svc.Overview)
	h, path := s.route(Merged)
	get(t, ov, "/v1/reports/contacts/overview", query("from", "2026-03-01", "to", "2026-03-08", "tz", "Asia/Jakarta"), "acme", "[admin]")
	get(t, h, path, query("from", "2026-03-01", "to", "2026-03-08", "format", "csv"), "acme", "[admin]")
	get(t, h, path, query("from", "2026-03-08", "to", "2026-03-01"), "acme", "[admin]") // 400: not a view
	get(t, h, path, nil, "acme", "[agent]")                                             // 403: not a view
	out, err := s.db.Query(context.Background(), &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: audit.PK("acme", "2026-03-14", 0)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []audit.Event
	for _, item := range out.Items {
		e, err := audit.FromItem(item)
		if err != nil {
			t.Fatal(err)
		}
		if len(e.ID) != 26 {
			t.Errorf("event id %q is not a ULID", e.ID)
		}
		e.ID = ""
		got = append(got, e)
	}
	view := func(report, from, to, tz, format string) audit.Event {
		return audit.Event{
			TenantID: "acme", OccurredAt: "2026-03-14T20:00:00.000Z", RecordedAt: "2026-03-14T20:00:00.000Z",
			Type: "REPORT_VIEWED", Category: audit.CategoryAccess, Source: audit.SourceUser,
			Actor:   audit.Actor{Type: audit.ActorUser, ID: "admin-1", Name: "Rina Admin"},
			Data:    map[string]any{"report": report, "filters": map[string]any{"from": from, "to": to, "tz": tz, "format": format}},
			Context: &audit.Context{IP: "198.51.100.7", UserAgent: "report-test", RequestID: "req-1"},
		}
	}
	want := []audit.Event{
		view("overview", "2026-02-28T17:00:00.000Z", "2026-03-07T17:00:00.000Z", "Asia/Jakarta", "json"),
		view("merged", "2026-03-01T00:00:00.000Z", "2026-03-08T00:00:00.000Z", "UTC", "csv"),
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("REPORT_VIEWED events (-want +got):\n%s", d)
	}
}

// TestCSVTooLarge checks a CSV over the Lambda response limit is a 413 pointing to exports.
func TestCSVTooLarge(t *testing.T) {
	s := newStack(t)
	s.svc.MaxCSV = 2000
	h, path := s.route(Added)
	resp := get(t, h, path, query("from", "2026-03-01", "to", "2026-03-14", "format", "csv"), "acme", "[admin]")
	want := events.APIGatewayV2HTTPResponse{StatusCode: 413, Headers: map[string]string{"content-type": "application/json"},
		Body: `{"error":{"code":"report_too_large","message":"This log is too large to download directly (over 6 MB); ask for a shorter period or export it with POST /v1/exports."}}`}
	if d := cmp.Diff(want, resp); d != "" {
		t.Errorf("response (-want +got):\n%s", d)
	}
}

func TestSafeCell(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "Budi": "Budi", "=1+1": "'=1+1", "+62": "'+62", "-x": "'-x", "@SUM": "'@SUM",
		"\tx": "'\tx", "\rx": "'\rx", "a=b": "a=b", "'quoted": "'quoted",
	} {
		if got := SafeCell(in); got != want {
			t.Errorf("SafeCell(%q) = %q, want %q", in, got, want)
		}
	}
}
