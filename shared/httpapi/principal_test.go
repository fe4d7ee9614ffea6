package httpapi

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/tenant"
)

// The tenant comes only from the token's custom:tenant_id claim, and only when it is a
// valid tenant id: a genuine token naming another tenant's partition ("victim/date=...",
// "../victim") or holding a key separator ('#') is refused before any handler runs.
func TestRouteReadsOnlyValidTenants(t *testing.T) {
	var seen []Principal
	h := Route(ContactRoles, func(_ context.Context, r *Request) (events.APIGatewayV2HTTPResponse, error) {
		seen = append(seen, r.Principal)
		return NoContent(), nil
	})
	invalid := func(claim string) events.APIGatewayV2HTTPResponse {
		_, err := tenant.Parse(claim)
		return JSON(http.StatusForbidden, ErrorBody{Error: map[string]any{"code": "invalid_tenant",
			"message": "The token's custom:tenant_id claim is not a valid tenant id (" + err.Error() + "); ask your administrator to fix the user's tenant attribute."}})
	}
	unauthorized := JSON(http.StatusUnauthorized, ErrorBody{Error: map[string]any{"code": "unauthorized", "message": "Send a valid bearer token in the Authorization header."}})
	tests := []struct {
		name   string
		claims map[string]string // nil: no authorizer context at all
		want   events.APIGatewayV2HTTPResponse
		seen   *Principal
	}{
		{"valid", map[string]string{"sub": "u-1", "name": "Ayu", "custom:tenant_id": "acme", "cognito:groups": "[agent]"}, NoContent(),
			&Principal{TenantID: "acme", UserID: "u-1", Name: "Ayu", Roles: []Role{Agent}}},
		{"no claims", nil, unauthorized, nil},
		{"no tenant", map[string]string{"sub": "u-1", "cognito:groups": "[agent]"}, unauthorized, nil},
		{"no subject", map[string]string{"custom:tenant_id": "acme", "cognito:groups": "[agent]"}, unauthorized, nil},
		{"another tenant's partition", map[string]string{"sub": "u-1", "custom:tenant_id": "victim/date=2026-12-06/x", "cognito:groups": "[agent]"}, invalid("victim/date=2026-12-06/x"), nil},
		{"parent folder", map[string]string{"sub": "u-1", "custom:tenant_id": "../victim", "cognito:groups": "[agent]"}, invalid("../victim"), nil},
		{"key separator", map[string]string{"sub": "u-1", "custom:tenant_id": "acme#C#x", "cognito:groups": "[agent]"}, invalid("acme#C#x"), nil},
		{"surrounding space", map[string]string{"sub": "u-1", "custom:tenant_id": " acme", "cognito:groups": "[agent]"}, invalid(" acme"), nil},
		{"NUL", map[string]string{"sub": "u-1", "custom:tenant_id": "acme\x00", "cognito:groups": "[agent]"}, invalid("acme\x00"), nil},
		{"subject with a key separator", map[string]string{"sub": "u#1", "custom:tenant_id": "acme", "cognito:groups": "[agent]"},
			JSON(http.StatusForbidden, ErrorBody{Error: map[string]any{"code": "invalid_subject", "message": "The token's sub claim holds '#'; ask your administrator to fix the user's identity provider."}}), nil},
		{"subject too long", map[string]string{"sub": strings.Repeat("u", 257), "custom:tenant_id": "acme", "cognito:groups": "[agent]"},
			JSON(http.StatusForbidden, ErrorBody{Error: map[string]any{"code": "invalid_subject", "message": "The token's sub claim is 257 bytes long; at most 256 are allowed; ask your administrator to fix the user's identity provider."}}), nil},
		{"name with a control character", map[string]string{"sub": "u-1", "name": "Ayu\x00", "custom:tenant_id": "acme", "cognito:groups": "[agent]"},
			JSON(http.StatusForbidden, ErrorBody{Error: map[string]any{"code": "invalid_name", "message": "The token's name claim holds a control character; ask your administrator to fix the user's name."}}), nil},
		{"name not UTF-8", map[string]string{"sub": "u-1", "name": "Ayu\xff", "custom:tenant_id": "acme", "cognito:groups": "[agent]"},
			JSON(http.StatusForbidden, ErrorBody{Error: map[string]any{"code": "invalid_name", "message": "The token's name claim is not valid UTF-8; ask your administrator to fix the user's name."}}), nil},
		{"subject and name of another alphabet", map[string]string{"sub": "auth0|6f1e", "name": "Dwi Ayu Lestari 🌺", "custom:tenant_id": "acme", "cognito:groups": "[admin]"}, NoContent(),
			&Principal{TenantID: "acme", UserID: "auth0|6f1e", Name: "Dwi Ayu Lestari 🌺", Roles: []Role{Admin}}},
		{"invalid tenant without the role", map[string]string{"sub": "u-1", "custom:tenant_id": "../victim", "cognito:groups": "[service]"}, invalid("../victim"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen = nil
			ev := events.APIGatewayV2HTTPRequest{RouteKey: "GET /v1/contacts"}
			if tt.claims != nil {
				ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
					JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: tt.claims}}
			}
			got, err := h(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("response (-want +got):\n%s", d)
			}
			var want []Principal
			if tt.seen != nil {
				want = []Principal{*tt.seen}
			}
			if d := cmp.Diff(want, seen); d != "" {
				t.Errorf("handler saw (-want +got):\n%s", d)
			}
		})
	}
}
