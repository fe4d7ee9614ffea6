package main

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/devauth"
)

// TestPrintsOneToken runs the command as `make token` does and checks stdout is exactly one
// token, signed with the key it created, carrying the asked-for claims.
func TestPrintsOneToken(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "token")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	keyPath := filepath.Join(dir, ".local", devauth.KeyFile)
	tests := []struct {
		name string
		args []string
		want map[string]string
	}{
		{"defaults", []string{"-role", "agent", "-tenant", "acme"}, map[string]string{"sub": "agent-acme", "name": "Agent (acme)", "custom:tenant_id": "acme", "cognito:groups": "[agent]", "ttl": "43200"}},
		{"user and name", []string{"-role", "admin", "-tenant", "demo", "-user", "u-7", "-name", "Ana B"}, map[string]string{"sub": "u-7", "name": "Ana B", "custom:tenant_id": "demo", "cognito:groups": "[admin]", "ttl": "43200"}},
		{"several roles", []string{"-role", "admin,agent", "-tenant", "demo"}, map[string]string{"sub": "admin-demo", "name": "Admin (demo)", "custom:tenant_id": "demo", "cognito:groups": "[admin agent]", "ttl": "43200"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(bin, append(tc.args, "-key", keyPath)...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%v: %s", err, stderr.String())
			}
			if stderr.Len() != 0 || strings.Count(string(out), "\n") != 1 {
				t.Fatalf("stdout %q, stderr %q: want one line and nothing else", out, stderr.String())
			}
			key, err := devauth.LoadOrCreateKey(keyPath)
			if err != nil {
				t.Fatal(err)
			}
			claims, err := devauth.Verify(key, strings.TrimSpace(string(out)), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			iat, _ := strconv.Atoi(claims["iat"])
			exp, _ := strconv.Atoi(claims["exp"])
			got := map[string]string{"sub": claims["sub"], "name": claims["name"], "custom:tenant_id": claims["custom:tenant_id"], "cognito:groups": claims["cognito:groups"], "ttl": strconv.Itoa(exp - iat)}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("claims (-want +got):\n%s", d)
			}
		})
	}
	t.Run("bad role fails with a message", func(t *testing.T) {
		cmd := exec.Command(bin, "-role", "root", "-tenant", "acme", "-key", keyPath)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err == nil || len(out) != 0 || !strings.Contains(stderr.String(), `role "root" is not one of admin, agent, service`) {
			t.Errorf("err %v, stdout %q, stderr %q", err, out, stderr.String())
		}
	})
}
