package archive

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/tenant"
)

// plainRollup counts events the straightforward way, for comparison with Rollup.
func plainRollup(tenant tenant.ID, date string, evs map[string]audit.Event) *Rollup {
	r := &Rollup{Version: RollupVersion, TenantID: tenant, Date: date, Types: map[string]*TypeCounts{}, Others: map[string]int64{}}
	report := map[string]bool{}
	for _, t := range ReportTypes {
		report[t] = true
		r.Types[t] = &TypeCounts{BySource: map[string]int64{}, ByChannel: map[string]int64{}, ByActor: []ActorCount{}, BySlot: make([]int64, SlotsPerDay)}
	}
	actors := map[string]map[[2]string]int64{}
	for _, e := range evs {
		r.EventCount++
		if e.RecordedAt > r.MaxRecordedAt {
			r.MaxRecordedAt = e.RecordedAt
		}
		if !report[e.Type] {
			r.Others[e.Type]++
			continue
		}
		tc := r.Types[e.Type]
		tc.Total++
		tc.BySource[e.Source]++
		tc.ByChannel[e.Channel]++
		if actors[e.Type] == nil {
			actors[e.Type] = map[[2]string]int64{}
		}
		actors[e.Type][[2]string{e.Actor.ID, e.Actor.Name}]++
		at := e.Occurred()
		tc.BySlot[(at.Hour()*60+at.Minute())/15]++
	}
	for typ, m := range actors {
		for k, n := range m {
			r.Types[typ].ByActor = append(r.Types[typ].ByActor, ActorCount{ID: k[0], Name: k[1], Count: n})
		}
		sort.Slice(r.Types[typ].ByActor, func(i, j int) bool {
			a, b := r.Types[typ].ByActor[i], r.Types[typ].ByActor[j]
			return a.ID < b.ID || a.ID == b.ID && a.Name < b.Name
		})
	}
	return r
}

var rollupCmp = []cmp.Option{cmpopts.IgnoreUnexported(Rollup{}, TypeCounts{}), cmpopts.IgnoreFields(Rollup{}, "Object", "Objects")}

func eventsOf(t testing.TB, rows []Row) map[string]audit.Event {
	t.Helper()
	out := map[string]audit.Event{}
	for _, r := range rows {
		e, err := r.ToEvent()
		if err != nil {
			t.Fatal(err)
		}
		out[e.ID] = e
	}
	return out
}

// smallParts archives rows as n overlapping parts (some events in two parts).
func smallParts(t testing.TB, st Store, tenant tenant.ID, date string, rows []Row, n int) {
	t.Helper()
	size := len(rows)/n + 1
	for i := 0; i < len(rows); i += size {
		end := min(len(rows), i+size+size/4) // overlap into the next part
		putPart(t, st, tenant, date, rows[i:end])
	}
	if err := st.Put(context.Background(), mustKey(PendingKey(tenant, date)), nil); err != nil {
		t.Fatal(err)
	}
}

func TestCompactionMergesPartsIntoOne(t *testing.T) {
	const tenant, date = "acme", "2026-11-29"
	st := s3Store(t)
	rows := rowsOf(t, sampleEvents(t, 11, tenant, date, 1500))
	smallParts(t, st, tenant, date, rows, 40)
	want := eventsOf(t, rows)
	before := keysUnder(t, st, mustKey(DayPrefix(tenant, date)))

	c := &Compactor{Store: st, Clock: func() time.Time { return time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC) }}
	res, err := c.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(RunResult{Pending: 1, Compacted: 1}, res); d != "" {
		t.Errorf("run (-want +got):\n%s", d)
	}
	key := mustKey(CompactedKey(tenant, date, before))
	if d := cmp.Diff([]string{key}, keysUnder(t, st, mustKey(DayPrefix(tenant, date)))); d != "" {
		t.Errorf("objects after compaction (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{}, keysUnder(t, st, PendingPrefix)); d != "" {
		t.Errorf("pending marks left (-want +got):\n%s", d)
	}
	got := objectRows(t, st, key)
	if !sort.SliceIsSorted(got, func(i, j int) bool { return Less(&got[i], &got[j]) }) {
		t.Errorf("compacted rows are not sorted")
	}
	if d := cmp.Diff(rows, got); d != "" {
		t.Errorf("compacted rows (-raw +compacted):\n%s", d)
	}
	f, err := openFile(key, bytesObject{bytesReader(object(t, st, key))})
	if err != nil {
		t.Fatal(err)
	}
	covers, _ := f.covers()
	f.close()
	if d := cmp.Diff(before, covers); d != "" {
		t.Errorf("covers (-want +got):\n%s", d)
	}

	stored, err := ReadRollup(context.Background(), st, tenant, date)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(plainRollup(tenant, date, want), stored, rollupCmp...); d != "" {
		t.Errorf("rollup (-plain count +rollup):\n%s", d)
	}
	if stored.Object != key || !cmp.Equal(stored.Objects, []string{key}) {
		t.Errorf("rollup computed from %q %v, want %q", stored.Object, stored.Objects, key)
	}

	// A second run has nothing to do; the day stays one object.
	if res, err := c.Run(context.Background()); err != nil || res != (RunResult{}) {
		t.Errorf("second run = %+v, %v", res, err)
	}
}

