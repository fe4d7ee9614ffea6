// Command eventref rewrites the event reference (docs/events.md) from the event registry
// (`make docs`), so the two cannot drift.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/contrail/contrail/shared/audit"
)

func main() {
	path := flag.String("file", "docs/events.md", "the Markdown file whose event reference to rewrite")
	flag.Parse()
	b, err := os.ReadFile(*path)
	if err == nil {
		b, err = audit.RewriteReference(b)
	}
	if err == nil {
		err = os.WriteFile(*path, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "eventref:", err)
		os.Exit(1)
	}
}
