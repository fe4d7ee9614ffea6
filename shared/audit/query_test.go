package audit_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/tenant"
)

var retention = audit.RetentionDays(400, 400, 400, 30)

// put stores events directly, the way the writers do.
func put(t testing.TB, db *dynamodb.Client, table string, keys audit.Keys, evs []audit.Event) {
	t.Helper()
	for i := range evs {
		item, err := keys.Item(&evs[i], retention)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
			t.Fatalf("put event %d: %v", i, err)
		}
	}
}

func event(tenant tenant.ID, id, typ string, at time.Time, contactID string, data map[string]any) audit.Event {
	e := audit.Event{
		ID: id, TenantID: tenant, OccurredAt: audit.FormatTime(at), RecordedAt: audit.FormatTime(at),
		Type: typ, Category: audit.CategoryOf(typ),
		Actor: audit.Actor{Type: audit.ActorUser, ID: "u-" + id[len(id)-1:], Name: "User"},
		Data:  data,
	}
	if contactID != "" {
		e.Contact = &audit.ContactRef{ID: contactID, Name: "Contact " + contactID}
	}
	if e.Data == nil {
		e.Data = map[string]any{}
	}
	return e
}

// newestFirst sorts events by sort key, newest first.
func newestFirst(evs []audit.Event) []audit.Event {
	out := slices.Clone(evs)
	slices.SortFunc(out, func(a, b audit.Event) int {
		return -strings.Compare(audit.SK(a.OccurredAt, a.ID), audit.SK(b.OccurredAt, b.ID))
	})
	return out
}

func TestHistory(t *testing.T) {
	db := stacktest.DynamoDB(t)
	table := stacktest.Tables(t)["AuditTable"]
	keys := audit.Keys{Shards: 4}
	base := time.Date(2026, 3, 10, 22, 0, 0, 0, time.UTC)
	pad := strings.Repeat("x", 90_000) // 12 of these exceed one 1 MB page

	var all []audit.Event
	add := func(tenant tenant.ID, contact, typ string, at time.Time, data map[string]any) audit.Event {
		e := event(tenant, fmt.Sprintf("01J%023d", len(all)), typ, at, contact, data)
		all = append(all, e)
		return e
	}
	for i := range 40 {
		at := base.Add(time.Duration(i) * 17 * time.Minute) // crosses midnight
		contact := []string{"c1", "c2", "c3"}[i%3]
		typ := []string{"COMMENT_ADDED", "CONTACT_UPDATED"}[i%2]
		data := map[string]any{"text": pad}
		if typ == "CONTACT_UPDATED" {
			data = map[string]any{"changes": map[string]any{"name": map[string]any{"from": "a", "to": pad}}}
		}
		add("t1", contact, typ, at, data)
	}
	// Several events in the same millisecond: the id decides their order.
	for range 3 {
		add("t1", "c1", "CONTACT_ARCHIVED", base.Add(time.Hour), nil)
	}
	// Another tenant with the same contact ids, never returned.
	for i := range 5 {
		add("t2", "c1", "COMMENT_ADDED", base.Add(time.Duration(i)*time.Minute), map[string]any{"text": "other"})
	}
	put(t, db, table, keys, all)
	r := &audit.Reader{DB: db, Table: table, Keys: keys}

	want := func(tenant tenant.ID, contacts, types []string, from, to time.Time) []audit.Event {
		var out []audit.Event
		for _, e := range all {
			if e.TenantID == tenant && slices.Contains(contacts, e.Contact.ID) && (len(types) == 0 || slices.Contains(types, e.Type)) &&
				!e.Occurred().Before(from) && e.Occurred().Before(to) {
				out = append(out, e)
			}
		}
		return newestFirst(out)
	}
	from, to := base.Add(-time.Hour), base.Add(24*time.Hour)
	cases := []struct {
		name     string
		contacts []string
		types    []string
		from, to time.Time
		limit    int
	}{
		{"merged contacts, pages of 7", []string{"c1", "c2"}, nil, from, to, 7},
		{"one contact, one page", []string{"c3"}, nil, from, to, 500},
		{"type filter", []string{"c1", "c2", "c3"}, []string{"CONTACT_UPDATED", "CONTACT_ARCHIVED"}, from, to, 4},
		{"period inside", []string{"c1", "c2", "c3"}, nil, base.Add(2 * time.Hour), base.Add(5 * time.Hour), 3},
		{"period excludes everything", []string{"c1"}, nil, base.Add(-48 * time.Hour), base.Add(-24 * time.Hour), 10},
		{"duplicate ids", []string{"c1", "c1"}, nil, from, to, 50},
		{"limit 1", []string{"c2"}, nil, from, to, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []audit.Event
			after := ""
			for pages := 0; ; pages++ {
				if pages > 100 {
					t.Fatal("no end of pages")
				}
				evs, next, err := r.History(context.Background(), "t1", tc.contacts, tc.types, tc.from, tc.to, after, tc.limit)
				if err != nil {
					t.Fatal(err)
				}
				if len(evs) > tc.limit {
					t.Fatalf("page of %d events, limit %d", len(evs), tc.limit)
				}
				got = append(got, evs...)
				if next == "" {
					break
				}
				if len(evs) != tc.limit {
					t.Fatalf("short page of %d events (limit %d) with a next position", len(evs), tc.limit)
				}
				after = next
			}
			w := want("t1", tc.contacts, tc.types, tc.from, tc.to)
			if w == nil {
				w = []audit.Event{}
			}
			if got == nil {
				got = []audit.Event{}
			}
			if diff := cmp.Diff(w, got); diff != "" {
				t.Errorf("history (-want +got):\n%s", diff)
			}
		})
	}
}

