package report

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestFixtureLayout pins the shapes the archive fixture takes, so the other tests are known
// to cover each: rollups used, ignored when stale, missing; parts with duplicates; today raw.
func TestFixtureLayout(t *testing.T) {
	fx := sharedFixture(t)
	want := map[string]string{
		"2026-03-01": "compacted+parts (rollup)",
		"2026-03-02": "parts",
		"2026-03-03": "compacted (no rollup)",
		"2026-03-04": "compacted (stale rollup)",
		"2026-03-05": "compacted+parts (rollup)",
		"2026-03-06": "parts",
		"2026-03-07": "compacted (rollup)",
		"2026-03-08": "compacted (no rollup)",
		"2026-03-09": "compacted+parts (stale rollup)",
		"2026-03-10": "parts",
		"2026-03-11": "compacted (rollup)",
		"2026-03-12": "compacted (rollup)",
		"2026-03-13": "compacted+parts (no rollup)",
		"2026-03-14": "parts",
	}
	if d := cmp.Diff(want, fx.layout); d != "" {
		t.Errorf("layout (-want +got):\n%s", d)
	}
}

// TestCountDaySource checks which dates the overview takes from rollups: whole UTC dates
// inside the period, never its edges.
func TestCountDaySource(t *testing.T) {
	fx := sharedFixture(t)
	e := NewEngine(fx.store, func() time.Time { return fixtureNow })
	jakarta := mustPeriod(t, "2026-03-02", "2026-03-12", "Asia/Jakarta") // [03-01T17:00Z, 03-11T17:00Z)
	for _, c := range []struct {
		date       string
		fromRollup bool
	}{
		{"2026-03-01", false}, // edge: only 17:00-24:00 UTC is in the period
		{"2026-03-02", true},
		{"2026-03-07", true},
		{"2026-03-10", true},
		{"2026-03-11", false}, // edge
	} {
		d, err := e.countDay(context.Background(), "acme", c.date, jakarta)
		if err != nil {
			t.Fatal(err)
		}
		if d.fromRollup != c.fromRollup {
			t.Errorf("%s: fromRollup = %v, want %v", c.date, d.fromRollup, c.fromRollup)
		}
	}
}
