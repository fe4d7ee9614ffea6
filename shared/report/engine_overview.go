package report

import (
	"context"
	"time"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/tenant"
)

// Overview counts the contact events of period p for tenant (see Overview for what each
// part counts). Each UTC date of the period is read concurrently, from its rollup when that
// is exact for the date, from raw events otherwise.
func (e *Engine) Overview(ctx context.Context, tenant tenant.ID, p Period) (Overview, error) {
	t := newTally(p)
	err := forDays(ctx, archive.Dates(p.From, p.To), e.parallel,
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

// countDay counts one UTC date of the period: from its rollup when the whole date lies in
// the period, from raw rows within the period otherwise (the edges of a local-time period;
// a rollup's breakdowns by source, channel and user are not split by slot).
func (e *Engine) countDay(ctx context.Context, tenant tenant.ID, date string, p Period) (*dayCounts, error) {
	day, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return nil, err
	}
	if day.Before(p.From) || day.AddDate(0, 0, 1).After(p.To) {
		return e.countRaw(ctx, tenant, date, p)
	}
	ru, err := e.dayRollup(ctx, tenant, date)
	if err != nil {
		return nil, err
	}
	return countRollup(ru, date, p.TZ), nil
}
