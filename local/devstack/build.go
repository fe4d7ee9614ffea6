package devstack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/contrail/contrail/local/template"
)

// installEmulators runs `npm ci --prefix local` when local/node_modules is missing or older
// than local/package-lock.json.
func installEmulators(ctx context.Context, root string, out io.Writer) error {
	// Test binaries of several packages may start stacks at once: one npm ci at a time.
	sum := sha256.Sum256([]byte(root))
	lf, err := os.OpenFile(filepath.Join(os.TempDir(), "contrail-npm-"+hex.EncodeToString(sum[:8])+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("install emulators: %w", err)
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("install emulators: lock: %w", err)
	}
	defer syscall.Flock(int(lf.Fd()), syscall.LOCK_UN)
	lock := filepath.Join(root, "local", "package-lock.json")
	stamp := filepath.Join(root, "local", "node_modules", ".package-lock.json")
	ls, err := os.Stat(lock)
	if err != nil {
		return fmt.Errorf("install emulators: %w", err)
	}
	if ss, err := os.Stat(stamp); err == nil && !ss.ModTime().Before(ls.ModTime()) {
		return nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return errors.New("npm not found: install Node.js 20+ with npm (e.g. apt-get install nodejs npm)")
	}
	fmt.Fprintln(out, "Installing the local emulators (npm ci --prefix local)...")
	cmd := exec.CommandContext(ctx, npm, "ci", "--prefix", filepath.Join(root, "local"), "--no-audit", "--no-fund")
	cmd.Dir = root
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm ci --prefix local: %w\n%s", err, buf.String())
	}
	return nil
}

// buildFunctions builds the functions for the host into binDir/<LogicalId>, in one go build
// (fast and cached). A function whose folder is missing, or whose package does not compile
// while the others do, is left out with a warning, so one half-written function does not
// stop the stack. It returns LogicalId -> binary. built is called, as it goes, for each
// function go build compiles (go build -v names it); an unchanged one is only linked or
// left as it is, unnamed.
func buildFunctions(ctx context.Context, root, binDir string, fns []template.Function, log *slog.Logger, built func(template.Function)) (map[string]string, error) {
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return nil, fmt.Errorf("build functions: %w", err)
	}
	var pkgs []template.Function
	for _, f := range fns {
		if _, err := os.Stat(filepath.Join(root, "functions", f.Dir, "main.go")); err != nil {
			log.Warn("function not built: its folder is missing", "function", f.LogicalID, "folder", "functions/"+f.Dir)
			continue
		}
		pkgs = append(pkgs, f)
	}
	bins := map[string]string{}
	if len(pkgs) == 0 {
		return bins, nil
	}
	reported := map[string]bool{}
	report := func(f template.Function) {
		if !reported[f.LogicalID] {
			reported[f.LogicalID] = true
			built(f)
		}
	}
	// go build -v names each package as it builds it; a function's is ".../functions/<dir>".
	byPackage := map[string]template.Function{}
	for _, f := range pkgs {
		byPackage["/functions/"+f.Dir] = f
	}
	onPackage := func(importPath string) {
		if i := strings.LastIndex(importPath, "/functions/"); i >= 0 {
			if f, ok := byPackage[importPath[i:]]; ok {
				report(f)
			}
		}
	}
	if err := goBuild(ctx, root, binDir, pkgs, onPackage); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// Find the broken ones; build the rest.
		var ok []template.Function
		for _, f := range pkgs {
			if err := goBuild(ctx, root, binDir, []template.Function{f}, nil); err != nil {
				log.Warn("function not built: it does not compile", "function", f.LogicalID, "error", err.Error())
				continue
			}
			report(f)
			ok = append(ok, f)
		}
		pkgs = ok
	}
	// The binaries keep their folder names, so the next go build finds them up to date and
	// skips linking; <LogicalId> is a symlink to each.
	for _, f := range pkgs {
		dst := filepath.Join(binDir, f.LogicalID)
		if target, err := os.Readlink(dst); err != nil || target != f.Dir {
			_ = os.Remove(dst)
			if err := os.Symlink(f.Dir, dst); err != nil {
				return nil, fmt.Errorf("build %s: %w", f.LogicalID, err)
			}
		}
		bins[f.LogicalID] = dst
	}
	return bins, nil
}

// goBuild builds fns into binDir in one go build; onPackage (if set) gets each import path
// go build -v names as it builds it.
func goBuild(ctx context.Context, root, binDir string, fns []template.Function, onPackage func(string)) error {
	goBin := os.Getenv("GO")
	if goBin == "" {
		goBin = "go"
	}
	// No symbol tables: linking dominates the build of many small binaries.
	args := []string{"build", "-v", "-tags", "lambda.norpc", "-ldflags=-s -w", "-o", binDir + string(filepath.Separator)}
	for _, f := range fns {
		args = append(args, "./functions/"+f.Dir)
	}
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = root
	var buf bytes.Buffer
	var w io.Writer = &buf
	if onPackage != nil {
		w = io.MultiWriter(&buf, &lines{fn: onPackage})
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, strings.TrimSpace(buf.String()))
	}
	return nil
}

// lines calls fn with each complete line written to it.
type lines struct {
	fn      func(string)
	partial []byte
}

func (l *lines) Write(b []byte) (int, error) {
	l.partial = append(l.partial, b...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			return len(b), nil
		}
		l.fn(strings.TrimSpace(string(l.partial[:i])))
		l.partial = l.partial[i+1:]
	}
}
