package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/devauth"
	"github.com/contrail/contrail/local/runtime"
	"github.com/contrail/contrail/local/stacktest"
)

var (
	testKey = []byte("gateway-test-key-gateway-test-key")
	testNow = time.Date(2026, 11, 30, 9, 30, 0, 0, time.UTC)
)

// fakeInvoker records the last event and answers with a fixed payload or error.
type fakeInvoker struct {
	function string
	event    events.APIGatewayV2HTTPRequest
	raw      []byte
	reply    string
	err      error
}

func (f *fakeInvoker) Invoke(_ context.Context, fn string, payload []byte) ([]byte, error) {
	f.function, f.raw = fn, payload
	f.event = events.APIGatewayV2HTTPRequest{}
	if err := json.Unmarshal(payload, &f.event); err != nil {
		return nil, err
	}
	if f.err != nil {
		return nil, f.err
	}
	if f.reply == "" {
		return []byte(`{"statusCode":200,"headers":{"content-type":"application/json"},"body":"{}"}`), nil
	}
	return []byte(f.reply), nil
}

func newGateway(t *testing.T, routes []Route, inv Invoker) *Gateway {
	t.Helper()
	g, err := New(Config{Routes: routes, Key: testKey, Invoker: inv, Now: func() time.Time { return testNow },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func templateRoutes(t *testing.T) []Route {
	t.Helper()
	return RoutesFromTemplate(stacktest.Template(t))
}

func token(t *testing.T, roles ...string) string {
	t.Helper()
	s, err := devauth.Mint(testKey, devauth.Claims{Tenant: "acme", User: "u-1", Name: "Ana Agent", Roles: roles}, testNow, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func do(g http.Handler, method, target, auth, body string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.RemoteAddr = "127.0.0.1:54321"
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	g.ServeHTTP(w, r)
	return w
}

func TestTemplateRoutes(t *testing.T) {
	inv := &fakeInvoker{}
	g := newGateway(t, templateRoutes(t), inv)
	auth := "Bearer " + token(t, "agent")
	tests := []struct {
		method, target string
		wantStatus     int
		wantFunction   string
		wantRouteKey   string
		wantParams     map[string]string
	}{
		{"GET", "/v1/health", 200, "HealthFunction", "GET /v1/health", nil},
		{"POST", "/v1/contacts", 200, "CreateContactFunction", "POST /v1/contacts", nil},
		{"GET", "/v1/contacts/01JD0000000000000000000000", 200, "GetContactFunction", "GET /v1/contacts/{id}", map[string]string{"id": "01JD0000000000000000000000"}},
		{"GET", "/v1/contacts/a%20b", 200, "GetContactFunction", "GET /v1/contacts/{id}", map[string]string{"id": "a b"}},
		{"GET", "/v1/nothing-here", 404, "", "", nil},
		{"DELETE", "/v1/health", 404, "", "", nil},
		{"GET", "/v1/health/extra", 404, "", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			inv.function, inv.event = "", events.APIGatewayV2HTTPRequest{}
			w := do(g, tc.method, tc.target, auth, "")
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.wantStatus, w.Body)
			}
			if tc.wantStatus == 404 {
				if d := cmp.Diff(fmt.Sprintf(`{"error":{"code":"not_found","message":"No route %s %s; see the API reference for the routes."}}`, tc.method, strings.SplitN(tc.target, "?", 2)[0]), w.Body.String()); d != "" {
					t.Errorf("404 body (-want +got):\n%s", d)
				}
				return
			}
			got := struct {
				Function, RouteKey string
				Params             map[string]string
			}{inv.function, inv.event.RouteKey, inv.event.PathParameters}
			want := struct {
				Function, RouteKey string
				Params             map[string]string
			}{tc.wantFunction, tc.wantRouteKey, tc.wantParams}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("match (-want +got):\n%s", d)
			}
		})
	}
}

func TestMostSpecificRouteWins(t *testing.T) {
	routes := []Route{
		{Method: "ANY", Path: "/v1/{proxy+}", Function: "Catch"},
		{Method: "GET", Path: "/v1/contacts/{id}", Function: "Get"},
		{Method: "POST", Path: "/v1/contacts/merge", Function: "Merge"},
		{Method: "POST", Path: "/v1/contacts/{id}/archive", Function: "Archive"},
		{Method: "GET", Path: "/v1/contacts/{id}/history", Function: "History"},
	}
	inv := &fakeInvoker{}
	g := newGateway(t, routes, inv)
	auth := "Bearer " + token(t, "admin")
	tests := []struct {
		method, target, want string
		params               map[string]string
	}{
		{"POST", "/v1/contacts/merge", "Merge", nil},
		{"GET", "/v1/contacts/merge", "Get", map[string]string{"id": "merge"}},
		{"POST", "/v1/contacts/c1/archive", "Archive", map[string]string{"id": "c1"}},
		{"GET", "/v1/contacts/c1/history", "History", map[string]string{"id": "c1"}},
		{"DELETE", "/v1/contacts/c1", "Catch", map[string]string{"proxy": "contacts/c1"}},
		{"GET", "/v1/a/b%2Fc", "Catch", map[string]string{"proxy": "a/b/c"}},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			if w := do(g, tc.method, tc.target, auth, ""); w.Code != 200 {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if inv.function != tc.want || !cmp.Equal(inv.event.PathParameters, tc.params) {
				t.Errorf("got %s %v, want %s %v", inv.function, inv.event.PathParameters, tc.want, tc.params)
			}
		})
	}
}

