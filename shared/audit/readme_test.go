package audit_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/audit"
)

// TestReadmeReference fails when docs/events.md differs from the registry: run
// `make docs` to regenerate it.
func TestReadmeReference(t *testing.T) {
	path := filepath.Join(stacktest.Root(t), "docs", "events.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the event reference: %v", err)
	}
	want, err := audit.RewriteReference(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(b)); diff != "" {
		t.Errorf("docs/events.md is out of date; run `make docs` (-generated +file):\n%s", diff)
	}
}
