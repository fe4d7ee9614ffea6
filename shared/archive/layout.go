package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Object layout in the archive bucket:
//
//	events/tenant=<t>/date=<YYYY-MM-DD>/part-<digest>.parquet       written by the archiver;
//	    digest = hash of the sorted event ids it holds, so a retried batch rewrites its own object
//	events/tenant=<t>/date=<YYYY-MM-DD>/compacted-<digest>.parquet  written by the compactor;
//	    digest = hash of the sorted keys it covers (listed in its metadata under CoversKey)
//	rollups/tenant=<t>/date=<YYYY-MM-DD>/rollup.json                the day's counts (Rollup)
//	pending/tenant=<t>/date=<YYYY-MM-DD>                            marker: the day has parts to compact
//
// The date is the UTC date of occurred_at. Only events/ is Parquet (the Glue table's location).
const (
	EventsPrefix  = "events/"
	RollupsPrefix = "rollups/"
	PendingPrefix = "pending/"

	partPrefix      = "part-"
	compactedPrefix = "compacted-"
	parquetSuffix   = ".parquet"

	// CoversKey is the Parquet key-value metadata entry of a compacted object: a JSON array
	// of the object keys (parts and older compacted objects) whose events it holds.
	CoversKey = "contrail.covers"
)

// DayPrefix is the key prefix of one tenant-day's Parquet objects.
func DayPrefix(tenant, date string) string {
	return EventsPrefix + "tenant=" + tenant + "/date=" + date + "/"
}

// PartKey is the key of the part holding exactly the events with these ids (sorted).
func PartKey(tenant, date string, sortedIDs []string) string {
	return DayPrefix(tenant, date) + partPrefix + digest(sortedIDs) + parquetSuffix
}

// CompactedKey is the key of the compacted object covering these keys (sorted).
func CompactedKey(tenant, date string, sortedCovers []string) string {
	return DayPrefix(tenant, date) + compactedPrefix + digest(sortedCovers) + parquetSuffix
}

// RollupKey is the key of a tenant-day's rollup.
func RollupKey(tenant, date string) string {
	return RollupsPrefix + "tenant=" + tenant + "/date=" + date + "/rollup.json"
}

// PendingKey is the marker that a tenant-day has parts waiting for compaction.
func PendingKey(tenant, date string) string {
	return PendingPrefix + "tenant=" + tenant + "/date=" + date
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

// ParseTenantDay reads tenant and date back from a key under events/, rollups/ or pending/.
func ParseTenantDay(key string) (tenant, date string, ok bool) {
	i := strings.Index(key, "tenant=")
	if i < 0 {
		return "", "", false
	}
	rest := key[i+len("tenant="):]
	j := strings.Index(rest, "/date=")
	if j <= 0 {
		return "", "", false
	}
	tenant, rest = rest[:j], rest[j+len("/date="):]
	if len(rest) < 10 {
		return "", "", false
	}
	return tenant, rest[:10], true
}

func digest(sorted []string) string {
	h := sha256.New()
	for _, s := range sorted {
		h.Write([]byte(s))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