// After compaction, new parts (some repeating compacted events, as a retried batch does)
// are counted by DayRollup once each, and a later compaction folds them in.
func TestDayRollupAddsPartsSinceCompaction(t *testing.T) {
	const tenant, date = "acme", "2026-11-29"
	st := s3Store(t)
	rows := rowsOf(t, sampleEvents(t, 12, tenant, date, 900))
	early, late := rows[:600], rows[600:]
	smallParts(t, st, tenant, date, early, 5)
	c := &Compactor{Store: st}
	if _, err := c.CompactDay(context.Background(), tenant, date); err != nil {
		t.Fatal(err)
	}
	putPart(t, st, tenant, date, rows[550:700]) // 50 events already compacted
	putPart(t, st, tenant, date, late)
	r := &Reader{Store: st}
	want := plainRollup(tenant, date, eventsOf(t, rows))
	got, err := r.DayRollup(context.Background(), tenant, date)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got, rollupCmp...); d != "" {
		t.Errorf("day rollup (-plain count +rollup):\n%s", d)
	}
	if len(got.Objects) != 3 {
		t.Errorf("day rollup read %v, want the compacted object and two parts", got.Objects)
	}
	if _, err := c.CompactDay(context.Background(), tenant, date); err != nil {
		t.Fatal(err)
	}
	again, err := r.DayRollup(context.Background(), tenant, date)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, again, rollupCmp...); d != "" {
		t.Errorf("day rollup after compaction (-plain count +rollup):\n%s", d)
	}
	if d := cmp.Diff(eventsOf(t, rows), archived(t, st, tenant, date)); d != "" {
		t.Errorf("archived events (-raw +archive):\n%s", d)
	}
}

// hookStore runs a hook before the first Put of a compacted object or the first Delete.
type hookStore struct {
	Store
	mu           sync.Mutex
	beforePut    func()
	beforeDelete func()
}

func (h *hookStore) Put(ctx context.Context, key string, body []byte) error {
	h.fire(&h.beforePut, IsCompacted(key))
	return h.Store.Put(ctx, key, body)
}

func (h *hookStore) Delete(ctx context.Context, keys []string) error {
	h.fire(&h.beforeDelete, len(keys) > 1 || (len(keys) == 1 && !strings.HasPrefix(keys[0], PendingPrefix)))
	return h.Store.Delete(ctx, keys)
}

// fire runs the hook *f once, the first time when is true.
func (h *hookStore) fire(f *func(), when bool) {
	h.mu.Lock()
	run := *f
	if when {
		*f = nil
	} else {
		run = nil
	}
	h.mu.Unlock()
	if run != nil {
		run()
	}
}

