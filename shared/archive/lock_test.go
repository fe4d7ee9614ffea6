package archive_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/archive"
)

// recordingPuts records the Object Lock settings of each put, and stores it.
type recordingPuts struct {
	archive.S3API
	locks map[string]string
}

func (r *recordingPuts) PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	lock := "none"
	if in.ObjectLockMode != "" {
		lock = string(in.ObjectLockMode) + " " + in.ObjectLockRetainUntilDate.Format(time.DateOnly)
	}
	r.locks[*in.Key] = lock
	return r.S3API.PutObject(ctx, in, opts...)
}

// TestLockedKeys: compacted objects and rollups are written with their retention; parts and
// markers are not (compaction replaces them). The local S3 takes the locked puts.
func TestLockedKeys(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	lock, err := archive.ParseLock("governance", 10)
	if err != nil {
		t.Fatal(err)
	}
	lock.Now = func() time.Time { return now }
	rec := &recordingPuts{S3API: stacktest.S3(t), locks: map[string]string{}}
	st := &archive.S3Store{Client: rec, Bucket: stacktest.Bucket(t), Lock: lock}
	keys := map[string]string{
		"events/tenant=acme/date=2026-12-07/compacted-abc.parquet": "GOVERNANCE 2026-12-17",
		"rollups/tenant=acme/date=2026-12-07/rollup.json":          "GOVERNANCE 2026-12-17",
		"rollups/tenant=acme/month=2026-12/rollup.bin":             "none",
		"events/tenant=acme/date=2026-12-07/part-abc.parquet":      "none",
		"pending/tenant=acme/date=2026-12-07":                      "none",
		"rejected/2026-12-07/x.json":                               "none",
	}
	for k := range keys {
		if err := st.Put(context.Background(), k, []byte("x")); err != nil {
			t.Fatalf("put %s: %v", k, err)
		}
	}
	if d := cmp.Diff(keys, rec.locks); d != "" {
		t.Errorf("locks (-want +got):\n%s", d)
	}
	for _, bad := range []struct {
		mode string
		days int
	}{{"forever", 10}, {"COMPLIANCE", 0}} {
		if _, err := archive.ParseLock(bad.mode, bad.days); err == nil {
			t.Errorf("ParseLock(%q, %d) accepted", bad.mode, bad.days)
		}
	}
	if l, err := archive.ParseLock("", 10); l != nil || err != nil {
		t.Errorf("ParseLock(\"\") = %v, %v; want no lock", l, err)
	}
}
