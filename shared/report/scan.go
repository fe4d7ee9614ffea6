package report

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/tenant"
)

// logColumns returns the only columns log k reads when filtered by f: those its rows show
// (Row.Item, CSVRecord), contact_id (a sealed name opens with its contact's key) and those
// f compares; the archive reader adds type, which the scan keeps rows by. Each column not
// read is one not decoded in every row group of the period: the busiest tenant's year
// export is 1.5 million rows.
func logColumns(k Kind, f Filter) []string {
	cols := []string{"event_id", "occurred_at", "contact_id", "contact_name", "source", "actor_name"}
	switch k {
	case Connected:
		cols = append(cols, "channel")
	case Merged:
		cols = append(cols, "primary_contact_id", "merged_contact_ids")
	}
	if f.Channel != nil && k != Connected {
		cols = append(cols, "channel")
	}
	if f.User != nil {
		cols = append(cols, "actor_id")
	}
	return cols
}

// errPageFull stops a day's scan once it holds what a page can use.
var errPageFull = errors.New("page full")

// rowOf copies the log fields of an archived row (the reader reuses its memory).
func rowOf(r *archive.Row) Row {
	row := Row{
		EventID:          strings.Clone(r.EventID),
		OccurredAt:       time.UnixMilli(r.OccurredAt).UTC(),
		ContactID:        strings.Clone(r.ContactID),
		ContactName:      strings.Clone(r.ContactName),
		PrimaryContactID: strings.Clone(r.PrimaryContactID),
		Source:           strings.Clone(r.Source),
		Channel:          strings.Clone(r.Channel),
		UserName:         strings.Clone(r.ActorName),
	}
	if len(r.MergedContactIDs) > 0 {
		row.MergedContactIDs = make([]string, len(r.MergedContactIDs))
		for i, id := range r.MergedContactIDs {
			row.MergedContactIDs[i] = strings.Clone(id)
		}
	}
	return row
}

// dayRange returns [from, to) clipped to the UTC date's day.
func dayRange(date string, from, to time.Time) (time.Time, time.Time) {
	d, _ := time.Parse(time.DateOnly, date)
	lo, hi := d, d.AddDate(0, 0, 1)
	if from.After(lo) {
		lo = from
	}
	if to.Before(hi) {
		hi = to
	}
	return lo, hi
}

// scanDay streams the rows of log k on one UTC date within [from, to), newest first.
func (e *Engine) scanDay(ctx context.Context, tenant tenant.ID, k Kind, cols []string, date string, from, to time.Time, fn func(*archive.Row) error) error {
	lo, hi := dayRange(date, from, to)
	if !lo.Before(hi) {
		return nil
	}
	return e.reader.Scan(ctx, archive.Query{
		Tenant: tenant, From: lo, To: hi, Columns: cols,
		Types: []string{k.EventType()}, Descending: true,
	}, fn)
}

// Filter narrows a log to the events behind one number of the overview (see
// httpapi.LogFilter for what each field matches).
type Filter = httpapi.LogFilter

// rowFilter is a Filter compiled for the scan: it is applied to each archived row before
// the row is copied, so rows filtered out cost no allocation. nil keeps every row.
type rowFilter func(*archive.Row) bool

// compile returns f as a rowFilter, nil when f filters nothing (the unfiltered scan pays
// nothing). Each value is compared with the field the overview's breakdown is keyed by:
// source (with "unknown" standing for no source too, as in bySource), channel, actor id.
func compile(f Filter) rowFilter {
	if f.IsZero() {
		return nil
	}
	var checks []func(*archive.Row) bool
	if f.Source != nil {
		src := *f.Source
		if src == UnknownSource {
			checks = append(checks, func(r *archive.Row) bool { return r.Source == src || r.Source == "" })
		} else {
			checks = append(checks, func(r *archive.Row) bool { return r.Source == src })
		}
	}
	if f.Channel != nil {
		ch := *f.Channel
		checks = append(checks, func(r *archive.Row) bool { return r.Channel == ch })
	}
	if f.User != nil {
		id := *f.User
		checks = append(checks, func(r *archive.Row) bool { return r.ActorID == id })
	}
	return func(r *archive.Row) bool {
		for _, c := range checks {
			if !c(r) {
				return false
			}
		}
		return true
	}
}

// newestDates returns the UTC dates of [from, to), newest first.
func newestDates(from, to time.Time) []string {
	d := archive.Dates(from, to)
	slices.Reverse(d)
	return d
}

// page reads the rows of log k that f keeps, days newest first, up to e.parallel at once, each day keeping at most
// limit+1 rows, and stops at the first day that fills the page.
func (e *Engine) page(ctx context.Context, tenant tenant.ID, k Kind, p Period, f Filter, after *Position, limit int) ([]Row, *Position, error) {
	from, to := p.From, p.To
	if after != nil {
		if bound := time.UnixMilli(after.At + 1).UTC(); bound.Before(to) {
			to = bound
		}
	}
	if !from.Before(to) {
		return []Row{}, nil, nil
	}
	want := limit + 1
	keep, cols := compile(f), logColumns(k, f)
	load := func(ctx context.Context, date string) ([]Row, error) {
		var rows []Row
		err := e.scanDay(ctx, tenant, k, cols, date, from, to, func(r *archive.Row) error {
			if after != nil && !after.before(r.OccurredAt, r.EventID) {
				return nil
			}
			if keep != nil && !keep(r) {
				return nil
			}
			rows = append(rows, rowOf(r))
			if len(rows) == want {
				return errPageFull
			}
			return nil
		})
		if err != nil && !errors.Is(err, errPageFull) {
			return nil, err
		}
		return rows, nil
	}
	// Read a window of days at a time, growing 1, 2, 4, ... up to e.parallel: a busy log
	// fills its page from the newest day alone, a sparse one soon reads many days at once.
	out := make([]Row, 0, want)
	dates := newestDates(from, to)
	var err error
	for w := 1; len(dates) > 0 && len(out) < want; w = min(2*w, e.parallel) {
		n := min(w, len(dates))
		err = forDays(ctx, dates[:n], n, load, func(_ string, rows []Row) (bool, error) {
			n := min(len(rows), want-len(out))
			out = append(out, rows[:n]...)
			return len(out) == want, nil
		})
		if err != nil {
			break
		}
		dates = dates[n:]
	}
	if err != nil {
		return nil, nil, err
	}
	var next *Position
	if len(out) > limit {
		out = out[:limit]
		pos := positionOf(out[limit-1])
		next = &pos
	}
	if err := e.openNames(ctx, e.newCache(), tenant, out); err != nil {
		return nil, nil, err
	}
	return out, next, nil
}

// each streams the rows of log k that f keeps, newest first, a few days loaded ahead.
func (e *Engine) each(ctx context.Context, tenant tenant.ID, k Kind, p Period, f Filter, fn func(Row) error) error {
	keep, cols := compile(f), logColumns(k, f)
	load := func(ctx context.Context, date string) ([]Row, error) {
		var rows []Row
		err := e.scanDay(ctx, tenant, k, cols, date, p.From, p.To, func(r *archive.Row) error {
			if keep != nil && !keep(r) {
				return nil
			}
			rows = append(rows, rowOf(r))
			return nil
		})
		return rows, err
	}
	cache := e.newCache() // one for the whole stream: each contact's key is read once
	return forDays(ctx, newestDates(p.From, p.To), e.streamParallel, load, func(_ string, rows []Row) (bool, error) {
		if err := e.openEach(ctx, cache, tenant, rows, fn); err != nil {
			return true, err
		}
		return false, nil
	})
}
