package gateway

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestStartingAnswers503UntilReady(t *testing.T) {
	inv := &fakeInvoker{}
	s := NewStarting()
	s.SetStatus("building functions: 3 of 40")
	type answer struct {
		Status     int
		RetryAfter string
		Body       string
	}
	want := answer{503, "5", `{"error":{"code":"starting","message":"The local stack is starting (building functions: 3 of 40); try again in a few seconds. make run prints when it is ready."}}`}
	for _, r := range []struct{ method, target, auth string }{
		{"GET", "/v1/health", ""},
		{"POST", "/v1/contacts", "Bearer " + token(t, "agent")},
		{"GET", "/v1/nothing-here", ""},
	} {
		w := do(s, r.method, r.target, r.auth, `{"name":"Ada"}`)
		if d := cmp.Diff(want, answer{w.Code, w.Header().Get("Retry-After"), w.Body.String()}); d != "" {
			t.Errorf("%s %s while starting (-want +got):\n%s", r.method, r.target, d)
		}
		if w.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: Content-Type %q", r.method, r.target, w.Header().Get("Content-Type"))
		}
	}
	if inv.function != "" {
		t.Errorf("a function was invoked while starting: %s", inv.function)
	}

	s.Ready(newGateway(t, templateRoutes(t), inv))
	if w := do(s, "GET", "/v1/health", "", ""); w.Code != http.StatusOK || inv.function != "HealthFunction" {
		t.Errorf("GET /v1/health once ready = %d (function %q), want 200 from HealthFunction", w.Code, inv.function)
	}
}
