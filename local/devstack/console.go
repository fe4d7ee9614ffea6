package devstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/contrail/contrail/local/devauth"
	"github.com/contrail/contrail/shared/console"
)

// ConsoleAssets is where console/ builds to (and functions/console embeds from).
var ConsoleAssets = filepath.Join("functions", "console", "assets")

// routes is the stack's HTTP front once it is ready: the console under /console/ (served as
// CloudFront serves it in AWS, signing in with development users), the development token
// endpoint the console's local sign-in uses, and the API gateway for everything else.
func (s *Stack) routes(gw http.Handler) http.Handler {
	mux := http.NewServeMux()
	con := console.Handler(os.DirFS(filepath.Join(s.Root, ConsoleAssets)), console.Config{Auth: "local", DevTokenURL: DevTokenPath})
	mux.Handle("/console", con)
	mux.Handle("/console/", con)
	mux.Handle(DevTokenPath, devauth.TokenHandler(s.key, time.Now))
	mux.Handle("/", gw)
	return mux
}

// DevTokenPath mints development tokens for the console's local sign-in (never in AWS).
const DevTokenPath = "/local/dev-token"

// buildConsole runs `npm ci` in console/ when its lockfile is newer than its installed
// packages, then `npm run build` when a source is newer than the last build. A checkout
// without console/package.json has no console to build.
func buildConsole(ctx context.Context, root string, say func(string, ...any)) error {
	dir := filepath.Join(root, "console")
	lock, err := os.Stat(filepath.Join(dir, "package-lock.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("build the console: %w", err)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return errors.New("npm not found: install Node.js 20+ with npm (the console is built with it)")
	}
	run := func(args ...string) error {
		cmd := exec.CommandContext(ctx, npm, append([]string{"--prefix", dir}, args...)...)
		cmd.Dir = root
		var buf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("npm --prefix console %v: %w\n%s", args, err, buf.String())
		}
		return nil
	}
	if st, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json")); err != nil || st.ModTime().Before(lock.ModTime()) {
		say("  installing the console's packages (npm ci --prefix console)")
		if err := run("ci", "--no-audit", "--no-fund"); err != nil {
			return err
		}
	}
	built, err := os.Stat(filepath.Join(root, ConsoleAssets, "index.html"))
	if err == nil && !newerThan(dir, built.ModTime()) {
		say("  console up to date")
		return nil
	}
	say("  building the console (npm --prefix console run build)")
	return run("run", "build")
}

// newerThan reports whether a file under dir (outside node_modules and test output) changed
// after t.
func newerThan(dir string, t time.Time) bool {
	newer := false
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || newer {
			return fs.SkipAll
		}
		if d.IsDir() {
			switch d.Name() {
			case "node_modules", "test-results", "playwright-report":
				return fs.SkipDir
			}
			return nil
		}
		if info, err := d.Info(); err == nil && info.ModTime().After(t) {
			newer = true
		}
		return nil
	})
	return newer
}
