package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/tenant"
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
func archived(t testing.TB, st Store, tenant tenant.ID, dates ...string) map[string]audit.Event {
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

// object returns the bytes of the object key.
func object(t testing.TB, st Store, key string) []byte {
	t.Helper()
	b, err := st.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// objectRows returns the rows of the Parquet object key.
func objectRows(t testing.TB, st Store, key string) []Row {
	t.Helper()
	rows, err := Decode(object(t, st, key))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// mixedBatch is a realistic batch: two tenants, two days each, plus records the archiver
// must ignore (TTL expiries, a modification, an item that is not an event).
func mixedBatch(t testing.TB) (recs []streamRecord, its map[string][]map[string]types.AttributeValue) {
	its = map[string][]map[string]types.AttributeValue{}
	n := 1
	for _, tenant := range []tenant.ID{"acme", "globex"} {
		for i, day := range []string{"2026-11-28", "2026-11-29"} {
			evs := sampleEvents(t, uint64(len(tenant)*10+i), tenant, day, 40)
			group := items(t, evs)
			its[tenant.String()+"/"+day] = group
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
		tenantName, day, _ := strings.Cut(k, "/")
		evs := wantEvents(t, group)
		ids := make([]string, 0, len(evs))
		for id := range evs {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		wantParts = append(wantParts, mustKey(PartKey(tenant.ID(tenantName), day, ids)))
		if d := cmp.Diff(evs, archived(t, st, tenant.ID(tenantName), day)); d != "" {
			t.Errorf("%s: archived events (-items +archive):\n%s", k, d)
		}
	}
	sort.Strings(wantParts)
	if d := cmp.Diff(wantParts, parts); d != "" {
		t.Errorf("objects (-want +got):\n%s", d)
	}
	wantMarks := []string{mustKey(PendingKey("acme", "2026-11-28")), mustKey(PendingKey("acme", "2026-11-29")), mustKey(PendingKey("globex", "2026-11-28")), mustKey(PendingKey("globex", "2026-11-29"))}
	if d := cmp.Diff(wantMarks, keysUnder(t, st, PendingPrefix)); d != "" {
		t.Errorf("pending marks (-want +got):\n%s", d)
	}
	// Rows inside each part are sorted by time, then id.
	for _, k := range parts {
		rows := objectRows(t, st, k)
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
		tenantName, day, _ := strings.Cut(k, "/")
		if d := cmp.Diff(wantEvents(t, group), archived(t, st, tenant.ID(tenantName), day)); d != "" {
			t.Errorf("%s: archived events (-items +archive):\n%s", k, d)
		}
	}
}

func TestArchiverReportsOnlyTheFailedTenantDay(t *testing.T) {
	good := s3Store(t)
	st := &S3Store{Client: failingPuts{S3API: good.Client, prefix: mustKey(DayPrefix("globex", "2026-11-29"))}, Bucket: good.Bucket}
	recs, its := mixedBatch(t)
	// One record that is an event but can never be archived (a broken time): set aside, not
	// reported (TestArchiverSetsAsideWhatCanNeverBeArchived).
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
		if id, ok := r.Item["id"].(*types.AttributeValueMemberS); ok && failedIDs[id.Value] {
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
		tenantName, day, _ := strings.Cut(k, "/")
		if d := cmp.Diff(wantEvents(t, its[k]), archived(t, good, tenant.ID(tenantName), day)); d != "" {
			t.Errorf("%s: archived events (-items +archive):\n%s", k, d)
		}
	}
}

// A record that can never be archived — a tenant id that would name another tenant's
// partition or a parent folder, a '#', a broken time — is set aside under rejected/ at once
// with its reason, holds back none of the batch, and writes nothing under events/ or pending/.
func TestArchiverSetsAsideWhatCanNeverBeArchived(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	good := items(t, sampleEvents(t, 7, "acme", "2026-11-29", 3))
	recs := []streamRecord{}
	for i, it := range good {
		recs = append(recs, streamRecord{Name: "INSERT", Seq: seq(i + 1), Item: it})
	}
	hostile := map[string]string{ // sequence number -> tenantId or occurredAt
		seq(901): "victim/date=2026-12-06/x",
		seq(902): "../victim",
		seq(903): "a#b",
	}
	wantReasons := map[string]string{}
	for i, sq := range []string{seq(901), seq(902), seq(903)} {
		it := items(t, sampleEvents(t, uint64(20+i), "acme", "2026-11-29", 1))[0]
		it["tenantId"] = &types.AttributeValueMemberS{Value: hostile[sq]}
		recs = append(recs, streamRecord{Name: "INSERT", Seq: sq, Item: it})
		_, perr := tenant.Parse(hostile[sq])
		wantReasons[sq] = fmt.Sprintf("event %s: %v", it["id"].(*types.AttributeValueMemberS).Value, perr)
	}
	broken := items(t, sampleEvents(t, 30, "acme", "2026-11-29", 1))[0]
	broken["occurredAt"] = &types.AttributeValueMemberS{Value: "yesterday"}
	recs = append(recs, streamRecord{Name: "INSERT", Seq: seq(904), Item: broken})
	brokenID := broken["id"].(*types.AttributeValueMemberS).Value
	wantReasons[seq(904)] = "event " + brokenID + `: occurredAt: parsing time "yesterday" as "2006-01-02T15:04:05.999999999Z07:00": cannot parse "yesterday" as "2006"`
	batch := decodeBatch(t, streamJSON(t, recs))

	t.Run("set aside", func(t *testing.T) {
		st := s3Store(t)
		resp, err := (&Archiver{Store: st, Clock: func() time.Time { return now }}).Handle(context.Background(), batch)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(events.DynamoDBEventResponse{}, resp); d != "" {
			t.Errorf("response (-want +got):\n%s", d)
		}
		wantKey := RejectedKey("2026-12-06", []string{seq(901), seq(902), seq(903), seq(904)})
		if d := cmp.Diff([]string{wantKey}, keysUnder(t, st, RejectedPrefix)); d != "" {
			t.Fatalf("rejected/ (-want +got):\n%s", d)
		}
		raw := object(t, st, wantKey)
		var got RejectedBatch
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		want := RejectedBatch{Records: batch.Records[len(good):], Reasons: wantReasons, RejectedAt: "2026-12-06T10:00:00Z"}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("rejected batch (-want +got):\n%s", d)
		}
		// The object is a stream batch an operator can hand back to the archiver.
		if d := cmp.Diff(batch.Records[len(good):], decodeBatch(t, raw).Records); d != "" {
			t.Errorf("rejected object as a stream batch (-want +got):\n%s", d)
		}
		wantParts := []string{mustKey(PartKey("acme", "2026-11-29", slices.Sorted(maps.Keys(wantEvents(t, good)))))}
		if d := cmp.Diff(wantParts, keysUnder(t, st, EventsPrefix)); d != "" {
			t.Errorf("events/ (-want +got):\n%s", d)
		}
		if d := cmp.Diff([]string{mustKey(PendingKey("acme", "2026-11-29"))}, keysUnder(t, st, PendingPrefix)); d != "" {
			t.Errorf("pending/ (-want +got):\n%s", d)
		}
	})

	t.Run("setting aside fails", func(t *testing.T) {
		base := s3Store(t)
		st := &S3Store{Client: failingPuts{S3API: base.Client, prefix: RejectedPrefix}, Bucket: base.Bucket}
		resp, err := (&Archiver{Store: st, Clock: func() time.Time { return now }}).Handle(context.Background(), batch)
		if err != nil {
			t.Fatal(err)
		}
		want := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{
			{ItemIdentifier: seq(901)}, {ItemIdentifier: seq(902)}, {ItemIdentifier: seq(903)}, {ItemIdentifier: seq(904)},
		}}
		if d := cmp.Diff(want, resp); d != "" {
			t.Errorf("response (-want +got):\n%s", d)
		}
		if d := cmp.Diff(wantEvents(t, good), archived(t, base, "acme", "2026-11-29")); d != "" {
			t.Errorf("the good events (-want +got):\n%s", d)
		}
	})
}

// No archive key is ever built from a tenant id or date that could name another place.
func TestKeysRefuseInvalidPartitions(t *testing.T) {
	for _, tc := range []struct {
		tenant tenant.ID
		date   string
	}{
		{"victim/date=2026-12-06/x", "2026-12-06"}, {"../victim", "2026-12-06"}, {"a#b", "2026-12-06"}, {"", "2026-12-06"},
		{"acme", "2026-12-06/../x"}, {"acme", "2026-13-01"}, {"acme", ""},
	} {
		for name, build := range map[string]func() (string, error){
			"DayPrefix":    func() (string, error) { return DayPrefix(tc.tenant, tc.date) },
			"PartKey":      func() (string, error) { return PartKey(tc.tenant, tc.date, []string{"e1"}) },
			"CompactedKey": func() (string, error) { return CompactedKey(tc.tenant, tc.date, []string{"k"}) },
			"RollupKey":    func() (string, error) { return RollupKey(tc.tenant, tc.date) },
			"PendingKey":   func() (string, error) { return PendingKey(tc.tenant, tc.date) },
		} {
			if key, err := build(); !errors.Is(err, ErrInvalidPartition) {
				t.Errorf("%s(%q, %q) = %q, %v; want ErrInvalidPartition", name, tc.tenant, tc.date, key, err)
			}
		}
		if _, _, ok := ParseTenantDay("pending/tenant=" + string(tc.tenant) + "/date=" + tc.date); ok && tc.date != "" {
			t.Errorf("ParseTenantDay accepted tenant %q date %q", tc.tenant, tc.date)
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
	var tenant tenant.ID
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

// Each part is followed by its sequence marker: the part's key, date and event ids in the
// part's order, under sequence/tenant=<t>/<recorded time>-<part digest>.json.
func TestArchiverWritesSequenceMarkers(t *testing.T) {
	st := s3Store(t)
	recs, _ := mixedBatch(t)
	at := time.Date(2026, 11, 30, 1, 2, 3, 456e6, time.UTC)
	a := &Archiver{Store: st, Clock: func() time.Time { return at }}
	ctx := context.Background()
	if resp, err := a.Handle(ctx, decodeBatch(t, streamJSON(t, recs))); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("%v %+v", err, resp)
	}
	var want, got []string
	wantMarkers := map[string]SequenceMarker{}
	for _, part := range keysUnder(t, st, EventsPrefix) {
		tn, date, _ := ParseTenantDay(part)
		rows := objectRows(t, st, part)
		m := SequenceMarker{Part: part, Date: date}
		for _, r := range rows {
			m.EventIDs = append(m.EventIDs, r.EventID)
		}
		digest := strings.TrimSuffix(strings.TrimPrefix(part[strings.LastIndex(part, "/")+1:], "part-"), ".parquet")
		key := "sequence/tenant=" + string(tn) + "/20261130T010203.456Z-" + digest + ".json"
		want = append(want, key)
		wantMarkers[key] = m
	}
	sort.Strings(want)
	got = keysUnder(t, st, SequencePrefix)
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("sequence markers (-want +got):\n%s", d)
	}
	for _, k := range got {
		b, err := st.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		var m SequenceMarker
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(wantMarkers[k], m); d != "" {
			t.Errorf("%s (-want +got):\n%s", k, d)
		}
		if tn, ok := ParseSequenceKey(k); !ok || !strings.HasPrefix(k, "sequence/tenant="+string(tn)+"/") {
			t.Errorf("ParseSequenceKey(%s) = %q, %v", k, tn, ok)
		}
	}
}

// A sequence marker that cannot be written fails its tenant-day like its part would: the
// stream retries exactly those records.
func TestArchiverReportsTheTenantDayWhoseSequenceMarkerFailed(t *testing.T) {
	good := s3Store(t)
	st := &S3Store{Client: failingPuts{S3API: good.Client, prefix: SequencePrefix + "tenant=globex/"}, Bucket: good.Bucket}
	recs, its := mixedBatch(t)
	resp, err := (&Archiver{Store: st}).Handle(context.Background(), decodeBatch(t, streamJSON(t, recs)))
	if err != nil {
		t.Fatal(err)
	}
	failedIDs := map[string]bool{}
	for _, k := range []string{"globex/2026-11-28", "globex/2026-11-29"} {
		for id := range wantEvents(t, its[k]) {
			failedIDs[id] = true
		}
	}
	var want []events.DynamoDBBatchItemFailure
	for _, r := range recs {
		if id, ok := r.Item["id"].(*types.AttributeValueMemberS); ok && r.Name == "INSERT" && failedIDs[id.Value] {
			want = append(want, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Seq})
		}
	}
	if d := cmp.Diff(events.DynamoDBEventResponse{BatchItemFailures: want}, resp); d != "" {
		t.Errorf("response (-want +got):\n%s", d)
	}
	for _, k := range keysUnder(t, good, SequencePrefix) {
		if !strings.HasPrefix(k, SequencePrefix+"tenant=acme/") {
			t.Errorf("unexpected marker %s", k)
		}
	}
}
