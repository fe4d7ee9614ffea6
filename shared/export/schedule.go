package export

import (
	"crypto/sha256"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/tenant"
)

// Frequencies of a schedule.
const (
	Daily   = "daily"
	Weekly  = "weekly"
	Monthly = "monthly"
)

// Frequencies lists the schedule frequencies.
var Frequencies = []string{Daily, Weekly, Monthly}

// Schedule is an export schedule as the jobs table stores it. nextRunAt is the end of the
// next period to export (UTC, audit.TimeLayout): the runner queries ByDue for
// nextRunAt <= now, so finding due schedules never scans.
type Schedule struct {
	PK        string    `dynamodbav:"pk"`
	SK        string    `dynamodbav:"sk"` // the name
	TenantID  tenant.ID `dynamodbav:"tenantId"`
	Name      string    `dynamodbav:"name"`
	Report    string    `dynamodbav:"report"`
	Frequency string    `dynamodbav:"frequency"`
	Format    string    `dynamodbav:"format"`
	// Filter is copied to each job of the schedule (nil: no filter).
	Filter     *httpapi.LogFilter `dynamodbav:"filter,omitempty"`
	Recipients []string           `dynamodbav:"recipients"`
	TZ         string             `dynamodbav:"tz"`
	DueKey     string             `dynamodbav:"dueKey"`
	NextRunAt  string             `dynamodbav:"nextRunAt"`
	LastExport string             `dynamodbav:"lastExportId,omitempty"`
	CreatedAt  string             `dynamodbav:"createdAt"`
	UpdatedAt  string             `dynamodbav:"updatedAt"`
	CreatedBy  string             `dynamodbav:"createdBy"`
	UpdatedBy  string             `dynamodbav:"updatedBy"`
}

// SchedulePK is the partition of a tenant's schedules.
func SchedulePK(tenant tenant.ID) string { return "T#" + tenant.String() + "#SCHEDULE" }

// PeriodOf returns the period of frequency freq that contains t, in loc: a calendar day,
// a Monday-to-Sunday week, or a calendar month, from midnight to midnight.
func PeriodOf(freq string, t time.Time, loc *time.Location) (start, end time.Time) {
	y, m, d := t.In(loc).Date()
	switch freq {
	case Weekly:
		back := (int(t.In(loc).Weekday()) + 6) % 7 // days since Monday
		return time.Date(y, m, d-back, 0, 0, 0, 0, loc), time.Date(y, m, d-back+7, 0, 0, 0, 0, loc)
	case Monthly:
		return time.Date(y, m, 1, 0, 0, 0, 0, loc), time.Date(y, m+1, 1, 0, 0, 0, 0, loc)
	default:
		return time.Date(y, m, d, 0, 0, 0, 0, loc), time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	}
}

// PeriodEnding returns the period of freq that ends at end (its start and, recomputed, its end).
func PeriodEnding(freq string, end time.Time, loc *time.Location) (time.Time, time.Time) {
	return PeriodOf(freq, end.Add(-time.Millisecond), loc)
}

// LastFullPeriod returns the most recent period of freq that has ended by t, in loc: the
// one before the period containing t (yesterday, last Monday-to-Sunday, last month). It is
// the period the runner exported (or will export) last.
func LastFullPeriod(freq string, t time.Time, loc *time.Location) (start, end time.Time) {
	current, _ := PeriodOf(freq, t, loc)
	return PeriodEnding(freq, current, loc)
}

// Job returns the pending export job of sc for the period [start, end), created at now:
// what the runner creates for each due period and "run now" for the last full one.
func (sc *Schedule) Job(id string, start, end, now time.Time) *Job {
	return &Job{
		TenantID: sc.TenantID, ID: id, Report: sc.Report, Format: sc.Format, Filter: sc.Filter,
		From: formatTime(start), To: formatTime(end), TZ: sc.TZ,
		Recipients: sc.Recipients, Schedule: sc.Name, Status: StatusPending,
		CreatedAt: formatTime(now), ExpiresAt: now.Add(JobTTL).Unix(),
	}
}

// DueEnds returns the ends of the periods of a schedule that are due at now, oldest first:
// the period ending at nextRunAt and each later one that has ended by now.
func DueEnds(freq string, nextRunAt, now time.Time, loc *time.Location) []time.Time {
	var ends []time.Time
	for e := nextRunAt; !e.After(now); {
		_, end := PeriodEnding(freq, e, loc)
		ends = append(ends, end)
		_, e = PeriodOf(freq, end, loc)
		if len(ends) > 1000 { // a decade of days: nothing sane is this late; stop anyway
			break
		}
	}
	return ends
}

// ScheduledJobID is the id of a schedule's export of one period: the same tenant, schedule
// and period always give the same id, so creating the job with attribute_not_exists makes a
// period run once however often the runner runs. It is shaped as a ULID whose time is the
// period's end.
func ScheduledJobID(tenant tenant.ID, schedule string, from, to time.Time) string {
	h := sha256.New()
	for _, s := range []string{tenant.String(), schedule, formatTime(from), formatTime(to)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	var id ulid.ULID
	if err := id.SetTime(ulid.Timestamp(to)); err != nil {
		panic(err) // only for times after 10889 AD
	}
	copy(id[6:], h.Sum(nil))
	return id.String()
}