// sparseYear stores a few events spread over a year (gaps of weeks, some days with two
// events, one on the period's first and one on its last day) and returns them.
func sparseYear(t testing.TB, db *dynamodb.Client, table string, keys audit.Keys) []audit.Event {
	t.Helper()
	var evs []audit.Event
	days := []int{0, 1, 1, 9, 40, 41, 120, 200, 201, 201, 290, 364}
	for i, d := range days {
		at := time.Date(2025, 12, 1, 23, 59, 59, 0, time.UTC).AddDate(0, 0, d).Add(-time.Duration(i) * time.Hour)
		typ := []string{"LOGGED_IN", "AUDIT_LOG_VIEWED", "ROLE_CHANGE"}[i%3]
		e := event("sparse", fmt.Sprintf("01K%023d", i), typ, at, "", nil)
		e.Actor.ID = []string{"u-1", "u-2"}[i%2]
		evs = append(evs, e)
	}
	put(t, db, table, keys, evs)
	return evs
}

// A year with a few events: every filter's reading, in windows of days or one day after
// another, pages through all of them newest first, each once.
func TestLogSparseYear(t *testing.T) {
	db := stacktest.DynamoDB(t)
	table := stacktest.Tables(t)["AuditTable"]
	keys := audit.Keys{Shards: 3}
	evs := sparseYear(t, db, table, keys)
	from, to := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	filters := []struct {
		name string
		f    audit.Filter
		keep func(audit.Event) bool
	}{
		{"table shards", audit.Filter{}, func(audit.Event) bool { return true }},
		{"ByCategory", audit.Filter{Category: audit.CategoryAccess}, func(e audit.Event) bool { return e.Category == audit.CategoryAccess }},
		{"ByType, two types", audit.Filter{Types: []string{"LOGGED_IN", "ROLE_CHANGE"}}, func(e audit.Event) bool { return e.Type != "AUDIT_LOG_VIEWED" }},
		{"ByActor", audit.Filter{ActorID: "u-2"}, func(e audit.Event) bool { return e.Actor.ID == "u-2" }},
	}
	for _, fl := range filters {
		want := newestFirst(slices.DeleteFunc(slices.Clone(evs), func(e audit.Event) bool { return !fl.keep(e) }))
		if len(want) < 3 {
			t.Fatalf("%s: only %d events match; the test needs more", fl.name, len(want))
		}
		for _, window := range []int{1, 3, 0} {
			t.Run(fmt.Sprintf("%s/window %d", fl.name, window), func(t *testing.T) {
				t.Parallel() // the events are only read
				r := &audit.Reader{DB: db, Table: table, Keys: keys, MaxDayWindow: window}
				f := fl.f
				f.From, f.To = from, to
				var got []audit.Event
				after := ""
				for pages := 1; ; pages++ {
					evs, next, err := r.Log(context.Background(), "sparse", f, after, 2)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, evs...)
					if next == "" {
						break
					}
					if pages > len(want) {
						t.Fatalf("more than %d pages", len(want))
					}
					after = next
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("events (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// slowDB adds a fixed latency to every Query of DynamoDB Local, which answers in about a
// millisecond on this machine while DynamoDB answers in several, and counts the Queries.
type slowDB struct {
	audit.QueryAPI
	latency time.Duration
	queries atomic.Int64
}

func (s *slowDB) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	s.queries.Add(1)
	time.Sleep(s.latency)
	return s.QueryAPI.Query(ctx, in, opts...)
}

// BenchmarkLogSparseYear reads the first page (50) of a sparse year's audit log (12 events,
// 4 write shards: 1,464 partitions) from DynamoDB Local, one day after another and in
// doubling windows of days, as it answers and with 5 ms added to each Query (DynamoDB's
// round trip). The ratio of the two readings is what the windows save.
//
//	go test ./shared/audit -run '^$' -bench LogSparseYear -benchtime 5x
func BenchmarkLogSparseYear(b *testing.B) {
	db := stacktest.DynamoDB(b)
	table := stacktest.Tables(b)["AuditTable"]
	keys := audit.Keys{Shards: 4}
	evs := sparseYear(b, db, table, keys)
	f := audit.Filter{From: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	for _, latency := range []time.Duration{0, 5 * time.Millisecond} {
		for _, window := range []int{1, 0} {
			name := fmt.Sprintf("latency %s/%s", latency, map[int]string{1: "one day at a time", 0: "windows of days"}[window])
			b.Run(name, func(b *testing.B) {
				slow := &slowDB{QueryAPI: db, latency: latency}
				r := &audit.Reader{DB: slow, Table: table, Keys: keys, MaxDayWindow: window}
				for b.Loop() {
					got, _, err := r.Log(context.Background(), "sparse", f, "", 50)
					if err != nil || len(got) != len(evs) {
						b.Fatalf("%d events, %v; want %d", len(got), err, len(evs))
					}
				}
				b.ReportMetric(float64(slow.queries.Load())/float64(b.N), "queries/op")
			})
		}
	}
}
