package template

import (
	"testing"
)

// trustedAttributes are the user attributes the audit log and the API take from the token
// as facts about the caller: name (an event's actor.name) and custom:tenant_id (the tenant
// of every request). A user who could write one could rename themselves in the log or move
// to another tenant, so only an admin (AdminUpdateUserAttributes) may set them.
var trustedAttributes = map[string]bool{"name": true, "custom:tenant_id": true}

// TestContractUsersCannotWriteTrustedAttributes holds every Cognito app client of the
// template to a WriteAttributes list (absent, Cognito lets the client write every standard
// attribute, name included) that names no trusted attribute.
func TestContractUsersCannotWriteTrustedAttributes(t *testing.T) {
	_, tp := repoRoot(t)
	clients := tp.ResourcesOfType("AWS::Cognito::UserPoolClient")
	if len(clients) == 0 {
		t.Fatal("template.yaml declares no AWS::Cognito::UserPoolClient")
	}
	for _, id := range clients {
		t.Run(id, func(t *testing.T) {
			writes := get(get(tp.resources[id], "Properties"), "WriteAttributes")
			if writes == nil {
				t.Fatalf("%s has no WriteAttributes: Cognito then lets users write every standard attribute, name included", id)
			}
			var listed []string
			for _, n := range seq(writes) {
				a := scalar(n)
				listed = append(listed, a)
				if trustedAttributes[a] {
					t.Errorf("%s lets users write %q, which the audit log trusts; only admins may set it (AdminUpdateUserAttributes)", id, a)
				}
			}
			if len(listed) == 0 {
				t.Errorf("%s has an empty WriteAttributes; Cognito reads that as every standard attribute writable", id)
			}
		})
	}
}
