package audit

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDescBounds(t *testing.T) {
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		after  string
		lo, hi string
		ok     bool
		days   []string
	}{
		{"whole period", "", "2026-03-01T00:00:00.000Z", "2026-03-03T00:00:00.000Z", true, []string{"2026-03-02", "2026-03-01"}},
		{"after a position", "2026-03-02T10:00:00.000Z#01J", "2026-03-01T00:00:00.000Z", "2026-03-02T10:00:00.000Z#01J", true, []string{"2026-03-02", "2026-03-01"}},
		{"after the first day's start", "2026-03-01T00:00:00.000Z#01J", "2026-03-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z#01J", true, []string{"2026-03-01"}},
		{"position after to", "2026-03-05T00:00:00.000Z#01J", "2026-03-01T00:00:00.000Z", "2026-03-03T00:00:00.000Z", true, []string{"2026-03-02", "2026-03-01"}},
		{"position before from", "2026-02-01T00:00:00.000Z#01J", "2026-03-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z#01J", false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi, ok := descBounds(from, to, tc.after)
			if lo != tc.lo || hi != tc.hi || ok != tc.ok {
				t.Fatalf("descBounds = %q, %q, %v; want %q, %q, %v", lo, hi, ok, tc.lo, tc.hi, tc.ok)
			}
			if !ok {
				return
			}
			if diff := cmp.Diff(tc.days, daysDesc(lo, hi)); diff != "" {
				t.Errorf("days (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDaysDescWithinOneDay(t *testing.T) {
	got := daysDesc("2026-03-01T10:00:00.000Z", "2026-03-01T11:00:00.000Z")
	if diff := cmp.Diff([]string{"2026-03-01"}, got); diff != "" {
		t.Errorf("days (-want +got):\n%s", diff)
	}
}
