package report

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/ident"
)

// The benchmark archive: one busy tenant, a year of compacted days with rollups (benchDay
// events a day) and today in parts, in a DirStore under a temporary directory, built once
// once and kept in $TMPDIR/contrail-report-bench-v1. go test -run '^$' -bench . -benchmem ./shared/report

const benchPerDay = 4000 // x 366 days = 1.46M events

var (
	benchNow   = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	benchOnce  sync.Once
	benchStore *archive.DirStore
	benchErr   error
)

func benchArchive(b *testing.B) *archive.DirStore {
	b.Helper()
	benchOnce.Do(func() {
		// Kept between runs (complete once the marker exists): building it takes minutes.
		dir := filepath.Join(os.TempDir(), "contrail-report-bench-v1")
		st := &archive.DirStore{Dir: dir}
		benchStore = st
		if _, err := os.Stat(filepath.Join(dir, "complete")); err == nil {
			return
		}
		if benchErr = os.RemoveAll(dir); benchErr != nil {
			return
		}
		start := time.Now()
		if benchErr = buildBenchArchive(st); benchErr != nil {
			return
		}
		benchErr = os.WriteFile(filepath.Join(dir, "complete"), nil, 0o644)
		fmt.Fprintf(os.Stderr, "bench archive: %d days x %d events in %s, at %s\n", 366, benchPerDay, time.Since(start).Round(time.Second), dir)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchStore
}

func buildBenchArchive(st *archive.DirStore) error {
	ctx := context.Background()
	gen := ident.NewGenerator(func() time.Time { return benchNow })
	types := []string{TypeAdded, TypeAdded, TypeAdded, TypeConnected, TypeConnected, TypeDeleted, TypeMerged, TypeArchived, TypeUnarchived, "CONTACT_UPDATED", "MESSAGE_SENT", "LOGGED_IN"}
	sources := []string{"manual", "import", "api", "incoming_message"}
	today := dayStart(benchNow)
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for i := 365; i >= 0; i-- {
		day := today.AddDate(0, 0, -i)
		wg.Add(1)
		sem <- struct{}{}
		go func(seed int, day time.Time) {
			defer wg.Done()
			defer func() { <-sem }()
			rng := rand.New(rand.NewPCG(uint64(seed), 1))
			date := day.Format(time.DateOnly)
			n := benchPerDay
			span := int64(24 * time.Hour / time.Millisecond)
			if day.Equal(today) {
				span = benchNow.Sub(today).Milliseconds()
			}
			rows := make([]archive.Row, n)
			for j := range rows {
				at := day.UnixMilli() + rng.Int64N(span)
				typ := types[rng.IntN(len(types))]
				u := rng.IntN(40)
				r := archive.Row{
					EventID: gen.At(time.UnixMilli(at)), TenantID: "busy", OccurredAt: at, RecordedAt: at + 300,
					Type: typ, Category: "contact", ActorType: "user", ActorID: fmt.Sprintf("u-%02d", u), ActorName: fmt.Sprintf("Agent %02d", u),
					ContactID: fmt.Sprintf("c-%07d", rng.IntN(5_000_000)), ContactName: fmt.Sprintf("Contact %d", rng.IntN(1_000_000)),
					Source: sources[rng.IntN(len(sources))], Data: `{}`, IP: "203.0.113.7", UserAgent: "Mozilla/5.0", RequestID: "req",
				}
				if typ == TypeConnected {
					r.Channel = "whatsapp"
				}
				if typ == TypeMerged {
					r.PrimaryContactID, r.MergedContactIDs = r.ContactID, []string{"c-a", "c-b"}
				}
				rows[j] = r
			}
			sort.Slice(rows, func(a, b int) bool { return archive.Less(&rows[a], &rows[b]) })
			err := func() error {
				if day.Equal(today) {
					for p := 0; p < 4; p++ {
						key, body, err := archive.EncodePart("busy", date, rows[p*n/4:(p+1)*n/4])
						if err != nil {
							return err
						}
						if err := st.Put(ctx, key, body); err != nil {
							return err
						}
					}
					return nil
				}
				covers := []string{mustKey(archive.PartKey("busy", date, []string{"gone"}))}
				cj, _ := json.Marshal(covers)
				body, err := archive.Encode(rows, map[string]string{archive.CoversKey: string(cj)})
				if err != nil {
					return err
				}
				key := mustKey(archive.CompactedKey("busy", date, covers))
				if err := st.Put(ctx, key, body); err != nil {
					return err
				}
				ru := archive.NewRollup("busy", date)
				for k := range rows {
					ru.Add(&rows[k])
				}
				ru.Object = key
				enc, err := ru.Encode()
				if err != nil {
					return err
				}
				return st.Put(ctx, mustKey(archive.RollupKey("busy", date)), enc)
			}()
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}(i, day)
	}
	wg.Wait()
	return firstErr
}

func benchEngine(b *testing.B) *Engine {
	return NewEngine(benchArchive(b), func() time.Time { return benchNow })
}

// BenchmarkOverviewYear: 365 local days in Asia/Jakarta ending today: ~363 whole UTC dates
// from rollups, the two edge dates and today from raw rows.
func BenchmarkOverviewYear(b *testing.B) {
	e := benchEngine(b)
	tz, _ := time.LoadLocation("Asia/Jakarta")
	local := benchNow.In(tz)
	to := time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, tz)
	p := Period{From: to.AddDate(0, 0, -365).UTC(), To: to.UTC(), TZ: tz}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ov, err := e.Overview(context.Background(), "busy", p)
		if err != nil {
			b.Fatal(err)
		}
		if ov.Totals.Added == 0 {
			b.Fatal("nothing counted")
		}
	}
}

