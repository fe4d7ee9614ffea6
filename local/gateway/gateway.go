// Package gateway is the local stand-in for API Gateway's HTTP API: it reads the routes from
// template.yaml, verifies bearer tokens signed with the local development key (as the JWT
// authorizer verifies Cognito's), and invokes the route's function with the same payload
// format 2.0 event API Gateway sends, turning the function's response back into HTTP.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/contrail/contrail/local/devauth"
	"github.com/contrail/contrail/local/runtime"
)

// Invoker runs a function with a JSON payload.
type Invoker = runtime.Invoker

// MaxPayload is the largest request body passed on: Lambda's 6 MB synchronous invoke limit
// (the contract's 256 KiB limit is the handler's to enforce).
const MaxPayload = 6 << 20

// Config configures a Gateway.
type Config struct {
	Routes  []Route
	Key     []byte // the development key tokens are verified with
	Invoker Invoker
	Log     *slog.Logger     // nil = slog.Default()
	Now     func() time.Time // nil = time.Now
}

// Gateway is an http.Handler serving the template's routes.
type Gateway struct {
	router *router
	key    []byte
	inv    Invoker
	log    *slog.Logger
	now    func() time.Time
}

// New checks the routes (no two may clash) and returns the gateway.
func New(c Config) (*Gateway, error) {
	rt, err := newRouter(c.Routes)
	if err != nil {
		return nil, err
	}
	if len(c.Key) == 0 {
		return nil, errors.New("gateway: no signing key")
	}
	g := &Gateway{router: rt, key: c.Key, inv: c.Invoker, log: c.Log, now: c.Now}
	if g.log == nil {
		g.log = slog.Default()
	}
	if g.now == nil {
		g.now = time.Now
	}
	return g, nil
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	requestID := newRequestID()
	rec := &statusRecorder{ResponseWriter: w}
	route := g.serve(rec, r, requestID)
	g.log.Info("api request", "method", r.Method, "path", r.URL.Path, "route", route, "status", rec.status,
		"duration_ms", time.Since(start).Milliseconds(), "request_id", requestID)
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, requestID string) string {
	w.Header().Set("Apigw-Requestid", requestID)
	route, params, ok := g.router.match(r.Method, r.URL.EscapedPath())
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("No route %s %s; see the API reference for the routes.", r.Method, r.URL.Path))
		return ""
	}
	var claims map[string]string
	if !route.Public {
		tok, found := bearer(r.Header.Get("Authorization"))
		if !found {
			writeError(w, http.StatusUnauthorized, "unauthorized", "Send a bearer token in the Authorization header (make token ROLE=agent TENANT=demo prints one).")
			return route.Key()
		}
		c, err := devauth.Verify(g.key, tok, g.now())
		if err != nil {
			writeError(w, http.StatusUnauthorized, "unauthorized", "The bearer token is invalid or expired; get a new one (make token).")
			return route.Key()
		}
		claims = c
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayload+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_body", "The request body could not be read.")
		return route.Key()
	}
	if len(body) > MaxPayload {
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "The request body is larger than 6 MB.")
		return route.Key()
	}
	ev := g.event(r, route, params, claims, body, requestID)
	payload, err := json.Marshal(ev)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal_error", "Something went wrong on our side; try again later.")
		return route.Key()
	}
	out, err := g.inv.Invoke(r.Context(), route.Function, payload)
	if err != nil {
		g.invokeFailed(w, route, err, requestID)
		return route.Key()
	}
	if err := writeResponse(w, out); err != nil {
		g.log.Error("function response is not a valid API Gateway response", "function", route.Function, "error", err.Error(), "request_id", requestID)
		writeError(w, http.StatusBadGateway, "bad_gateway", "The function returned a response the gateway cannot read.")
	}
	return route.Key()
}

// invokeFailed answers an invoke that produced no response, as API Gateway does: 500 for a
// function error, 502 when the process crashed, 504 when it timed out.
func (g *Gateway) invokeFailed(w http.ResponseWriter, route *compiled, err error, requestID string) {
	var fe *runtime.FunctionError
	switch {
	case errors.As(err, &fe):
		g.log.Error("function error", "function", route.Function, "error_type", fe.Type, "error", fe.Message, "request_id", requestID)
		writeError(w, http.StatusInternalServerError, "internal_error", "Something went wrong on our side; try again later.")
	case errors.Is(err, runtime.ErrTimeout):
		g.log.Error("function timed out", "function", route.Function, "error", err.Error(), "request_id", requestID)
		writeError(w, http.StatusGatewayTimeout, "function_timeout", "The request took too long; try again later.")
	case errors.Is(err, context.Canceled):
		// The client went away.
	default:
		g.log.Error("function crashed", "function", route.Function, "error", err.Error(), "request_id", requestID)
		writeError(w, http.StatusBadGateway, "bad_gateway", "The function failed to answer; it is restarted for the next request.")
	}
}

func bearer(h string) (string, bool) {
	h = strings.TrimSpace(h)
	if strings.EqualFold(h, "bearer") {
		return "", false
	}
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		h = strings.TrimSpace(h[7:])
	}
	return h, h != ""
}

// event builds the payload format 2.0 request.
func (g *Gateway) event(r *http.Request, route *compiled, params, claims map[string]string, body []byte, requestID string) events.APIGatewayV2HTTPRequest {
	now := g.now()
	headers := map[string]string{}
	var cookies []string
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if lk == "cookie" {
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[lk] = strings.Join(vs, ",")
	}
	if r.Host != "" {
		headers["host"] = r.Host
	}
	if r.ContentLength > 0 && headers["content-length"] == "" {
		headers["content-length"] = strconv.FormatInt(r.ContentLength, 10)
	}
	headers["x-forwarded-proto"] = "http"
	headers["x-forwarded-for"] = sourceIP(r)
	var query map[string]string
	if q := r.URL.Query(); len(q) > 0 {
		query = make(map[string]string, len(q))
		for k, vs := range q {
			query[k] = strings.Join(vs, ",")
		}
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              route.Key(),
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     route.Key(),
			AccountID:    "000000000000",
			Stage:        "$default",
			RequestID:    requestID,
			APIID:        "local",
			DomainName:   r.Host,
			DomainPrefix: strings.Split(r.Host, ".")[0],
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP(r),
				UserAgent: r.UserAgent(),
			},
		},
	}
	if claims != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
		}
	}
	if len(body) > 0 {
		if isText(r.Header.Get("Content-Type")) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// isText reports whether API Gateway passes a body of this media type as text rather than
// base64: text/*, JSON, XML, JavaScript and form bodies.
func isText(contentType string) bool {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	if cs := params["charset"]; cs != "" && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/javascript", mt == "application/x-www-form-urlencoded":
		return true
	}
	return false
}

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// writeResponse turns a function's payload into the HTTP response. A payload with a
// statusCode is an APIGatewayV2HTTPResponse; any other valid JSON is, as with HTTP APIs,
// a 200 with the payload as a JSON body.
func writeResponse(w http.ResponseWriter, payload []byte) error {
	var probe map[string]json.RawMessage
	if json.Unmarshal(payload, &probe) != nil || probe["statusCode"] == nil {
		if !json.Valid(payload) {
			return errors.New("payload is not JSON")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(payload)
		return nil
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(payload, &resp); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return fmt.Errorf("statusCode %d", resp.StatusCode)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return fmt.Errorf("decode base64 body: %w", err)
		}
		body = b
	}
	h := w.Header()
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	if h.Get("Content-Type") == "" && len(body) > 0 {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
	return nil
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:12])
}
