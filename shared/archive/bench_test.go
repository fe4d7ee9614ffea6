package archive

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/contrail/contrail/local/peakheap"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/tenant"
)

// benchBatch builds a stream batch of realistic audit items (three tenants, two days),
// either up to maxBytes of JSON or exactly maxRecords records.
func benchBatch(b *testing.B, maxBytes, maxRecords int) (raw []byte, records int) {
	b.Helper()
	var its []map[string]types.AttributeValue
	for i, tenant := range []tenant.ID{"acme", "globex", "initech"} {
		for j, day := range []string{"2026-11-29", "2026-11-30"} {
			its = append(its, items(b, sampleEvents(b, uint64(i*10+j), tenant, day, 4000))...)
		}
	}
	n := len(its)
	if maxRecords > 0 {
		n = maxRecords
		for len(its) < n {
			its = append(its, its...)
		}
	}
	raw = streamJSON(b, inserts(its[:n], 1))
	if maxBytes > 0 {
		lo, hi := 1, n
		for lo < hi { // the most records whose batch fits in maxBytes
			mid := (lo + hi + 1) / 2
			if len(streamJSON(b, inserts(its[:mid], 1))) <= maxBytes {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		n = lo
		raw = streamJSON(b, inserts(its[:n], 1))
	}
	return raw, n
}

// BenchmarkArchiveBatch is what one archiver invocation does with a batch at Lambda's
// limits: decode the stream JSON, convert, group by tenant-day, encode Parquet, write
// (to a DirStore). Reports records/s and the peak live heap.
func BenchmarkArchiveBatch(b *testing.B) {
	cases := []struct {
		name                 string
		maxBytes, maxRecords int
	}{
		{"6MB", 6 << 20, 0},
		{"10000records", 0, 10000},
	}
	decoders := []struct {
		name   string
		decode func([]byte) (*StreamBatch, error)
	}{
		{"fast", DecodeStreamBatch}, // what the archiver function does (Archiver.Invoke)
		{"json", func(raw []byte) (*StreamBatch, error) {
			var batch StreamBatch
			return &batch, json.Unmarshal(raw, &batch)
		}},
	}
	for _, tc := range cases {
		for _, dec := range decoders {
			b.Run(tc.name+"/"+dec.name, func(b *testing.B) {
				benchArchive(b, tc.maxBytes, tc.maxRecords, dec.decode)
			})
		}
	}
}

// benchArchive runs BenchmarkArchiveBatch for one batch size and stream decoder.
func benchArchive(b *testing.B, maxBytes, maxRecords int, decode func([]byte) (*StreamBatch, error)) {
	raw, n := benchBatch(b, maxBytes, maxRecords)
	a := &Archiver{Store: &DirStore{Dir: b.TempDir()}, Log: discardLog()}
	runtime.GC()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.ResetTimer()
	ph := peakheap.Start(2 * time.Millisecond)
	start, cpu0 := time.Now(), cpuTime()
	for i := 0; i < b.N; i++ {
		batch, err := decode(raw)
		if err != nil {
			b.Fatal(err)
		}
		resp, err := a.Handle(context.Background(), batch)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			b.Fatalf("%v %+v", err, resp)
		}
	}
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	peak := ph.Stop()
	b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "records/s")
	// CPU seconds (user+system, all threads, GC included): steadier than wall time on
	// a shared machine.
	b.ReportMetric(float64(n*b.N)/cpu.Seconds(), "records/cpu-s")
	b.ReportMetric(float64(n), "records/batch")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// BenchmarkDecode compares the archiver's decoding (StreamBatch straight to rows) with the
// generic path (events.DynamoDBEvent, then SDK attribute values, then audit.Event, then row).
func BenchmarkDecode(b *testing.B) {
	raw, n := benchBatch(b, 6<<20, 0)
	b.Run("StreamBatch", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var batch StreamBatch
			if err := json.Unmarshal(raw, &batch); err != nil {
				b.Fatal(err)
			}
			for j := range batch.Records {
				if _, err := batch.Records[j].DynamoDB.NewImage.Row(); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("Fast", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			batch, err := DecodeStreamBatch(raw)
			if err != nil {
				b.Fatal(err)
			}
			for j := range batch.Records {
				if _, err := batch.Records[j].DynamoDB.NewImage.Row(); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("DynamoDBEvent", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var ev events.DynamoDBEvent
			if err := json.Unmarshal(raw, &ev); err != nil {
				b.Fatal(err)
			}
			for _, r := range ev.Records {
				e, err := audit.EventFromStreamImage(r.Change.NewImage)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := FromEvent(&e); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
	})
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