func TestClashingRoutesRejected(t *testing.T) {
	_, err := New(Config{Key: testKey, Routes: []Route{
		{Method: "GET", Path: "/v1/contacts/{id}", Function: "A"},
		{Method: "GET", Path: "/v1/contacts/{contactId}", Function: "B"},
	}})
	if err == nil || !strings.Contains(err.Error(), "clash") {
		t.Errorf("error = %v, want a clash", err)
	}
}

func TestAuth(t *testing.T) {
	inv := &fakeInvoker{}
	g := newGateway(t, []Route{
		{Method: "GET", Path: "/v1/health", Public: true, Function: "Health"},
		{Method: "GET", Path: "/v1/contacts", Function: "List"},
	}, inv)
	other, err := devauth.Mint([]byte("some-other-key-some-other-key!!"), devauth.Claims{Tenant: "acme", Roles: []string{"agent"}}, testNow, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := devauth.Mint(testKey, devauth.Claims{Tenant: "acme", Roles: []string{"agent"}}, testNow.Add(-2*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	const missing = `{"error":{"code":"unauthorized","message":"Send a bearer token in the Authorization header (make token ROLE=agent TENANT=demo prints one)."}}`
	const bad = `{"error":{"code":"unauthorized","message":"The bearer token is invalid or expired; get a new one (make token)."}}`
	tests := []struct {
		name, target, auth string
		wantStatus         int
		wantBody           string
	}{
		{"public route without token", "/v1/health", "", 200, "{}"},
		{"no header", "/v1/contacts", "", 401, missing},
		{"empty bearer", "/v1/contacts", "Bearer ", 401, missing},
		{"other key", "/v1/contacts", "Bearer " + other, 401, bad},
		{"expired", "/v1/contacts", "Bearer " + expired, 401, bad},
		{"basic auth", "/v1/contacts", "Basic dXNlcjpwYXNz", 401, bad},
		{"valid", "/v1/contacts", "Bearer " + token(t, "agent"), 200, "{}"},
		{"valid, lower-case scheme", "/v1/contacts", "bearer " + token(t, "agent"), 200, "{}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv.function = ""
			w := do(g, "GET", tc.target, tc.auth, "")
			if w.Code != tc.wantStatus || w.Body.String() != tc.wantBody {
				t.Errorf("got %d %s, want %d %s", w.Code, w.Body, tc.wantStatus, tc.wantBody)
			}
			if invoked := inv.function != ""; invoked != (tc.wantStatus == 200) {
				t.Errorf("function invoked = %v with status %d", invoked, w.Code)
			}
			if w.Code == 401 && w.Header().Get("Content-Type") != "application/json" {
				t.Errorf("401 content type %q", w.Header().Get("Content-Type"))
			}
		})
	}
}

func TestEventShape(t *testing.T) {
	inv := &fakeInvoker{}
	g := newGateway(t, []Route{{Method: "POST", Path: "/v1/contacts/{id}/channels", Function: "Connect"}}, inv)
	tok := token(t, "admin", "agent")
	w := do(g, "POST", "/v1/contacts/c-1/channels?x=1&type=A&type=B", "Bearer "+tok, `{"channel":"whatsapp"}`,
		"Content-Type", "application/json", "User-Agent", "curl/8.5.0", "X-Custom", "a", "X-Custom", "b", "Cookie", "s=1; t=2")
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	want := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       "POST /v1/contacts/{id}/channels",
		RawPath:        "/v1/contacts/c-1/channels",
		RawQueryString: "x=1&type=A&type=B",
		Cookies:        []string{"s=1", "t=2"},
		Headers: map[string]string{
			"authorization":     "Bearer " + tok,
			"content-length":    "22",
			"content-type":      "application/json",
			"host":              "example.com",
			"user-agent":        "curl/8.5.0",
			"x-custom":          "a,b",
			"x-forwarded-for":   "127.0.0.1",
			"x-forwarded-proto": "http",
		},
		QueryStringParameters: map[string]string{"x": "1", "type": "A,B"},
		PathParameters:        map[string]string{"id": "c-1"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     "POST /v1/contacts/{id}/channels",
			AccountID:    "000000000000",
			Stage:        "$default",
			RequestID:    inv.event.RequestContext.RequestID,
			APIID:        "local",
			DomainName:   "example.com",
			DomainPrefix: "example",
			Time:         "30/Nov/2026:09:30:00 +0000",
			TimeEpoch:    testNow.UnixMilli(),
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{
					"iss": devauth.Issuer, "aud": devauth.Audience, "sub": "u-1", "name": "Ana Agent",
					"custom:tenant_id": "acme", "cognito:groups": "[admin agent]", "token_use": "id",
					"iat": "1796031000", "exp": "1796034600",
				}},
			},
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: "POST", Path: "/v1/contacts/c-1/channels", Protocol: "HTTP/1.1", SourceIP: "127.0.0.1", UserAgent: "curl/8.5.0",
			},
		},
		Body: `{"channel":"whatsapp"}`,
	}
	if d := cmp.Diff(want, inv.event); d != "" {
		t.Errorf("event (-want +got):\n%s", d)
	}
	if w.Header().Get("Apigw-Requestid") != inv.event.RequestContext.RequestID || len(inv.event.RequestContext.RequestID) != 16 {
		t.Errorf("request id %q, header %q", inv.event.RequestContext.RequestID, w.Header().Get("Apigw-Requestid"))
	}
}

