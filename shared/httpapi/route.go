// Package httpapi is the HTTP edge of every API function: it reads the verified caller from
// the API Gateway v2 event, checks the route's roles (the one place roles are checked),
// decodes bodies and list parameters per the contract, and maps errors to responses.
package httpapi

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/url"
	"runtime/debug"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/contrail/contrail/shared/fault"
)

// Request is one API call with its verified caller.
type Request struct {
	Principal
	Event *events.APIGatewayV2HTTPRequest
	query url.Values
}

// Handler answers one API call. A *fault.Error becomes its 4xx; any other error a 500.
type Handler func(ctx context.Context, r *Request) (events.APIGatewayV2HTTPResponse, error)

// LambdaHandler is what lambda.Start receives.
type LambdaHandler func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Route wraps h for lambda.Start: 401 without verified claims, 403 when the caller holds
// none of allowed, errors mapped to the contract's error body, panics answered as 500.
func Route(allowed []Role, h Handler) LambdaHandler {
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, err error) {
		p, err := principalFrom(&ev)
		if err != nil {
			return ErrorResponse(ctx, err), nil
		}
		if !hasAny(p, allowed) {
			return ErrorResponse(ctx, fault.New(fault.Forbidden, "forbidden", fmt.Sprintf("This route needs one of the roles %s.", roleList(allowed)))), nil
		}
		return serve(ctx, &Request{Principal: p, Event: &ev}, h), nil
	}
}

// Public wraps a handler that needs no caller (health).
func Public(h Handler) LambdaHandler {
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return serve(ctx, &Request{Event: &ev}, h), nil
	}
}

func serve(ctx context.Context, r *Request, h Handler) (resp events.APIGatewayV2HTTPResponse) {
	defer func() {
		if v := recover(); v != nil {
			slog.ErrorContext(ctx, "handler panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			resp = ErrorResponse(ctx, fmt.Errorf("panic: %v", v))
		}
	}()
	resp, err := h(ctx, r)
	if err != nil {
		return ErrorResponse(ctx, err)
	}
	slog.InfoContext(ctx, "request", "route", r.Event.RouteKey, "status", resp.StatusCode,
		"tenant_id", r.TenantID, "user_id", r.UserID, "request_id", r.Event.RequestContext.RequestID)
	return resp
}

func hasAny(p Principal, allowed []Role) bool {
	for _, r := range allowed {
		if p.Has(r) {
			return true
		}
	}
	return false
}

func roleList(rs []Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, " or ")
}

// PathParam returns a path parameter, e.g. "id".
func (r *Request) PathParam(name string) string { return r.Event.PathParameters[name] }

// Header returns a request header (API Gateway v2 lower-cases names).
func (r *Request) Header(name string) string {
	v, _ := r.LookupHeader(name)
	return v
}

// LookupHeader returns a request header and whether it was sent at all.
func (r *Request) LookupHeader(name string) (string, bool) {
	for k, v := range r.Event.Headers {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// Query returns the query parameters, repeated ones included (read from the raw query string,
// since API Gateway joins repeated values with commas in QueryStringParameters).
func (r *Request) Query() url.Values {
	if r.query == nil {
		q, err := url.ParseQuery(r.Event.RawQueryString)
		if err != nil || (len(q) == 0 && len(r.Event.QueryStringParameters) > 0) {
			q = url.Values{}
			for k, v := range r.Event.QueryStringParameters {
				q[k] = strings.Split(v, ",")
			}
		}
		r.query = q
	}
	return r.query
}

// Body returns the raw request body, decoding base64 when API Gateway encoded it.
func (r *Request) Body() ([]byte, error) {
	if r.Event.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(r.Event.Body)
		if err != nil {
			return nil, fault.New(fault.Invalid, "invalid_body", "The request body is not valid base64.")
		}
		return b, nil
	}
	return []byte(r.Event.Body), nil
}

// SourceIP, UserAgent and RequestID feed the audit event context.
func (r *Request) SourceIP() string  { return r.Event.RequestContext.HTTP.SourceIP }
func (r *Request) UserAgent() string { return r.Event.RequestContext.HTTP.UserAgent }
func (r *Request) RequestID() string { return r.Event.RequestContext.RequestID }
