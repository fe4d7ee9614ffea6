package template

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/auditlog"
	"github.com/contrail/contrail/shared/console"
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/export"
	"github.com/contrail/contrail/shared/export/files"
	"github.com/contrail/contrail/shared/export/worker"
	"github.com/contrail/contrail/shared/mail"
	"github.com/contrail/contrail/shared/report"
	"github.com/contrail/contrail/shared/settings"
	"github.com/contrail/contrail/shared/vlog"
)

// A function reads its configuration in one way: its main.go passes a package's reader to
// lambdafn.New (lambdafn.New(contact.NewService, contact.ReadConfig)) or env.Load
// (env.Load(contact.ReadConfig)), and each variable is read in one place, the
// package that owns it. These tests run those very readers over template.yaml's environment
// of each function, instead of looking for variable names in the source.

const module = "github.com/contrail/contrail/"

// loaders are the readers a main.go may pass to lambdafn.New or env.Load, by import path and name. A new
// reader is added here, so the tests below can run it.
var loaders = map[string]func(*env.Reader){
	module + "shared/contact.ReadConfig":          reads(contact.ReadConfig),
	module + "shared/contact.ReadGetConfig":       reads(contact.ReadGetConfig),
	module + "shared/contact.ReadListConfig":      reads(contact.ReadListConfig),
	module + "shared/contact.ReadHistoryConfig":   reads(contact.ReadHistoryConfig),
	module + "shared/auditlog.ReadIngestConfig":   reads(auditlog.ReadIngestConfig),
	module + "shared/auditlog.ReadQueryConfig":    reads(auditlog.ReadQueryConfig),
	module + "shared/auditlog.ReadSessionConfig":  reads(auditlog.ReadSessionConfig),
	module + "shared/report.ReadConfig":           reads(report.ReadConfig),
	module + "shared/report.ReadOverviewConfig":   reads(report.ReadOverviewConfig),
	module + "shared/settings.ReadGetConfig":      reads(settings.ReadGetConfig),
	module + "shared/settings.ReadPutConfig":      reads(settings.ReadPutConfig),
	module + "shared/export.ReadCreateConfig":     reads(export.ReadCreateConfig),
	module + "shared/export.ReadJobsConfig":       reads(export.ReadJobsConfig),
	module + "shared/export.ReadListConfig":       reads(export.ReadListConfig),
	module + "shared/export.ReadScheduleConfig":   reads(export.ReadScheduleConfig),
	module + "shared/export/files.ReadBucket":     reads(files.ReadBucket),
	module + "shared/export/worker.ReadConfig":    reads(worker.ReadConfig),
	module + "shared/mail.ReadConfig":             reads(mail.ReadConfig),
	module + "shared/archive.ReadBucket":          reads(archive.ReadBucket),
	module + "shared/archive.ReadCompactorConfig": reads(archive.ReadCompactorConfig),
	module + "shared/console.ReadBucket":          reads(console.ReadBucket),
	module + "shared/vlog.ReadConfig":             reads(vlog.ReadConfig),
	module + "shared/vlog.ReadProofConfig":        reads(vlog.ReadProofConfig),
	module + "shared/vlog.ReadTable":              reads(vlog.ReadTable),
}

func reads[C any](read func(*env.Reader) C) func(*env.Reader) {
	return func(r *env.Reader) { read(r) }
}

// configOf is what a function's main.go reads: the loaders it runs.
type configOf struct {
	main    string   // functions/<dir>/main.go
	loaders []string // keys of loaders
}

// read runs the function's loaders over vars and returns the names they read (sorted) and
// the configuration error, if any.
func (c configOf) read(vars map[string]string) ([]string, error) {
	r := env.Reader{Lookup: env.Map(vars)}
	for _, l := range c.loaders {
		loaders[l](&r)
	}
	return r.Names(), r.Err()
}

// functionConfig finds the loaders of f's main.go, failing the test when it reads its
// environment any other way or names a loader the tests do not know.
func functionConfig(t *testing.T, root string, f Function) configOf {
	t.Helper()
	c := configOf{main: filepath.Join("functions", f.Dir, "main.go")}
	found, err := mainLoaders(filepath.Join(root, c.main), nil)
	if err != nil {
		t.Fatalf("%s: %v", c.main, err)
	}
	for _, l := range found {
		if loaders[l] == nil {
			t.Fatalf("%s passes %s to lambdafn.New or env.Load; add it to loaders in local/template/config_test.go", c.main, l)
		}
	}
	c.loaders = found
	return c
}

