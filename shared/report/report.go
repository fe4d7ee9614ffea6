// Package report answers the contact reports of seed 000 (the overview and the Added,
// Connected, Deleted and Merged logs) from the Parquet archive and its per-tenant-day
// rollups, never from DynamoDB. The Engine is the reading side (also used by exports);
// Service is the HTTP side of the five report routes.
//
// How a period is read:
//   - The period [from, to) is cut into the UTC dates that cover it: the archive is
//     partitioned by the UTC date of occurred_at, so a day in Asia/Jakarta spans two dates.
//   - Only the tenant's partitions for those dates are listed; only the columns a report
//     needs are decoded; row groups whose occurred_at statistics miss the range are skipped;
//     duplicate event ids (at-least-once delivery) are dropped; rows are streamed.
//   - The overview takes a UTC date from its rollup when the date lies wholly inside the
//     period and the rollup covers exactly the objects present now; other dates (edges of the
//     period in its time zone, today, dates not compacted yet) are counted from raw events.
//   - A log page reads dates newest first and stops as soon as the page is full, keeping only
//     limit+1 rows in memory.
package report

import (
	"fmt"
	"time"

	"github.com/contrail/contrail/shared/httpapi"
)

// Kind names one of the four contact logs.
type Kind string

// The four logs.
const (
	Added     Kind = "added"
	Connected Kind = "connected"
	Deleted   Kind = "deleted"
	Merged    Kind = "merged"
)

// Kinds lists the logs in the order the overview reports them.
var Kinds = []Kind{Added, Connected, Deleted, Merged}

// The event types the reports count.
const (
	TypeAdded      = "CONTACT_ADDED"
	TypeConnected  = "CONTACT_CONNECTED"
	TypeDeleted    = "CONTACT_DELETED"
	TypeMerged     = "CONTACT_MERGED"
	TypeArchived   = "CONTACT_ARCHIVED"
	TypeUnarchived = "CONTACT_UNARCHIVED"
)

// ParseKind reads a log name ("added", "connected", "deleted", "merged").
func ParseKind(s string) (Kind, error) {
	switch k := Kind(s); k {
	case Added, Connected, Deleted, Merged:
		return k, nil
	}
	return "", fmt.Errorf("unknown contact log %q", s)
}

// EventType is the audit event type the log lists.
func (k Kind) EventType() string {
	switch k {
	case Added:
		return TypeAdded
	case Connected:
		return TypeConnected
	case Deleted:
		return TypeDeleted
	case Merged:
		return TypeMerged
	}
	return ""
}

// Period is the half-open range [From, To) in UTC with the time zone of its day boundaries
// (httpapi.ParsePeriod builds one).
type Period = httpapi.Period

// MaxLogDays is the longest period a log (JSON or CSV) may cover; the contract says 366.
const MaxLogDays = 366

// MaxOverviewDays is the longest period the overview may cover: two years of rollups.
const MaxOverviewDays = 732

// dayStart returns UTC midnight of t's UTC date.
func dayStart(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
