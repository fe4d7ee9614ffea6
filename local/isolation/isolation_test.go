package isolation_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/contrail/contrail/local/devauth"
	"github.com/contrail/contrail/local/devstack"
	"github.com/contrail/contrail/local/isolation"
	"github.com/contrail/contrail/local/stacktest"
)

func TestMain(m *testing.M) { stacktest.Main(m) }

// envInt reads a whole number from the environment, or def when unset.
func envInt(t *testing.T, name string, def uint64) uint64 {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: want a whole number", name, v)
	}
	return n
}

// TestIsolationSeeded is the short run of CI: seed 1 (ISOLATION_SEED overrides), 150 actions
// (ISOLATION_ACTIONS) by callers of four tenants against a local stack, then every read route
// checked against the model. make isolate runs it long. A failure prints the seed.
func TestIsolationSeeded(t *testing.T) {
	seed, actions := envInt(t, "ISOLATION_SEED", 1), envInt(t, "ISOLATION_ACTIONS", 150)
	tpl := stacktest.Template(t)
	s := devstack.StartTest(t, devstack.Options{Functions: isolation.Functions(tpl)})
	key, err := devauth.LoadOrCreateKey(filepath.Join(s.StateDir, devauth.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	sum, err := isolation.Run(ctx, isolation.Config{Stack: s, Key: key, Seed: seed, Actions: int(actions)})
	if sum != nil {
		var out strings.Builder
		sum.Report(&out)
		t.Log(out.String())
		if sum.FindingCount > 0 {
			t.Errorf("seed %d: %d findings (ISOLATION_SEED=%d ISOLATION_ACTIONS=%d go test -run TestIsolationSeeded ./local/isolation reruns it)", seed, sum.FindingCount, seed, actions)
		}
		if sum.Leaks > 0 {
			t.Errorf("seed %d: %d answers held another tenant's ids or names", seed, sum.Leaks)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}
