package archive

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/tenant"
)

var retention = audit.RetentionDays(400, 400, 400, 30)

// sampleEvents returns n realistic events of tenant, spread over the UTC day `day` (and
// over every kind of envelope: contact, merge, co-browsing, platform, system).
func sampleEvents(t testing.TB, seed uint64, tenant tenant.ID, day string, n int) []audit.Event {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	base, err := time.Parse(time.DateOnly, day)
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return base }
	gen := ident.NewGenerator(clock)
	users := []audit.Actor{
		{Type: audit.ActorUser, ID: "u-1", Name: "Ana Lima"},
		{Type: audit.ActorUser, ID: "u-2", Name: "Bayu \"B\" Santoso"},
		{Type: audit.ActorUser, ID: "u-3", Name: "Dewi Ñandú 🌺"},
		{Type: audit.ActorService, ID: "svc-crm", Name: "crm"},
	}
	sources := []string{audit.SourceManual, audit.SourceImport, audit.SourceAPI, audit.SourceIncomingMessage}
	out := make([]audit.Event, n)
	for i := range out {
		at := base.Add(time.Duration(rng.Int64N(int64(24*time.Hour))) / time.Millisecond * time.Millisecond)
		actor := users[rng.IntN(len(users))]
		e := audit.Event{
			ID: gen.At(at), TenantID: tenant,
			OccurredAt: audit.FormatTime(at), RecordedAt: audit.FormatTime(at.Add(time.Duration(rng.IntN(900)) * time.Millisecond)),
			Actor:   actor,
			Context: &audit.Context{IP: "203.0.113." + strconv.Itoa(rng.IntN(255)), UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15", RequestID: fmt.Sprintf("req-%08x", rng.Uint32())},
			Data:    map[string]any{},
		}
		contact := &audit.ContactRef{ID: fmt.Sprintf("c-%04d", rng.IntN(5000)), Name: []string{"Budi", "Siti Rahayu", "O'Brien, Pat", "=cmd", "line\nbreak"}[rng.IntN(5)]}
		switch k := rng.IntN(10); k {
		case 0, 1, 2:
			e.Type, e.Contact = "CONTACT_ADDED", contact
			e.Source = sources[rng.IntN(len(sources))]
			e.Channel = audit.Channels[rng.IntN(len(audit.Channels))]
			e.Data = map[string]any{"email": "x" + strconv.Itoa(i) + "@example.com", "phone": "+62812" + strconv.Itoa(1000000+i)}
		case 3:
			e.Type, e.Contact, e.Source = "CONTACT_CONNECTED", contact, audit.SourceUser
			e.Channel = audit.Channels[rng.IntN(len(audit.Channels))]
			e.Data = map[string]any{"externalId": "ext-" + strconv.Itoa(i)}
		case 4:
			e.Type, e.Contact, e.Source = "CONTACT_MERGED", contact, audit.SourceManual
			e.Data = map[string]any{"primaryContactId": contact.ID, "mergedContactIds": []any{"c-a" + strconv.Itoa(i), "c-b" + strconv.Itoa(i)}}
		case 5:
			e.Type, e.Contact, e.Source = []string{"CONTACT_DELETED", "CONTACT_ARCHIVED", "CONTACT_UNARCHIVED"}[rng.IntN(3)], contact, audit.SourceManual
		case 6:
			e.Type, e.SessionID = "SCROLL", "sess-"+strconv.Itoa(rng.IntN(20))
			b := rng.IntN(2) == 0
			e.IsAgent = &b
			e.Actor = audit.Actor{Type: audit.ActorCustomer, ID: "cust-" + strconv.Itoa(rng.IntN(9))}
			e.Data = map[string]any{"position": float64(rng.IntN(4000)) / 4, "element": "#main"}
		case 7:
			e.Type = "SETTINGS_CHANGE"
			e.Data = map[string]any{"configuration": map[string]any{"maskInputs": true, "retention": float64(30), "nested": map[string]any{"list": []any{"a", float64(1.5), nil, false}, "big": 1e21, "tiny": 1e-7}}}
		case 8:
			e.Type, e.Contact, e.Channel = "MESSAGE_SENT", contact, "email"
			e.Data = map[string]any{"text": "Hello <b>&</b> \"quoted\" \\ tab\t \u2028 é", "to": "x@example.com"}
		case 9:
			e.Type, e.Actor, e.Context = "LOGGED_IN", audit.Actor{Type: audit.ActorSystem}, nil
		}
		e.Category = audit.CategoryOf(e.Type)
		out[i] = e
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// items marshals events as the audit table stores them.
func items(t testing.TB, evs []audit.Event) []map[string]types.AttributeValue {
	t.Helper()
	out := make([]map[string]types.AttributeValue, len(evs))
	for i := range evs {
		item, err := audit.Keys{Shards: 4}.Item(&evs[i], retention)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = item
	}
	return out
}

// streamRecord is one record of a Lambda DynamoDB stream event.
type streamRecord struct {
	Name  string // INSERT, MODIFY, REMOVE
	Seq   string
	Item  map[string]types.AttributeValue
	IsTTL bool
}

// streamJSON renders records as the JSON Lambda delivers for a DynamoDB stream batch.
func streamJSON(t testing.TB, recs []streamRecord) []byte {
	t.Helper()
	out := make([]any, len(recs))
	for i, r := range recs {
		keys := audit.ToStreamImage(map[string]types.AttributeValue{"pk": r.Item["pk"], "sk": r.Item["sk"]})
		ddb := map[string]any{
			"ApproximateCreationDateTime": 1.7643e9, "Keys": keys, "SequenceNumber": r.Seq,
			"SizeBytes": 512, "StreamViewType": "NEW_IMAGE",
		}
		if r.Name != "REMOVE" {
			ddb["NewImage"] = audit.ToStreamImage(r.Item)
		}
		rec := map[string]any{
			"eventID": fmt.Sprintf("%032x", i), "eventName": r.Name, "eventVersion": "1.1",
			"eventSource": "aws:dynamodb", "awsRegion": "us-east-1", "dynamodb": ddb,
			"eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/contrail-AuditTable/stream/2026-11-30T00:00:00.000",
		}
		if r.IsTTL {
			rec["userIdentity"] = map[string]any{"type": "Service", "principalId": "dynamodb.amazonaws.com"}
		}
		out[i] = rec
	}
	b, err := json.Marshal(map[string]any{"Records": out})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// inserts makes INSERT records for items with sequence numbers from first on.
func inserts(its []map[string]types.AttributeValue, first int) []streamRecord {
	out := make([]streamRecord, len(its))
	for i, it := range its {
		out[i] = streamRecord{Name: "INSERT", Seq: seq(first + i), Item: it}
	}
	return out
}

func seq(n int) string { return fmt.Sprintf("%021d", n) }

func readRepoFile(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(stacktest.Root(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
