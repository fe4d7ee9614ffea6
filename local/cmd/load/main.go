// Command load is `make load`: a sustained, mixed load (local/load) on a local stack of its
// own (the routes of the mix, the archiver, mailer, compactor and sequencer on their
// schedules; state in a temporary folder) for a set time. It prints requests per second,
// p50/p99 latency per route family, errors by status, the archive's lag over time and the time
// to drain, and exits 1 on a 5xx, a lost or duplicated event, a disagreeing reconciliation or
// a stack that did not drain.
//
//	make load DURATION=5m TENANTS=20 WORKERS=8
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/contrail/contrail/local/devstack"
	"github.com/contrail/contrail/local/load"
)

func main() {
	givenSeed := flag.Uint64("seed", 0, "the callers' seed; 0 = one from the clock (printed)")
	duration := flag.Duration("duration", 5*time.Minute, "how long the load runs")
	tenants := flag.Int("tenants", 20, "tenants, their traffic Zipf-distributed (the first one hot)")
	workers := flag.Int("workers", 8, "concurrent callers")
	skew := flag.Float64("skew", 1.1, "the Zipf exponent of the tenants' shares")
	drain := flag.Duration("drain", 5*time.Minute, "how long the stack may take to drain once the load stops")
	flag.Parse()
	ctx, stop, seed := devstack.ToolContext(*givenSeed)
	defer stop()
	os.Exit(run(ctx, load.Config{Seed: seed, Duration: *duration, Tenants: *tenants, Workers: *workers, Skew: *skew, Drain: *drain, Progress: os.Stdout}))
}

func run(ctx context.Context, c load.Config) int {
	sc, err := devstack.NewScratch("load", c.Seed)
	if err != nil {
		return fail(err)
	}
	defer sc.Close()
	fmt.Printf("load: seed %d, %s, %d tenants (Zipf %.2g), %d callers; starting a local stack of %d functions (its log: %s)\n",
		c.Seed, c.Duration, c.Tenants, c.Skew, c.Workers, len(load.Functions), sc.Log.Name())
	began := time.Now()
	// Not sc.StartFunctions: the compactor and the sequencer run on their own schedules here.
	opts := sc.Options()
	opts.Functions = load.Functions
	s, err := devstack.Start(ctx, opts)
	if err != nil {
		return fail(err)
	}
	defer s.Stop()
	fmt.Printf("stack ready in %.0f s\n", time.Since(began).Seconds())
	c.Stack = s
	sum, err := load.Run(ctx, c)
	if sum != nil {
		fmt.Println()
		sum.Report(os.Stdout)
	}
	if err != nil {
		return fail(err)
	}
	if !sum.OK() {
		return 1
	}
	return 0
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "load:", err)
	return 2
}
