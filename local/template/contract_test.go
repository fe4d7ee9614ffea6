package template

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The template contract: template.yaml, the function folders, the Makefile, the sample events
// and the code agree. SAM CLI cannot run here, so this is the check that a deploy would work.

// indexUse matches an index name in code: IndexByX = "ByX" or IndexName: aws.String("ByX").
var indexUse = regexp.MustCompile(`(?:\bIndex\w*\s*=\s*|IndexName:\s*aws\.String\()"([A-Za-z0-9_.-]+)"`)

// awsProvided reports whether Lambda itself sets the variable.
func awsProvided(name string) bool {
	return strings.HasPrefix(name, "AWS_") || strings.HasPrefix(name, "_LAMBDA_") ||
		name == "_HANDLER" || name == "_X_AMZN_TRACE_ID" || name == "LAMBDA_TASK_ROOT" || name == "LAMBDA_RUNTIME_DIR" || name == "TZ"
}

func repoRoot(t *testing.T) (string, *Template) {
	t.Helper()
	tp := loadRepo(t)
	return filepath.Dir(tp.Path), tp
}

func TestContractFunctions(t *testing.T) {
	root, tp := repoRoot(t)
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^(build-\w+)\s*:`).FindAllStringSubmatch(string(makefile), -1) {
		targets[m[1]] = true
	}
	for target := range targets {
		id := strings.TrimPrefix(target, "build-")
		if _, ok := tp.Function(id); !ok {
			t.Errorf("Makefile target %s builds %s, which template.yaml does not declare", target, id)
		}
	}
	for _, f := range tp.Functions() {
		t.Run(f.LogicalID, func(t *testing.T) {
			main := filepath.Join("functions", f.Dir, "main.go")
			if _, err := os.Stat(filepath.Join(root, main)); err != nil {
				t.Errorf("%s has no %s", f.LogicalID, main)
			}
			if !targets["build-"+f.LogicalID] {
				t.Errorf("Makefile has no target build-%s", f.LogicalID)
			}
			samples, _ := filepath.Glob(filepath.Join(root, "events", f.Dir+"-*.json"))
			if len(samples) == 0 {
				t.Errorf("%s has no sample event events/%s-<case>.json", f.LogicalID, f.Dir)
			}
			if len(f.Routes)+len(f.Streams)+len(f.Schedules)+len(f.Queues)+len(tp.CustomResourcesOf(f.LogicalID)) == 0 {
				t.Errorf("%s has no HttpApi, DynamoDB, Schedule or SQS event and backs no custom resource", f.LogicalID)
			}
			for _, q := range f.Queues {
				if tp.ResourceType(q.Queue) != "AWS::SQS::Queue" {
					t.Errorf("%s reads the queue %q, which is not a queue of template.yaml", f.LogicalID, q.Queue)
				}
			}
			for _, s := range f.Streams {
				if tp.ResourceType(s.Table) != "AWS::DynamoDB::Table" {
					t.Errorf("%s reads the stream of %q, which is not a table of template.yaml", f.LogicalID, s.Table)
				} else if tp.table(s.Table).StreamViewType == "" {
					t.Errorf("%s reads the stream of %s, which has no StreamSpecification", f.LogicalID, s.Table)
				}
			}
		})
	}
}

func TestContractRoutes(t *testing.T) {
	_, tp := repoRoot(t)
	seen := map[string]string{}
	for _, f := range tp.Functions() {
		for _, r := range f.Routes {
			key := r.Method + " " + r.Path
			if r.Method == "" || !strings.HasPrefix(r.Path, "/") {
				t.Errorf("%s has a route without method or path: %q", f.LogicalID, key)
			}
			if other, dup := seen[key]; dup {
				t.Errorf("route %s is declared twice: by %s and by %s", key, other, f.LogicalID)
			}
			// An HTTP API integration is cut off at 30 s: a function behind a route must answer first.
			if f.Timeout > 29 {
				t.Errorf("%s serves %s with a %d s timeout; the HTTP API gives up after 30 s (use at most 29)", f.LogicalID, key, f.Timeout)
			}
			seen[key] = f.LogicalID
		}
	}
}

func TestContractIndexes(t *testing.T) {
	root, tp := repoRoot(t)
	declared := map[string]bool{}
	for _, tb := range tp.Tables() {
		for _, ix := range tb.Indexes() {
			declared[ix] = true
		}
	}
	err := filepath.WalkDir(filepath.Join(root, "shared"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for _, m := range indexUse.FindAllStringSubmatch(string(src), -1) {
			if !declared[m[1]] {
				t.Errorf("%s uses index %q, which no table in template.yaml declares", rel, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestContractNoOrphans(t *testing.T) {
	root, tp := repoRoot(t)
	dirs := map[string]bool{}
	for _, f := range tp.Functions() {
		dirs[f.Dir] = true
	}
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && !dirs[e.Name()] {
			t.Errorf("functions/%s is not declared in template.yaml (no AWS::Serverless::Function %s)", e.Name(), logicalIDHint(e.Name()))
		}
	}

	// Sample events: valid JSON, named after a declared function.
	samples, _ := filepath.Glob(filepath.Join(root, "events", "*.json"))
	var sorted []string
	for d := range dirs {
		sorted = append(sorted, d)
	}
	sort.Slice(sorted, func(i, j int) bool { return len(sorted[i]) > len(sorted[j]) })
	for _, s := range samples {
		name := filepath.Base(s)
		owner := ""
		for _, d := range sorted {
			if strings.HasPrefix(name, d+"-") {
				owner = d
				break
			}
		}
		if owner == "" {
			t.Errorf("events/%s is not named events/<function folder>-<case>.json after a declared function", name)
		}
		b, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(b) {
			t.Errorf("events/%s is not valid JSON", name)
		}
	}
}

// logicalIDHint turns a folder name back into the logical id it would need.
func logicalIDHint(dir string) string {
	var b strings.Builder
	for _, part := range strings.Split(dir, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return fmt.Sprintf("%sFunction", b.String())
}

// TestContractPatterns pins what the contract test recognises in code.
func TestContractPatterns(t *testing.T) {
	tests := []struct {
		re   *regexp.Regexp
		src  string
		want []string
	}{
		{indexUse, "const (\n\tIndexByContact = \"ByContact\"\n\tIndexByDue     = \"ByDue\"\n)", []string{"ByContact", "ByDue"}},
		{indexUse, `in := &dynamodb.QueryInput{IndexName: aws.String("ByStatus")}; IndexName: name`, []string{"ByStatus"}},
	}
	for _, tt := range tests {
		var got []string
		for _, m := range tt.re.FindAllStringSubmatch(tt.src, -1) {
			got = append(got, m[1])
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s in %q = %q, want %q", tt.re, tt.src, got, tt.want)
		}
	}
	if got := logicalIDHint("create-contact"); got != "CreateContactFunction" {
		t.Errorf("logicalIDHint = %q", got)
	}
}
