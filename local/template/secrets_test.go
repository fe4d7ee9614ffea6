package template

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// TestContractSecretsNotInEnvironment: no environment holds a secret's value (no dynamic
// reference, {{resolve:...}}, in Globals or a function's Environment: CloudFormation would
// copy the value there, for every reader of the function's configuration to see). A
// function's environment names a secret by its ARN (!Ref of the secret) only where its
// config readers read that variable (the list routes: CURSOR_SECRET_ARN), and exactly the
// secrets its environment names are those it may read (secretsmanager:GetSecretValue, after
// its boundary) and decrypt (kms:Decrypt on the secret's key).
func TestContractSecretsNotInEnvironment(t *testing.T) {
	root, tp := repoRoot(t)
	for _, line := range dynamicReferences(get(get(tp.globalsFn, "Environment"), "Variables")) {
		t.Errorf("Globals' Environment has a dynamic reference at line %d: every function would hold the value", line)
	}
	refs := fakeRefs(tp)
	holders := 0
	for _, f := range tp.Functions() {
		props := get(tp.resources[f.LogicalID], "Properties")
		for _, line := range dynamicReferences(get(get(props, "Environment"), "Variables")) {
			t.Errorf("%s's Environment has a dynamic reference at line %d: read the secret at run time from its ARN", f.LogicalID, line)
		}
		secrets := map[string]string{} // variable -> secret
		for _, name := range slices.Sorted(maps.Keys(f.Env)) {
			if id := refTarget(f.Env[name].n); tp.ResourceType(id) == "AWS::SecretsManager::Secret" {
				secrets[name] = id
			}
		}
		c := functionConfig(t, root, f)
		vars, err := tp.FunctionEnv(f, refs)
		if err != nil {
			t.Fatal(err)
		}
		names, _ := c.read(vars)
		eff := effectiveOf(t, tp, f)
		var want, got []grant
		for _, name := range slices.Sorted(maps.Keys(secrets)) {
			id := secrets[name]
			holders++
			if !slices.Contains(names, name) {
				t.Errorf("%s holds %s (the secret %s), which %s does not read", f.LogicalID, name, id, c.main)
			}
			want = append(want, grant{"secretsmanager:GetSecretValue", refs[id]})
			key := resources(tp, get(get(tp.resources[id], "Properties"), "KmsKeyId"), refs)
			if len(key) != 1 || !slices.Contains(eff, grant{"kms:Decrypt", key[0]}) {
				t.Errorf("%s cannot kms:Decrypt %v, the key of the secret %s it names", f.LogicalID, key, id)
			}
		}
		for _, g := range eff {
			if strings.HasPrefix(g.Action, "secretsmanager:") {
				got = append(got, g)
			}
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s's Secrets Manager permissions are not exactly GetSecretValue on the secrets its environment names (-want +got):\n%s", f.LogicalID, d)
		}
	}
	if holders == 0 {
		t.Error("no function names a secret: the list routes sign their cursors with CursorSecret (CURSOR_SECRET_ARN)")
	}
}

// dynamicReferences returns the lines of the scalars under n holding {{resolve:...}}.
func dynamicReferences(n *yaml.Node) []int {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "{{resolve:") {
		return []int{n.Line}
	}
	var lines []int
	for _, c := range n.Content {
		lines = append(lines, dynamicReferences(c)...)
	}
	return lines
}
