package archive

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/stacktest"
)

func TestMain(m *testing.M) { stacktest.Main(m) }

// s3Store returns a Store on a fresh gofakes3 bucket.
func s3Store(t testing.TB) *S3Store {
	t.Helper()
	return &S3Store{Client: stacktest.S3(t), Bucket: stacktest.Bucket(t)}
}

// failingPuts fails PutObject for keys under prefix.
type failingPuts struct {
	S3API
	prefix string
}

func (f failingPuts) PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	if strings.HasPrefix(*in.Key, f.prefix) {
		return nil, errors.New("injected PutObject failure")
	}
	return f.S3API.PutObject(ctx, in, opts...)
}

func decodeBatch(t testing.TB, raw []byte) *StreamBatch {
	t.Helper()
	var b StreamBatch
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	return &b
}

// wantEvents returns the events of items as the audit table reads them back, by id.
func wantEvents(t testing.TB, its []map[string]types.AttributeValue) map[string]audit.Event {
	t.Helper()
	out := map[string]audit.Event{}
	for _, it := range its {
		e, err := audit.FromItem(it)
		if err != nil {
			t.Fatal(err)
		}
		out[e.ID] = e
	}
	return out
}

// archived returns every event the reader sees for tenant on dates, by id, failing on a
// duplicate.
func archived(t testing.TB, st Store, tenant string, dates ...string) map[string]audit.Event {
	t.Helper()
	r := &Reader{Store: st}
	out := map[string]audit.Event{}
	for _, d := range dates {
		err := r.ScanDay(context.Background(), tenant, d, nil, func(row *Row) error {
			e, err := row.ToEvent()
			if err != nil {
				return err
			}
			if _, dup := out[e.ID]; dup {
				t.Errorf("event %s read twice", e.ID)
			}
			out[e.ID] = e
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func keysUnder(t testing.TB, st Store, prefix string) []string {
	t.Helper()
	objs, err := st.List(context.Background(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, o := range objs {
		out = append(out, o.Key)
	}
	return out
}

// mixedBatch is a realistic batch: two tenants, two days each, plus records the archiver
// must ignore (TTL expiries, a modification, an item that is not an event).
func mixedBatch(t testing.TB) (recs []streamRecord, its map[string][]map[string]types.AttributeValue) {
	its = map[string][]map[string]types.AttributeValue{}
	n := 1
	for _, tenant := range []string{"acme", "globex"} {
		for i, day := range []string{"2026-11-28", "2026-11-29"} {
			evs := sampleEvents(t, uint64(len(tenant)*10+i), tenant, day, 40)
			group := items(t, evs)
			its[tenant+"/"+day] = group
			recs = append(recs, inserts(group, n)...)
			n += len(group)
		}
	}
	old := items(t, sampleEvents(t, 99, "acme", "2025-01-01", 3))
	recs = append(recs,
		streamRecord{Name: "REMOVE", Seq: seq(n), Item: old[0], IsTTL: true},
		streamRecord{Name: "REMOVE", Seq: seq(n + 1), Item: old[1], IsTTL: true},
		streamRecord{Name: "MODIFY", Seq: seq(n + 2), Item: old[2]},
		streamRecord{Name: "INSERT", Seq: seq(n + 3), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "T#acme#IDEM#k1"}, "sk": &types.AttributeValueMemberS{Value: "-"},
			"itemType": &types.AttributeValueMemberS{Value: "idempotency"},
		}},
	)
	// Stream order interleaves tenants.
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].Seq < recs[j].Seq })
	return recs, its
}

func TestArchiverWritesOnePartPerTenantDay(t *testing.T) {
	st := s3Store(t)
	recs, its := mixedBatch(t)
	raw := streamJSON(t, recs)
	a := &Archiver{Store: st}
	resp, err := a.Handle(context.Background(), decodeBatch(t, raw))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(events.DynamoDBEventResponse{}, resp); d != "" {
		t.Errorf("response (-want +got):\n%s", d)
	}
	parts := keysUnder(t, st, EventsPrefix)
	var wantParts []string
	for k, group := range its {
		tenant, day, _ := strings.Cut(k, "/")
		evs := wantEvents(t, group)
		ids := make([]string, 0, len(evs))
		for id := range evs {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		wantParts = append(wantParts, PartKey(tenant, day, ids))
		if d := cmp.Diff(evs, archived(t, st, tenant, day)); d != "" {
			t.Errorf("%s: archived events (-items +archive):\n%s", k, d)
		}
	}
	sort.Strings(wantParts)
	if d := cmp.Diff(wantParts, parts); d != "" {
		t.Errorf("objects (-want +got):\n%s", d)
	}
	wantMarks := []string{PendingKey("acme", "2026-11-28"), PendingKey("acme", "2026-11-29"), PendingKey("globex", "2026-11-28"), PendingKey("globex", "2026-11-29")}
	if d := cmp.Diff(wantMarks, keysUnder(t, st, PendingPrefix)); d != "" {
		t.Errorf("pending marks (-want +got):\n%s", d)
	}
	// Rows inside each part are sorted by time, then id.
	for _, k := range parts {
		b, err := st.Get(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if !sort.SliceIsSorted(rows, func(i, j int) bool { return Less(&rows[i], &rows[j]) }) {
			t.Errorf("%s: rows not sorted", k)
		}
	}
}

func TestArchiverRedeliveryLeavesEachEventOnce(t *testing.T) {
	st := s3Store(t)
	recs, its := mixedBatch(t)
	a := &Archiver{Store: st}
	ctx := context.Background()
	deliveries := [][]streamRecord{
		recs,               // first delivery
		recs,               // the same batch again (a retry after a timeout)
		recs[len(recs)/3:], // a retry from the middle of the batch: other groupings, other keys
	}
	for i, d := range deliveries {
		resp, err := a.Handle(ctx, decodeBatch(t, streamJSON(t, d)))
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("delivery %d: %v %+v", i, err, resp)
		}
	}
	for k, group := range its {
		tenant, day, _ := strings.Cut(k, "/")
		if d := cmp.Diff(wantEvents(t, group), archived(t, st, tenant, day)); d != "" {
			t.Errorf("%s: archived events (-items +archive):\n%s", k, d)
		}
	}
}

func TestArchiverReportsOnlyTheFailedTenantDay(t *testing.T) {
	good := s3Store(t)
	st := &S3Store{Client: failingPuts{S3API: good.Client, prefix: DayPrefix("globex", "2026-11-29")}, Bucket: good.Bucket}
	recs, its := mixedBatch(t)
	// One record that is an event but cannot be archived (a broken time).
	broken := items(t, sampleEvents(t, 5, "acme", "2026-11-29", 1))[0]
	broken["occurredAt"] = &types.AttributeValueMemberS{Value: "yesterday"}
	recs = append(recs, streamRecord{Name: "INSERT", Seq: seq(900), Item: broken})

	resp, err := (&Archiver{Store: st}).Handle(context.Background(), decodeBatch(t, streamJSON(t, recs)))
	if err != nil {
		t.Fatal(err)
	}
	failedIDs := map[string]bool{}
	for id := range wantEvents(t, its["globex/2026-11-29"]) {
		failedIDs[id] = true
	}
	var want []events.DynamoDBBatchItemFailure
	for _, r := range recs {
		if r.Name != "INSERT" {
			continue
		}
		if id, ok := r.Item["id"].(*types.AttributeValueMemberS); ok && failedIDs[id.Value] || r.Seq == seq(900) {
			want = append(want, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Seq})
		}
	}
	if d := cmp.Diff(events.DynamoDBEventResponse{BatchItemFailures: want}, resp); d != "" {
		t.Errorf("response (-want +got):\n%s", d)
	}
	if got := archived(t, good, "globex", "2026-11-29"); len(got) != 0 {
		t.Errorf("failed tenant-day has %d events archived", len(got))
	}
	for _, k := range []string{"acme/2026-11-28", "acme/2026-11-29", "globex/2026-11-28"} {
		tenant, day, _ := strings.Cut(k, "/")
		if d := cmp.Diff(wantEvents(t, its[k]), archived(t, good, tenant, day)); d != "" {
			t.Errorf("%s: archived events (-items +archive):\n%s", k, d)
		}
	}
}

// The sample events in events/ decode and archive (they double as fixtures).
func TestSampleStreamEvent(t *testing.T) {
	raw := readRepoFile(t, "events/archiver-audit-inserts.json")
	st := s3Store(t)
	resp, err := (&Archiver{Store: st}).Handle(context.Background(), decodeBatch(t, raw))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(events.DynamoDBEventResponse{}, resp); d != "" {
		t.Errorf("response (-want +got):\n%s", d)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	// A caller holding an events.DynamoDBEvent gets the same batch through BatchFromEvent.
	viaEvent, err := BatchFromEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(decodeBatch(t, raw), viaEvent); d != "" {
		t.Errorf("BatchFromEvent (-decoded +converted):\n%s", d)
	}
	want := map[string]audit.Event{}
	dates := map[string]bool{}
	tenant := ""
	for _, r := range ev.Records {
		if r.EventName != "INSERT" {
			continue
		}
		e, err := audit.EventFromStreamImage(r.Change.NewImage)
		if err != nil {
			t.Fatal(err)
		}
		want[e.ID], tenant, dates[audit.Day(e.OccurredAt)] = e, e.TenantID, true
	}
	var ds []string
	for d := range dates {
		ds = append(ds, d)
	}
	if d := cmp.Diff(want, archived(t, st, tenant, ds...)); d != "" {
		t.Errorf("archived events (-sample +archive):\n%s", d)
	}
}
