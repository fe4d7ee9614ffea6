package archive

import (
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
)

// TestFunctionsLinkNoArrowCompute keeps pqarrow, arrow's compute and flight packages and
// gRPC out of every function: pqarrow pulls in the other three, and with them a function
// that reads or writes Parquet was a 35-40 MB bootstrap instead of about 15 MB (issue 7:
// at most 20 MB, init at most 30 ms). The archive uses parquet/file directly instead. The
// dependencies are those of the Lambda build (linux/arm64, lambda.norpc).
func TestFunctionsLinkNoArrowCompute(t *testing.T) {
	cmd := exec.Command("go", "list", "-tags", "lambda.norpc", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "./functions/...")
	cmd.Dir = stacktest.Root(t)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := func(pkg string) bool {
		if strings.HasPrefix(pkg, "google.golang.org/grpc") {
			return true
		}
		if !strings.HasPrefix(pkg, "github.com/apache/arrow") {
			return false
		}
		for _, p := range []string{"/parquet/pqarrow", "/arrow/compute", "/arrow/flight"} {
			if strings.Contains(pkg, p) {
				return true
			}
		}
		return false
	}
	const prefix = "github.com/contrail/contrail/functions/"
	var parquetUsers []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		fn := strings.TrimPrefix(fields[0], prefix)
		t.Run(fn, func(t *testing.T) {
			var linked []string
			for _, pkg := range fields[1:] {
				if forbidden(pkg) {
					linked = append(linked, pkg)
				}
				if strings.HasPrefix(pkg, "github.com/apache/arrow") && strings.HasSuffix(pkg, "/parquet/file") {
					parquetUsers = append(parquetUsers, fn)
				}
			}
			if d := cmp.Diff([]string(nil), linked); d != "" {
				t.Errorf("%s links (-want +got):\n%s", fn, d)
			}
		})
	}
	// The check above means something only if it saw the functions that do use Parquet.
	sort.Strings(parquetUsers)
	want := []string{"added-log", "archive-replay", "archiver", "compactor", "connected-log", "contact-overview", "deleted-log", "export-worker", "get-log-checkpoint", "get-log-consistency-proof", "get-log-inclusion-proof", "get-log-tile", "merged-log", "sequence-log"}
	if d := cmp.Diff(want, parquetUsers); d != "" {
		t.Errorf("functions linking parquet/file (-want +got):\n%s", d)
	}
}
