package audit_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/audit"
)

func TestReferenceListsEveryType(t *testing.T) {
	ref := audit.Reference()
	for _, s := range audit.Specs() {
		if n := strings.Count(ref, "| `"+s.Type+"` |"); n != 1 {
			t.Errorf("%s appears %d times in the reference", s.Type, n)
		}
	}
}

func TestRewriteReference(t *testing.T) {
	in := "# R\n\n## Event reference\n\n" + audit.ReferenceStart + "\nold\n" + audit.ReferenceEnd + "\n\n## Next\n"
	got, err := audit.RewriteReference([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := "# R\n\n## Event reference\n\n" + audit.ReferenceStart + "\n" + audit.Reference() + audit.ReferenceEnd + "\n\n## Next\n"
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("rewritten (-want +got):\n%s", diff)
	}
	if _, err := audit.RewriteReference([]byte("# no markers\n")); err == nil {
		t.Error("a README without markers is accepted")
	}
}
