package stacktest

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/httpapi"
)

// Caller is who sends an API request: the claims of the token API Gateway verified. The zero
// Caller sends no token.
type Caller struct{ Tenant, Sub, Name, Groups string }

// Claims returns the JWT claims API Gateway hands the function for c.
func (c Caller) Claims() map[string]string {
	return map[string]string{"sub": c.Sub, "name": c.Name, "custom:tenant_id": c.Tenant, "cognito:groups": c.Groups}
}

// Request is one HTTP API request as a test describes it; Event makes it what API Gateway
// hands a function.
type Request struct {
	Route     string            // the route key: "POST /v1/contacts/{id}/archive"
	Path      string            // the raw path; empty: the route's path with Params filled in
	Params    map[string]string // path parameters: {"id": "..."}
	Query     string            // the raw query string
	Body      string
	Headers   map[string]string // names are lowercased, as API Gateway does
	As        Caller
	RequestID string
	SourceIP  string
	UserAgent string
}

// Event returns r as an API Gateway HTTP API event (payload 2.0): the route key, method and
// path, the query string also parsed (repeated values joined with commas), and the caller's
// claims under the JWT authorizer.
func (r Request) Event() events.APIGatewayV2HTTPRequest {
	method, pattern, _ := strings.Cut(r.Route, " ")
	path := r.Path
	if path == "" {
		path = pattern
		for k, v := range r.Params {
			path = strings.ReplaceAll(path, "{"+k+"}", v)
		}
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: r.Route, RawPath: path, RawQueryString: r.Query, Body: r.Body,
		Headers: map[string]string{}, PathParameters: r.Params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: r.Route, RequestID: r.RequestID,
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: method, Path: path, SourceIP: r.SourceIP, UserAgent: r.UserAgent,
			},
		},
	}
	for k, v := range r.Headers {
		ev.Headers[strings.ToLower(k)] = v
	}
	if qs, err := url.ParseQuery(r.Query); err == nil && len(qs) > 0 {
		ev.QueryStringParameters = map[string]string{}
		for k, v := range qs {
			ev.QueryStringParameters[k] = strings.Join(v, ",")
		}
	}
	if r.As != (Caller{}) {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: r.As.Claims()},
		}
	}
	return ev
}

// Call sends r to h, a route as a function wires it, and returns the response; an invoke
// error fails the test.
func Call(t testing.TB, h httpapi.LambdaHandler, r Request) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := h(context.Background(), r.Event())
	if err != nil {
		t.Fatalf("%s: invoke error %v", r.Route, err)
	}
	return resp
}

// JSON decodes s into plain values (maps, slices, float64 numbers), as a response body is
// compared; bad JSON fails the test.
func JSON(t testing.TB, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not JSON: %v: %q", err, s)
	}
	return v
}

// Diff fails the test, saying what differs, unless got is want.
func Diff(t testing.TB, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}

// Sample decodes the sample event events/name of the repository (what `sam local invoke -e`
// sends) into a T; a missing or undecodable file fails the test.
func Sample[T any](t testing.TB, name string) T {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Root(t), "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return v
}
