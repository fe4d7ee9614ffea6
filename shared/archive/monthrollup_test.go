package archive

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/tenant"
)

// plainMonth counts the events of a month the straightforward way: what Sum must hold.
func plainMonth(evs []audit.Event) (sum map[string]*MonthCounts, others map[string]int64, count int64) {
	sum, others = map[string]*MonthCounts{}, map[string]int64{}
	for _, typ := range ReportTypes {
		sum[typ] = &MonthCounts{BySource: map[string]int64{}, ByChannel: map[string]int64{}, ByActor: []MonthActor{}}
	}
	for _, e := range evs {
		count++
		mc := sum[e.Type]
		if mc == nil {
			others[e.Type]++
			continue
		}
		mc.Total++
		mc.BySource[e.Source]++
		mc.ByChannel[e.Channel]++
		date := e.Occurred().UTC().Format(time.DateOnly)
		found := false
		for i := range mc.ByActor {
			if a := &mc.ByActor[i]; a.ID == e.Actor.ID && a.Name == e.Actor.Name {
				a.Count++
				a.LastDate = max(a.LastDate, date)
				found = true
			}
		}
		if !found {
			mc.ByActor = append(mc.ByActor, MonthActor{ID: e.Actor.ID, Name: e.Actor.Name, Count: 1, LastDate: date})
		}
	}
	return sum, others, count
}

var monthCmp = []cmp.Option{
	cmpopts.IgnoreUnexported(MonthRollup{}, MonthDay{}),
	cmpopts.SortSlices(func(a, b MonthActor) bool { return a.ID < b.ID || a.ID == b.ID && a.Name < b.Name }),
}

// checkMonth compares the stored month rollup with the straightforward count of evs and
// each of its days with the stored day rollup, and checks which dates it vouches for now.
func checkMonthRollup(t *testing.T, st Store, tn tenant.ID, month string, evs []audit.Event, wantDays []string, wantWhole bool) {
	t.Helper()
	ctx := context.Background()
	m, err := ReadMonthRollup(ctx, st, tn, month)
	if err != nil || m == nil {
		t.Fatalf("month rollup %s: %v, %v", month, m, err)
	}
	sum, others, count := plainMonth(evs)
	if d := cmp.Diff(sum, m.Sum, monthCmp...); d != "" {
		t.Errorf("month sum (-plain count +month rollup):\n%s", d)
	}
	if d := cmp.Diff(others, m.Others); d != "" || m.EventCount != count {
		t.Errorf("others (-want +got):\n%s; events %d, want %d", d, m.EventCount, count)
	}
	listed, ok, err := MonthObjects(ctx, st, tn, month)
	if err != nil || !ok {
		t.Fatalf("list month: %v, %v", ok, err)
	}
	var gotDays []string
	for _, d := range m.Days {
		gotDays = append(gotDays, d.Date)
		stored, err := ReadRollup(ctx, st, tn, d.Date)
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.Rollup(tn)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(stored, got, cmpopts.IgnoreUnexported(Rollup{}, TypeCounts{})); d != "" {
			t.Errorf("day %s of the month (-day rollup +month's day):\n%s", got.Date, d)
		}
		if day, fresh := m.Fresh(d.Date, listed[d.Date]); !fresh || day != m.Day(d.Date) {
			t.Errorf("day %s not fresh against %v", d.Date, listed[d.Date])
		}
	}
	if d := cmp.Diff(wantDays, gotDays); d != "" {
		t.Errorf("days of the month (-want +got):\n%s", d)
	}
	if got := m.Whole(listed, ok); got != wantWhole {
		t.Errorf("Whole = %v, want %v", got, wantWhole)
	}
	// The encoding is deterministic and reads back to the same rollup.
	back, err := DecodeMonthRollup(m.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(m, back, monthCmp...); d != "" {
		t.Errorf("decoded (-read +decoded again):\n%s", d)
	}
}

// TestMonthRollupFollowsCompactions: every compaction of a day (new day, late parts of a
// compacted day, a settled day whose month lost it) leaves the month rollup equal to the
// straightforward count of its settled days, each day equal to its day rollup; a day with
// parts not compacted yet is not vouched for.
func TestMonthRollupFollowsCompactions(t *testing.T) {
	const tn, month = "acme", "2026-11"
	ctx := context.Background()
	st := s3Store(t)
	c := &Compactor{Store: st, Clock: func() time.Time { return time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC) }}
	days := []string{"2026-11-01", "2026-11-17", "2026-11-30"}
	evs := map[string][]audit.Event{}
	for i, date := range days {
		evs[date] = sampleEvents(t, uint64(20+i), tn, date, 300)
		smallParts(t, st, tn, date, rowsOf(t, evs[date]), 4)
	}
	// Another tenant's day and another month's day: never in acme's November.
	smallParts(t, st, "other", "2026-11-17", rowsOf(t, sampleEvents(t, 30, "other", "2026-11-17", 50)), 2)
	october := sampleEvents(t, 31, tn, "2026-10-31", 50)
	smallParts(t, st, tn, "2026-10-31", rowsOf(t, october), 2)
	if _, err := c.Run(ctx); err != nil {
		t.Fatal(err)
	}
	all := func(dates ...string) []audit.Event {
		var out []audit.Event
		for _, d := range dates {
			out = append(out, evs[d]...)
		}
		return out
	}
	checkMonthRollup(t, st, tn, month, all(days...), days, true)

	// Late events on the 17th (one repeating an archived event): the month no longer vouches
	// for that day, then the compaction folds them in.
	late := sampleEvents(t, 40, tn, "2026-11-17", 20)
	putPart(t, st, tn, "2026-11-17", rowsOf(t, append([]audit.Event{evs["2026-11-17"][5]}, late...)))
	if err := st.Put(ctx, mustKey(PendingKey(tn, "2026-11-17")), nil); err != nil {
		t.Fatal(err)
	}
	listed, ok, err := MonthObjects(ctx, st, tn, month)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ReadMonthRollup(ctx, st, tn, month)
	if err != nil {
		t.Fatal(err)
	}
	if _, fresh := m.Fresh("2026-11-17", listed["2026-11-17"]); fresh || m.Whole(listed, ok) {
		t.Errorf("a day with a new part is still vouched for (fresh %v, whole %v)", fresh, m.Whole(listed, ok))
	}
	if _, fresh := m.Fresh("2026-11-01", listed["2026-11-01"]); !fresh {
		t.Errorf("an untouched day is not vouched for")
	}
	if _, fresh := m.Fresh("2026-11-02", listed["2026-11-02"]); !fresh {
		t.Errorf("a day without events is not vouched for")
	}
	if _, err := c.Run(ctx); err != nil {
		t.Fatal(err)
	}
	evs["2026-11-17"] = append(evs["2026-11-17"], late...)
	checkMonthRollup(t, st, tn, month, all(days...), days, true)

	// Parts of a new day not compacted yet: the month holds the settled days only.
	evs["2026-11-20"] = sampleEvents(t, 50, tn, "2026-11-20", 30)
	putPart(t, st, tn, "2026-11-20", rowsOf(t, evs["2026-11-20"]))
	checkMonthRollup(t, st, tn, month, all(days...), days, false)

	// The month rollup lost (a compaction that failed after its day): compacting the settled
	// day again (nothing to merge) writes it back, now with the 20th compacted as well.
	if _, err := c.CompactDay(ctx, tn, "2026-11-20"); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, []string{mustKey(MonthRollupKey(tn, month))}); err != nil {
		t.Fatal(err)
	}
	res, err := c.CompactDay(ctx, tn, "2026-11-01")
	if err != nil || !res.Skipped {
		t.Fatalf("compact a settled day: %+v, %v", res, err)
	}
	checkMonthRollup(t, st, tn, month, all(append(days, "2026-11-20")...), []string{"2026-11-01", "2026-11-17", "2026-11-20", "2026-11-30"}, true)

	// October holds its one day, and nothing of November or of the other tenant.
	checkMonthRollup(t, st, tn, "2026-10", october, []string{"2026-10-31"}, true)
}

