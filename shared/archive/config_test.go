package archive_test

import (
	"testing"

	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/s3bucket"
)

// The compactor's configuration: its bucket, how many days a run takes, and the Object Lock
// of what it keeps, each problem named in the one cold-start message.
func TestReadCompactorConfig(t *testing.T) {
	base := map[string]string{"ARCHIVE_BUCKET": "archive", "S3_FORCE_PATH_STYLE": "false", "COMPACT_MAX_DAYS": "200",
		"ARCHIVE_LOCK_MODE": "GOVERNANCE", "ARCHIVE_LOCK_DAYS": "2557"}
	with := func(k, v string) map[string]string {
		m := map[string]string{k: v}
		for bk, bv := range base {
			if bk != k {
				m[bk] = bv
			}
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		vars    map[string]string
		want    archive.CompactorConfig
		problem string
	}{
		{"locked", base, archive.CompactorConfig{Bucket: s3bucket.Config{Name: "archive"}, MaxDays: 200,
			Lock: &archive.Lock{Mode: s3types.ObjectLockModeGovernance, Days: 2557}}, ""},
		{"no lock", with("ARCHIVE_LOCK_MODE", ""), archive.CompactorConfig{Bucket: s3bucket.Config{Name: "archive"}, MaxDays: 200}, ""},
		{"bad mode", with("ARCHIVE_LOCK_MODE", "forever"), archive.CompactorConfig{Bucket: s3bucket.Config{Name: "archive"}, MaxDays: 200},
			`configuration: ARCHIVE_LOCK_MODE="forever" is not GOVERNANCE or COMPLIANCE (or empty: no lock)`},
		{"days out of bounds", with("ARCHIVE_LOCK_DAYS", "0"), archive.CompactorConfig{Bucket: s3bucket.Config{Name: "archive"}, MaxDays: 200},
			`configuration: ARCHIVE_LOCK_DAYS="0" is not an integer in [1, 36500]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := env.Reader{Lookup: env.Map(tc.vars)}
			got := archive.ReadCompactorConfig(&r)
			problem := ""
			if err := r.Err(); err != nil {
				problem = err.Error()
			}
			if d := cmp.Diff(tc.want, got); d != "" || problem != tc.problem {
				t.Errorf("(-want +got)\n%s%q, want %q", d, problem, tc.problem)
			}
		})
	}
}
