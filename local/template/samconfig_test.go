package template

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"
)

// samconfig is the part of SAM CLI's samconfig.toml (format version 0.1) this test reads:
// <env>.<command>.parameters per environment.
type samconfig struct {
	Version float64
	Envs    map[string]map[string]samconfigParameters // env -> command -> its parameters
}

type samconfigParameters struct {
	Parameters map[string]any
}

func loadSamconfig(t *testing.T, root string) samconfig {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "samconfig.toml"))
	if err != nil {
		t.Fatalf("samconfig.toml (named by the README's Deploy section and the style guide): %v", err)
	}
	var raw map[string]any
	if _, err := toml.Decode(string(b), &raw); err != nil {
		t.Fatalf("samconfig.toml is not TOML: %v", err)
	}
	sc := samconfig{Envs: map[string]map[string]samconfigParameters{}}
	sc.Version, _ = raw["version"].(float64)
	for env, v := range raw {
		cmds, ok := v.(map[string]any)
		if !ok {
			continue
		}
		sc.Envs[env] = map[string]samconfigParameters{}
		for cmd, cv := range cmds {
			c, _ := cv.(map[string]any)
			p, _ := c["parameters"].(map[string]any)
			sc.Envs[env][cmd] = samconfigParameters{Parameters: p}
		}
	}
	return sc
}

// param returns an environment's setting for a command, falling back to its global
// parameters as SAM CLI does.
func (sc samconfig) param(env, cmd, name string) (any, bool) {
	if v, ok := sc.Envs[env][cmd].Parameters[name]; ok {
		return v, true
	}
	v, ok := sc.Envs[env]["global"].Parameters[name]
	return v, ok
}

// words splits a samconfig list value: a TOML array of strings, or one space-separated
// string (both are SAM CLI's forms), honouring double quotes around a value.
func words(v any) []string {
	switch v := v.(type) {
	case []any:
		var out []string
		for _, x := range v {
			s, _ := x.(string)
			out = append(out, s)
		}
		return out
	case string:
		var out []string
		var cur strings.Builder
		quoted := false
		for _, r := range v {
			switch {
			case r == '"':
				quoted = !quoted
			case r == ' ' && !quoted:
				if cur.Len() > 0 {
					out = append(out, cur.String())
					cur.Reset()
				}
			default:
				cur.WriteRune(r)
			}
		}
		if cur.Len() > 0 {
			out = append(out, cur.String())
		}
		return out
	}
	return nil
}

// TestSamconfig checks samconfig.toml against template.yaml: a [default] and a [prod] deploy
// to stacks of their own, with the capabilities the template needs, and parameter_overrides
// that name only parameters template.yaml declares (CloudFormation rejects any other).
func TestSamconfig(t *testing.T) {
	root, tp := repoRoot(t)
	sc := loadSamconfig(t, root)
	if sc.Version != 0.1 {
		t.Errorf("version = %v, want 0.1 (SAM CLI's samconfig format)", sc.Version)
	}
	var envs []string
	for env := range sc.Envs {
		envs = append(envs, env)
	}
	sort.Strings(envs)
	if diff := cmp.Diff([]string{"default", "prod"}, envs); diff != "" {
		t.Errorf("environments (-want +got):\n%s", diff)
	}

	stacks := map[string]string{}
	for _, env := range []string{"default", "prod"} {
		t.Run(env, func(t *testing.T) {
			stack, _ := sc.param(env, "deploy", "stack_name")
			name, _ := stack.(string)
			if name == "" {
				t.Errorf("[%s] names no stack_name for deploy", env)
			} else if other, dup := stacks[name]; dup {
				t.Errorf("[%s] deploys to stack %q, as [%s] does", env, name, other)
			}
			stacks[name] = env

			caps, _ := sc.param(env, "deploy", "capabilities")
			// The functions' roles are created without names: CAPABILITY_IAM. A nested
			// application would need CAPABILITY_AUTO_EXPAND too.
			want := []string{"CAPABILITY_IAM"}
			if len(tp.ResourcesOfType("AWS::Serverless::Application")) > 0 {
				want = append(want, "CAPABILITY_AUTO_EXPAND")
			}
			if diff := cmp.Diff(want, words(caps)); diff != "" {
				t.Errorf("[%s] capabilities (-want +got):\n%s", env, diff)
			}
			for _, flag := range []string{"resolve_s3", "confirm_changeset"} {
				if v, _ := sc.param(env, "deploy", flag); v != true {
					t.Errorf("[%s] deploy %s = %v, want true", env, flag, v)
				}
			}

			overrides, ok := sc.param(env, "deploy", "parameter_overrides")
			if !ok {
				t.Fatalf("[%s] has no parameter_overrides", env)
			}
			var seen []string
			for _, kv := range words(overrides) {
				name, _, found := strings.Cut(kv, "=")
				if !found || name == "" {
					t.Errorf("[%s] parameter_overrides entry %q is not Name=Value", env, kv)
					continue
				}
				if _, declared := tp.Parameter(name); !declared {
					t.Errorf("[%s] parameter_overrides sets %s, which template.yaml does not declare", env, name)
				}
				if slices.Contains(seen, name) {
					t.Errorf("[%s] parameter_overrides sets %s twice", env, name)
				}
				seen = append(seen, name)
			}
		})
	}
}

func TestSamconfigWords(t *testing.T) {
	tests := []struct {
		in   any
		want []string
	}{
		{`MailFrom="a@x.com" LogLevel=INFO`, []string{"MailFrom=a@x.com", "LogLevel=INFO"}},
		{`JwtIssuer="" AuditWriteShards=8`, []string{"JwtIssuer=", "AuditWriteShards=8"}},
		{[]any{"A=1", "B=two words"}, []string{"A=1", "B=two words"}},
		{"CAPABILITY_IAM CAPABILITY_AUTO_EXPAND", []string{"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, words(tt.in)); diff != "" {
			t.Errorf("words(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}
