package export

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/contrail/contrail/shared/ident"
)

// MaxCatchUp bounds the missed periods one schedule exports in a run: when the runner was
// down longer, the most recent MaxCatchUp periods are exported and older ones are skipped
// (and logged), so a long outage does not flood the recipients.
const MaxCatchUp = 7

// Runner runs the export schedules that are due, and fails the jobs whose worker died. For
// each due schedule, it creates the export job of
// every ended period (the previous full day, week or month in the schedule's time zone) and
// advances nextRunAt. Job ids are derived from tenant, schedule and period, created with
// attribute_not_exists, and nextRunAt moves with a conditional update, so a run that is late
// or runs twice (or two at once) exports each period once.
type Runner struct {
	Store *Store
	Clock ident.Clock
}

// Result counts what a run did.
type Result struct {
	Due     int `json:"due"`     // schedules found due
	Created int `json:"created"` // export jobs created
	Skipped int `json:"skipped"` // periods skipped beyond MaxCatchUp
	// Abandoned counts jobs that never started (within StartWithin) or whose worker died
	// (its lease ran out without a word): they are marked failed, so nobody waits for ever.
	Abandoned int `json:"abandoned"`
}

// Errors of abandoned jobs.
const (
	diedReason       = "The export stopped before it finished; create it again (a shorter period finishes sooner)."
	notStartedReason = "The export did not start in time; create it again."
)

// Run runs every due schedule. One schedule's failure does not stop the others; the
// errors are joined and returned (the scheduled invoke then fails and is retried).
func (rn *Runner) Run(ctx context.Context) (Result, error) {
	now := rn.Clock()
	var res Result
	var errs []error
	err := rn.Store.Due(ctx, now, func(sc *Schedule) error {
		res.Due++
		created, skipped, err := rn.runOne(ctx, sc, now)
		res.Created += created
		res.Skipped += skipped
		if err != nil {
			slog.ErrorContext(ctx, "export schedule failed", "tenant_id", sc.TenantID, "schedule", sc.Name, "error", err.Error())
			errs = append(errs, err)
		}
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	err = rn.Store.Stuck(ctx, now, func(j *Job) error {
		reason := diedReason
		if j.Status == StatusPending {
			reason = notStartedReason
		}
		if err := rn.Store.Abandon(ctx, j, reason, now); errors.Is(err, ErrChanged) {
			return nil // it finished (or was taken over) meanwhile
		} else if err != nil {
			errs = append(errs, err)
			return nil
		}
		res.Abandoned++
		slog.WarnContext(ctx, "export job abandoned; marked failed", "tenant_id", j.TenantID, "export_id", j.ID, "status", j.Status, "attempt", j.Attempt)
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	return res, errors.Join(errs...)
}

func (rn *Runner) runOne(ctx context.Context, sc *Schedule, now time.Time) (created, skipped int, err error) {
	loc, err := time.LoadLocation(sc.TZ)
	if err != nil {
		return 0, 0, fmt.Errorf("schedule %s/%s: time zone %q: %w", sc.TenantID, sc.Name, sc.TZ, err)
	}
	next, err := time.Parse(time.RFC3339Nano, sc.NextRunAt)
	if err != nil {
		return 0, 0, fmt.Errorf("schedule %s/%s: nextRunAt %q: %w", sc.TenantID, sc.Name, sc.NextRunAt, err)
	}
	ends := DueEnds(sc.Frequency, next, now, loc)
	if len(ends) > MaxCatchUp {
		skipped = len(ends) - MaxCatchUp
		slog.WarnContext(ctx, "export schedule missed periods; exporting the latest only", "tenant_id", sc.TenantID,
			"schedule", sc.Name, "missed", len(ends), "skipped", skipped)
		ends = ends[skipped:]
	}
	cur := sc.NextRunAt
	for _, end := range ends {
		start, _ := PeriodEnding(sc.Frequency, end, loc)
		j := sc.Job(ScheduledJobID(sc.TenantID, sc.Name, start, end), start, end, now)
		ok, err := rn.Store.CreateJob(ctx, j)
		if err != nil {
			return created, skipped, err
		}
		if ok {
			created++
			slog.InfoContext(ctx, "scheduled export created", "tenant_id", sc.TenantID, "schedule", sc.Name,
				"export_id", j.ID, "from", j.From, "to", j.To)
		}
		_, following := PeriodOf(sc.Frequency, end, loc)
		nextRun := formatTime(following)
		if err := rn.Store.Advance(ctx, sc, cur, nextRun, j.ID); errors.Is(err, ErrChanged) {
			return created, skipped, nil // another run, an edit or a delete moved it: theirs now
		} else if err != nil {
			return created, skipped, err
		}
		cur = nextRun
	}
	return created, skipped, nil
}
