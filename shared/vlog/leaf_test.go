package vlog

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
)

// TestLeafGolden pins the encoding docs/verifying.md describes: sorted archive column names,
// empty columns left out, times in ms, data embedded, no HTML escaping, "v":1.
func TestLeafGolden(t *testing.T) {
	agent := true
	for _, tc := range []struct {
		name string
		row  archive.Row
		want string
	}{
		{
			name: "contact event, sealed fields",
			row: archive.Row{
				EventID: "01KBJ5N1ZR0000000000000000", TenantID: "acme", OccurredAt: 1767323045678, RecordedAt: 1767323045700,
				Type: "CONTACT_ADDED", Category: "contact", ActorType: "user", ActorID: "u-1", ActorName: "Ana <Lima> & co",
				ContactID: "01KBJ5N1ZR00000000000000C1", ContactName: "pii1:AAAA", Source: "manual", Channel: "email",
				Data: `{"email":"pii1:BBBB","phone":"pii1:CCCC"}`, IP: "203.0.113.9", UserAgent: "curl/8", RequestID: "req-1",
			},
			want: `{"actor_id":"u-1","actor_name":"Ana <Lima> & co","actor_type":"user","category":"contact","channel":"email","contact_id":"01KBJ5N1ZR00000000000000C1","contact_name":"pii1:AAAA","data":{"email":"pii1:BBBB","phone":"pii1:CCCC"},"event_id":"01KBJ5N1ZR0000000000000000","ip":"203.0.113.9","occurred_at":"2026-01-02T03:04:05.678Z","recorded_at":"2026-01-02T03:04:05.700Z","request_id":"req-1","source":"manual","tenant_id":"acme","type":"CONTACT_ADDED","user_agent":"curl/8","v":1}`,
		},
		{
			name: "merge",
			row: archive.Row{
				EventID: "E2", TenantID: "acme", OccurredAt: 1767323045000, RecordedAt: 1767323045001, Type: "CONTACT_MERGED", Category: "contact",
				ActorType: "system", PrimaryContactID: "P", MergedContactIDs: []string{"M1", "M2"}, Data: `{"mergedContactIds":["M1","M2"],"primaryContactId":"P"}`,
			},
			want: `{"actor_type":"system","category":"contact","data":{"mergedContactIds":["M1","M2"],"primaryContactId":"P"},"event_id":"E2","merged_contact_ids":["M1","M2"],"occurred_at":"2026-01-02T03:04:05.000Z","primary_contact_id":"P","recorded_at":"2026-01-02T03:04:05.001Z","tenant_id":"acme","type":"CONTACT_MERGED","v":1}`,
		},
		{
			name: "co-browsing",
			row: archive.Row{
				EventID: "E3", TenantID: "acme", OccurredAt: 0, RecordedAt: 1, Type: "SCROLL", Category: "cobrowse",
				ActorType: "customer", ActorID: "cust-1", SessionID: "s-1", IsAgent: &agent, Data: `{}`,
			},
			want: `{"actor_id":"cust-1","actor_type":"customer","category":"cobrowse","data":{},"event_id":"E3","is_agent":true,"occurred_at":"1970-01-01T00:00:00.000Z","recorded_at":"1970-01-01T00:00:00.001Z","session_id":"s-1","tenant_id":"acme","type":"SCROLL","v":1}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Leaf(&tc.row)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, string(got)); d != "" {
				t.Errorf("leaf (-want +got):\n%s", d)
			}
		})
	}
	if _, err := Leaf(&archive.Row{EventID: "E", TenantID: "acme"}); err == nil {
		t.Error("a row without a type has a leaf")
	}
	if _, err := NewEntry(&archive.Row{EventID: "../T#globex", TenantID: "acme", Type: "X"}); err == nil {
		t.Error("an event id that is no id makes an entry (and an index key)")
	}
}

// TestLeafSameFromDynamoDBAndParquet: an event written to the audit table (DynamoDB Local),
// read back, converted the way the archiver converts a stream image, gives the same leaf as
// its row written to Parquet and decoded.
func TestLeafSameFromDynamoDBAndParquet(t *testing.T) {
	ctx := context.Background()
	db := stacktest.DynamoDB(t)
	table := stacktest.Tables(t)["AuditTable"]
	agent := false
	evs := []audit.Event{
		{ID: "01KBJ5N1ZR0000000000000001", TenantID: "acme", OccurredAt: "2026-12-01T10:00:00.123Z", RecordedAt: "2026-12-01T10:00:00.200Z",
			Type: "CONTACT_ADDED", Category: "contact", Actor: audit.Actor{Type: audit.ActorUser, ID: "u-1", Name: "Ana \"A\" <b>"},
			Contact: &audit.ContactRef{ID: "01KBJ5N1ZR00000000000000C1", Name: "pii1:c2VhbGVk"}, Source: "manual", Channel: "whatsapp",
			Data:    map[string]any{"email": "pii1:ZW1haWw", "phone": "pii1:cGhvbmU"},
			Context: &audit.Context{IP: "203.0.113.9", UserAgent: "Mozilla/5.0 (X11) é \u2028", RequestID: "req-1"}},
		{ID: "01KBJ5N1ZR0000000000000002", TenantID: "acme", OccurredAt: "2026-12-01T10:00:01.000Z", RecordedAt: "2026-12-01T10:00:01.000Z",
			Type: "CONTACT_MERGED", Category: "contact", Actor: audit.Actor{Type: audit.ActorUser, ID: "u-2", Name: "Bayu"},
			Contact: &audit.ContactRef{ID: "P1", Name: "pii1:bmFtZQ"}, Source: "manual",
			Data: map[string]any{"primaryContactId": "P1", "mergedContactIds": []any{"M1", "M2"}}},
		{ID: "01KBJ5N1ZR0000000000000003", TenantID: "acme", OccurredAt: "2026-12-01T10:00:02.000Z", RecordedAt: "2026-12-01T10:00:02.500Z",
			Type: "SCROLL", Category: "cobrowse", Actor: audit.Actor{Type: audit.ActorCustomer, ID: "cust-1"}, SessionID: "s-1", IsAgent: &agent,
			Data: map[string]any{"position": 12.25, "nested": map[string]any{"b": []any{true, nil, 1e21}, "a": "x"}}},
		{ID: "01KBJ5N1ZR0000000000000004", TenantID: "acme", OccurredAt: "2026-12-01T10:00:03.000Z", RecordedAt: "2026-12-01T10:00:03.000Z",
			Type: "LOGGED_IN", Category: "platform", Actor: audit.Actor{Type: audit.ActorSystem}, Data: map[string]any{}},
	}
	fromParquet := rowsOf(t, evs)
	body, err := archive.Encode(fromParquet, nil)
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := archive.Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		item, err := audit.Keys{Shards: 4}.Item(&evs[i], audit.RetentionDays(400, 400, 400, 30))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
			t.Fatal(err)
		}
		got, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{"pk": item["pk"], "sk": item["sk"]}, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(audit.ToStreamImage(got.Item))
		if err != nil {
			t.Fatal(err)
		}
		var im archive.EventImage
		if err := json.Unmarshal(raw, &im); err != nil {
			t.Fatal(err)
		}
		row, err := im.Row()
		if err != nil {
			t.Fatal(err)
		}
		fromStream, err := Leaf(&row)
		if err != nil {
			t.Fatal(err)
		}
		fromPq, err := Leaf(&decoded[i])
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(string(fromPq), string(fromStream)); d != "" {
			t.Errorf("%s: leaf (-parquet +stream image):\n%s", evs[i].ID, d)
		}
	}
}
