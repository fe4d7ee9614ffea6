// Package httpapi is the HTTP edge of every API function: it reads the verified caller from
// the API Gateway v2 event, checks the route's roles (the one place roles are checked),
// decodes bodies and list parameters per the contract, and maps errors to responses.
package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/contrail/contrail/shared/audit"
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
// none of allowed, errors mapped to the contract's error body, panics answered as 500. Every
// call leaves one log line (serve), refusals included.
func Route(allowed []Role, h Handler) LambdaHandler {
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return serve(ctx, &Request{Event: &ev}, func(ctx context.Context, r *Request) (events.APIGatewayV2HTTPResponse, error) {
			p, err := principalFrom(&ev)
			if err != nil {
				return events.APIGatewayV2HTTPResponse{}, err
			}
			r.Principal = p // before the role check, so a refusal's log line names the caller
			if !r.Allowed(allowed...) {
				return events.APIGatewayV2HTTPResponse{}, fault.New(fault.Forbidden, "forbidden", fmt.Sprintf("This route needs one of the roles %s.", roleList(allowed)))
			}
			return h(ctx, r)
		}), nil
	}
}

// Public wraps a handler that needs no caller (health).
func Public(h Handler) LambdaHandler {
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return serve(ctx, &Request{Event: &ev}, h), nil
	}
}

// serve runs h, maps its error or panic to a response, and logs the call once, whatever the
// exit: one line per request is what an operator counts and searches by request_id.
func serve(ctx context.Context, r *Request, h Handler) (resp events.APIGatewayV2HTTPResponse) {
	var (
		failure error
		stack   string
	)
	defer func() {
		if v := recover(); v != nil {
			failure, stack = fmt.Errorf("panic: %v", v), string(debug.Stack())
			resp = ErrorResponse(ctx, failure)
		}
		logRequest(ctx, r, resp, failure, stack)
	}()
	resp, err := h(ctx, r)
	if err != nil {
		failure = err
		return ErrorResponse(ctx, err)
	}
	return resp
}

// logRequest writes the request's one log line: Info for 2xx and 4xx, Warn when throttled,
// Error for 5xx, with the error code of any error response. Never the token or a body; the
// text of an internal error only, which the response hides.
func logRequest(ctx context.Context, r *Request, resp events.APIGatewayV2HTTPResponse, failure error, stack string) {
	attrs := []slog.Attr{
		slog.String("route", r.Event.RouteKey),
		slog.Int("status", resp.StatusCode),
		slog.String("tenant_id", string(r.TenantID)),
		slog.String("user_id", r.UserID),
		slog.String("request_id", r.RequestID()),
	}
	if resp.StatusCode >= 400 {
		attrs = append(attrs, slog.String("error_code", errorCode(resp)))
	}
	level := slog.LevelInfo
	switch {
	case resp.StatusCode == Status(fault.Throttled):
		level = slog.LevelWarn
	case resp.StatusCode >= 500:
		level = slog.LevelError
	}
	if failure != nil && level > slog.LevelInfo {
		attrs = append(attrs, slog.String("error", failure.Error()))
	}
	if stack != "" {
		attrs = append(attrs, slog.String("stack", stack))
	}
	slog.LogAttrs(ctx, level, "request", attrs...)
}

// errorCode reads error.code from an error response (a handler or a replayed idempotent
// response may answer an error without returning one); "" when the body holds none.
func errorCode(resp events.APIGatewayV2HTTPResponse) string {
	var b struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal([]byte(resp.Body), &b) != nil {
		return ""
	}
	return b.Error.Code
}

// Allowed reports whether the caller holds at least one of roles. Route asks it for the
// route's roles, and a handler with a finer rule (an admin may read a deleted contact) asks
// it too, so roles are checked here and nowhere else.
func (r *Request) Allowed(roles ...Role) bool {
	for _, role := range roles {
		if slices.Contains(r.Roles, role) {
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

// AuditEvent returns the event of typ, with id, that records what the caller did at now: the
// caller is its actor, and the call's IP, user agent and request id its context.
func (r *Request) AuditEvent(id, typ string, now time.Time, data map[string]any) *audit.Event {
	at := audit.FormatTime(now)
	ev := &audit.Event{
		ID: id, TenantID: r.TenantID, OccurredAt: at, RecordedAt: at,
		Type: typ, Category: audit.CategoryOf(typ),
		Actor:  audit.Actor{Type: audit.ActorUser, ID: r.UserID, Name: r.Name},
		Source: audit.SourceUser, Data: data,
	}
	if ip, ua, id := r.SourceIP(), r.UserAgent(), r.RequestID(); ip != "" || ua != "" || id != "" {
		ev.Context = &audit.Context{IP: ip, UserAgent: ua, RequestID: id}
	}
	return ev
}
