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
	if err := contrail(); err != nil {
		return 0, 0, fmt.Errorf("contrail: %w", err)
	}
	if err := duck(); err != nil {
		return 0, 0, fmt.Errorf("duckdb: %w", err)
	}
	var cs, ds []time.Duration
	for i := 0; i < runs; i++ {
		t := time.Now()
		if err := contrail(); err != nil {
			return 0, 0, fmt.Errorf("contrail: %w", err)
		}
		cs = append(cs, time.Since(t))
		t = time.Now()
		if err := duck(); err != nil {
			return 0, 0, fmt.Errorf("duckdb: %w", err)
		}
		ds = append(ds, time.Since(t))
	}
	if err := b.prof.profile(name, runs, contrail); err != nil {
		return 0, 0, err
	}
	return median(cs), median(ds), nil
}

// ratioRow adds a timed line with its ratio and a "ratio ≤ target" check.
func (b *bencher) ratioRow(name string, c, d time.Duration, target float64) {
	ratio := float64(c) / float64(d)
	pass := ratio <= target
	b.tbl.add(row{name: name, contrail: fmtDur(c), duck: fmtDur(d), ratio: fmt.Sprintf("%.2f", ratio), target: fmt.Sprintf("≤ %.2f", target), pass: &pass})
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
