package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/contrail/contrail/shared/tenant"
)

// Object layout in the archive bucket:
//
//	events/tenant=<t>/date=<YYYY-MM-DD>/part-<digest>.parquet       written by the archiver;
//	    digest = hash of the sorted event ids it holds, so a retried batch rewrites its own object
//	events/tenant=<t>/date=<YYYY-MM-DD>/compacted-<digest>.parquet  written by the compactor;
//	    digest = hash of the sorted keys it covers (listed in its metadata under CoversKey)
//	rollups/tenant=<t>/date=<YYYY-MM-DD>/rollup.json                the day's counts (Rollup)
//	rollups/tenant=<t>/month=<YYYY-MM>/rollup.bin                   the month's settled days (MonthRollup)
//	pending/tenant=<t>/date=<YYYY-MM-DD>                            marker: the day has parts to compact
//	rejected/date=<YYYY-MM-DD>/<digest>.json                        stream records set aside: they can never
//	    be archived (a tenant id or time no partition can hold); a stream batch holding them, with the reasons
//	sequence/tenant=<t>/<recorded time>-<part digest>.json          a part's events for the log's sequencer
//	    (SequenceMarker), written after the part; the sequencer deletes it once they are in the log
//
// The date is the UTC date of occurred_at. Only events/ is Parquet (the Glue table's location).
const (
	EventsPrefix  = "events/"
	RollupsPrefix = "rollups/"
	PendingPrefix = "pending/"
	// RejectedPrefix holds the stream records the archiver set aside (RejectedKey).
	RejectedPrefix = "rejected/"
	// SequencePrefix holds the markers the log's sequencer reads (SequenceKey).
	SequencePrefix = "sequence/"

	partPrefix      = "part-"
	compactedPrefix = "compacted-"
	parquetSuffix   = ".parquet"

	// CoversKey is the Parquet key-value metadata entry of a compacted object: a JSON array
	// of the object keys (parts and older compacted objects) whose events it holds.
	CoversKey = "contrail.covers"
)

// ErrInvalidPartition says a tenant id or date cannot name a place in the archive. It is
// permanent: no retry can write or read such a partition.
var ErrInvalidPartition = errors.New("invalid archive partition")

// partition returns "tenant=<t>/date=<d>/" after checking both parts again, whatever the
// caller checked: a tenant id that is not tenant.Valid (a '/', "..", '=' ...) or a date that
// is not YYYY-MM-DD could name another tenant's partition, so no key is built from one.
func partition(t tenant.ID, date string) (string, error) {
	if !t.Valid() {
		return "", fmt.Errorf("%w: tenant id %q is not valid", ErrInvalidPartition, string(t))
	}
	if d, err := time.Parse(time.DateOnly, date); err != nil || d.Format(time.DateOnly) != date {
		return "", fmt.Errorf("%w: date %q is not YYYY-MM-DD", ErrInvalidPartition, date)
	}
	return "tenant=" + t.String() + "/date=" + date, nil
}

// DayPrefix is the key prefix of one tenant-day's Parquet objects.
func DayPrefix(t tenant.ID, date string) (string, error) {
	p, err := partition(t, date)
	return EventsPrefix + p + "/", err
}

// PartKey is the key of the part holding exactly the events with these ids (sorted).
func PartKey(t tenant.ID, date string, sortedIDs []string) (string, error) {
	p, err := DayPrefix(t, date)
	return p + partPrefix + digest(sortedIDs) + parquetSuffix, err
}

// CompactedKey is the key of the compacted object covering these keys (sorted).
func CompactedKey(t tenant.ID, date string, sortedCovers []string) (string, error) {
	p, err := DayPrefix(t, date)
	return p + compactedPrefix + digest(sortedCovers) + parquetSuffix, err
}

// RollupKey is the key of a tenant-day's rollup.
func RollupKey(t tenant.ID, date string) (string, error) {
	p, err := partition(t, date)
	return RollupsPrefix + p + "/rollup.json", err
}

