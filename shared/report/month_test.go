package report

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/ident"
)

// rollupReads records the rollups an engine reads.
type rollupReads struct {
	archive.Store
	mu   sync.Mutex
	keys []string
}

func (r *rollupReads) Get(ctx context.Context, key string) ([]byte, error) {
	if strings.HasPrefix(key, archive.RollupsPrefix) {
		r.mu.Lock()
		r.keys = append(r.keys, key)
		r.mu.Unlock()
	}
	return r.Store.Get(ctx, key)
}

func (r *rollupReads) take() (days, months []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range r.keys {
		if archive.IsMonthRollup(k) {
			months = append(months, k)
		} else {
			days = append(days, k)
		}
	}
	r.keys = nil
	slices.Sort(days)
	slices.Sort(months)
	return days, months
}

// TestOverviewFromMonthRollups: an archive compacted by the compactor (so with month
// rollups) gives the straightforward count of its events for periods in several zones,
// read from the month rollups (whole months from their sums, part months from their days)
// without any day rollup; the same archive without its month rollups (as archives written
// before them) and with late events on a day gives the same counts, reading those days
// from their day rollups. An actor renamed mid-month carries the newest name either way.
func TestOverviewFromMonthRollups(t *testing.T) {
	ctx := context.Background()
	st := &archive.S3Store{Client: stacktest.S3(t), Bucket: stacktest.Bucket(t)}
	rng := rand.New(rand.NewPCG(7, 11))
	gen := ident.NewGenerator(func() time.Time { return fixtureNow })
	f := &fixture{store: st, layout: map[string]string{}}
	first := time.Date(2026, 1, 30, 0, 0, 0, 0, time.UTC)
	for day := first; day.Before(time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)); day = day.AddDate(0, 0, 1) {
		date := day.Format(time.DateOnly)
		evs := makeEvents(rng, gen, "acme", day, 6)
		for i := range evs {
			if evs[i].Actor.ID == "u-1" && date >= "2026-02-15" {
				evs[i].Actor.Name = "Ana Lima-Santoso"
			}
		}
		f.events = append(f.events, evs...)
		half := len(evs) / 2
		putPart(t, st, "acme", date, evs[:half+1])
		putPart(t, st, "acme", date, evs[half:])
		if err := st.Put(ctx, mustKey(archive.PendingKey("acme", date)), nil); err != nil {
			t.Fatal(err)
		}
	}
	c := &archive.Compactor{Store: st, Clock: func() time.Time { return fixtureNow }}
	if res, err := c.Run(ctx); err != nil || res.Compacted != 32 {
		t.Fatalf("compaction: %+v, %v", res, err)
	}
	reads := &rollupReads{Store: st}
	eng := NewEngine(reads, func() time.Time { return fixtureNow })

	type period struct{ name, from, to, tz string }
	periods := []period{
		{"utc february", "2026-02-01", "2026-03-01", ""},
		{"jakarta, february whole in utc", "2026-02-01", "2026-03-02", "Asia/Jakarta"},
		{"kolkata, part of february", "2026-02-05", "2026-02-20", "Asia/Kolkata"},
		{"new york, three months", "2026-01-31", "2026-03-02", "America/New_York"},
	}
	check := func(t *testing.T, wantDayReads func(p Period) []string) {
		for _, pr := range periods {
			t.Run(pr.name, func(t *testing.T) {
				p := mustPeriod(t, pr.from, pr.to, pr.tz)
				reads.take()
				got, err := eng.Overview(ctx, "acme", p)
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(f.wantOverview("acme", p.From, p.To, p.TZ), got); d != "" {
					t.Errorf("overview (-want +got):\n%s", d)
				}
				days, months := reads.take()
				if d := cmp.Diff(wantDayReads(p), days); d != "" {
					t.Errorf("day rollups read (-want +got):\n%s", d)
				}
				if len(months) == 0 {
					t.Errorf("no month rollup asked for")
				}
			})
		}
	}
	wholeDays := func(p Period, keep func(string) bool) []string {
		var out []string
		for _, d := range archive.Dates(p.From, p.To) {
			if wholeDate(d, p) && keep(d) {
				out = append(out, mustKey(archive.RollupKey("acme", d)))
			}
		}
		return out
	}
	t.Run("month rollups", func(t *testing.T) {
		check(t, func(Period) []string { return nil })
	})

	// Late events on 2026-02-10 (a part after the compaction): that day is read from its
	// day rollup and the part; every other day still from the months.
	late := makeEvents(rng, gen, "acme", time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC), 3)[:4]
	f.events = append(f.events, late...)
	putPart(t, st, "acme", "2026-02-10", late)
	t.Run("late part", func(t *testing.T) {
		check(t, func(p Period) []string {
			return wholeDays(p, func(d string) bool { return d == "2026-02-10" })
		})
	})

	// Without month rollups every whole day is read from its day rollup, as before them.
	for _, m := range []string{"2026-01", "2026-02", "2026-03"} {
		if err := st.Delete(ctx, []string{mustKey(archive.MonthRollupKey("acme", m))}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("no month rollups", func(t *testing.T) {
		check(t, func(p Period) []string { return wholeDays(p, func(string) bool { return true }) })
	})
}