// mainLoaders returns the readers a main.go passes to lambdafn.New or env.Load
// ("<import path>.<name>"), in order. Reading the environment any other way (an env.Reader
// of its own, os.Getenv, os.LookupEnv, os.Environ) is an error: the contract test could not
// see what it reads.
func mainLoaders(path string, src any) ([]string, error) {
	file, err := parser.ParseFile(token.NewFileSet(), path, src, 0)
	if err != nil {
		return nil, err
	}
	imports := map[string]string{} // local name -> import path
	for _, im := range file.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		name := p[strings.LastIndex(p, "/")+1:]
		if im.Name != nil {
			name = im.Name.Name
		}
		imports[name] = p
	}
	pkgFunc := func(e ast.Expr) (pkg, name string) {
		sel, ok := e.(*ast.SelectorExpr)
		if !ok {
			return "", ""
		}
		id, ok := sel.X.(*ast.Ident)
		if !ok {
			return "", ""
		}
		return imports[id.Name], sel.Sel.Name
	}
	var found []string
	var problems []error
	ast.Inspect(file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			// The reader is env.Load's one argument, or lambdafn.New's second (after the constructor).
			var args int
			var usage string
			switch pkg, name := pkgFunc(n.Fun); {
			case pkg == module+"shared/env" && name == "Load":
				args, usage = 1, "pass env.Load a package's reader, as env.Load(contact.ReadConfig)"
			case pkg == module+"shared/lambdafn" && name == "New":
				args, usage = 2, "pass lambdafn.New a package's constructor and reader, as lambdafn.New(contact.NewService, contact.ReadConfig)"
			default:
				return true
			}
			lp, ln := "", ""
			if len(n.Args) == args {
				lp, ln = pkgFunc(n.Args[args-1])
			}
			if lp == "" {
				problems = append(problems, errors.New(usage))
			} else {
				found = append(found, lp+"."+ln)
			}
			return false
		case *ast.SelectorExpr:
			switch pkg, name := pkgFunc(n); {
			case pkg == module+"shared/env":
				problems = append(problems, fmt.Errorf("uses env.%s: read the configuration with env.Load and a package's reader", name))
			case pkg == "os" && (name == "Getenv" || name == "LookupEnv" || name == "Environ"):
				problems = append(problems, fmt.Errorf("calls os.%s: read the configuration with env.Load and a package's reader", name))
			}
		}
		return true
	})
	return found, errors.Join(problems...)
}

// TestContractEnvironment: the readers each function's main.go runs, over template.yaml's
// environment of the function, find every variable they read set and valid; every variable a
// function's own Environment sets is read by it; every Globals variable is read by some
// function.
func TestContractEnvironment(t *testing.T) {
	root, tp := repoRoot(t)
	refs := fakeRefs(tp)
	globals := mapping(get(get(tp.globalsFn, "Environment"), "Variables"))
	readers := map[string][]string{} // variable -> functions reading it
	for _, f := range tp.Functions() {
		c := functionConfig(t, root, f)
		vars, err := tp.FunctionEnv(f, refs)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(f.LogicalID, func(t *testing.T) {
			names, err := c.read(vars)
			if err != nil {
				t.Errorf("%s, with template.yaml's environment of %s: %v", c.main, f.LogicalID, err)
			}
			for _, name := range names {
				readers[name] = append(readers[name], f.LogicalID)
				if _, ok := vars[name]; !ok && !awsProvided(name) {
					t.Errorf("%s reads %s but template.yaml does not set it for %s (Globals or its own Environment)", c.main, name, f.LogicalID)
				}
			}
			for _, name := range slices.Sorted(maps.Keys(f.Env)) {
				if _, global := globals[name]; !global && !slices.Contains(names, name) {
					t.Errorf("template.yaml sets %s for %s, which %s does not read: remove it from its Environment", name, f.LogicalID, c.main)
				}
			}
		})
	}
	for _, name := range slices.Sorted(maps.Keys(globals)) {
		if len(readers[name]) == 0 {
			t.Errorf("Globals set %s for every function, and none reads it", name)
		}
	}
}

