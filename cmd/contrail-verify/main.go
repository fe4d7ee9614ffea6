// Command contrail-verify checks a Contrail log bundle offline, with nothing but the
// tenant's verifier key: the checkpoint's signature, every event against the signed tree,
// that no index of the period is missing, consistency with a checkpoint saved earlier, and
// freshness. It prints a one-line verdict, then one line per problem; exit status 0 when
// all holds, 1 when something does not, 2 on a usage error. See docs/verifying.md.
//
//	go install github.com/contrail/contrail/cmd/contrail-verify@latest
//	contrail-verify -key @contrail.vkey -tenant acme -saved acme.checkpoint -save acme.checkpoint bundle.json.gz
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/contrail/contrail/shared/vlog/bundle"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, time.Now))
}

const usage = "usage: contrail-verify -key <vkey|@file> -tenant <id> [-saved <checkpoint file>] [-max-age 2h] [-save <file>] <bundle.json[.gz]|->"

func run(args []string, stdin io.Reader, stdout, stderr io.Writer, now func() time.Time) int {
	fs := flag.NewFlagSet("contrail-verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var keys []string
	fs.Func("key", "the tenant's verifier `key` (GET /v1/log/checkpoint), or @file holding it; repeat while a key is rotated", func(s string) error {
		keys = append(keys, s)
		return nil
	})
	tenant := fs.String("tenant", "", "the tenant `id` whose log the bundle must be")
	saved := fs.String("saved", "", "a checkpoint `file` kept from an earlier run (-save); the log must extend it")
	maxAge := fs.Duration("max-age", bundle.DefaultMaxAge, "how old the bundle's checkpoint may be")
	save := fs.String("save", "", "write the bundle's checkpoint to `file` when everything verifies, for -saved next time")
	fs.Usage = func() { fmt.Fprintln(stderr, usage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "contrail-verify: "+format+"\n", a...)
		fmt.Fprintln(stderr, usage)
		return 2
	}
	if fs.NArg() != 1 {
		return fail("give one bundle file, or - for standard input")
	}
	if *maxAge <= 0 {
		return fail("-max-age must be positive")
	}
	opts := bundle.Options{Tenant: *tenant, MaxAge: *maxAge, Now: now()}
	for _, k := range keys {
		if name, ok := strings.CutPrefix(k, "@"); ok {
			b, err := os.ReadFile(name)
			if err != nil {
				return fail("read key: %v", err)
			}
			k = string(b)
		}
		opts.Keys = append(opts.Keys, strings.TrimSpace(k))
	}
	if *saved != "" {
		b, err := os.ReadFile(*saved)
		if err != nil {
			return fail("read saved checkpoint: %v", err)
		}
		opts.Saved = b
	}
	in, closeIn, err := open(fs.Arg(0), stdin)
	if err != nil {
		return fail("%v", err)
	}
	defer closeIn()
	rep, err := bundle.VerifyReader(in, opts)
	if err != nil {
		return fail("%v", err)
	}
	fmt.Fprintln(stdout, rep.Verdict())
	for _, p := range rep.Problems {
		fmt.Fprintln(stdout, "  "+p.Message)
	}
	if !rep.OK() {
		return 1
	}
	if *save != "" {
		if err := writeFile(*save, rep.Checkpoint.Note); err != nil {
			fmt.Fprintf(stderr, "contrail-verify: save checkpoint: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "saved %s to %s: pass it with -saved next time\n", rep.Checkpoint.Describe(), *save)
	}
	return 0
}