func TestBodyEncoding(t *testing.T) {
	inv := &fakeInvoker{}
	g := newGateway(t, []Route{{Method: "POST", Path: "/v1/x", Public: true, Function: "X"}}, inv)
	tests := []struct {
		contentType, body string
		wantBody          string
		wantB64           bool
	}{
		{"application/json", `{"a":1}`, `{"a":1}`, false},
		{"application/json; charset=utf-8", `{"a":1}`, `{"a":1}`, false},
		{"text/csv", "name,email\nA,a@x.io\n", "name,email\nA,a@x.io\n", false},
		{"application/octet-stream", "\x00\x01", "AAE=", true},
		{"", "raw", "cmF3", true},
		{"application/json", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.contentType+" "+tc.body, func(t *testing.T) {
			var hdr []string
			if tc.contentType != "" {
				hdr = []string{"Content-Type", tc.contentType}
			}
			if w := do(g, "POST", "/v1/x", "", tc.body, hdr...); w.Code != 200 {
				t.Fatalf("status %d", w.Code)
			}
			if inv.event.Body != tc.wantBody || inv.event.IsBase64Encoded != tc.wantB64 {
				t.Errorf("body %q base64 %v, want %q %v", inv.event.Body, inv.event.IsBase64Encoded, tc.wantBody, tc.wantB64)
			}
		})
	}
}