// PendingKey is the marker that a tenant-day has parts waiting for compaction.
func PendingKey(t tenant.ID, date string) (string, error) {
	p, err := partition(t, date)
	return PendingPrefix + p, err
}

// RejectedKey is where the records a batch set aside on date (the UTC date they were set
// aside) go, keyed by a digest of their sequence numbers so a retried batch rewrites its own.
func RejectedKey(date string, sortedSeqs []string) string {
	return RejectedPrefix + "date=" + date + "/" + digest(sortedSeqs) + ".json"
}

// IsPart and IsCompacted classify an object key of a day.
func IsPart(key string) bool      { return objectKind(key) == partPrefix }
func IsCompacted(key string) bool { return objectKind(key) == compactedPrefix }

func objectKind(key string) string {
	name := key[strings.LastIndex(key, "/")+1:]
	if !strings.HasSuffix(name, parquetSuffix) {
		return ""
	}
	switch {
	case strings.HasPrefix(name, partPrefix):
		return partPrefix
	case strings.HasPrefix(name, compactedPrefix):
		return compactedPrefix
	}
	return ""
}

// ParseTenantDay reads tenant and date back from a key that PendingKey, RollupKey or
// DayPrefix (plus one object name) built. ok is false for anything else, including a valid
// tenant-day followed by more folders (a key written by something else, or by hand).
func ParseTenantDay(key string) (t tenant.ID, date string, ok bool) {
	var rest string
	for _, prefix := range []string{EventsPrefix, RollupsPrefix, PendingPrefix} {
		if r, found := strings.CutPrefix(key, prefix+"tenant="); found {
			rest = r
			break
		}
	}
	raw, rest, found := strings.Cut(rest, "/date=")
	if !found || len(rest) < len(time.DateOnly) {
		return "", "", false
	}
	t, date, rest = tenant.ID(raw), rest[:len(time.DateOnly)], rest[len(time.DateOnly):]
	if _, err := partition(t, date); err != nil {
		return "", "", false
	}
	if rest != "" { // "/<object name>": one segment
		name, found := strings.CutPrefix(rest, "/")
		if !found || name == "" || strings.Contains(name, "/") {
			return "", "", false
		}
	}
	return t, date, true
}

func digest(sorted []string) string {
	h := sha256.New()
	for _, s := range sorted {
		h.Write([]byte(s))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// sequenceTime is the layout of a sequence marker's recorded time: it sorts as it reads.
const sequenceTime = "20060102T150405.000Z"

// SequenceMarker is the body of an object under sequence/: one part's events, for the log's
// sequencer (shared/vlog), which appends them in this order.
type SequenceMarker struct {
	Part     string   `json:"part"`     // the part's key
	Date     string   `json:"date"`     // its UTC date
	EventIDs []string `json:"eventIds"` // its events, in the part's (occurred_at, event_id) order
}

// SequenceKey is the key of the sequence marker of the part partKey of tenant t, recorded
// at recorded: markers list in the order they were recorded.
func SequenceKey(t tenant.ID, recorded time.Time, partKey string) (string, error) {
	if !t.Valid() {
		return "", fmt.Errorf("%w: tenant id %q is not valid", ErrInvalidPartition, string(t))
	}
	name := partKey[strings.LastIndex(partKey, "/")+1:]
	d := strings.TrimSuffix(strings.TrimPrefix(name, partPrefix), parquetSuffix)
	return SequencePrefix + "tenant=" + t.String() + "/" + recorded.UTC().Format(sequenceTime) + "-" + d + ".json", nil
}

// ParseSequenceKey reads the tenant back from a key SequenceKey built; ok is false for
// anything else.
func ParseSequenceKey(key string) (t tenant.ID, ok bool) {
	rest, found := strings.CutPrefix(key, SequencePrefix+"tenant=")
	raw, name, found2 := strings.Cut(rest, "/")
	if !found || !found2 || !tenant.ID(raw).Valid() || name == "" || strings.Contains(name, "/") || !strings.HasSuffix(name, ".json") {
		return "", false
	}
	return tenant.ID(raw), true
}
