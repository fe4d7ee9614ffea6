package auditlog_test

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/auditlog"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/settings"
	"github.com/contrail/contrail/shared/tenant"
)

// countingDB is DynamoDB Local's client, counting the reads of settings items.
type countingDB struct {
	*dynamodb.Client
	settingsReads atomic.Int32
}

func (c *countingDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	var key map[string]string
	if attributevalue.UnmarshalMap(in.Key, &key) == nil && strings.HasSuffix(key["pk"], "#SETTINGS") {
		c.settingsReads.Add(1)
	}
	return c.Client.GetItem(ctx, in, opts...)
}

// putSettings saves a tenant's co-browsing input setting through PUT /v1/settings, as an
// admin of the tenant would.
func putSettings(t *testing.T, f *fixture, tenant, inputText string) {
	t.Helper()
	svc := settings.NewWith(settings.Config{
		ContactsTable: f.tables["ContactsTable"],
		Audit:         audit.StoreConfig{Table: f.tables["AuditTable"], Shards: 4, Retention: audit.RetentionDays(400, 400, 400, 400)},
	}, stacktest.DynamoDB(t), f.Now)
	admin := caller{Tenant: tenant, Sub: "admin-" + tenant, Name: "Admin", Groups: "[admin]"}
	resp := call(t, httpapi.Route(httpapi.AdminRoles, svc.Put), request(admin, "PUT /v1/settings", nil, nil,
		map[string]any{"cobrowse": map[string]any{"inputText": inputText}}, nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT /v1/settings for %s: %d %s", tenant, resp.StatusCode, resp.Body)
	}
}

// cobrowseItems returns the stored co-browsing events of the audit table, whole, oldest first.
func cobrowseItems(t *testing.T, f *fixture) []map[string]any {
	t.Helper()
	items := []map[string]any{}
	for _, m := range stacktest.Scan(t, stacktest.DynamoDB(t), f.tables["AuditTable"]) {
		if m["category"] == audit.CategoryCobrowse {
			items = append(items, m)
		}
	}
	sort.Slice(items, func(i, k int) bool { return items[i]["sk"].(string) < items[k]["sk"].(string) })
	return items
}

// TestInputMasking: INPUT text is stored as a fixed mask and its length unless the tenant's
// settings allow clear text and the producer did not mark the field sensitive; the other
// co-browsing types are stored as sent whatever the settings; the settings are read once per
// request, and only for a batch with an INPUT event.
func TestInputMasking(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := newFixture(t, now)
	db := &countingDB{Client: stacktest.DynamoDB(t)}
	f.svc = auditlog.New(f.svc.Config, db, f.Now)
	putSettings(t, f, "t-clear", "clear")
	putSettings(t, f, "t-masked", "clear")
	putSettings(t, f, "t-masked", "masked") // saved (version 2), not just the default

	masked := func(element string, length int, extra map[string]any) map[string]any {
		d := map[string]any{"element": element, "text": auditlog.MaskedText, "length": length}
		for k, v := range extra {
			d[k] = v
		}
		return d
	}
	tests := []struct {
		name   string
		tenant string
		sent   []map[string]any // each event's type and data
		stored []map[string]any // each event's data as stored
		reads  int32            // settings reads
	}{
		{"no settings: masked", "t-none",
			[]map[string]any{
				{"type": "INPUT", "data": map[string]any{"element": "#email", "text": "ada@example.com"}},
				{"type": "INPUT", "data": map[string]any{"element": "#greeting", "text": "héllo 👋"}},
				{"type": "INPUT", "data": map[string]any{"element": "#card", "text": "4242 4242", "sensitive": true}},
				{"type": "INPUT", "data": map[string]any{"element": "#note", "text": " two\nlines ", "sensitive": false}},
			},
			[]map[string]any{
				masked("#email", 15, nil),
				masked("#greeting", 7, nil), // characters, not bytes
				masked("#card", 9, map[string]any{"sensitive": true}),
				masked("#note", 11, map[string]any{"sensitive": false}),
			}, 1},
		{"masked saved: masked", "t-masked",
			[]map[string]any{{"type": "INPUT", "data": map[string]any{"element": "#email", "text": "ada@example.com"}}},
			[]map[string]any{masked("#email", 15, nil)}, 1},
		{"clear allowed: kept as typed, except where the producer says sensitive", "t-clear",
			[]map[string]any{
				{"type": "INPUT", "data": map[string]any{"element": "#search", "text": "blue shoes"}},
				{"type": "INPUT", "data": map[string]any{"element": "#card", "text": "4242 4242", "sensitive": true}},
				{"type": "INPUT", "data": map[string]any{"element": "#city", "text": "Bandung", "sensitive": false}},
			},
			[]map[string]any{
				{"element": "#search", "text": "blue shoes"},
				masked("#card", 9, map[string]any{"sensitive": true}),
				{"element": "#city", "text": "Bandung", "sensitive": false},
			}, 1},
		{"other types: as sent, and no settings read", "t-none",
			[]map[string]any{
				{"type": "CLICK", "data": map[string]any{"element": "#pay"}},
				{"type": "FORM", "data": map[string]any{"form": "checkout"}},
				{"type": "SELECTION", "data": map[string]any{"selection": "card 4242 4242"}},
				{"type": "CUSTOM_EVENT", "data": map[string]any{"eventType": "typed", "value": map[string]any{"text": "secret"}}},
				{"type": "PAGECHANGE", "data": map[string]any{"page": "/checkout?email=ada@example.com"}},
			},
			[]map[string]any{
				{"element": "#pay"}, {"form": "checkout"}, {"selection": "card 4242 4242"},
				{"eventType": "typed", "value": map[string]any{"text": "secret"}}, {"page": "/checkout?email=ada@example.com"},
			}, 0},
		{"other types beside INPUT: only INPUT masked, settings read once", "t-clear",
			[]map[string]any{
				{"type": "CLICK", "data": map[string]any{"element": "#card"}},
				{"type": "INPUT", "data": map[string]any{"element": "#card", "text": "4242", "sensitive": true}},
				{"type": "INPUT", "data": map[string]any{"element": "#name", "text": "Ada"}},
				{"type": "CUSTOM_EVENT", "data": map[string]any{"eventType": "typed", "value": "4242"}},
			},
			[]map[string]any{
				{"element": "#card"}, masked("#card", 4, map[string]any{"sensitive": true}),
				{"element": "#name", "text": "Ada"}, {"eventType": "typed", "value": "4242"},
			}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := cobrowseItems(t, f)
			db.settingsReads.Store(0)
			svc := caller{Tenant: tt.tenant, Sub: "svc-cobrowse", Name: "Cobrowse", Groups: "[service]"}
			var batch []map[string]any
			for i, e := range tt.sent {
				batch = append(batch, map[string]any{"type": e["type"], "occurredAt": audit.FormatTime(now.Add(time.Duration(i-10) * time.Second)), "isAgent": false, "data": e["data"]})
			}
			ids := decode[map[string][]string](t, call(t, f.ingestCobrowse(), cobrowseReq(svc, "cb-mask", batch, nil)), http.StatusAccepted)["ids"]
			if len(ids) != len(batch) {
				t.Fatalf("%d ids for %d events", len(ids), len(batch))
			}
			want := before
			for i, e := range batch {
				isAgent := false
				want = append(want, storedItem(t, f, audit.Event{
					ID: ids[i], TenantID: tenant.ID(tt.tenant), OccurredAt: e["occurredAt"].(string), RecordedAt: audit.FormatTime(now),
					Type: e["type"].(string), Category: audit.CategoryCobrowse, Actor: audit.Actor{Type: audit.ActorCustomer},
					Source: audit.SourceAPI, SessionID: "cb-mask", IsAgent: &isAgent, Data: tt.stored[i], Context: reqContext,
				}))
			}
			sort.Slice(want, func(i, k int) bool { return want[i]["sk"].(string) < want[k]["sk"].(string) })
			if d := cmp.Diff(want, cobrowseItems(t, f)); d != "" {
				t.Errorf("stored co-browsing events (-want +got):\n%s", d)
			}
			if got := db.settingsReads.Load(); got != tt.reads {
				t.Errorf("%d settings reads, want %d", got, tt.reads)
			}
		})
	}
}

