package audit_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/stacktest"
)

var retention = audit.RetentionDays(400, 400, 400, 30)

// put stores events directly, the way the writers do.
func put(t *testing.T, db *dynamodb.Client, table string, keys audit.Keys, evs []audit.Event) {
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

func event(tenant, id, typ string, at time.Time, contactID string, data map[string]any) audit.Event {
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
	add := func(tenant, contact, typ string, at time.Time, data map[string]any) audit.Event {
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

	want := func(tenant string, contacts, types []string, from, to time.Time) []audit.Event {
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
