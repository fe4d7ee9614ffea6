package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/contrail/contrail/shared/fault"
)

// statuses is the HTTP status of each error kind but Internal.
var statuses = map[fault.Kind]int{
	fault.Invalid:         http.StatusBadRequest,
	fault.Unauthenticated: http.StatusUnauthorized,
	fault.Forbidden:       http.StatusForbidden,
	fault.NotFound:        http.StatusNotFound,
	fault.Conflict:        http.StatusConflict,
	fault.TooLarge:        http.StatusRequestEntityTooLarge,
	fault.Unprocessable:   http.StatusUnprocessableEntity,
	fault.Throttled:       http.StatusServiceUnavailable,
	fault.Unsupported:     http.StatusUnsupportedMediaType,
}

// Status maps an error kind to its HTTP status: the one place that does. Internal, and
// any kind it does not know, is 500.
func Status(k fault.Kind) int {
	if s, ok := statuses[k]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ErrorBody is the contract's error document.
type ErrorBody struct {
	Error map[string]any `json:"error"`
}

// ErrorResponse turns err into the contract's error response. A fault's code, message and
// fields are returned as they are; anything else is answered as a bare 500. Route logs the
// error with the request's one log line (logRequest), so this does not.
func ErrorResponse(ctx context.Context, err error) events.APIGatewayV2HTTPResponse {
	fe := fault.As(err)
	if fe == nil || fe.Kind == fault.Internal {
		fe = fault.New(fault.Internal, "internal_error", "Something went wrong on our side; try again later.")
	}
	body := map[string]any{"code": fe.Code, "message": fe.Message}
	if len(fe.Fields) > 0 {
		body["fields"] = fe.Fields
	}
	for k, v := range fe.Details {
		body[k] = v
	}
	return JSON(Status(fe.Kind), ErrorBody{Error: body})
}

// JSON returns a response with v encoded as JSON.
func JSON(status int, v any) events.APIGatewayV2HTTPResponse {
	b, err := json.Marshal(v)
	if err != nil {
		slog.Error("encode response", "error", err.Error())
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"internal_error","message":"Something went wrong on our side; try again later."}}`)
	}
	return JSONBytes(status, b)
}

// JSONBytes returns a response whose body is b, JSON already.
func JSONBytes(status int, b []byte) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"content-type": "application/json"},
		Body:       string(b),
	}
}

// NoContent returns a 204.
func NoContent() events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusNoContent}
}