// storedItem is the whole audit table item of e as ingest must write it.
func storedItem(t *testing.T, f *fixture, e audit.Event) map[string]any {
	t.Helper()
	item, err := f.svc.Keys.Item(&e, retention)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := attributevalue.UnmarshalMap(item, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestInputLengthIsContrails: a producer may not send INPUT's length (Contrail sets it when
// it masks) nor a sensitive mark that is not a boolean; the batch is refused and nothing is
// written.
func TestInputLengthIsContrails(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := newFixture(t, now)
	at := audit.FormatTime(now.Add(-time.Minute))
	batch := []map[string]any{
		{"type": "INPUT", "occurredAt": at, "isAgent": false, "data": map[string]any{"element": "#a", "text": "x", "length": 1}},
		{"type": "INPUT", "occurredAt": at, "isAgent": false, "data": map[string]any{"element": "#a", "text": "x", "sensitive": "yes"}},
		{"type": "CLICK", "occurredAt": at, "isAgent": false, "data": map[string]any{"element": "#a", "length": 1}},
	}
	got := decode[errorBody](t, call(t, f.ingestCobrowse(), cobrowseReq(svcA, "cb-1", batch, nil)), http.StatusBadRequest)
	want := invalid("Fix the fields listed in error.fields: events[0].data.length, events[1].data.sensitive, events[2].data.length.", map[string]string{
		"events[0].data.length":    "is set by Contrail when it masks the text; do not send it",
		"events[1].data.sensitive": "must be true or false",
		"events[2].data.length":    "is not a field of CLICK",
	})
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("error (-want +got):\n%s", d)
	}
	if n := count(t, f); n != 0 {
		t.Errorf("%d items in the audit table, want 0", n)
	}
}
