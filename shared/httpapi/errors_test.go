package httpapi

import (
	"testing"

	"github.com/contrail/contrail/shared/fault"
)

// TestStatus holds each error kind to the status the contract gives it.
func TestStatus(t *testing.T) {
	want := map[fault.Kind]int{
		fault.Internal: 500, fault.Invalid: 400, fault.Unauthenticated: 401, fault.Forbidden: 403,
		fault.NotFound: 404, fault.Conflict: 409, fault.TooLarge: 413, fault.Unprocessable: 422,
		fault.Throttled: 503, fault.Unsupported: 415, fault.Kind(99): 500,
	}
	for k, code := range want {
		if got := Status(k); got != code {
			t.Errorf("Status(%d) = %d, want %d", k, got, code)
		}
	}
}
