package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/vlog/bundle"
	"github.com/contrail/contrail/shared/vlog/bundle/bundletest"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	key := bundletest.NewKey("contrail")
	acme := bundletest.New("acme", 600)
	cp300 := acme.Checkpoint(key, 300, bundletest.At(3, 0))
	cp600 := acme.Checkpoint(key, 600, bundletest.At(5, 0))
	file := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	encode := func(b *bundle.Bundle) []byte {
		var buf bytes.Buffer
		if err := bundle.Write(&buf, b); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	honest := encode(acme.Bundle(120, 480, cp600))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(honest)
	zw.Close()
	tampered := acme.Bundle(120, 480, cp600)
	tampered.Entries[0].Leaf = bytes.Replace(tampered.Entries[0].Leaf, []byte("u-7"), []byte("u-8"), 1)

	bundleFile := file("acme.json", honest)
	gzFile := file("acme.json.gz", gz.Bytes())
	tamperedFile := file("tampered.json", encode(tampered))
	keyFile := file("contrail.vkey", []byte(key.Vkey+"\n"))
	savedFile := file("acme.checkpoint", []byte(cp300))
	saveTo := filepath.Join(dir, "next.checkpoint")
	ok := "OK contrail/acme: 360 events [120,480) verified against checkpoint 600 signed 2026-12-07T05:00:00Z"

	tests := []struct {
		name           string
		args           []string
		stdin          []byte
		code           int
		stdout, stderr string
	}{
		{
			name:   "honest bundle",
			args:   []string{"-key", key.Vkey, "-tenant", "acme", bundleFile},
			code:   0,
			stdout: ok + "\n",
		},
		{
			name:   "gzip, key from a file, a saved checkpoint, and save the new one",
			args:   []string{"-key", "@" + keyFile, "-tenant", "acme", "-saved", savedFile, "-save", saveTo, gzFile},
			code:   0,
			stdout: ok + ", consistent with saved checkpoint 300 signed 2026-12-07T03:00:00Z\nsaved checkpoint 600 signed 2026-12-07T05:00:00Z to " + saveTo + ": pass it with -saved next time\n",
		},
		{
			name:   "standard input",
			args:   []string{"-key", key.Vkey, "-tenant", "acme", "-"},
			stdin:  honest,
			code:   0,
			stdout: ok + "\n",
		},
		{
			name: "an altered event",
			args: []string{"-key", key.Vkey, "-tenant", "acme", "-save", filepath.Join(dir, "not-written"), tamperedFile},
			code: 1,
			stdout: "FAIL contrail/acme: 1 problem in events [120,480) against checkpoint 600 signed 2026-12-07T05:00:00Z\n" +
				"  event " + bundletest.EventID(120) + " at index 120 was altered: its bytes are not the leaf the log recorded at that index\n",
		},
		{
			name:   "stale with a shorter max age",
			args:   []string{"-key", key.Vkey, "-tenant", "acme", "-max-age", "20m", bundleFile},
			code:   1,
			stdout: "FAIL contrail/acme: 1 problem in events [120,480) against checkpoint 600 signed 2026-12-07T05:00:00Z\n  stale: newest checkpoint is from 2026-12-07T05:00:00Z, 30m0s before 2026-12-07T05:30:00Z (at most 20m0s allowed); events after it may have been cut off\n",
		},
		{
			name:   "not a bundle",
			args:   []string{"-key", key.Vkey, "-tenant", "acme", keyFile},
			code:   1,
			stdout: "FAIL contrail/acme: the bundle cannot be read\n  read bundle: invalid character 'c' looking for beginning of value\n",
		},
		{
			name:   "no bundle",
			args:   []string{"-key", key.Vkey, "-tenant", "acme"},
			code:   2,
			stderr: "contrail-verify: give one bundle file, or - for standard input\n" + usage + "\n",
		},
		{
			name:   "no key",
			args:   []string{"-tenant", "acme", bundleFile},
			code:   2,
			stderr: "contrail-verify: verify bundle: no verifier key given\n" + usage + "\n",
		},
		{
			name:   "a malformed key",
			args:   []string{"-key", "contrail+xyz", "-tenant", "acme", bundleFile},
			code:   2,
			stderr: "contrail-verify: verify bundle: verifier key \"contrail+xyz\": malformed verifier id\n" + usage + "\n",
		},
		{
			name:   "a bad tenant id",
			args:   []string{"-key", key.Vkey, "-tenant", "../acme", bundleFile},
			code:   2,
			stderr: "contrail-verify: verify bundle: tenant id holds '.' at byte 0; only letters, digits, '-' and '_' are allowed, starting with a letter or digit\n" + usage + "\n",
		},
		{
			name:   "a missing bundle file",
			args:   []string{"-key", key.Vkey, "-tenant", "acme", filepath.Join(dir, "nope.json")},
			code:   2,
			stderr: fmt.Sprintf("contrail-verify: open bundle: open %s: no such file or directory\n", filepath.Join(dir, "nope.json")) + usage + "\n",
		},
		{
			name:   "a zero max age",
			args:   []string{"-key", key.Vkey, "-tenant", "acme", "-max-age", "0s", bundleFile},
			code:   2,
			stderr: "contrail-verify: -max-age must be positive\n" + usage + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, bytes.NewReader(tt.stdin), &stdout, &stderr, func() time.Time { return bundletest.At(5, 30) })
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %s", code, tt.code, stderr.String())
			}
			if diff := cmp.Diff(tt.stdout, stdout.String()); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.stderr, stderr.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
	// The saved checkpoint is the bundle's, byte for byte; a failed run saved nothing.
	if got, err := os.ReadFile(saveTo); err != nil || string(got) != cp600 {
		t.Errorf("saved checkpoint %q, %v; want %q", got, err, cp600)
	}
	if _, err := os.Stat(filepath.Join(dir, "not-written")); !os.IsNotExist(err) {
		t.Errorf("a failed verification saved its checkpoint: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 6 {
		t.Errorf("files left in %s: %v", dir, entries)
	}
}

// TestDependencies keeps the command small enough to audit and install anywhere: the
// standard library, x/mod's sumdb packages and Contrail's bundle and tenant id, no AWS SDK.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	want := []string{
		"github.com/contrail/contrail/cmd/contrail-verify",
		"github.com/contrail/contrail/shared/tenant",
		"github.com/contrail/contrail/shared/vlog/bundle",
		"golang.org/x/mod/sumdb/note",
		"golang.org/x/mod/sumdb/tlog",
	}
	got := strings.Fields(string(out))
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dependencies (-want +got):\n%s", diff)
	}
}
