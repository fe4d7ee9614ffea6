package report

import (
	"context"
	"log/slog"
	"time"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/tenant"
)

// Overview counts the contact events of period p for tenant (see Overview for what each
// part counts). The UTC dates wholly inside the period are read by month: a month's rollup
// (one GET and one LIST) answers the whole month, or those of its days it vouches for; every
// other date is read concurrently, from its day rollup when that is exact for the date,
// from raw events otherwise (the edges of the period in its time zone, unsettled days).
func (e *Engine) Overview(ctx context.Context, tenant tenant.ID, p Period) (Overview, error) {
	t := newTally(p)
	var edges, whole []string
	for _, date := range archive.Dates(p.From, p.To) {
		if wholeDate(date, p) {
			whole = append(whole, date)
		} else {
			edges = append(edges, date)
		}
	}
	months := byMonth(whole)
	var rest []string // whole dates no month rollup answers
	err := forDays(ctx, months, e.parallel,
		func(ctx context.Context, month string) (monthResult, error) {
			return e.countMonth(ctx, tenant, month, datesOf(whole, month), p)
		},
		func(_ string, r monthResult) (bool, error) {
			for _, d := range r.counts {
				t.merge(d)
			}
			rest = append(rest, r.rest...)
			return false, nil
		})
	if err != nil {
		return Overview{}, err
	}
	err = forDays(ctx, append(edges, rest...), e.parallel,
		func(ctx context.Context, date string) (*dayCounts, error) { return e.countDay(ctx, tenant, date, p) },
		func(_ string, d *dayCounts) (bool, error) {
			t.merge(d)
			return false, nil
		})
	if err != nil {
		return Overview{}, err
	}
	through, err := e.archivedThrough(ctx, tenant)
	if err != nil {
		return Overview{}, err
	}
	return t.overview(through), nil
}

// wholeDate reports whether the UTC date lies wholly inside the period.
func wholeDate(date string, p Period) bool {
	day, err := time.Parse(time.DateOnly, date)
	return err == nil && !day.Before(p.From) && !day.AddDate(0, 0, 1).After(p.To)
}

// byMonth returns the months (YYYY-MM) of sorted dates, in order.
func byMonth(dates []string) []string {
	var out []string
	for _, d := range dates {
		if m := archive.MonthOf(d); len(out) == 0 || out[len(out)-1] != m {
			out = append(out, m)
		}
	}
	return out
}

// datesOf returns the dates of month among dates.
func datesOf(dates []string, month string) []string {
	var out []string
	for _, d := range dates {
		if archive.MonthOf(d) == month {
			out = append(out, d)
		}
	}
	return out
}

// monthResult is what a month rollup answered (counts) and the dates it could not (rest).
type monthResult struct {
	counts []*dayCounts
	rest   []string
}

// countMonth counts the whole UTC dates of one month from the month's rollup: all of them
// from its sum when the period holds the whole month and the rollup vouches for every date of
// it; otherwise each date it vouches for from that day's counts in it. The dates it cannot
// answer (no month rollup, or a date whose listing is not the object the month counted) are
// returned in rest, for the day rollups and raw events.
func (e *Engine) countMonth(ctx context.Context, tenant tenant.ID, month string, dates []string, p Period) (monthResult, error) {
	m, err := archive.ReadMonthRollup(ctx, e.store, tenant, month)
	if err != nil {
		// A month rollup is derived data: one that cannot be read is skipped, not trusted.
		slog.WarnContext(ctx, "month rollup unreadable; its days are read instead", "tenant_id", tenant, "month", month, "error", err.Error())
		return monthResult{rest: dates}, nil
	}
	if m == nil {
		return monthResult{rest: dates}, nil
	}
	listed, ok, err := archive.MonthObjects(ctx, e.store, tenant, month)
	if err != nil {
		return monthResult{}, err
	}
	if len(dates) == daysIn(month) && m.Whole(listed, ok) {
		return monthResult{counts: []*dayCounts{countMonthSum(m, p.TZ)}}, nil
	}
	var r monthResult
	for _, date := range dates {
		day, fresh := m.Fresh(date, listed[date])
		switch {
		case !fresh || !ok:
			r.rest = append(r.rest, date)
		case day != nil:
			ru, err := day.Rollup(tenant)
			if err != nil {
				return monthResult{}, err
			}
			r.counts = append(r.counts, countRollup(ru, date, p.TZ))
		}
	}
	return r, nil
}

// daysIn returns the number of days of a month (YYYY-MM).
func daysIn(month string) int {
	first, err := time.Parse("2006-01", month)
	if err != nil {
		return 0
	}
	return first.AddDate(0, 1, -1).Day()
}

// countDay counts one UTC date of the period: from its rollup when the whole date lies in
// the period, from raw rows within the period otherwise (the edges of a local-time period;
// a rollup's breakdowns by source, channel and user are not split by slot).
func (e *Engine) countDay(ctx context.Context, tenant tenant.ID, date string, p Period) (*dayCounts, error) {
	if !wholeDate(date, p) {
		return e.countRaw(ctx, tenant, date, p)
	}
	ru, err := e.dayRollup(ctx, tenant, date)
	if err != nil {
		return nil, err
	}
	return countRollup(ru, date, p.TZ), nil
}