// TestMonthRollupDecodeRejects: a truncated, extended or foreign object is an error, never
// a panic or a month with fewer counts.
func TestMonthRollupDecodeRejects(t *testing.T) {
	ru := NewRollup("acme", "2026-11-02")
	for _, e := range sampleEvents(t, 7, "acme", "2026-11-02", 200) {
		r, err := FromEvent(&e)
		if err != nil {
			t.Fatal(err)
		}
		ru.Add(&r)
	}
	ru.Object = mustKey(CompactedKey("acme", "2026-11-02", []string{"x"}))
	m, err := NewMonthRollup("acme", "2026-11", []*Rollup{ru})
	if err != nil {
		t.Fatal(err)
	}
	b := m.Encode()
	if _, err := DecodeMonthRollup(b); err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(b); n++ {
		if _, err := DecodeMonthRollup(b[:n]); err == nil {
			t.Fatalf("%d of %d bytes decoded", n, len(b))
		}
	}
	for name, bad := range map[string][]byte{
		"a byte more":    append(append([]byte(nil), b...), 0),
		"a day rollup":   []byte(`{"version":1}`),
		"a next version": append(append([]byte(nil), monthMagic...), MonthRollupVersion+1),
	} {
		if _, err := DecodeMonthRollup(bad); err == nil {
			t.Errorf("%s decoded", name)
		}
	}
	for _, bad := range []struct {
		t     tenant.ID
		month string
	}{{"acme", "2026-13"}, {"acme", "2026-1"}, {"a/b", "2026-11"}} {
		if _, err := MonthRollupKey(bad.t, bad.month); err == nil {
			t.Errorf("MonthRollupKey(%q, %q) accepted", bad.t, bad.month)
		}
	}
	if _, err := NewMonthRollup("acme", "2026-12", []*Rollup{ru}); err == nil {
		t.Errorf("a November day went into December")
	}
}

// TestListPrefixes: the folder store lists what S3 lists for prefixes that end inside a
// folder's name (a month of dates) as well as at a folder.
func TestListPrefixes(t *testing.T) {
	ctx := context.Background()
	stores := map[string]Store{"s3": s3Store(t), "folder": &DirStore{Dir: t.TempDir()}}
	keys := []string{
		"events/tenant=acme/date=2026-01-31/part-a.parquet",
		"events/tenant=acme/date=2026-02-01/part-b.parquet",
		"events/tenant=acme/date=2026-02-28/compacted-c.parquet",
		"events/tenant=acme/date=2026-03-01/part-d.parquet",
		"events/tenant=acme2/date=2026-02-01/part-e.parquet",
		"rollups/tenant=acme/month=2026-02/rollup.bin",
	}
	for _, st := range stores {
		for _, k := range keys {
			if err := st.Put(ctx, k, []byte("x")); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"events/tenant=acme/date=2026-02-", keys[1:3]},
		{"events/tenant=acme/", keys[:4]},
		{"events/tenant=acme", keys[:5]},
		{"events/tenant=acme/date=2026-02-28/", keys[2:3]},
		{"rollups/", keys[5:]},
		{"events/tenant=acme/date=2025-", []string{}},
	} {
		for name, st := range stores {
			got := keysUnder(t, st, tc.prefix)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("%s: list %q (-want +got):\n%s", name, tc.prefix, d)
			}
		}
	}
}
