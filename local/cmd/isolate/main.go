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
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/contrail/contrail/local/devauth"
	"github.com/contrail/contrail/local/devstack"
	"github.com/contrail/contrail/local/isolation"
	"github.com/contrail/contrail/local/template"
)

func main() {
	seed := flag.Uint64("seed", 0, "the seed of the actions; 0 = one from the clock (printed)")
	actions := flag.Int("actions", 2000, "how many actions before the reads are checked")
	flag.Parse()
	if *seed == 0 {
		*seed = uint64(time.Now().UnixNano())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, *seed, *actions))
}

func run(ctx context.Context, seed uint64, actions int) int {
	tplPath, err := template.Find()
	if err != nil {
		return fail(err)
	}
	tpl, err := template.Load(tplPath)
	if err != nil {
		return fail(err)
	}
	state, err := os.MkdirTemp("", "contrail-isolate-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(state)
	logs, err := os.Create(filepath.Join(os.TempDir(), fmt.Sprintf("contrail-isolate-%d.log", seed)))
	if err != nil {
		return fail(err)
	}
	defer logs.Close()
	fns := isolation.Functions(tpl)
	fmt.Printf("isolate: seed %d, %d actions; starting a local stack of %d functions (its log: %s)\n", seed, actions, len(fns), logs.Name())
	s, err := devstack.Start(ctx, devstack.Options{Root: filepath.Dir(tplPath), StateDir: state, Functions: fns, NoSchedules: true, Out: logs})
	if err != nil {
		return fail(err)
	}
	defer s.Stop()
	key, err := devauth.LoadOrCreateKey(filepath.Join(state, devauth.KeyFile))
	if err != nil {
		return fail(err)
	}
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
