package routefuzz_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contrail/contrail/local/devauth"
	"github.com/contrail/contrail/local/devstack"
	"github.com/contrail/contrail/local/routefuzz"
	"github.com/contrail/contrail/local/stacktest"
)

// The seeded run of CI: a fixed seed and a bounded number of requests against a local
// stack of every route's function; every invariant must hold on every response. make
// fuzz-routes runs the same with any seed, for as long as asked.
func TestRoutesSeeded(t *testing.T) {
	const seed, n = 1, 1500
	tpl := stacktest.Template(t)
	s := devstack.StartTest(t, devstack.Options{Functions: routefuzz.RouteFunctions(tpl)})
	key, err := devauth.LoadOrCreateKey(filepath.Join(s.StateDir, devauth.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	corpus, err := routefuzz.LoadCorpus(s.Root)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sum, err := routefuzz.Run(ctx, routefuzz.Config{URL: s.URL, Key: key, DB: s.DynamoDB(), Tables: s.Tables,
		Routes: routefuzz.RoutesOf(tpl), Corpus: corpus, Seed: seed, N: n})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	sum.Report(&out, seed, s.URL)
	t.Log(out.String())
	if len(sum.ByRoute) != len(routefuzz.RoutesOf(tpl)) {
		t.Errorf("%d routes reached, want every one of the template's %d", len(sum.ByRoute), len(routefuzz.RoutesOf(tpl)))
	}
	if len(sum.FindingCount) > 0 {
		t.Errorf("invariants broken: %v", sum.FindingCount)
	}
}
