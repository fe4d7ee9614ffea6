package devauth

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

var (
	now = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	key = []byte("0123456789abcdef0123456789abcdef")
)

func TestMintVerifyRoundTrip(t *testing.T) {
	tok, err := Mint(key, Claims{Tenant: "acme", Roles: []string{"admin", "agent"}}, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Verify(key, tok, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"iss":              Issuer,
		"aud":              Audience,
		"sub":              "admin-acme",
		"name":             "Admin (acme)",
		"custom:tenant_id": "acme",
		"cognito:groups":   "[admin agent]",
		"token_use":        "id",
		"iat":              "1796032800",
		"exp":              "1796036400",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("claims (-want +got):\n%s", d)
	}
}

func sign(t *testing.T, method jwt.SigningMethod, k any, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, c).SignedString(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerifyRejects(t *testing.T) {
	good := jwt.MapClaims{"iss": Issuer, "aud": Audience, "sub": "u", "custom:tenant_id": "t", "exp": now.Add(time.Hour).Unix()}
	with := func(k string, v any) jwt.MapClaims {
		c := jwt.MapClaims{}
		for a, b := range good {
			c[a] = b
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	tests := []struct {
		name, token string
	}{
		{"other key", sign(t, jwt.SigningMethodHS256, []byte("another-key-another-key-another!"), good)},
		{"expired", sign(t, jwt.SigningMethodHS256, key, with("exp", now.Add(-time.Second).Unix()))},
		{"no exp", sign(t, jwt.SigningMethodHS256, key, with("exp", nil))},
		{"other issuer", sign(t, jwt.SigningMethodHS256, key, with("iss", "https://evil.example"))},
		{"other audience", sign(t, jwt.SigningMethodHS256, key, with("aud", "someone-else"))},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good)},
		{"HS512", sign(t, jwt.SigningMethodHS512, key, good)},
		{"garbage", "not.a.token"},
		{"empty", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if c, err := Verify(key, tc.token, now); err == nil {
				t.Errorf("Verify accepted it: %v", c)
			}
		})
	}
}

func TestMintRejects(t *testing.T) {
	tests := []struct {
		name string
		c    Claims
		want string
	}{
		{"no tenant", Claims{Roles: []string{"agent"}}, "tenant is required"},
		{"no role", Claims{Tenant: "t"}, "at least one role"},
		{"bad role", Claims{Tenant: "t", Roles: []string{"root"}}, `role "root" is not one of admin, agent, service`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Mint(key, tc.c, now, 0)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".local", KeyFile)
	k1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) != 32 || !cmp.Equal(k1, k2) {
		t.Errorf("keys %x and %x: want the same 32-byte key twice", k1, k2)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v, want 0600", st.Mode().Perm())
	}
}

func TestTokenHandler(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	h := TokenHandler(key, func() time.Time { return now })
	post := func(method, body string) (int, map[string]any) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, "/local/dev-token", strings.NewReader(body)))
		var got map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatalf("%s %q: body %q: %v", method, body, rec.Body.String(), err)
		}
		return rec.Code, got
	}
	code, got := post("POST", `{"tenant":"demo","role":"admin","name":"Rina Admin"}`)
	if code != 200 || got["expiresIn"] != float64(43200) {
		t.Fatalf("got %d %v", code, got)
	}
	claims, err := Verify(key, got["token"].(string), now)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"sub": "admin-demo", "name": "Rina Admin", "custom:tenant_id": "demo", "cognito:groups": "[admin]"}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s = %q, want %q", k, claims[k], v)
		}
	}
	for _, tc := range []struct {
		method, body string
		status       int
		message      string
	}{
		{"GET", "", 405, `Use POST with a JSON body {"tenant","role","name"}.`},
		{"POST", `{"tenant":"demo"}`, 400, "at least one role is required."},
		{"POST", `{"tenant":"demo","role":"root"}`, 400, `role "root" is not one of admin, agent, service.`},
		{"POST", `{"role":"agent"}`, 400, "tenant is required."},
		{"POST", `{"tenant":"demo","role":"agent","extra":1}`, 400, `Send a JSON object {"tenant","role","name","user"?}.`},
		{"POST", `not json`, 400, `Send a JSON object {"tenant","role","name","user"?}.`},
	} {
		code, got := post(tc.method, tc.body)
		msg, _ := got["error"].(map[string]any)["message"].(string)
		if code != tc.status || msg != tc.message {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.body, code, msg, tc.status, tc.message)
		}
	}
}
