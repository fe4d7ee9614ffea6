package export_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
)

// TestAPIFunctionsStayLight keeps the report engine (arrow, Parquet) and SES out of the
// export API functions and the scheduler: only the worker needs them, and every package
// linked costs binary size and cold-start time.
func TestAPIFunctionsStayLight(t *testing.T) {
	light := []string{"create-export", "get-export", "put-export-schedule", "list-export-schedules", "delete-export-schedule", "run-export-schedule", "export-scheduler"}
	heavy := []string{"github.com/apache/arrow/", "github.com/aws/aws-sdk-go-v2/service/sesv2", "github.com/contrail/contrail/shared/report", "github.com/contrail/contrail/shared/archive"}
	for _, fn := range light {
		t.Run(fn, func(t *testing.T) {
			cmd := exec.Command("go", "list", "-deps", "./functions/"+fn)
			cmd.Dir = stacktest.Root(t)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list: %v", err)
			}
			var linked []string
			for _, pkg := range strings.Fields(string(out)) {
				for _, h := range heavy {
					if strings.HasPrefix(pkg, h) {
						linked = append(linked, pkg)
						break
					}
				}
			}
			if diff := cmp.Diff([]string(nil), linked); diff != "" {
				t.Errorf("%s links (-want +got):\n%s", fn, diff)
			}
		})
	}
}
