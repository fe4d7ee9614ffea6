package audit_test

import (
	"os"
	"path/filepath"
	"regexp"
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

// TestConsoleTypes: the console's list of event types (console/src/events.js, TYPES: the
// Type filter's options and each row's name) is the registry's, category by category, with
// the registry's names.
func TestConsoleTypes(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(stacktest.Root(t), "console", "src", "events.js"))
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?s)export const TYPES = \{(.*?)\n\};`).FindSubmatch(b)
	if block == nil {
		t.Fatal("console/src/events.js has no TYPES object")
	}
	got := map[string]map[string]string{}
	for _, cat := range regexp.MustCompile(`(?s)\n  (\w+): \{(.*?)\},`).FindAllSubmatch(block[1], -1) {
		types := map[string]string{}
		for _, m := range regexp.MustCompile(`([A-Z_]+): '([^']*)'`).FindAllSubmatch(cat[2], -1) {
			types[string(m[1])] = string(m[2])
		}
		got[string(cat[1])] = types
	}
	want := map[string]map[string]string{}
	for _, s := range audit.Specs() {
		if want[s.Category] == nil {
			want[s.Category] = map[string]string{}
		}
		want[s.Category][s.Type] = s.Name
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("console/src/events.js TYPES (-registry +console):\n%s", d)
	}
}
