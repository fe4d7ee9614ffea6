package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"time"

	"github.com/contrail/contrail/local/peakheap"
	"github.com/contrail/contrail/shared/archive"
)

// compactManifest describes a generated compaction day; written last.
type compactManifest struct {
	Date    string  `json:"date"`
	Events  int     `json:"events"` // distinct
	Parts   int     `json:"parts"`
	Bytes   int64   `json:"bytes"`
	Seconds float64 `json:"seconds"`
}

// compactDay returns the cached compaction day of the scale, generating it first if need be.
func compactDay(ctx context.Context, o options) (string, *compactManifest, error) {
	dir := cacheDir(o.root, "compact", o.scale, o.seed)
	if b, err := os.ReadFile(filepath.Join(dir, "manifest.json")); err == nil {
		var m compactManifest
		if json.Unmarshal(b, &m) == nil {
			return dir, &m, nil
		}
	}
	logf("generating the compaction day (%d events) into %s (cached for the next runs)", o.scale.Compact.Events, dir)
	m, err := generateCompactDay(ctx, dir, o.scale, o.seed)
	if err != nil {
		return "", nil, fmt.Errorf("generate the compaction day: %w", err)
	}
	logf("generated the compaction day in %.0f s: %d events in %d parts, %.0f MB", m.Seconds, m.Events, m.Parts, float64(m.Bytes)/(1<<20))
	return dir, m, nil
}

// generateCompactDay writes one busy tenant-day as the archiver leaves it: Streams shards
// archiving at once, each shard's events in arrival order cut into parts of PartRows (the
// parts of different shards overlap in time, as they do in production), a few events of
// each batch delivered again in the next. One shard is held in memory at a time.
func generateCompactDay(ctx context.Context, dir string, sc scale, seed uint64) (*compactManifest, error) {
	start := time.Now()
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return nil, err
	}
	st := &archive.DirStore{Dir: filepath.Join(tmp, "parts")}
	spec := sc.Compact
	t := tenantSpec{"busy", spec.Events, 150, "Asia/Jakarta"}
	g := gen{seed: seed + 2000, sc: sc}
	days := g.days()
	di := len(days) - 2 // a whole day
	d := days[di]
	date := d.Format(time.DateOnly)
	m := &compactManifest{Date: date}
	for s := 0; s < spec.Streams; s++ {
		gs := gen{seed: g.seed + uint64(s), sc: sc}
		n := spec.Events / spec.Streams
		if s == spec.Streams-1 {
			n = spec.Events - n*(spec.Streams-1)
		}
		evs := gs.dayEvents(t, di, d, n, 100_000*(s+1))
		sort.Slice(evs, func(i, j int) bool { return evs[i].RecordedAt < evs[j].RecordedAt })
		rows, err := archive.FromEvents(evs)
		if err != nil {
			return nil, err
		}
		evs = nil
		parts, size, err := writeParts(ctx, st, t.ID, date, rows, spec.PartRows, func(n int) int { return n/500 + 1 }, gs.rng("dup", t.ID.String(), date))
		if err != nil {
			return nil, err
		}
		m.Parts += parts
		m.Bytes += size
		m.Events += len(rows)
	}
	m.Seconds = time.Since(start).Seconds()
	return m, publishCache(tmp, dir, m)
}

// linkTree puts a hard link of every file under src at the same place under dst (a fresh
// copy of the parts for a compaction to consume, in milliseconds).
func linkTree(src, dst string) error {
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	return filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if e.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		return os.Link(p, filepath.Join(dst, rel))
	})
}

// peakHeap runs fn once, after a collection, and returns the most live heap seen meanwhile.
func peakHeap(fn func() error) (uint64, error) {
	runtime.GC()
	p := peakheap.Start(2 * time.Millisecond)
	err := fn()
	return p.Stop(), err
}

