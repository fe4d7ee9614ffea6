package template

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// Personal-data keys (shared/pii, crypto-shredding): KeysTable holds each tenant's key
// wrapped by PersonalDataKey and each contact's data key wrapped by its tenant key. Who can
// make or destroy a key is who can write personal data; everyone else who opens events only
// reads keys.

// keyWriters are the functions that may make keys (PutItem, UpdateItem on KeysTable,
// kms:Encrypt on PersonalDataKey): the contact writers, which seal what they record, and the
// erasure. Every other function holding a key grant is a reader: GetItem, BatchGetItem and
// kms:Decrypt only.
var keyWriters = []string{
	"CreateContactFunction", "ImportContactsFunction", "UpdateContactFunction", "ConnectChannelFunction",
	"ArchiveContactFunction", "UnarchiveContactFunction", "DeleteContactFunction", "MergeContactsFunction",
	"InviteContactFunction", "MessageContactFunction", "ShareContactFunction", "CommentContactFunction",
	"EraseContactFunction", // destroys keys
	"MailerFunction",       // seals its outcome events (a request's contact may have no key yet: legacy)
	"MailReplayFunction",   // the mailer's code, delivering again what the mailer gave up on
}

// contactCreators are the key writers that create contacts: their transaction checks the
// tenant key they kept across requests (ConditionCheckItem on KeysTable) instead of reading it.
var contactCreators = []string{"CreateContactFunction", "ImportContactsFunction"}

