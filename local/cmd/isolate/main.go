// Command isolate is `make isolate`: the model-based isolation test (local/isolation) against a
// local stack of its own (every route's function, the archiver, mailer, export worker and
// sequencer; state in a temporary folder), for a seed and a number of actions. It prints the
// figures and each finding, and exits 1 when a read differed from the model or an answer held
// another tenant's data.
//
//	make isolate SEED=7 ACTIONS=3000
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/contrail/contrail/local/devstack"
	"github.com/contrail/contrail/local/isolation"
)

func main() {
	givenSeed := flag.Uint64("seed", 0, "the seed of the actions; 0 = one from the clock (printed)")
	actions := flag.Int("actions", 2000, "how many actions before the reads are checked")
	flag.Parse()
	ctx, stop, seed := devstack.ToolContext(*givenSeed)
	defer stop()
	os.Exit(run(ctx, seed, *actions))
}

func run(ctx context.Context, seed uint64, actions int) int {
	sc, err := devstack.NewScratch("isolate", seed)
	if err != nil {
		return fail(err)
	}
	defer sc.Close()
	fns := isolation.Functions(sc.Template)
	fmt.Printf("isolate: seed %d, %d actions; starting a local stack of %d functions (its log: %s)\n", seed, actions, len(fns), sc.Log.Name())
	s, key, err := sc.StartFunctions(ctx, fns)
	if err != nil {
		return fail(err)
	}
	defer s.Stop()
	sum, err := isolation.Run(ctx, isolation.Config{Stack: s, Key: key, Seed: seed, Actions: actions, Progress: os.Stdout})
	if sum != nil {
		sum.Report(os.Stdout)
	}
	if err != nil {
		return fail(err)
	}
	if sum.FindingCount > 0 {
		return 1
	}
	return 0
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "isolate:", err)
	return 2
}
