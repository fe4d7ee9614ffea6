package load

import (
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report prints the tables of `make load`: per route family the requests, requests per
// second, p50/p99/max latency and answers by status; the tenants (the hot one first); the
// archive's lag over time; the drain; and each finding in full.
func (s *Summary) Report(w io.Writer) {
	secs := s.LoadTime.Seconds()
	if secs <= 0 {
		secs = 1
	}
	fmt.Fprintf(w, "load: seed %d, %d requests in %.0f s: %.1f requests/s\n\n", s.Seed, s.Requests, s.LoadTime.Seconds(), float64(s.Requests)/secs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "route family\trequests\trequests/s\tp50 ms\tp99 ms\tmax ms\thot p50\thot p99\t2xx\t4xx\t5xx\tstatuses\t")
	var all, hot []time.Duration
	allSt := map[int]int{}
	for _, name := range Families {
		f := s.Families[name]
		if f == nil {
			continue
		}
		all = append(all, f.Latencies...)
		hot = append(hot, f.Hot...)
		for st, n := range f.Statuses {
			allSt[st] += n
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t\n", name, len(f.Latencies), float64(len(f.Latencies))/secs,
			ms(Percentile(f.Latencies, 50)), ms(Percentile(f.Latencies, 99)), ms(Percentile(f.Latencies, 100)),
			ms(Percentile(f.Hot, 50)), ms(Percentile(f.Hot, 99)), classCount(f.Statuses, 2), classCount(f.Statuses, 4), classCount(f.Statuses, 5), statuses(f.Statuses))
	}
	fmt.Fprintf(tw, "all\t%d\t%.1f\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t\n", len(all), float64(len(all))/secs,
		ms(Percentile(all, 50)), ms(Percentile(all, 99)), ms(Percentile(all, 100)),
		ms(Percentile(hot, 50)), ms(Percentile(hot, 99)), classCount(allSt, 2), classCount(allSt, 4), classCount(allSt, 5), statuses(allSt))
	tw.Flush()

	if len(s.Tenants) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "tenant\tshare\trequests\tevents\tarchived\treconcile\t")
		rest := TenantResult{ID: "others", Agrees: true}
		others := 0
		for i, t := range s.Tenants {
			if i < 3 {
				fmt.Fprintf(tw, "%s\t%.1f%%\t%d\t%d\t%d\t%s\t\n", t.ID, 100*t.Share, t.Requests, t.Events, t.Archived, agreement(t))
				continue
			}
			others++
			rest.Share += t.Share
			rest.Requests += t.Requests
			rest.Events += t.Events
			rest.Archived += t.Archived
			rest.Differences += t.Differences
			rest.Agrees = rest.Agrees && t.Agrees
		}
		if others > 0 {
			fmt.Fprintf(tw, "%d others\t%.1f%%\t%d\t%d\t%d\t%s\t\n", others, 100*rest.Share, rest.Requests, rest.Events, rest.Archived, agreement(rest))
		}
		tw.Flush()
	}

	m := MaxLag(s.Samples)
	fmt.Fprintf(w, "\narchive lag (the oldest acknowledged event not yet archived; %d events acknowledged with their ids): max %.1f s (at %.0f s), at the load's end %.1f s (%d pending)\n",
		s.Acknowledged, m.Lag.Seconds(), m.At.Seconds(), s.LagAtEnd.Lag.Seconds(), s.LagAtEnd.Pending)
	if lo, hi, mean := loadRange(s.Samples); hi > 0 {
		fmt.Fprintf(w, "machine: %d CPUs, %s, load average (1 min) over the samples %.1f to %.1f, mean %.1f\n", runtime.NumCPU(), runtime.Version(), lo, hi, mean)
	}
	fmt.Fprintf(w, "lag over time (s since the load began: lag s):%s\n", series(s.Samples, 30*time.Second))
	switch {
	case s.Drained:
		fmt.Fprintf(w, "drain: every acknowledged event archived %.0f s after the load stopped; the reconciliation agreed for every tenant in pass %d, from %.0f to %.0f s after the load stopped\n",
			s.ArchivedAt.Seconds(), s.Passes, s.PassFrom.Seconds(), s.DrainedAt.Seconds())
	case s.ArchivedAt > 0:
		fmt.Fprintf(w, "drain: every acknowledged event archived %.0f s after the load stopped; the reconciliation did NOT agree in time\n", s.ArchivedAt.Seconds())
	default:
		fmt.Fprintln(w, "drain: NOT drained: acknowledged events were still not archived at the drain's limit")
	}
	fmt.Fprintf(w, "5xx or no answer: %d, lost: %d, duplicated: %d, reconciliation differences: %d\n", s.Count5xx(), len(s.Lost), len(s.Duplicated), len(s.Diff))
	for _, l := range []struct {
		what  string
		lines []string
	}{{"lost", s.Lost}, {"duplicated", s.Duplicated}, {"differs", s.Diff}, {"answer", s.Errors}} {
		for i, f := range l.lines {
			if i == 20 {
				fmt.Fprintf(w, "  ... %d more\n", len(l.lines)-20)
				break
			}
			fmt.Fprintf(w, "  %s: %s\n", l.what, f)
		}
	}
	if s.OK() {
		fmt.Fprintln(w, "verdict: ok")
	} else {
		fmt.Fprintln(w, "verdict: FAILED")
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f", float64(d)/float64(time.Millisecond)) }

func classCount(st map[int]int, class int) int {
	n := 0
	for s, c := range st {
		if s/100 == class || (class == 5 && s == 0) {
			n += c
		}
	}
	return n
}

// statuses lists the answers by status, "201: 40, 202: 7"; status 0 is "none".
func statuses(st map[int]int) string {
	keys := slices.Sorted(maps.Keys(st))
	parts := make([]string, len(keys))
	for i, k := range keys {
		name := fmt.Sprint(k)
		if k == 0 {
			name = "none"
		}
		parts[i] = fmt.Sprintf("%s: %d", name, st[k])
	}
	return strings.Join(parts, ", ")
}

func agreement(t TenantResult) string {
	if t.Agrees {
		return "agrees"
	}
	return fmt.Sprintf("%d differences", t.Differences)
}

// series is one sample per period of samples (the first at or after each multiple), as
// " 30: 4.1, 60: 12.0".
func series(samples []Sample, period time.Duration) string {
	var b strings.Builder
	next := time.Duration(0)
	for _, s := range samples {
		if s.At < next {
			continue
		}
		fmt.Fprintf(&b, " %.0f: %.1f,", s.At.Seconds(), s.Lag.Seconds())
		next = (s.At/period + 1) * period
	}
	return strings.TrimSuffix(b.String(), ",")
}

// loadRange is the lowest, highest and mean load average of samples that know it.
func loadRange(samples []Sample) (lo, hi, mean float64) {
	n := 0
	for _, s := range samples {
		if s.Load1 <= 0 {
			continue
		}
		if n == 0 || s.Load1 < lo {
			lo = s.Load1
		}
		hi = max(hi, s.Load1)
		mean += s.Load1
		n++
	}
	if n > 0 {
		mean /= float64(n)
	}
	return lo, hi, mean
}