// BenchmarkOverviewYearRaw is the same year with every date read from raw rows: what the
// rollups save.
func BenchmarkOverviewYearRaw(b *testing.B) {
	e := benchEngine(b)
	p := Period{From: dayStart(benchNow).AddDate(0, 0, -365), To: dayStart(benchNow).AddDate(0, 0, 1), TZ: time.UTC}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := forDays(context.Background(), archive.Dates(p.From, p.To), e.parallel,
			func(ctx context.Context, date string) (*dayCounts, error) { return e.countRaw(ctx, "busy", date, p) },
			func(string, *dayCounts) (bool, error) { return false, nil })
		if err != nil {
			b.Fatal(err)
		}
	}
}

func benchFirstPage(b *testing.B, days int, f Filter) {
	e := benchEngine(b)
	to := dayStart(benchNow).AddDate(0, 0, 1)
	p := Period{From: to.AddDate(0, 0, -days), To: to, TZ: time.UTC}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rows, next, err := e.Log(context.Background(), "busy", Added, p, f, nil, 50)
		if err != nil {
			b.Fatal(err)
		}
		if len(rows) != 50 || next == nil {
			b.Fatalf("page of %d rows", len(rows))
		}
	}
}

func BenchmarkLogFirstPage30Days(b *testing.B)  { benchFirstPage(b, 30, Filter{}) }
func BenchmarkLogFirstPage365Days(b *testing.B) { benchFirstPage(b, 365, Filter{}) }

// BenchmarkLogFirstPage30DaysByUser is the console's drill-down from one of 40 users: a
// fortieth of the rows match, so the page reads about 40 times the rows it keeps.
func BenchmarkLogFirstPage30DaysByUser(b *testing.B) {
	u := "u-07"
	benchFirstPage(b, 30, Filter{User: &u})
}

// BenchmarkLogCSV30Days streams a 30-day Added log (~30k rows) as CSV.
func BenchmarkLogCSV30Days(b *testing.B) {
	e := benchEngine(b)
	to := dayStart(benchNow).AddDate(0, 0, 1)
	p := Period{From: to.AddDate(0, 0, -30), To: to, TZ: time.UTC}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var w countingWriter
		if _, err := e.WriteCSV(context.Background(), &w, "busy", Added, p, Filter{}); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(w))
	}
}

type countingWriter int

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}