// Compaction A lists the day; a part arrives; compaction B compacts everything; then A
// writes its (smaller) object and deletes what it covers. Readers see every event once
// throughout, and the next run leaves one object.
func TestRacingCompactions(t *testing.T) {
	const tenant, date = "acme", "2026-11-29"
	base := s3Store(t)
	rows := rowsOf(t, sampleEvents(t, 13, tenant, date, 800))
	smallParts(t, base, tenant, date, rows[:500], 10)
	want := eventsOf(t, rows)
	st := &hookStore{Store: base}
	st.beforePut = func() {
		putPart(t, base, tenant, date, rows[500:])
		if _, err := (&Compactor{Store: base}).CompactDay(context.Background(), tenant, date); err != nil {
			t.Error(err)
		}
		if d := cmp.Diff(want, archived(t, base, tenant, date)); d != "" {
			t.Errorf("while A writes (-raw +archive):\n%s", d)
		}
	}
	if _, err := (&Compactor{Store: st}).CompactDay(context.Background(), tenant, date); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, archived(t, base, tenant, date)); d != "" {
		t.Errorf("after both (-raw +archive):\n%s", d)
	}
	if d := cmp.Diff([]string{mustKey(PendingKey(tenant, date))}, keysUnder(t, base, PendingPrefix)); d != "" {
		t.Errorf("pending marks (-want +got):\n%s", d)
	}
	if _, err := (&Compactor{Store: base}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(keysUnder(t, base, mustKey(DayPrefix(tenant, date)))); n != 1 {
		t.Errorf("objects after the next run = %d, want 1", n)
	}
	if d := cmp.Diff(want, archived(t, base, tenant, date)); d != "" {
		t.Errorf("after the next run (-raw +archive):\n%s", d)
	}
	got, err := (&Reader{Store: base}).DayRollup(context.Background(), tenant, date)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(plainRollup(tenant, date, want), got, rollupCmp...); d != "" {
		t.Errorf("rollup (-plain count +rollup):\n%s", d)
	}
}

// Two compactions of the same day at the same time: nothing lost or doubled.
func TestConcurrentCompactions(t *testing.T) {
	const tenant, date = "acme", "2026-11-29"
	st := s3Store(t)
	rows := rowsOf(t, sampleEvents(t, 14, tenant, date, 600))
	smallParts(t, st, tenant, date, rows, 12)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A compaction that loses the race may find an object gone; it fails and re-marks.
			(&Compactor{Store: st}).Run(context.Background())
		}()
	}
	wg.Wait()
	if d := cmp.Diff(eventsOf(t, rows), archived(t, st, tenant, date)); d != "" {
		t.Errorf("archived events (-raw +archive):\n%s", d)
	}
	if _, err := (&Compactor{Store: st}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(keysUnder(t, st, mustKey(DayPrefix(tenant, date)))); n != 1 {
		t.Errorf("objects after a settling run = %d, want 1", n)
	}
}

// staleList answers the first List of the day with a listing taken earlier.
type staleList struct {
	Store
	mu    sync.Mutex
	stale []ObjectInfo
}

func (s *staleList) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	s.mu.Lock()
	stale := s.stale
	s.stale = nil
	s.mu.Unlock()
	if stale != nil {
		return stale, nil
	}
	return s.Store.List(ctx, prefix)
}

// A reader listing between the compacted object's write and the parts' delete, and a
// reader whose listing predates the whole compaction, both see every event once.
func TestReadersDuringCompaction(t *testing.T) {
	const tenant, date = "acme", "2026-11-29"
	base := s3Store(t)
	rows := rowsOf(t, sampleEvents(t, 15, tenant, date, 700))
	smallParts(t, base, tenant, date, rows, 8)
	want := eventsOf(t, rows)
	old, err := base.List(context.Background(), mustKey(DayPrefix(tenant, date)))
	if err != nil {
		t.Fatal(err)
	}
	st := &hookStore{Store: base}
	st.beforeDelete = func() {
		day, err := (&Reader{Store: base}).Day(context.Background(), tenant, date)
		if err != nil {
			t.Error(err)
		}
		if len(day.Compacted) != 1 || len(day.Parts) != 0 || len(day.Listed) != len(old)+1 {
			t.Errorf("between write and delete the reader plans %+v", day)
		}
		if d := cmp.Diff(want, archived(t, base, tenant, date)); d != "" {
			t.Errorf("between write and delete (-raw +archive):\n%s", d)
		}
	}
	if _, err := (&Compactor{Store: st}).CompactDay(context.Background(), tenant, date); err != nil {
		t.Fatal(err)
	}
	stale := &staleList{Store: base, stale: old}
	if d := cmp.Diff(want, archived(t, stale, tenant, date)); d != "" {
		t.Errorf("with a listing from before the compaction (-raw +archive):\n%s", d)
	}
	if stale.stale != nil {
		t.Errorf("the stale listing was not used")
	}
}