// TestContractEnvironmentBounds: a variable a function reads that is set from a Number
// parameter is read with the parameter's bounds: the parameter has MinValue and MaxValue, and
// the function's readers accept exactly those (a deploy CloudFormation takes is a cold start
// that works).
func TestContractEnvironmentBounds(t *testing.T) {
	root, tp := repoRoot(t)
	refs := fakeRefs(tp)
	for _, f := range tp.Functions() {
		c := functionConfig(t, root, f)
		vars, err := tp.FunctionEnv(f, refs)
		if err != nil {
			t.Fatal(err)
		}
		read, _ := c.read(vars)
		for _, name := range read {
			fn, arg, _ := intrinsic(f.Env[name].n)
			param := tp.parameters[scalar(arg)]
			if fn != "Ref" || scalar(get(param, "Type")) != "Number" {
				continue
			}
			lo, errLo := strconv.Atoi(scalar(get(param, "MinValue")))
			hi, errHi := strconv.Atoi(scalar(get(param, "MaxValue")))
			if errLo != nil || errHi != nil {
				t.Errorf("parameter %s (%s of %s) has no MinValue and MaxValue: give it the bounds %s accepts", scalar(arg), name, f.LogicalID, c.main)
				continue
			}
			for _, probe := range []struct {
				n  int
				ok bool
			}{{lo - 1, false}, {lo, true}, {hi, true}, {hi + 1, false}} {
				set := maps.Clone(vars)
				set[name] = strconv.Itoa(probe.n)
				_, err := c.read(set)
				rejected := err != nil && strings.Contains(err.Error(), name+"=")
				if rejected == probe.ok {
					t.Errorf("%s: %s=%d (parameter %s: %d to %d) accepted %v, want %v (%v)", f.LogicalID, name, probe.n, scalar(arg), lo, hi, !rejected, probe.ok, err)
				}
			}
		}
	}
}

// TestContractLoadersUsed: every loader the tests know is run by some function, so the list
// does not outlive what it names.
func TestContractLoadersUsed(t *testing.T) {
	root, tp := repoRoot(t)
	used := map[string]bool{}
	for _, f := range tp.Functions() {
		for _, l := range functionConfig(t, root, f).loaders {
			used[l] = true
		}
	}
	for _, l := range slices.Sorted(maps.Keys(loaders)) {
		if !used[l] {
			t.Errorf("loaders names %s, which no main.go passes to lambdafn.New or env.Load", l)
		}
	}
}

// TestMainLoaders pins what mainLoaders recognises in a main.go.
func TestMainLoaders(t *testing.T) {
	const src = `package main

import (
	"os"

	"github.com/contrail/contrail/shared/contact"
	cfg "github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/export"
	"github.com/contrail/contrail/shared/export/files"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/lambdafn"
)

func main() {
	svc := contact.NewService(aws, cfg.Load(contact.ReadConfig))
	b := cfg.Load(files.ReadBucket)
	lambdafn.Route(httpapi.AdminRoles, lambdafn.New(export.NewService, export.ReadJobsConfig).Get)
	var r cfg.Reader
	_ = os.Getenv("LOG_LEVEL")
	cfg.Load(func(r *cfg.Reader) int { return 0 })
	lambdafn.New(export.NewService, func(r *cfg.Reader) export.Config { return export.Config{} })
}
`
	got, err := mainLoaders("main.go", src)
	want := []string{module + "shared/contact.ReadConfig", module + "shared/export/files.ReadBucket", module + "shared/export.ReadJobsConfig"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("loaders (-want +got):\n%s", d)
	}
	wantErr := "uses env.Reader: read the configuration with env.Load and a package's reader\n" +
		"calls os.Getenv: read the configuration with env.Load and a package's reader\n" +
		"pass env.Load a package's reader, as env.Load(contact.ReadConfig)\n" +
		"pass lambdafn.New a package's constructor and reader, as lambdafn.New(contact.NewService, contact.ReadConfig)"
	if err == nil || err.Error() != wantErr {
		t.Errorf("err = %v\nwant %s", err, wantErr)
	}
}
