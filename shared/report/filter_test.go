package report

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/audit"
)

// pageAll reads every page of a log route with query q and returns the items, failing on
// anything but 200.
func pageAll(t *testing.T, s *stack, k Kind, q url.Values) []any {
	t.Helper()
	h, path := s.route(k)
	got := []any{}
	for page := 0; ; page++ {
		resp := get(t, h, path, q, "acme", "[admin]")
		if resp.StatusCode != 200 {
			t.Fatalf("%s?%s page %d: %d %s", path, q.Encode(), page, resp.StatusCode, resp.Body)
		}
		var body struct {
			Items      []any   `json:"items"`
			NextCursor *string `json:"nextCursor"`
		}
		if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
			t.Fatal(err)
		}
		got = append(got, body.Items...)
		if body.NextCursor == nil {
			return got
		}
		q = cloneQuery(q)
		q.Set("cursor", *body.NextCursor)
	}
}

func cloneQuery(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// countOf is the count of log k in c.
func countOf(c Counts, k Kind) int64 {
	return map[Kind]int64{Added: c.Added, Connected: c.Connected, Deleted: c.Deleted, Merged: c.Merged}[k]
}

// TestFilteredLogsAddUpToOverview is the console's drill-down: for every number of the
// overview (each log's count of every bySource, byChannel and byUser entry and of every day
// of daily), the log filtered the way the console asks for it lists exactly that many rows.
// A breakdown passes its key unchanged (source=<bySource key>, channel=<byChannel key>,
// user=<byUser userId>, "" included) with the overview's own from, to and tz; a day asks
// from=<date>&to=<next date> in tz, clipped to the overview's period when the period starts
// or ends inside that day. The fixture holds every archive shape (rollup, stale rollup,
// parts, duplicates) and events on the day boundaries of each zone.
func TestFilteredLogsAddUpToOverview(t *testing.T) {
	s := newStack(t)
	for _, pr := range []struct{ name, from, to, tz string }{
		{"jakarta", "2026-03-02", "2026-03-12", "Asia/Jakarta"},
		{"new york across DST", "2026-03-05", "2026-03-12", "America/New_York"},
		{"kolkata whole archive", "2026-02-25", "2026-03-16", "Asia/Kolkata"},
		{"rfc3339 edges", "2026-03-03T10:17:00.5Z", "2026-03-09T23:59:59.999Z", ""},
	} {
		t.Run(pr.name, func(t *testing.T) {
			p := mustPeriod(t, pr.from, pr.to, pr.tz)
			ov, err := s.svc.Engine.Overview(context.Background(), "acme", p)
			if err != nil {
				t.Fatal(err)
			}
			period := query("from", pr.from, "to", pr.to, "tz", pr.tz, "limit", "500")
			type drill struct {
				name string
				q    url.Values
				c    Counts
			}
			var drills []drill
			for _, k := range slices.Sorted(maps.Keys(ov.BySource)) {
				q := cloneQuery(period)
				q.Set("source", k)
				drills = append(drills, drill{"source=" + k, q, ov.BySource[k]})
			}
			for _, k := range slices.Sorted(maps.Keys(ov.ByChannel)) {
				q := cloneQuery(period)
				q.Set("channel", k)
				drills = append(drills, drill{"channel=" + k, q, ov.ByChannel[k]})
			}
			for _, u := range ov.ByUser {
				q := cloneQuery(period)
				q.Set("user", u.UserID)
				drills = append(drills, drill{"user=" + u.UserID, q, u.Counts})
			}
			for _, d := range ov.Daily {
				start, _ := time.ParseInLocation(time.DateOnly, d.Date, p.TZ)
				end := start.AddDate(0, 0, 1)
				from, to := d.Date, end.Format(time.DateOnly)
				if start.Before(p.From) {
					from = audit.FormatTime(p.From)
				}
				if end.After(p.To) {
					to = audit.FormatTime(p.To)
				}
				drills = append(drills, drill{"day=" + d.Date, query("from", from, "to", to, "tz", pr.tz, "limit", "500"), d.Counts})
			}
			if len(ov.BySource) < 4 || len(ov.ByChannel) < 4 || len(ov.ByUser) != len(users) || len(ov.Daily) < 6 {
				t.Fatalf("the fixture is too thin to prove anything: %d sources, %d channels, %d users, %d days",
					len(ov.BySource), len(ov.ByChannel), len(ov.ByUser), len(ov.Daily))
			}
			// Every row of the period is behind exactly one source, one user and one day, so
			// each of those three sets of drill-downs adds up to the totals too.
			for _, k := range Kinds {
				var sum int64
				for _, d := range drills {
					got := int64(len(pageAll(t, s, k, d.q)))
					if want := countOf(d.c, k); got != want {
						t.Errorf("%s %s: the log lists %d rows, the overview counts %d", k, d.name, got, want)
					}
					if strings.HasPrefix(d.name, "source=") {
						sum += got
					}
				}
				total := countOf(Counts{Added: ov.Totals.Added, Connected: ov.Totals.Connected, Deleted: ov.Totals.Deleted, Merged: ov.Totals.Merged}, k)
				if sum != total {
					t.Errorf("%s: the source drill-downs list %d rows, the total is %d", k, sum, total)
				}
			}
		})
	}
}

// TestLogFilters checks each filter and their combination (AND) list exactly the fixture's
// events they name, as JSON pages (three rows a page, so the cursor carries the filter
// across pages) and as CSV: source matches the event's source ("unknown" also the events
// without one), channel the event's channel, user the actor's id (never the name), and an
// unknown value lists nothing.
func TestLogFilters(t *testing.T) {
	s := newStack(t)
	const from, to, tz = "2026-02-25", "2026-03-16", "Asia/Kolkata"
	p := mustPeriod(t, from, to, tz)
	src := func(e audit.Event, v string) bool { return e.Source == v || (v == UnknownSource && e.Source == "") }
	for _, c := range []struct {
		name string
		kv   []string
		keep func(audit.Event) bool
	}{
		{"source", []string{"source", "import"}, func(e audit.Event) bool { return e.Source == "import" }},
		{"source unknown is no source", []string{"source", "unknown"}, func(e audit.Event) bool { return src(e, "unknown") }},
		{"channel", []string{"channel", "whatsapp"}, func(e audit.Event) bool { return e.Channel == "whatsapp" }},
		{"user is the actor id", []string{"user", "u-2"}, func(e audit.Event) bool { return e.Actor.ID == "u-2" }},
		{"empty user is the system", []string{"user", ""}, func(e audit.Event) bool { return e.Actor.ID == "" }},
		{"empty channel is no channel", []string{"channel", ""}, func(e audit.Event) bool { return e.Channel == "" }},
		{"all three", []string{"source", "incoming_message", "channel", "telegram", "user", "u-1"}, func(e audit.Event) bool {
			return e.Source == "incoming_message" && e.Channel == "telegram" && e.Actor.ID == "u-1"
		}},
		{"source and user", []string{"source", "user", "user", "svc-crm"}, func(e audit.Event) bool { return e.Source == "user" && e.Actor.ID == "svc-crm" }},
		{"a user name matches nothing", []string{"user", "Ana Lima"}, func(audit.Event) bool { return false }},
		{"an unknown source matches nothing", []string{"source", "fax"}, func(audit.Event) bool { return false }},
	} {
		for _, k := range Kinds {
			t.Run(c.name+"/"+string(k), func(t *testing.T) {
				wantItems, wantRecords := s.fx.wantLogWhere("acme", k, p.From, p.To, c.keep)
				q := query(append([]string{"from", from, "to", to, "tz", tz, "limit", "3"}, c.kv...)...)
				if d := cmp.Diff(wantItems, pageAll(t, s, k, q)); d != "" {
					t.Errorf("items (-want +got):\n%s", d)
				}
				q.Del("limit")
				q.Set("format", "csv")
				h, path := s.route(k)
				resp := get(t, h, path, q, "acme", "[admin]")
				if resp.StatusCode != 200 {
					t.Fatalf("csv: %d %s", resp.StatusCode, resp.Body)
				}
				got, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(resp.Body, BOM))).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(append([][]string{CSVHeader(k)}, wantRecords...), got); d != "" {
					t.Errorf("csv (-want +got):\n%s", d)
				}
			})
		}
	}
	// The fixture must give the filters something to find.
	if items, _ := s.fx.wantLogWhere("acme", Added, p.From, p.To, func(e audit.Event) bool { return e.Actor.ID == "" }); len(items) == 0 {
		t.Error("the fixture has no added contact by the system")
	}
}

