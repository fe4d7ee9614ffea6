// Command bench measures Contrail against DuckDB on the same data, on the same machine, in
// one run, and prints the medians, the ratio Contrail/DuckDB and the target of each case.
// Both engines read the same Parquet files from the same folder with the same number of
// threads, and every case first checks that both give the same answer.
//
// It lives in a Go module of its own (DuckDB is cgo; the Lambda functions never link it).
//
//	make bench         # the full data set (generated once into .local/bench/, then cached)
//	make bench-smoke   # a tiny data set: answers checked, times not judged
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"
)

type options struct {
	root       string
	scale      scale
	seed       uint64
	threads    int
	runs       int
	writeRuns  int
	coldRuns   int
	only       map[string]bool
	smoke      bool
	cpuProfile string
	profCase   string
}

func main() {
	var o options
	var scaleName, only string
	flag.StringVar(&o.root, "root", "..", "repository root (holds template.yaml)")
	flag.StringVar(&scaleName, "scale", "full", "data set: full or smoke")
	flag.Uint64Var(&o.seed, "seed", 1, "generator seed")
	flag.IntVar(&o.threads, "threads", 2, "threads for both engines (GOMAXPROCS and DuckDB threads)")
	flag.IntVar(&o.runs, "runs", 7, "timed runs per engine per case (alternating)")
	flag.IntVar(&o.writeRuns, "write-runs", 200, "timed requests per side in the write-path case")
	flag.IntVar(&o.coldRuns, "cold-runs", 7, "process starts per function in the cold-start case")
	flag.StringVar(&only, "only", "", "comma-separated cases to run: archive,overview,log,export,compact,write,pii,audit,vlog,verify,cold (default all)")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of Contrail's side of -profile-case here")
	flag.StringVar(&o.profCase, "profile-case", "overview", "case whose Contrail runs are profiled (a prefix of its name; \"generate\" profiles the data generator)")
	printDir := flag.Bool("print-data-dir", false, "print the data set's cache folder and exit")
	cost := flag.Bool("cost", false, "print the capacity and cost model (issue 15) instead of the cases: costrun.go")
	flag.Parse()
	sc, ok := scales[scaleName]
	if !ok {
		fatalf("unknown -scale %q (full or smoke)", scaleName)
	}
	o.scale, o.smoke = sc, scaleName == "smoke"
	if o.smoke {
		o.runs, o.writeRuns, o.coldRuns = min(o.runs, 2), min(o.writeRuns, 20), min(o.coldRuns, 2)
	}
	if only != "" {
		o.only = map[string]bool{}
		for _, c := range strings.Split(only, ",") {
			o.only[strings.TrimSpace(c)] = true
		}
	}
	root, err := filepath.Abs(o.root)
	if err != nil {
		fatalf("%v", err)
	}
	o.root = root
	if *printDir {
		fmt.Println(dataDir(o.root, o.scale, o.seed))
		return
	}
	runtime.GOMAXPROCS(o.threads)
	if *cost {
		if err := runCost(context.Background(), o, os.Stdout); err != nil {
			fatalf("%v", err)
		}
		return
	}
	if err := run(context.Background(), o); err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: FAIL: "+format+"\n", args...)
	os.Exit(1)
}

var started = time.Now()

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench %5.1fs: "+format+"\n", append([]any{time.Since(started).Seconds()}, args...)...)
}

func (o *options) want(c string) bool { return o.only == nil || o.only[c] }

func run(ctx context.Context, o options) error {
	t0 := time.Now()
	var tbl table
	machine := machineLine(o.threads)
	logf("%s", machine)

	var data string
	if o.want("overview") || o.want("log") || o.want("archive") || o.want("export") {
		dir := dataDir(o.root, o.scale, o.seed)
		m, ok := readManifest(dir)
		if !ok {
			logf("generating the %s data set into %s (cached for the next runs)", o.scale.Name, dir)
			if o.cpuProfile != "" && o.profCase == "generate" {
				f, err := os.Create(o.cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				pprof.StartCPUProfile(f)
			}
			var err error
			m, err = generate(ctx, dir, o.scale, o.seed, logf)
			if o.cpuProfile != "" && o.profCase == "generate" {
				pprof.StopCPUProfile()
			}
			if err != nil {
				return fmt.Errorf("generate data: %w", err)
			}
			logf("generated in %.0f s, peak live heap %d MB", m.Seconds, m.PeakHeap>>20)
		} else {
			logf("using the cached data set %s (generated in %.0f s)", dir, m.Seconds)
		}
		total := 0
		for _, n := range m.Events {
			total += n
		}
		logf("data set: %d events (busiest tenant %d), %d parts compacted into tenant-days", total, m.Events["busy"], m.Parts)
		data = dir
	}
	duck, err := openDuck(o.threads)
	if err != nil {
		return err
	}
	defer duck.Close()

	var prof *profiler
	if o.cpuProfile != "" {
		prof = &profiler{path: o.cpuProfile, caseName: o.profCase}
	}
	b := &bencher{o: o, tbl: &tbl, prof: prof}

	// The cases, in the table's order: the name -only takes, what its error says, the run.
	for _, c := range []struct {
		name, what string
		run        func() error
	}{
		{"archive", "archive case", func() error { return caseArchive(ctx, b, duck, data) }},
		{"overview", "overview case", func() error { return caseOverview(ctx, b, duck, data) }},
		{"log", "log case", func() error { return caseLog(ctx, b, duck, data) }},
		{"compact", "compaction case", func() error { return caseCompact(ctx, b, duck) }},
		{"export", "export case", func() error { return caseExport(ctx, b, duck, data) }},
		{"write", "write case", func() error { return caseWrite(ctx, b) }},
		{"pii", "pii case", func() error { return casePII(ctx, b) }},
		{"vlog", "vlog case", func() error { return caseVlog(ctx, b) }},
		{"verify", "verify case", func() error { return caseVerify(ctx, b) }},
		{"audit", "audit case", func() error { return caseAudit(ctx, b) }},
		{"cold", "cold start case", func() error { return caseCold(ctx, b) }},
	} {
		if !o.want(c.name) {
			continue
		}
		if err := c.run(); err != nil {
			return fmt.Errorf("%s: %w", c.what, err)
		}
	}
	fmt.Println()
	fmt.Println(machine)
	fmt.Printf("data: %s scale, seed %d; %d threads each; medians of alternating runs\n\n", o.scale.Name, o.seed, o.threads)
	tbl.print(os.Stdout, !o.smoke)
	fmt.Printf("\nevery answer matched DuckDB's; total %s\n", time.Since(t0).Round(time.Second))
	if o.smoke {
		fmt.Println("(smoke: tiny data, answers checked, times not judged)")
	}
	return nil
}

// profiler writes one CPU profile of Contrail's side of one case: after the timed runs,
// the Contrail function is run again, alone, under the profiler.
type profiler struct {
	path     string
	caseName string
	done     bool
}

func (p *profiler) profile(c string, runs int, fn func() error) error {
	if p == nil || p.done || !strings.HasPrefix(c, p.caseName) {
		return nil
	}
	p.done = true
	f, err := os.Create(p.path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	for i := 0; i < runs; i++ {
		if err := fn(); err != nil {
			pprof.StopCPUProfile()
			return err
		}
	}
	pprof.StopCPUProfile()
	logf("CPU profile of Contrail's %q runs in %s (go tool pprof -top %s)", c, p.path, p.path)
	return nil
}