func TestResponses(t *testing.T) {
	tests := []struct {
		name        string
		reply       string
		err         error
		wantStatus  int
		wantHeaders map[string][]string
		wantBody    string
	}{
		{
			name:       "plain",
			reply:      `{"statusCode":201,"headers":{"content-type":"application/json","location":"/v1/contacts/c1"},"body":"{\"id\":\"c1\"}"}`,
			wantStatus: 201, wantBody: `{"id":"c1"}`,
			wantHeaders: map[string][]string{"Content-Type": {"application/json"}, "Location": {"/v1/contacts/c1"}, "Content-Length": {"11"}},
		},
		{
			name:       "base64 body and cookies",
			reply:      `{"statusCode":200,"headers":{"content-type":"text/csv"},"cookies":["a=1","b=2"],"body":"YSxiCg==","isBase64Encoded":true}`,
			wantStatus: 200, wantBody: "a,b\n",
			wantHeaders: map[string][]string{"Content-Type": {"text/csv"}, "Set-Cookie": {"a=1", "b=2"}, "Content-Length": {"4"}},
		},
		{
			name:       "204 without body",
			reply:      `{"statusCode":204}`,
			wantStatus: 204, wantBody: "",
			wantHeaders: map[string][]string{"Content-Length": {"0"}},
		},
		{
			name:       "JSON without statusCode is a 200",
			reply:      `{"status":"ok"}`,
			wantStatus: 200, wantBody: `{"status":"ok"}`,
			wantHeaders: map[string][]string{"Content-Type": {"application/json"}},
		},
		{
			name:       "function error",
			err:        &runtime.FunctionError{Type: "errorString", Message: "db down"},
			wantStatus: 500, wantBody: `{"error":{"code":"internal_error","message":"Something went wrong on our side; try again later."}}`,
		},
		{
			name:       "crash",
			err:        fmt.Errorf("X (exit status 2): %w", runtime.ErrCrashed),
			wantStatus: 502, wantBody: `{"error":{"code":"bad_gateway","message":"The function failed to answer; it is restarted for the next request."}}`,
		},
		{
			name:       "timeout",
			err:        fmt.Errorf("X after 10s: %w", runtime.ErrTimeout),
			wantStatus: 504, wantBody: `{"error":{"code":"function_timeout","message":"The request took too long; try again later."}}`,
		},
		{
			name:       "not JSON",
			reply:      `oops`,
			wantStatus: 502, wantBody: `{"error":{"code":"bad_gateway","message":"The function returned a response the gateway cannot read."}}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv := &fakeInvoker{reply: tc.reply, err: tc.err}
			g := newGateway(t, []Route{{Method: "GET", Path: "/v1/x", Public: true, Function: "X"}}, inv)
			w := do(g, "GET", "/v1/x", "", "")
			body, _ := io.ReadAll(w.Body)
			if w.Code != tc.wantStatus || string(body) != tc.wantBody {
				t.Errorf("got %d %s, want %d %s", w.Code, body, tc.wantStatus, tc.wantBody)
			}
			for k, v := range tc.wantHeaders {
				if d := cmp.Diff(v, w.Header().Values(k)); d != "" {
					t.Errorf("header %s (-want +got):\n%s", k, d)
				}
			}
		})
	}
}
