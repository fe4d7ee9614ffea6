package devstack

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/contrail/contrail/local/devauth"
)

// TestStackCursorSecret: the list functions read the cursor key from the stack's Secrets
// Manager at cold start (it is in no environment), the key is the state folder's, and a
// cursor from before a restart still opens after it.
func TestStackCursorSecret(t *testing.T) {
	o := Options{StateDir: t.TempDir(), Functions: []string{"CreateContactFunction", "ListContactsFunction"}}
	s := StartTest(t, o)
	tok, err := s.Token(devauth.Claims{Tenant: "acme", User: "u-1", Roles: []string{"agent"}})
	if err != nil {
		t.Fatal(err)
	}
	// call sends a request as the agent and decodes the JSON answer.
	call := func(s *Stack, method, path, body string) (status int, out map[string]any) {
		t.Helper()
		req, err := http.NewRequestWithContext(context.Background(), method, s.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header = http.Header{"Authorization": {"Bearer " + tok}, "Content-Type": {"application/json"}}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	for _, name := range []string{"Ada", "Grace"} {
		if st, out := call(s, "POST", "/v1/contacts", `{"name":"`+name+`"}`); st != http.StatusCreated {
			t.Fatalf("POST /v1/contacts: %d %v", st, out)
		}
	}
	st, page := call(s, "GET", "/v1/contacts?limit=1", "")
	cursor, _ := page["nextCursor"].(string)
	if st != http.StatusOK || cursor == "" {
		t.Fatalf("GET /v1/contacts?limit=1: %d %v, want a page with a nextCursor", st, page)
	}

	// The value the functions read is the state folder's, served by ARN.
	key, err := os.ReadFile(filepath.Join(o.StateDir, "secrets", "CursorSecret"))
	if err != nil {
		t.Fatal(err)
	}
	sm := secretsmanager.NewFromConfig(s.AWSConfig(), func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(s.SecretsEndpoint) })
	out, err := sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("arn:aws:secretsmanager:us-east-1:000000000000:secret:CursorSecret")})
	if err != nil || aws.ToString(out.SecretString) != strings.TrimSpace(string(key)) {
		t.Fatalf("GetSecretValue = %v, want the value in %s", err, filepath.Join(o.StateDir, "secrets", "CursorSecret"))
	}

	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	s2 := StartTest(t, o)
	st, page = call(s2, "GET", "/v1/contacts?limit=1&cursor="+cursor, "")
	items, _ := page["items"].([]any)
	if st != http.StatusOK || len(items) != 1 {
		t.Errorf("the cursor from before the restart: %d %v, want the second page", st, page)
	}
}
