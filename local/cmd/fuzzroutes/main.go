// Command fuzzroutes is `make fuzz-routes`: the route fuzzer (local/routefuzz) against a
// local stack of its own (every route's function, state in a temporary folder), for N
// requests or for a duration. It prints the figures and each broken invariant as a request to
// send again, and exits 1 when an invariant broke.
//
//	make fuzz-routes SEED=7 N=20000
//	make fuzz-routes DURATION=30m
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/contrail/contrail/local/devstack"
	"github.com/contrail/contrail/local/routefuzz"
)

func main() {
	givenSeed := flag.Uint64("seed", 0, "the generator's seed; 0 = one from the clock (printed)")
	n := flag.Int("n", 0, "requests to send; 0 = until -duration has passed")
	duration := flag.Duration("duration", 10*time.Minute, "how long to run when -n is 0")
	flag.Parse()
	ctx, stop, seed := devstack.ToolContext(*givenSeed)
	defer stop()
	os.Exit(run(ctx, seed, *n, *duration))
}

func run(ctx context.Context, seed uint64, n int, duration time.Duration) int {
	sc, err := devstack.NewScratch("fuzz-routes", seed)
	if err != nil {
		return fail(err)
	}
	defer sc.Close()
	tpl := sc.Template
	fns := routefuzz.RouteFunctions(tpl)
	fmt.Printf("fuzz-routes: seed %d; starting a local stack of %d route functions (its log: %s)\n", seed, len(fns), sc.Log.Name())
	s, key, err := sc.StartFunctions(ctx, fns)
	if err != nil {
		return fail(err)
	}
	defer s.Stop()
	corpus, err := routefuzz.LoadCorpus(s.Root)
	if err != nil {
		return fail(err)
	}
	sum, err := routefuzz.Run(ctx, routefuzz.Config{URL: s.URL, Key: key, DB: s.DynamoDB(), Tables: s.Tables, Routes: routefuzz.RoutesOf(tpl),
		Corpus: corpus, Seed: seed, N: n, Duration: duration, Progress: os.Stdout})
	if sum != nil {
		sum.Report(os.Stdout, seed, s.URL)
	}
	if err != nil {
		return fail(err)
	}
	if len(sum.FindingCount) > 0 {
		return 1
	}
	return 0
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "fuzz-routes:", err)
	return 2
}
