package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"
)

// row is one line of the result table.
type row struct {
	name     string
	contrail string // figure (median) of Contrail
	duck     string // figure of the peer ("" when none)
	ratio    string
	target   string
	pass     *bool // nil: no target (informational line)
}

type table struct{ rows []row }

func (t *table) add(r row) {
	t.rows = append(t.rows, r)
	status := ""
	if r.pass != nil {
		status = map[bool]string{true: "pass", false: "MISS"}[*r.pass]
	}
	logf("%-44s contrail %-10s peer %-10s ratio %-6s target %-8s %s", r.name, r.contrail, r.duck, r.ratio, r.target, status)
}

func (t *table) print(w io.Writer, judge bool) {
	fmt.Fprintln(w, "| case | Contrail | DuckDB / peer | ratio | target | |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---|")
	for _, r := range t.rows {
		status := ""
		if r.pass != nil {
			if judge {
				status = map[bool]string{true: "pass", false: "**miss**"}[*r.pass]
			} else {
				status = "(not judged)"
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", r.name, r.contrail, dash(r.duck), dash(r.ratio), dash(r.target), status)
	}
}

func dash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// bencher runs the alternating timed runs of a case.
type bencher struct {
	o    options
	tbl  *table
	prof *profiler
}

// pair times contrail and duck alternately (after one untimed warm-up each) and returns the
// medians.
func (b *bencher) pair(name string, runs int, contrail, duck func() error) (time.Duration, time.Duration, error) {
	return b.pairPrepared(name, runs, nil, contrail, nil, duck)
}

// pairPrepared is pair with an untimed step before each run of a side (nil: none), e.g. to
// put back the input a run consumes.
func (b *bencher) pairPrepared(name string, runs int, prepContrail, contrail, prepDuck, duck func() error) (time.Duration, time.Duration, error) {
	untimed := func(f func() error) error {
		if f == nil {
			return nil
		}
		return f()
	}
	timed := func(prep, f func() error) (time.Duration, error) {
		if err := untimed(prep); err != nil {
			return 0, err
		}
		t := time.Now()
		err := f()
		return time.Since(t), err
	}
	if _, err := timed(prepContrail, contrail); err != nil {
		return 0, 0, fmt.Errorf("contrail: %w", err)
	}
	if _, err := timed(prepDuck, duck); err != nil {
		return 0, 0, fmt.Errorf("duckdb: %w", err)
	}
	var cs, ds []time.Duration
	for i := 0; i < runs; i++ {
		c, err := timed(prepContrail, contrail)
		if err != nil {
			return 0, 0, fmt.Errorf("contrail: %w", err)
		}
		cs = append(cs, c)
		d, err := timed(prepDuck, duck)
		if err != nil {
			return 0, 0, fmt.Errorf("duckdb: %w", err)
		}
		ds = append(ds, d)
	}
	if err := b.prof.profile(name, runs, func() error {
		if err := untimed(prepContrail); err != nil {
			return err
		}
		return contrail()
	}); err != nil {
		return 0, 0, err
	}
	return median(cs), median(ds), nil
}

// heapRow adds a line of the most live heap a run held, with a "≤ limit" check.
func (b *bencher) heapRow(name string, peak uint64, limit uint64) {
	pass := peak <= limit
	b.tbl.add(row{name: name, contrail: fmt.Sprintf("%d MB", peak>>20), target: fmt.Sprintf("≤ %d MB", limit>>20), pass: &pass})
}

// ratioRow adds a timed line with its ratio and a "ratio ≤ target" check.
func (b *bencher) ratioRow(name string, c, d time.Duration, target float64) {
	ratio := float64(c) / float64(d)
	pass := ratio <= target
	b.tbl.add(row{name: name, contrail: fmtDur(c), duck: fmtDur(d), ratio: fmt.Sprintf("%.2f", ratio), target: fmt.Sprintf("≤ %.2f", target), pass: &pass})
}

// breakdownRow adds a timed line with its ratio and no target: where the time of a row
// above goes, or the floor under it.
func (b *bencher) breakdownRow(name string, c, d time.Duration) {
	b.tbl.add(row{name: name, contrail: fmtDur(c), duck: fmtDur(d), ratio: fmt.Sprintf("%.2f", float64(c)/float64(d))})
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.0f µs", float64(d)/1e3)
}

// machineLine describes where the figures come from.
func machineLine(threads int) string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				cpu = strings.TrimSpace(l[strings.Index(l, ":")+1:])
				break
			}
		}
	}
	load := "?"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return fmt.Sprintf("machine: %s, nproc %d, load average %s, %s %s/%s; bench threads %d", cpu, runtime.NumCPU(), load, runtime.Version(), runtime.GOOS, runtime.GOARCH, threads)
}
