package pii

import "testing"

// TestDataKeyAAD pins the associated data of a wrapped data key.
func TestDataKeyAAD(t *testing.T) {
	if got := dataKeyAAD("acme", testContact); string(got) != "acme|01JD0000000000000000000001" {
		t.Errorf("dataKeyAAD = %q", got)
	}
}
