package export_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/export"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestPeriodOf(t *testing.T) {
	tests := []struct {
		name, freq, tz, at string
		start, end         string // UTC
	}{
		{"daily UTC", export.Daily, "UTC", "2026-11-30T13:00:00Z", "2026-11-30T00:00:00Z", "2026-12-01T00:00:00Z"},
		{"daily Jakarta spans two UTC dates", export.Daily, "Asia/Jakarta", "2026-11-30T18:30:00Z", "2026-11-30T17:00:00Z", "2026-12-01T17:00:00Z"},
		{"weekly from a Sunday", export.Weekly, "UTC", "2026-11-29T23:59:00Z", "2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z"},
		{"weekly from a Monday", export.Weekly, "UTC", "2026-11-30T00:00:00Z", "2026-11-30T00:00:00Z", "2026-12-07T00:00:00Z"},
		{"monthly across the year", export.Monthly, "UTC", "2026-12-15T10:00:00Z", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		{"daily on a DST change is 23 hours", export.Daily, "America/New_York", "2026-03-08T12:00:00Z", "2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z"},
		{"monthly in Jakarta", export.Monthly, "Asia/Jakarta", "2026-11-30T17:30:00Z", "2026-11-30T17:00:00Z", "2026-12-31T17:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, e := export.PeriodOf(tt.freq, utc(tt.at), mustLoc(t, tt.tz))
			if got, want := [2]string{s.UTC().Format(time.RFC3339), e.UTC().Format(time.RFC3339)}, [2]string{tt.start, tt.end}; got != want {
				t.Errorf("PeriodOf = %v, want %v", got, want)
			}
		})
	}
}

func TestDueEnds(t *testing.T) {
	jkt := mustLoc(t, "Asia/Jakarta")
	tests := []struct {
		name, freq string
		next, now  string
		want       []string
	}{
		{"not due yet", export.Daily, "2026-11-30T17:00:00Z", "2026-11-30T16:59:59Z", nil},
		{"due on the dot", export.Daily, "2026-11-30T17:00:00Z", "2026-11-30T17:00:00Z", []string{"2026-11-30T17:00:00Z"}},
		{"three days late", export.Daily, "2026-11-27T17:00:00Z", "2026-11-30T17:10:00Z",
			[]string{"2026-11-27T17:00:00Z", "2026-11-28T17:00:00Z", "2026-11-29T17:00:00Z", "2026-11-30T17:00:00Z"}},
		{"weekly, one week late", export.Weekly, "2026-11-22T17:00:00Z", "2026-12-01T00:00:00Z",
			[]string{"2026-11-22T17:00:00Z", "2026-11-29T17:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range export.DueEnds(tt.freq, utc(tt.next), utc(tt.now), jkt) {
				got = append(got, e.UTC().Format(time.RFC3339))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DueEnds (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScheduledJobID(t *testing.T) {
	from, to := utc("2026-11-29T17:00:00Z"), utc("2026-11-30T17:00:00Z")
	a := export.ScheduledJobID("acme", "daily", from, to)
	ulidRE := regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{26}$`)
	tests := []struct {
		name      string
		id        string
		wantEqual bool
	}{
		{"same tenant, schedule and period", export.ScheduledJobID("acme", "daily", from, to), true},
		{"another tenant", export.ScheduledJobID("globex", "daily", from, to), false},
		{"another schedule", export.ScheduledJobID("acme", "daily2", from, to), false},
		{"another period", export.ScheduledJobID("acme", "daily", to, to.AddDate(0, 0, 1)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !ulidRE.MatchString(tt.id) {
				t.Errorf("id %q is not shaped as a ULID", tt.id)
			}
			if (tt.id == a) != tt.wantEqual {
				t.Errorf("id %q vs %q: equal = %v, want %v", tt.id, a, tt.id == a, tt.wantEqual)
			}
		})
	}
}
