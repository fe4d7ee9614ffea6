package archive

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/s3upload"
)

// streamingDay archives the same day into st: a compacted object of the first third, then
// overlapping parts of the rest, a late part spread over the whole day (a replay), a
// re-delivery of events already compacted and a large re-delivery of the day's end.
func streamingDay(t *testing.T, st Store, rows []Row) {
	t.Helper()
	const tenant, date = "acme", "2026-11-29"
	third := len(rows) / 3
	smallParts(t, st, tenant, date, rows[:third], 4)
	if _, err := (&Compactor{Store: st}).CompactDay(context.Background(), tenant, date); err != nil {
		t.Fatal(err)
	}
	smallParts(t, st, tenant, date, rows[third:], 30)
	rng := rand.New(rand.NewPCG(3, 4))
	var late []Row
	for i := 0; i < 60; i++ {
		late = append(late, rows[rng.IntN(len(rows))])
	}
	putPart(t, st, tenant, date, SortUnique(late))
	putPart(t, st, tenant, date, rows[5:9])
	putPart(t, st, tenant, date, rows[len(rows)-700:]) // more rows than a lazy cursor decodes at once
}

// TestStreamingCompactionSameBytes: a day merged from parts opened one by one as the merge
// reaches them (the way a busy day is compacted) and written as a stream gives the very
// bytes and rollup of the day merged with every part held, on S3 and on a folder.
func TestStreamingCompactionSameBytes(t *testing.T) {
	const tenant, date = "acme", "2026-11-29"
	rows := rowsOf(t, sampleEvents(t, 21, tenant, date, 2400))
	want := eventsOf(t, rows)
	type result struct {
		object, rollup []byte
	}
	run := func(t *testing.T, st Store, keep int64) result {
		streamingDay(t, st, rows)
		c := &Compactor{Store: st, keepParts: keep}
		dr, err := c.CompactDay(context.Background(), tenant, date)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]string{dr.Key}, keysUnder(t, st, mustKey(DayPrefix(tenant, date)))); d != "" {
			t.Errorf("objects after compaction (-want +got):\n%s", d)
		}
		if d := cmp.Diff(want, archived(t, st, tenant, date)); d != "" {
			t.Errorf("archived events (-raw +archive):\n%s", d)
		}
		if dr.Events != int64(len(want)) {
			t.Errorf("compacted %d events, want %d", dr.Events, len(want))
		}
		return result{object(t, st, dr.Key), object(t, st, mustKey(RollupKey(tenant, date)))}
	}
	held := run(t, s3Store(t), 0)
	for _, tc := range []struct {
		name string
		st   func() Store
	}{
		{"s3, parts one by one", func() Store { return s3Store(t) }},
		{"folder, parts one by one", func() Store { return &DirStore{Dir: t.TempDir()} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, tc.st(), -1)
			if !bytes.Equal(held.object, got.object) {
				t.Errorf("compacted object: %d bytes, differs from the %d bytes of the day merged held", len(got.object), len(held.object))
			}
			if d := cmp.Diff(string(held.rollup), string(got.rollup)); d != "" {
				t.Errorf("rollup (-held +streamed):\n%s", d)
			}
		})
	}
}

// recordingUploads records the Object Lock settings of each put and multipart upload.
type recordingUploads struct {
	s3upload.S3
	S3API
	locks map[string]string
}

func lockOf(mode string, until *time.Time) string {
	if mode == "" {
		return "none"
	}
	return mode + " " + until.Format(time.DateOnly)
}

func (r *recordingUploads) PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	r.locks["put "+*in.Key] = lockOf(string(in.ObjectLockMode), in.ObjectLockRetainUntilDate)
	return r.S3API.PutObject(ctx, in, opts...)
}

func (r *recordingUploads) CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	r.locks["multipart "+*in.Key] = lockOf(string(in.ObjectLockMode), in.ObjectLockRetainUntilDate)
	return r.S3.CreateMultipartUpload(ctx, in, opts...)
}

// TestStreamedObjectsKeepTheirLock: a compacted object written as a stream carries the
// same retention as one Put, whether it is small (one PutObject) or a multipart upload.
func TestStreamedObjectsKeepTheirLock(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	lock, err := ParseLock("compliance", 30)
	if err != nil {
		t.Fatal(err)
	}
	lock.Now = func() time.Time { return now }
	client := stacktest.S3(t)
	rec := &recordingUploads{S3: client, S3API: client, locks: map[string]string{}}
	st := &S3Store{Client: rec, Bucket: stacktest.Bucket(t), Lock: lock}
	big := bytes.Repeat([]byte("0123456789abcdef"), (s3upload.PartSize+3000)/16)
	for key, body := range map[string][]byte{
		"events/tenant=acme/date=2026-12-07/compacted-small.parquet": []byte("x"),
		"events/tenant=acme/date=2026-12-07/compacted-big.parquet":   big,
		"events/tenant=acme/date=2026-12-07/part-big.parquet":        big,
	} {
		w, err := st.Create(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(body); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		got, err := st.Get(context.Background(), key)
		if err != nil || !bytes.Equal(got, body) {
			t.Errorf("%s: read back %d bytes (%v), want the %d written", key, len(got), err, len(body))
		}
	}
	want := map[string]string{
		"put events/tenant=acme/date=2026-12-07/compacted-small.parquet":     "COMPLIANCE 2027-01-06",
		"multipart events/tenant=acme/date=2026-12-07/compacted-big.parquet": "COMPLIANCE 2027-01-06",
		"multipart events/tenant=acme/date=2026-12-07/part-big.parquet":      "none",
	}
	if d := cmp.Diff(want, rec.locks); d != "" {
		t.Errorf("locks (-want +got):\n%s", d)
	}
}
