package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/fault"
)

// captureLogs makes a JSON logger on a buffer the default for the test and returns a function
// that reads back the records written so far, without their time.
func captureLogs(t *testing.T) func() []map[string]any {
	t.Helper()
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return func() []map[string]any {
		var recs []map[string]any
		dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
		for dec.More() {
			var m map[string]any
			if err := dec.Decode(&m); err != nil {
				t.Fatalf("log output is not JSON lines: %v\n%s", err, buf.String())
			}
			recs = append(recs, m)
		}
		buf.Reset()
		return recs
	}
}

func event(claims map[string]string) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{RouteKey: "POST /v1/contacts"}
	ev.RequestContext.RequestID = "req-1"
	ev.Headers = map[string]string{"authorization": "Bearer secret-token"}
	ev.Body = `{"name":"secret body"}`
	if claims != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}}
	}
	return ev
}

// Every request leaves exactly one log line, whichever way it ends: refused before the
// handler, answered by it, failed or panicked. Tokens and bodies never reach it.
func TestRouteLogsEveryRequestOnce(t *testing.T) {
	agent := map[string]string{"sub": "u-1", "custom:tenant_id": "acme", "cognito:groups": "[agent]"}
	line := func(level string, status int, tenant, user string, extra map[string]any) map[string]any {
		m := map[string]any{"level": level, "msg": "request", "route": "POST /v1/contacts", "status": float64(status),
			"tenant_id": tenant, "user_id": user, "request_id": "req-1"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name    string
		claims  map[string]string
		handler Handler
		status  int
		want    map[string]any
	}{
		{"200", agent, func(context.Context, *Request) (events.APIGatewayV2HTTPResponse, error) {
			return JSON(http.StatusOK, map[string]string{"id": "c-1"}), nil
		}, 200, line("INFO", 200, "acme", "u-1", nil)},
		{"400 from the handler", agent, func(context.Context, *Request) (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{}, fault.New(fault.Invalid, "invalid_request", "Fix the name.")
		}, 400, line("INFO", 400, "acme", "u-1", map[string]any{"error_code": "invalid_request"})},
		{"404 answered without an error", agent, func(context.Context, *Request) (events.APIGatewayV2HTTPResponse, error) {
			return JSON(http.StatusNotFound, ErrorBody{Error: map[string]any{"code": "contact_not_found", "message": "No such contact."}}), nil
		}, 404, line("INFO", 404, "acme", "u-1", map[string]any{"error_code": "contact_not_found"})},
		{"401 without claims", nil, nil, 401, line("INFO", 401, "", "", map[string]any{"error_code": "unauthorized"})},
		{"403 without the role", map[string]string{"sub": "s-1", "custom:tenant_id": "acme", "cognito:groups": "[service]"}, nil,
			403, line("INFO", 403, "acme", "s-1", map[string]any{"error_code": "forbidden"})},
		{"403 invalid tenant", map[string]string{"sub": "u-1", "custom:tenant_id": "../victim", "cognito:groups": "[agent]"}, nil,
			403, line("INFO", 403, "", "", map[string]any{"error_code": "invalid_tenant"})},
		{"503 throttled", agent, func(context.Context, *Request) (events.APIGatewayV2HTTPResponse, error) {
			fe := fault.New(fault.Throttled, "throttled", "Try again in a moment.")
			fe.Err = errors.New("ProvisionedThroughputExceeded")
			return events.APIGatewayV2HTTPResponse{}, fe
		}, 503, line("WARN", 503, "acme", "u-1", map[string]any{"error_code": "throttled", "error": "throttled: Try again in a moment.: ProvisionedThroughputExceeded"})},
		{"500 from a handler error", agent, func(context.Context, *Request) (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{}, errors.New("put contact: connection reset")
		}, 500, line("ERROR", 500, "acme", "u-1", map[string]any{"error_code": "internal_error", "error": "put contact: connection reset"})},
		{"panic", agent, func(context.Context, *Request) (events.APIGatewayV2HTTPResponse, error) {
			panic("nil map")
		}, 500, line("ERROR", 500, "acme", "u-1", map[string]any{"error_code": "internal_error", "error": "panic: nil map"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := captureLogs(t)
			called := false
			h := Route(ContactRoles, func(ctx context.Context, r *Request) (events.APIGatewayV2HTTPResponse, error) {
				called = true
				return tt.handler(ctx, r)
			})
			resp, err := h(context.Background(), event(tt.claims))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d (%s)", resp.StatusCode, tt.status, resp.Body)
			}
			if called != (tt.handler != nil) {
				t.Errorf("handler called: %v, want %v", called, tt.handler != nil)
			}
			got := logs()
			for _, rec := range got {
				if s, ok := rec["stack"].(string); ok {
					if tt.name != "panic" || !strings.Contains(s, "route_test.go") {
						t.Errorf("stack %q, want one only for the panic, naming where it happened", s)
					}
					delete(rec, "stack")
				} else if tt.name == "panic" {
					t.Error("the panic's log line has no stack")
				}
			}
			if d := cmp.Diff([]map[string]any{tt.want}, got); d != "" {
				t.Errorf("log records (-want +got):\n%s", d)
			}
		})
	}
}

func TestPublicLogsOnce(t *testing.T) {
	logs := captureLogs(t)
	ev := events.APIGatewayV2HTTPRequest{RouteKey: "GET /v1/health"}
	ev.RequestContext.RequestID = "req-2"
	resp, _ := Public(func(context.Context, *Request) (events.APIGatewayV2HTTPResponse, error) {
		return JSON(http.StatusOK, map[string]string{"status": "ok"}), nil
	})(context.Background(), ev)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	want := []map[string]any{{"level": "INFO", "msg": "request", "route": "GET /v1/health", "status": float64(200),
		"tenant_id": "", "user_id": "", "request_id": "req-2"}}
	if d := cmp.Diff(want, logs()); d != "" {
		t.Errorf("log records (-want +got):\n%s", d)
	}
}

// Route admits a caller holding any one of the route's roles and refuses the rest with 403
// before the handler runs; without claims it is 401.
func TestRouteRoles(t *testing.T) {
	forbidden := func(roles string) events.APIGatewayV2HTTPResponse {
		return JSON(http.StatusForbidden, ErrorBody{Error: map[string]any{"code": "forbidden", "message": "This route needs one of the roles " + roles + "."}})
	}
	unauthorized := JSON(http.StatusUnauthorized, ErrorBody{Error: map[string]any{"code": "unauthorized", "message": "Send a valid bearer token in the Authorization header."}})
	tests := []struct {
		name    string
		allowed []Role
		claims  map[string]string
		want    events.APIGatewayV2HTTPResponse
	}{
		{"agent on a contact route", ContactRoles, map[string]string{"cognito:groups": "[agent]"}, NoContent()},
		{"admin on a contact route", ContactRoles, map[string]string{"cognito:groups": "[admin]"}, NoContent()},
		{"service on a contact route", ContactRoles, map[string]string{"cognito:groups": "[service]"}, forbidden("agent or admin")},
		{"no groups", ContactRoles, map[string]string{"cognito:groups": ""}, forbidden("agent or admin")},
		{"agent on an admin route", AdminRoles, map[string]string{"cognito:groups": "[agent]"}, forbidden("admin")},
		{"agent and admin on an admin route", AdminRoles, map[string]string{"cognito:groups": "[agent admin]"}, NoContent()},
		{"service on ingest", IngestRoles, map[string]string{"cognito:groups": `["service"]`}, NoContent()},
		{"admin on ingest", IngestRoles, map[string]string{"cognito:groups": "admin"}, NoContent()},
		{"agent on ingest", IngestRoles, map[string]string{"cognito:groups": "[agent]"}, forbidden("service or admin")},
		{"admin on co-browsing ingest", ServiceRoles, map[string]string{"cognito:groups": "[admin]"}, forbidden("service")},
		{"service on co-browsing ingest", ServiceRoles, map[string]string{"cognito:groups": "[service]"}, NoContent()},
		{"a group that only looks like a role", AdminRoles, map[string]string{"cognito:groups": "[Admin administrators]"}, forbidden("admin")},
		{"no claims", AdminRoles, nil, unauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			h := Route(tt.allowed, func(context.Context, *Request) (events.APIGatewayV2HTTPResponse, error) {
				called = true
				return NoContent(), nil
			})
			ev := events.APIGatewayV2HTTPRequest{RouteKey: "GET /v1/x"}
			if tt.claims != nil {
				tt.claims["sub"], tt.claims["custom:tenant_id"] = "u-1", "acme"
				ev = event(tt.claims)
			}
			got, err := h(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("response (-want +got):\n%s", d)
			}
			if called != (got.StatusCode == http.StatusNoContent) {
				t.Errorf("handler called: %v for a %d", called, got.StatusCode)
			}
		})
	}
}

// cognito:groups arrives as API Gateway renders the claim: "[admin agent]" for a list, or a
// JSON array, or (other issuers, the local gateway) a comma- or space-separated list.
func TestParseGroups(t *testing.T) {
	tests := []struct {
		in   string
		want []Role
	}{
		{"[admin agent]", []Role{Admin, Agent}},
		{"[agent]", []Role{Agent}},
		{`["admin","service"]`, []Role{Admin, Service}},
		{`[ "agent" , "admin" ]`, []Role{Agent, Admin}},
		{"admin,agent", []Role{Admin, Agent}},
		{"admin, agent", []Role{Admin, Agent}},
		{"admin agent", []Role{Admin, Agent}},
		{"  service  ", []Role{Service}},
		{"", []Role{}},
		{"[]", []Role{}},
		{"[ , ]", []Role{}},
		{`["admin",`, []Role{`"admin"`}},
		{"[Admin]", []Role{"Admin"}},
		{"{admin}", []Role{"{admin}"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if d := cmp.Diff(tt.want, parseGroups(tt.in)); d != "" {
				t.Errorf("parseGroups(%q) (-want +got):\n%s", tt.in, d)
			}
		})
	}
}