var (
	keyWriterActions  = []string{"dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "kms:Decrypt", "kms:Encrypt"}
	keyCreatorActions = []string{"dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "kms:Decrypt", "kms:Encrypt"}
	keyReaderActions  = []string{"dynamodb:BatchGetItem", "dynamodb:GetItem", "kms:Decrypt"}
)

// tenantContextOnly reports whether a statement's Condition limits KMS to a tenant's key: the
// encryption context must be present and have the one key "tenant".
func tenantContextOnly(st *yaml.Node) bool {
	cond := get(st, "Condition")
	keys := get(get(cond, "ForAllValues:StringEquals"), "kms:EncryptionContextKeys")
	var vals []string
	if keys != nil && keys.Kind == yaml.SequenceNode {
		for _, v := range keys.Content {
			vals = append(vals, v.Value)
		}
	} else if keys != nil {
		vals = []string{keys.Value}
	}
	return slices.Equal(vals, []string{"tenant"}) && scalar(get(get(cond, "Null"), "kms:EncryptionContextKeys")) == "false"
}

// keyStatements calls f with every Allow statement of doc and its resolved resources.
func keyStatements(tp *Template, doc *yaml.Node, refs map[string]string, f func(st *yaml.Node, actions, resources []string)) {
	for _, st := range seq(get(doc, "Statement")) {
		if scalar(get(st, "Effect")) != "Allow" {
			continue
		}
		var acts []string
		for _, a := range seq(get(st, "Action")) {
			acts = append(acts, scalar(a))
		}
		if a := get(st, "Action"); a != nil && a.Kind == yaml.ScalarNode {
			acts = append(acts, a.Value)
		}
		f(st, acts, resources(tp, get(st, "Resource"), refs))
	}
}

// TestContractPersonalDataKey: the key that wraps tenant keys is the stack's own, symmetric,
// rotated, retained; the account administers it, and its use (through IAM) is only ever
// Encrypt and Decrypt with a tenant encryption context.
func TestContractPersonalDataKey(t *testing.T) {
	_, tp := repoRoot(t)
	r := tp.resources["PersonalDataKey"]
	if scalar(get(r, "Type")) != "AWS::KMS::Key" {
		t.Fatalf("PersonalDataKey is %q, want an AWS::KMS::Key (the readers' and writers' KEYS_KMS_KEY_ARN names it)", scalar(get(r, "Type")))
	}
	if c := scalar(get(r, "Condition")); c != "" {
		t.Errorf("PersonalDataKey has Condition %s: every stack needs it", c)
	}
	props := get(r, "Properties")
	for k, want := range map[string]string{"EnableKeyRotation": "true", "KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT"} {
		if got := scalar(get(props, k)); got != want {
			t.Errorf("PersonalDataKey %s = %q, want %q", k, got, want)
		}
	}
	alias := false
	for _, id := range tp.ResourcesOfType("AWS::KMS::Alias") {
		alias = alias || refTarget(get(get(tp.resources[id], "Properties"), "TargetKeyId")) == "PersonalDataKey"
	}
	if !alias {
		t.Errorf("PersonalDataKey has no alias")
	}
	usage := []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKey*", "kms:GenerateDataKeyWithoutPlaintext", "kms:CreateGrant"}
	for _, st := range seq(get(get(props, "KeyPolicy"), "Statement")) {
		if scalar(get(st, "Effect")) != "Allow" {
			continue
		}
		sid := scalar(get(st, "Sid"))
		for _, a := range seq(get(st, "Action")) {
			used := slices.ContainsFunc(usage, func(u string) bool { return matches(a.Value, u) })
			switch {
			case a.Value == "kms:*":
				t.Errorf("PersonalDataKey's key policy statement %s allows kms:*: administration only, use through IAM with a tenant context", sid)
			case used && !tenantContextOnly(st):
				t.Errorf("PersonalDataKey's key policy statement %s allows %s without the tenant encryption context condition", sid, a.Value)
			case used && a.Value != "kms:Encrypt" && a.Value != "kms:Decrypt":
				t.Errorf("PersonalDataKey's key policy statement %s allows %s: tenant keys need Encrypt and Decrypt only", sid, a.Value)
			}
		}
	}
}

// TestContractKeyWriters: which functions may make keys (PutItem/UpdateItem on KeysTable,
// kms:Encrypt on PersonalDataKey) is keyWriters, each with the whole writer set (the
// contactCreators with ConditionCheckItem besides); every other
// function with a key grant reads only (GetItem, BatchGetItem, kms:Decrypt); every KMS grant
// on PersonalDataKey, in a function's Policies or a boundary, is for a tenant context only;
// and the functions holding a grant are those given KEYS_TABLE (and KEYS_KMS_KEY_ARN).
func TestContractKeyWriters(t *testing.T) {
	_, tp := repoRoot(t)
	refs := fakeRefs(tp)
	table, key := refs["KeysTable.Arn"], refs["PersonalDataKey.Arn"]

	for _, id := range tp.ResourcesOfType("AWS::IAM::ManagedPolicy") {
		keyStatements(tp, get(get(tp.resources[id], "Properties"), "PolicyDocument"), refs, func(st *yaml.Node, acts, res []string) {
			if slices.Contains(res, key) && slices.ContainsFunc(acts, func(a string) bool { return strings.HasPrefix(a, "kms:") }) && !tenantContextOnly(st) {
				t.Errorf("%s grants %v on PersonalDataKey without the tenant encryption context condition", id, acts)
			}
		})
	}

	var writers []string
	for _, f := range tp.Functions() {
		props := get(tp.resources[f.LogicalID], "Properties")
		for _, p := range seq(get(props, "Policies")) {
			keyStatements(tp, p, refs, func(st *yaml.Node, acts, res []string) {
				if slices.Contains(res, key) && !tenantContextOnly(st) {
					t.Errorf("%s is granted %v on PersonalDataKey without the condition %s", f.LogicalID, acts,
						`{'ForAllValues:StringEquals': {'kms:EncryptionContextKeys': [tenant]}, 'Null': {'kms:EncryptionContextKeys': 'false'}}`)
				}
			})
		}
		var held []string
		for _, g := range effectiveOf(t, tp, f) {
			if (g.Resource == key || g.Resource == table) && !slices.Contains(held, g.Action) {
				held = append(held, g.Action)
			}
		}
		sort.Strings(held)
		_, hasTable := f.Env["KEYS_TABLE"]
		_, hasKey := f.Env["KEYS_KMS_KEY_ARN"]
		switch {
		case len(held) == 0:
			if hasTable || hasKey {
				t.Errorf("%s is given KEYS_TABLE/KEYS_KMS_KEY_ARN but no grant on KeysTable and PersonalDataKey", f.LogicalID)
			}
			continue
		case !hasTable || !hasKey:
			t.Errorf("%s holds %v on the personal-data keys but not both KEYS_TABLE and KEYS_KMS_KEY_ARN", f.LogicalID, held)
		}
		if slices.ContainsFunc(held, func(a string) bool { return !slices.Contains(keyReaderActions, a) }) {
			writers = append(writers, f.LogicalID)
			want := keyWriterActions
			if slices.Contains(contactCreators, f.LogicalID) {
				want = keyCreatorActions
			}
			if !slices.Equal(held, want) {
				t.Errorf("%s, a key writer, holds %v on KeysTable and PersonalDataKey, want %v", f.LogicalID, held, want)
			}
		} else if !slices.Equal(held, keyReaderActions) {
			t.Errorf("%s, a key reader, holds %v on KeysTable and PersonalDataKey, want %v", f.LogicalID, held, keyReaderActions)
		}
	}
	want := slices.Clone(keyWriters)
	sort.Strings(want)
	sort.Strings(writers)
	if !slices.Equal(writers, want) {
		t.Errorf("the functions that may make or erase personal-data keys are %v, want %v (keyWriters)", writers, want)
	}
}
