// Command testsummary reads `go test -json` and prints a short report: one line per package
// and per top-level test, the output of every failed or skipped test, and as its last line
// "N passed, N failed, N skipped". It exits non-zero when any test failed or was skipped (the
// project allows no t.Skip) or a package failed to build or run.
//
//	go test -json ./... | go run ./local/cmd/testsummary
//	go run ./local/cmd/testsummary -dynamodb -- go test -json ./...
//
// With a command after --, it runs the command and reads its output. -dynamodb first starts
// one DynamoDB Local and hands its endpoint to every test binary (STACKTEST_DYNAMODB_ENDPOINT),
// instead of each package starting its own JVM.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/contrail/contrail/local/emulator"
	"github.com/contrail/contrail/local/template"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	ImportPath string // build-output, build-fail: the package that failed to build
	Package    string
	Test       string
	Elapsed    float64
	Output     string
}

func main() {
	dynamo := flag.Bool("dynamodb", false, "start one DynamoDB Local shared by every test binary (needs a command after --)")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		if *dynamo {
			fmt.Fprintln(os.Stderr, "testsummary: -dynamodb needs the test command after --")
			os.Exit(2)
		}
		os.Exit(summarize(os.Stdin))
	}
	os.Exit(runCommand(args, *dynamo))
}

// runCommand runs the test command, optionally with a shared DynamoDB Local, and summarizes
// its output. The command's exit status counts too (e.g. go test could not start).
func runCommand(args []string, dynamo bool) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	cmd.Env = os.Environ()
	if dynamo {
		tp, err := template.Find()
		if err != nil {
			fmt.Fprintln(os.Stderr, "testsummary:", err)
			return 2
		}
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
		p, err := emulator.StartDynamoDB(ctx, emulator.Options{Root: filepath.Dir(tp)})
		cancel()
		if err != nil {
			fmt.Fprintln(os.Stderr, "testsummary:", err)
			return 2
		}
		defer p.Stop()
		// The variable is stacktest.EnvDynamoDBEndpoint (not imported: it would link package testing).
		cmd.Env = append(cmd.Env, "STACKTEST_DYNAMODB_ENDPOINT="+p.Endpoint)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		return 2
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		return 2
	}
	code := summarize(out)
	if err := cmd.Wait(); err != nil && code == 0 {
		fmt.Fprintf(os.Stderr, "testsummary: %s: %v\n", strings.Join(args, " "), err)
		code = 1
	}
	return code
}

// summarize reports the test2json stream r and returns the exit status.
func summarize(r io.Reader) int {
	var (
		passed, failed, skipped int
		badPackages             []string
		output                  = map[string]*strings.Builder{} // package + "\x00" + test -> output
	)
	in := bufio.NewScanner(r)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	for in.Scan() {
		line := in.Bytes()
		var ev event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil {
			fmt.Println(string(line)) // not test2json: pass through (e.g. a vet or build message)
			continue
		}
		if ev.Package == "" {
			// "pkg.test" or "pkg [pkg.test]"
			pkg, _, _ := strings.Cut(ev.ImportPath, " ")
			ev.Package = strings.TrimSuffix(pkg, ".test")
		}
		key := ev.Package + "\x00" + ev.Test
		switch ev.Action {
		case "output", "build-output":
			b := output[key]
			if b == nil {
				b = &strings.Builder{}
				output[key] = b
			}
			b.WriteString(ev.Output)
		case "pass", "fail", "skip":
			if ev.Test == "" {
				switch {
				case ev.Action == "fail":
					badPackages = append(badPackages, ev.Package)
					fmt.Printf("FAIL %s (%.1fs)\n", ev.Package, ev.Elapsed)
					printOutput(output[key])
				case ev.Action == "pass":
					fmt.Printf("ok   %s (%.1fs)\n", ev.Package, ev.Elapsed)
				}
				delete(output, key)
				continue
			}
			switch ev.Action {
			case "pass":
				passed++
			case "fail":
				failed++
			case "skip":
				skipped++
			}
			topLevel := !strings.Contains(ev.Test, "/")
			if ev.Action != "pass" {
				fmt.Printf("  %s %s %s (%.2fs)\n", strings.ToUpper(ev.Action), short(ev.Package), ev.Test, ev.Elapsed)
				printOutput(output[key])
			} else if topLevel {
				fmt.Printf("  pass %s %s (%.2fs)\n", short(ev.Package), ev.Test, ev.Elapsed)
			}
			if topLevel {
				// Subtest output is part of the top-level test's output too; drop both.
				for k := range output {
					if strings.HasPrefix(k, key+"/") {
						delete(output, k)
					}
				}
			}
			delete(output, key)
		case "build-fail":
			badPackages = append(badPackages, ev.Package)
			fmt.Printf("FAIL %s [build failed]\n", ev.Package)
			printOutput(output[key])
			delete(output, key)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "testsummary: read:", err)
		return 2
	}
	if len(badPackages) > 0 {
		sort.Strings(badPackages)
		badPackages = slices.Compact(badPackages)
		fmt.Printf("failed packages: %s\n", strings.Join(badPackages, " "))
	}
	fmt.Printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	if failed > 0 || skipped > 0 || len(badPackages) > 0 {
		return 1
	}
	return 0
}

func printOutput(b *strings.Builder) {
	if b == nil {
		return
	}
	for _, l := range strings.SplitAfter(b.String(), "\n") {
		if l == "" || strings.HasPrefix(l, "=== RUN") || strings.HasPrefix(l, "=== PAUSE") || strings.HasPrefix(l, "=== CONT") {
			continue
		}
		fmt.Print("      " + l)
	}
}

// short drops the module path from a package path.
func short(pkg string) string {
	return strings.TrimPrefix(pkg, "github.com/contrail/contrail/")
}