func TestRollupJSONShape(t *testing.T) {
	ru := NewRollup("acme", "2026-11-29")
	ru.Add(&Row{EventID: "e1", OccurredAt: time.Date(2026, 11, 29, 23, 59, 0, 0, time.UTC).UnixMilli(), RecordedAt: time.Date(2026, 11, 29, 23, 59, 1, 0, time.UTC).UnixMilli(), Type: "CONTACT_ADDED", Source: "manual", Channel: "sms", ActorID: "u-1", ActorName: "Ana"})
	ru.Add(&Row{EventID: "e2", OccurredAt: time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC).UnixMilli(), RecordedAt: time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC).UnixMilli(), Type: "LOGGED_IN"})
	b, err := ru.Encode()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	added := got["types"].(map[string]any)["CONTACT_ADDED"].(map[string]any)
	slots := added["bySlot"].([]any)
	if len(slots) != SlotsPerDay || slots[95] != 1.0 {
		t.Errorf("bySlot = %v", slots)
	}
	if d := cmp.Diff(map[string]any{
		"total": 1.0, "bySource": map[string]any{"manual": 1.0}, "byChannel": map[string]any{"sms": 1.0},
		"byActor": []any{map[string]any{"id": "u-1", "name": "Ana", "count": 1.0}}, "bySlot": slots,
	}, added); d != "" {
		t.Errorf("CONTACT_ADDED (-want +got):\n%s", d)
	}
	if got["eventCount"] != 2.0 || got["maxRecordedAt"] != "2026-11-29T23:59:01.000Z" || !cmp.Equal(got["others"], map[string]any{"LOGGED_IN": 1.0}) {
		t.Errorf("rollup = %s", b)
	}
}

// Sweep marks the days with parts (even without a marker) and leaves settled days alone.
func TestSweepMarksUnsettledDays(t *testing.T) {
	st := s3Store(t)
	rows := rowsOf(t, sampleEvents(t, 16, "acme", "2026-11-28", 50))
	smallParts(t, st, "acme", "2026-11-28", rows, 3)
	if _, err := (&Compactor{Store: st}).CompactDay(context.Background(), "acme", "2026-11-28"); err != nil {
		t.Fatal(err)
	}
	putPart(t, st, "acme", "2026-11-29", rowsOf(t, sampleEvents(t, 17, "acme", "2026-11-29", 5)))
	putPart(t, st, "globex", "2026-11-29", rowsOf(t, sampleEvents(t, 18, "globex", "2026-11-29", 5)))
	n, err := (&Compactor{Store: st}).Sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{mustKey(PendingKey("acme", "2026-11-29")), mustKey(PendingKey("globex", "2026-11-29"))}
	if d := cmp.Diff(want, keysUnder(t, st, PendingPrefix)); d != "" || n != 2 {
		t.Errorf("marked %d (-want +got):\n%s", n, d)
	}
}

// A marker that names no valid tenant-day (left by an archiver before tenant ids were
// checked, or put by hand) is removed once instead of failing every run.
func TestCompactorRemovesStrayMarkers(t *testing.T) {
	st := s3Store(t)
	smallParts(t, st, "acme", "2026-11-29", rowsOf(t, sampleEvents(t, 19, "acme", "2026-11-29", 20)), 4)
	stray := []string{
		PendingPrefix + "tenant=victim/date=2026-12-06/x/date=2026-12-06",
		PendingPrefix + "tenant=../victim/date=2026-12-06",
		PendingPrefix + "tenant=a#b/date=2026-12-06",
	}
	for _, k := range stray {
		if err := st.Put(context.Background(), k, nil); err != nil {
			t.Fatal(err)
		}
	}
	c := &Compactor{Store: st, Clock: func() time.Time { return time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC) }}
	for run := 1; run <= 2; run++ {
		res, err := c.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := RunResult{}
		if run == 1 {
			want = RunResult{Pending: 1, Compacted: 1}
		}
		if d := cmp.Diff(want, res); d != "" {
			t.Errorf("run %d (-want +got):\n%s", run, d)
		}
		if keys := keysUnder(t, st, PendingPrefix); len(keys) != 0 {
			t.Errorf("run %d left markers %q", run, keys)
		}
	}
}
