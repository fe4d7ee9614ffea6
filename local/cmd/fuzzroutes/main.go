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
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/contrail/contrail/local/devauth"
	"github.com/contrail/contrail/local/devstack"
	"github.com/contrail/contrail/local/routefuzz"
	"github.com/contrail/contrail/local/template"
)

func main() {
	seed := flag.Uint64("seed", 0, "the generator's seed; 0 = one from the clock (printed)")
	n := flag.Int("n", 0, "requests to send; 0 = until -duration has passed")
	duration := flag.Duration("duration", 10*time.Minute, "how long to run when -n is 0")
	flag.Parse()
	if *seed == 0 {
		*seed = uint64(time.Now().UnixNano())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, *seed, *n, *duration))
}

func run(ctx context.Context, seed uint64, n int, duration time.Duration) int {
	sc, err := devstack.NewScratch("fuzz-routes", seed)
	if err != nil {
		return fail(err)
	}
	defer sc.Close()
	tpl, err := template.Load(sc.Template)
	if err != nil {
		return fail(err)
	}
	fmt.Printf("fuzz-routes: seed %d; starting a local stack of %d route functions (its log: %s)\n", seed, len(routefuzz.RouteFunctions(tpl)), sc.Log.Name())
	opts := sc.Options()
	opts.Functions, opts.NoSchedules = routefuzz.RouteFunctions(tpl), true
	s, err := devstack.Start(ctx, opts)
	if err != nil {
		return fail(err)
	}
	defer s.Stop()
	key, err := devauth.LoadOrCreateKey(filepath.Join(sc.State, devauth.KeyFile))
	if err != nil {
		return fail(err)
	}
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