// TestLogFilterRejects: a value over 200 characters, with a control character or given twice
// is a 400 naming the parameter; a cursor is bound to the filters of the query that issued it.
func TestLogFilterRejects(t *testing.T) {
	s := newStack(t)
	h, path := s.route(Added)
	cursorOf := func(kv ...string) string {
		t.Helper()
		resp := get(t, h, path, query(append([]string{"from", "2026-03-01", "to", "2026-03-14", "limit", "1"}, kv...)...), "acme", "[admin]")
		var page struct {
			NextCursor *string `json:"nextCursor"`
		}
		if err := json.Unmarshal([]byte(resp.Body), &page); err != nil || page.NextCursor == nil {
			t.Fatalf("first page: %s %v", resp.Body, err)
		}
		return *page.NextCursor
	}
	plain, bySource, bySystem := cursorOf(), cursorOf("source", "manual"), cursorOf("user", "")
	badCursor := `{"error":{"code":"invalid_cursor","fields":{"cursor":"was not issued for this query"},"message":"The cursor does not belong to this query; repeat the query without a cursor."}}`
	long := strings.Repeat("é", 201) // characters, not bytes: 402 bytes
	cases := []struct {
		name   string
		q      url.Values
		status int
		body   string
	}{
		{"source too long", query("source", long), 400,
			`{"error":{"code":"invalid_request","fields":{"source":"must be at most 200 characters"},"message":"Fix the fields listed in error.fields: source."}}`},
		{"source too long in csv", query("source", long, "format", "csv"), 400,
			`{"error":{"code":"invalid_request","fields":{"source":"must be at most 200 characters"},"message":"Fix the fields listed in error.fields: source."}}`},
		{"channel with a tab", query("channel", "what\tsapp"), 400,
			`{"error":{"code":"invalid_request","fields":{"channel":"must be one line, without control characters"},"message":"Fix the fields listed in error.fields: channel."}}`},
		{"user with a line separator, source with NUL", query("user", "u-1\u2028", "source", "a\x00"), 400,
			`{"error":{"code":"invalid_request","fields":{"source":"must be one line, without control characters","user":"must be one line, without control characters"},"message":"Fix the fields listed in error.fields: source, user."}}`},
		{"user given twice", url.Values{"user": {"u-1", "u-2"}}, 400,
			`{"error":{"code":"invalid_request","fields":{"user":"must be given once"},"message":"Fix the fields listed in error.fields: user."}}`},
		{"unfiltered cursor with a filter", query("from", "2026-03-01", "to", "2026-03-14", "source", "manual", "cursor", plain), 400, badCursor},
		{"filtered cursor without it", query("from", "2026-03-01", "to", "2026-03-14", "cursor", bySource), 400, badCursor},
		{"filtered cursor with another value", query("from", "2026-03-01", "to", "2026-03-14", "source", "api", "cursor", bySource), 400, badCursor},
		{"filtered cursor with another filter", query("from", "2026-03-01", "to", "2026-03-14", "channel", "manual", "cursor", bySource), 400, badCursor},
		{"system cursor without user", query("from", "2026-03-01", "to", "2026-03-14", "cursor", bySystem), 400, badCursor},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := get(t, h, path, c.q, "acme", "[admin]")
			want := events.APIGatewayV2HTTPResponse{StatusCode: c.status, Headers: map[string]string{"content-type": "application/json"}, Body: c.body}
			if d := cmp.Diff(want, resp); d != "" {
				t.Errorf("response (-want +got):\n%s", d)
			}
		})
	}
	for name, q := range map[string]url.Values{
		"200 characters":            query("source", long[len("é"):]),
		"its own filtered cursor":   query("from", "2026-03-01", "to", "2026-03-14", "limit", "1", "source", "manual", "cursor", bySource),
		"its own system cursor":     query("from", "2026-03-01", "to", "2026-03-14", "limit", "1", "user", "", "cursor", bySystem),
		"its own unfiltered cursor": query("from", "2026-03-01", "to", "2026-03-14", "limit", "1", "cursor", plain),
	} {
		t.Run(name, func(t *testing.T) {
			if resp := get(t, h, path, q, "acme", "[admin]"); resp.StatusCode != 200 {
				t.Errorf("%d %s", resp.StatusCode, resp.Body)
			}
		})
	}
}

