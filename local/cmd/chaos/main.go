// Command chaos is `make chaos`: the fault injection scenarios (local/chaos) against a local
// stack of their own (state in a temporary folder), longer than make test's seeded run. It
// prints a table (faults injected by kind, events written, lost, duplicated, emails sent and
// at most once, 5xx outside faults) and exits 1 when a scenario found something wrong.
//
//	make chaos SEED=7 ROUNDS=20
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/contrail/contrail/local/chaos"
	"github.com/contrail/contrail/local/devstack"
	"github.com/contrail/contrail/shared/tenant"
)

func main() {
	givenSeed := flag.Uint64("seed", 0, "the injector's seed; 0 = one from the clock (printed)")
	workers := flag.Int("workers", 4, "concurrent callers")
	rounds := flag.Int("rounds", 20, "rounds of each caller with faults on (a contact, 5 events, an invite, a message, a share)")
	exports := flag.Int("exports", 4, "exports with an email per scenario")
	faultsFor := flag.Duration("faults-for", 30*time.Second, "keep faults on at least this long")
	drain := flag.Duration("drain", 3*time.Minute, "how long the stack may take to settle once faults stop")
	only := flag.String("only", "", "run only the scenarios whose name contains this (case-insensitive)")
	flag.Parse()
	ctx, stop, seed := devstack.ToolContext(*givenSeed)
	defer stop()
	os.Exit(run(ctx, seed, chaos.Load{Workers: *workers, Rounds: *rounds, Exports: *exports, FaultsFor: *faultsFor, Drain: *drain}, *only))
}

func run(ctx context.Context, seed uint64, load chaos.Load, only string) int {
	sc, err := devstack.NewScratch("chaos", seed)
	if err != nil {
		return fail(err)
	}
	defer sc.Close()
	fmt.Printf("chaos: seed %d; %d callers x %d rounds, %d exports, faults on for at least %s; starting a local stack of %d functions (its log: %s)\n",
		seed, load.Workers, load.Rounds, load.Exports, load.FaultsFor, len(chaos.Functions), sc.Log.Name())
	began := time.Now()
	h, err := chaos.Open(ctx, sc.Options(), chaos.New(seed))
	if err != nil {
		return fail(err)
	}
	defer h.Close()
	h.Progress = os.Stdout
	fmt.Printf("stack ready in %.0f s\n", time.Since(began).Seconds())
	var outcomes []*chaos.Outcome
	for _, sc := range chaos.Scenarios() {
		if only != "" && !strings.Contains(strings.ToLower(sc.Name), strings.ToLower(only)) {
			continue
		}
		o, err := h.Run(ctx, sc, load, tenant.ID(fmt.Sprintf("chaos-%s-%d", chaos.Slug(sc.Name), seed%100000)))
		if err != nil {
			return fail(fmt.Errorf("%s: %w", sc.Name, err))
		}
		outcomes = append(outcomes, o)
	}
	fmt.Printf("\nseed %d, %.0f s in all (the stack's start included)\n\n", seed, time.Since(began).Seconds())
	chaos.Report(os.Stdout, outcomes)
	for _, o := range outcomes {
		if !o.OK() {
			return 1
		}
	}
	return 0
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "chaos:", err)
	return 2
}
