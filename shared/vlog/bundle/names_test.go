package bundle

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestLeafNames: the fast reading of a leaf's event_id and occurred_at gives what
// encoding/json gives for canonical leaves (nested data, escapes inside other values, the
// keys also inside data), and gives up (ok false, so the caller decodes) on anything else.
func TestLeafNames(t *testing.T) {
	tests := []struct {
		name, leaf string
		ok         bool
	}{
		{"a canonical leaf", `{"actor_id":"u-1","data":{"email":"pii1:AAAA","event_id":"not this","n":[1,{"x":"}"}]},"event_id":"01KB","is_agent":false,"merged_contact_ids":["a","b"],"occurred_at":"2026-01-02T03:04:05.678Z","tenant_id":"acme","type":"T","v":1}`, true},
		{"escapes in other values", `{"actor_name":"Ana \"A\" <b> \\ \u2028","data":{"note":"\"}{]["},"event_id":"e1","occurred_at":"2026-01-02T03:04:05.678Z","v":1}`, true},
		{"no event_id", `{"occurred_at":"2026-01-02T03:04:05.678Z","v":1}`, true},
		{"numbers, null, true", `{"a":-1.5e3,"b":null,"c":true,"event_id":"e2","v":1}`, true},
		{"an escaped id", `{"event_id":"e\u0031","v":1}`, false},
		{"whitespace", `{ "event_id": "e3" }`, false},
		{"not an object", `["event_id","e4"]`, false},
		{"cut short", `{"event_id":"e5","data":{"a":1}`, false},
		{"an id that is not a string", `{"event_id":5,"v":1}`, false},
		{"empty", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, at, ok := leafNames([]byte(tt.leaf))
			if ok != tt.ok {
				t.Fatalf("ok %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			var f struct {
				EventID    string `json:"event_id"`
				OccurredAt string `json:"occurred_at"`
			}
			if err := json.Unmarshal([]byte(tt.leaf), &f); err != nil {
				t.Fatal(err)
			}
			if id != f.EventID || at != f.OccurredAt {
				t.Errorf("got %q %q, encoding/json %q %q", id, at, f.EventID, f.OccurredAt)
			}
		})
	}
}

// FuzzLeafNames: leafNames never panics, and whenever it reads a leaf that encoding/json
// accepts, it reads the same names (keys spelled in another case aside: encoding/json matches
// them, leafNames does not, and then only the names in a message could differ).
func FuzzLeafNames(f *testing.F) {
	f.Add(`{"data":{"event_id":"x"},"event_id":"01KB","occurred_at":"2026-01-02T03:04:05.678Z","v":1}`)
	f.Add(`{"a":"\"}","event_id":"e","b":[{"c":"]"}],"v":1}`)
	f.Add(`{"event_id":"e","data":{"a":1}`)
	f.Fuzz(func(t *testing.T, leaf string) {
		id, at, ok := leafNames([]byte(leaf))
		if !ok || !json.Valid([]byte(leaf)) {
			return
		}
		lower := strings.ToLower(leaf)
		for _, k := range []string{`"event_id"`, `"occurred_at"`} {
			if strings.Count(lower, k) != strings.Count(leaf, k) {
				return
			}
		}
		var v struct {
			EventID    string `json:"event_id"`
			OccurredAt string `json:"occurred_at"`
		}
		if json.Unmarshal([]byte(leaf), &v) != nil {
			return
		}
		if id != v.EventID || at != v.OccurredAt {
			t.Errorf("%q: got %q %q, encoding/json %q %q", leaf, id, at, v.EventID, v.OccurredAt)
		}
	})
}
