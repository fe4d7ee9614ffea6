// Command testsummary reads `go test -json` on stdin and prints a short report: one line per
// package and per top-level test, the output of every failed or skipped test, and as its last
// line "N passed, N failed, N skipped". It exits non-zero when any test failed or was skipped
// (the project allows no t.Skip) or a package failed to build or run.
//
//	set -o pipefail; go test -json ./... | go run ./local/cmd/testsummary
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

func main() {
	os.Exit(run())
}

func run() int {
	var (
		passed, failed, skipped int
		badPackages             []string
		output                  = map[string]*strings.Builder{} // package + "\x00" + test -> output
	)
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	for in.Scan() {
		line := in.Bytes()
		var ev event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil {
			fmt.Println(string(line)) // not test2json: pass through (e.g. a vet or build message)
			continue
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
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "testsummary: read:", err)
		return 2
	}
	if len(badPackages) > 0 {
		sort.Strings(badPackages)
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