// TestFilteredViewsAreRecorded: REPORT_VIEWED holds the filters that were set, by
// parameter name, next to the period and format; an unset one is absent.
func TestFilteredViewsAreRecorded(t *testing.T) {
	s := newStack(t)
	h, path := s.route(Connected)
	get(t, h, path, query("from", "2026-03-01", "to", "2026-03-08", "source", "api", "user", ""), "acme", "[admin]")
	get(t, h, path, query("from", "2026-03-01", "to", "2026-03-08", "channel", "sms", "format", "csv"), "acme", "[admin]")
	out, err := s.db.Query(context.Background(), &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: audit.PK("acme", "2026-03-14", 0)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []any
	for _, item := range out.Items {
		e, err := audit.FromItem(item)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Data)
	}
	want := []any{
		map[string]any{"report": "connected", "filters": map[string]any{"from": "2026-03-01T00:00:00.000Z", "to": "2026-03-08T00:00:00.000Z", "tz": "UTC", "format": "json", "source": "api", "user": ""}},
		map[string]any{"report": "connected", "filters": map[string]any{"from": "2026-03-01T00:00:00.000Z", "to": "2026-03-08T00:00:00.000Z", "tz": "UTC", "format": "csv", "channel": "sms"}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("REPORT_VIEWED data (-want +got):\n%s", d)
	}
}