func caseCompact(ctx context.Context, b *bencher, duck *sql.DB) error {
	dir, m, err := compactDay(ctx, b.o)
	if err != nil {
		return err
	}
	parts := filepath.Join(dir, "parts")
	work := filepath.Join(b.o.root, ".local", "bench", "work", "compact")
	cDir, dOut := filepath.Join(work, "contrail"), filepath.Join(work, "duckdb.parquet")
	st := &archive.DirStore{Dir: cDir}
	comp := &archive.Compactor{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Clock: func() time.Time { return End }}
	var res archive.DayResult
	prep := func() error { return linkTree(parts, cDir) }
	contrail := func() error {
		var err error
		res, err = comp.CompactDay(ctx, "busy", m.Date)
		return err
	}
	glob := filepath.Join(parts, "events", "tenant=busy", "date="+m.Date, "*.parquet")
	peer := func() error {
		if err := os.Remove(dOut); err != nil && !os.IsNotExist(err) {
			return err
		}
		_, err := duck.Exec(duckCompactSQL(glob, dOut))
		return err
	}
	if err := runOnce(prep, contrail, peer); err != nil {
		return err
	}
	if err := sameCompacted(ctx, duck, st, res, dOut, m); err != nil {
		return err
	}
	logf("compaction of %d events in %d parts (%.0f MB): both outputs hold the same %d events in the same order", m.Events, m.Parts, float64(m.Bytes)/(1<<20), res.Events)
	name := fmt.Sprintf("10. compact one tenant-day: %s events in %d parts", thousands(m.Events), m.Parts)
	c, d, err := b.pairPrepared(name, min(b.o.runs, 3), prep, contrail, nil, peer)
	if err != nil {
		return err
	}
	b.ratioRow(name, c, d, 1.0)
	if err := prep(); err != nil {
		return err
	}
	peak, err := peakHeap(contrail)
	if err != nil {
		return err
	}
	b.heapRow("10m. the compactor's peak live heap on that day", peak, 256<<20)
	return nil
}

// duckCompactSQL merges the parts into one file: each event once, sorted by (occurred_at,
// event_id), zstd, row groups of the archive's size.
func duckCompactSQL(glob, out string) string {
	return `COPY (
  SELECT * FROM (SELECT DISTINCT ON (event_id) * FROM read_parquet(` + sqlString(glob) + `))
  ORDER BY occurred_at, event_id
) TO ` + sqlString(out) + ` (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ` + fmt.Sprint(archive.RowGroupRows) + `)`
}

// sameCompacted checks that Contrail's compacted object and DuckDB's file hold the same
// event ids in the same order, each once, as many as were generated, and that the rollup
// the compactor wrote on the way counts them all.
func sameCompacted(ctx context.Context, duck *sql.DB, st *archive.DirStore, res archive.DayResult, duckOut string, m *compactManifest) error {
	left, err := st.List(ctx, "events/")
	if err != nil {
		return err
	}
	if len(left) != 1 || left[0].Key != res.Key {
		return fmt.Errorf("after compaction the day holds %v, want only %s", left, res.Key)
	}
	ids := func(file string) (int, [32]byte, error) {
		rows, err := duck.Query(`SELECT event_id FROM read_parquet(` + sqlString(file) + `)`)
		if err != nil {
			return 0, [32]byte{}, err
		}
		defer rows.Close()
		h := sha256.New()
		n := 0
		seen := ""
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return 0, [32]byte{}, err
			}
			if id == seen {
				return 0, [32]byte{}, fmt.Errorf("%s holds event %s twice in a row", file, id)
			}
			seen = id
			io.WriteString(h, id+"\n")
			n++
		}
		var sum [32]byte
		copy(sum[:], h.Sum(nil))
		return n, sum, rows.Err()
	}
	cn, ch, err := ids(filepath.Join(st.Dir, filepath.FromSlash(res.Key)))
	if err != nil {
		return fmt.Errorf("read contrail's output: %w", err)
	}
	dn, dh, err := ids(duckOut)
	if err != nil {
		return fmt.Errorf("read duckdb's output: %w", err)
	}
	if cn != m.Events || dn != m.Events || res.Events != int64(m.Events) {
		return fmt.Errorf("contrail wrote %d events (rollup %d), duckdb %d, want %d", cn, res.Events, dn, m.Events)
	}
	if ch != dh {
		return fmt.Errorf("the compacted event ids differ from duckdb's (same count %d, different ids or order)", cn)
	}
	return nil
}

// thousands writes n with comma separators.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
