// Package devauth holds the local development signing key and mints and verifies the tokens
// the local gateway trusts. In AWS the HTTP API's JWT authorizer verifies Cognito's tokens;
// locally the gateway verifies HS256 tokens signed with a random key kept under .local/, with
// the same claims (sub, name, custom:tenant_id, cognito:groups).
package devauth

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The fixed issuer and audience of local tokens; the gateway checks both.
const (
	Issuer   = "https://contrail.local/dev"
	Audience = "contrail-local"
)

// KeyFile is the key's file name under the local state folder (.local/).
const KeyFile = "dev-jwt.key"

// DefaultTTL is how long a minted token is valid unless told otherwise.
const DefaultTTL = 12 * time.Hour

// Roles a token may carry in cognito:groups.
var Roles = []string{"admin", "agent", "service"}

// LoadOrCreateKey reads the key at path, creating a random 256-bit key there (mode 0600, folder
// created) on first use. Two processes racing to create it end up with the same key.
func LoadOrCreateKey(path string) ([]byte, error) {
	if key, err := readKey(path); err == nil {
		return key, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create key folder: %w", err)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".dev-jwt-*")
	if err != nil {
		return nil, fmt.Errorf("create key: %w", err)
	}
	if _, err := tmp.WriteString(hex.EncodeToString(b[:]) + "\n"); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("write key: %w", err)
	}
	tmp.Close()
	// Link, not rename: if another process created the key meanwhile, keep theirs.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("install key: %w", err)
	}
	os.Remove(tmp.Name())
	return readKey(path)
}

func readKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("read signing key %s: not a hex key of 16+ bytes; delete it to make a new one", path)
	}
	return key, nil
}

// Claims describes the caller a token stands for.
type Claims struct {
	Tenant string   // custom:tenant_id
	User   string   // sub; default "<role>-<tenant>"
	Name   string   // name; default "<Role> (<tenant>)"
	Roles  []string // cognito:groups
}

// Mint signs a token for c, valid from now for ttl (DefaultTTL when 0).
func Mint(key []byte, c Claims, now time.Time, ttl time.Duration) (string, error) {
	if c.Tenant == "" {
		return "", errors.New("mint token: tenant is required")
	}
	if len(c.Roles) == 0 {
		return "", errors.New("mint token: at least one role is required")
	}
	for _, r := range c.Roles {
		if !valid(r) {
			return "", fmt.Errorf("mint token: role %q is not one of %s", r, strings.Join(Roles, ", "))
		}
	}
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	if c.User == "" {
		c.User = c.Roles[0] + "-" + c.Tenant
	}
	if c.Name == "" {
		c.Name = strings.ToUpper(c.Roles[0][:1]) + c.Roles[0][1:] + " (" + c.Tenant + ")"
	}
	claims := jwt.MapClaims{
		"iss":              Issuer,
		"aud":              Audience,
		"sub":              c.User,
		"name":             c.Name,
		"custom:tenant_id": c.Tenant,
		"cognito:groups":   c.Roles,
		"token_use":        "id",
		"iat":              now.Unix(),
		"exp":              now.Add(ttl).Unix(),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
	if err != nil {
		return "", fmt.Errorf("mint token: %w", err)
	}
	return s, nil
}

func valid(role string) bool {
	for _, r := range Roles {
		if r == role {
			return true
		}
	}
	return false
}

// Verify checks a token's signature (HS256 with key), expiry, issuer and audience and returns
// its claims formatted as API Gateway's JWT authorizer passes them to the function:
// every value a string, arrays as "[a b]", numbers in plain notation.
func Verify(key []byte, token string, now time.Time) (map[string]string, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{"HS256"}),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithJSONNumber(),
	)
	if err != nil {
		return nil, fmt.Errorf("verify token: %w", err)
	}
	out := make(map[string]string, len(claims))
	for k, v := range claims {
		out[k] = format(v)
	}
	return out, nil
}

// format renders a claim value the way API Gateway does.
func format(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = format(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case map[string]any:
		keys := slices.Sorted(maps.Keys(x))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ":" + format(x[k])
		}
		return "map[" + strings.Join(parts, " ") + "]"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

// TokenRequest is the body of the local gateway's POST /local/dev-token: the development
// user the console signs in as.
type TokenRequest struct {
	Tenant string `json:"tenant"`
	Role   string `json:"role"`
	Name   string `json:"name"`
	User   string `json:"user"`
}

// TokenHandler answers POST /local/dev-token with {"token","expiresIn"}: a token with the
// claims `make token` gives. Only the local stack serves it (nothing in AWS mints or
// accepts a development token); it listens on loopback like the rest of the stack.
func TokenHandler(key []byte, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": map[string]string{"code": "method_not_allowed", "message": "Use POST with a JSON body {\"tenant\",\"role\",\"name\"}."}})
			return
		}
		var req TokenRequest
		dec := json.NewDecoder(io.LimitReader(r.Body, 4096))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]string{"code": "invalid_body", "message": "Send a JSON object {\"tenant\",\"role\",\"name\",\"user\"?}."}})
			return
		}
		var roles []string
		if req.Role != "" {
			roles = []string{req.Role}
		}
		tok, err := Mint(key, Claims{Tenant: req.Tenant, User: req.User, Name: req.Name, Roles: roles}, now(), DefaultTTL)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]string{"code": "invalid_request", "message": strings.TrimPrefix(err.Error(), "mint token: ") + "."}})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"token": tok, "expiresIn": int(DefaultTTL.Seconds())})
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
