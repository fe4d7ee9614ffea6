package audit

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/contrail/contrail/shared/tenant"
)

// marshalBoth encodes e with AppendJSON and encoding/json; ok is AppendJSON's.
func marshalBoth(t *testing.T, e *Event) (got, want string, ok bool, wantErr error) {
	t.Helper()
	b, ok := AppendJSON(nil, e)
	w, err := json.Marshal(e)
	return string(b), string(w), ok, err
}

func TestAppendJSONEncodesAsEncodingJSON(t *testing.T) {
	agent, notAgent := true, false
	odd := "a\"b\\c\x00\x01\x1f\b\f\n\r\t<>&'\x7f é 🙂 \u2028\u2029 \xff\xfe end"
	tests := []struct {
		name string
		e    Event
		ok   bool // AppendJSON encodes it itself
	}{
		{"every field", Event{ID: "01J", TenantID: "acme", OccurredAt: "2026-12-07T10:00:00.000Z", RecordedAt: "2026-12-07T10:00:01.000Z",
			Type: "INPUT", Category: "cobrowse", Actor: Actor{Type: "user", ID: "u-1", Name: "Rina"}, Contact: &ContactRef{ID: "c", Name: "Budi"},
			Source: "api", Channel: "webchat", SessionID: "cb-1", IsAgent: &agent,
			Data:    map[string]any{"z": 1.0, "a": "x", "m": map[string]any{"b": []any{1.5, "s", true, false, nil, map[string]any{}, []any{}}}, "n": nil},
			Context: &Context{IP: "203.0.113.9", UserAgent: "UA", RequestID: "r"}}, true},
		{"zero event", Event{}, true},
		{"empty data, no optional fields", Event{ID: "x", Data: map[string]any{}}, true},
		{"isAgent false, empty contact and context", Event{IsAgent: &notAgent, Contact: &ContactRef{}, Context: &Context{}}, true},
		{"context with one field", Event{Context: &Context{UserAgent: "UA"}}, true},
		{"context with the last field", Event{Context: &Context{RequestID: "r"}}, true},
		{"odd strings everywhere", Event{ID: odd, TenantID: tenant.ID("t" + odd), Type: odd, Actor: Actor{Type: odd, ID: odd, Name: odd},
			Contact: &ContactRef{ID: odd, Name: odd}, Source: odd, Data: map[string]any{odd: odd, "": "", "<": []any{odd}}, Context: &Context{IP: odd}}, true},
		{"numbers", Event{Data: map[string]any{"a": 0.0, "b": math.Copysign(0, -1), "c": 1e21, "d": 1e20, "e": 1e-6, "f": 9.99e-7, "g": -1e-7,
			"h": 123456789.125, "i": 5e-324, "j": math.MaxFloat64, "k": 0.1, "l": 1e100, "m": 3, "n": int64(-9), "o": math.MaxInt64}}, true},
		{"typed nil map and list", Event{Data: map[string]any{"m": map[string]any(nil), "l": []any(nil)}}, true},
		{"NaN", Event{Data: map[string]any{"x": math.NaN()}}, false},
		{"infinity deep", Event{Data: map[string]any{"x": []any{map[string]any{"y": math.Inf(-1)}}}}, false},
		{"another type", Event{Data: map[string]any{"x": []string{"a"}}}, false},
		{"a float32", Event{Data: map[string]any{"x": float32(0.1)}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, want, ok, err := marshalBoth(t, &tc.e)
			if ok != tc.ok {
				t.Fatalf("AppendJSON ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return // the caller encodes with encoding/json
			}
			if err != nil {
				t.Fatalf("encoding/json refused what AppendJSON encoded: %v", err)
			}
			if got != want {
				t.Errorf("AppendJSON\n%s\nencoding/json\n%s", got, want)
			}
		})
	}
}

// TestAppendJSONRandomNumbers compares the number form on random float64 bit patterns and
// magnitudes around encoding/json's exponent cut-offs.
func TestAppendJSONRandomNumbers(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 11))
	for i := range 20000 {
		var f float64
		if i%2 == 0 {
			f = math.Float64frombits(r.Uint64())
		} else {
			f = (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(50)-25))
		}
		e := Event{Data: map[string]any{"f": f}}
		got, want, ok, err := marshalBoth(t, &e)
		if ok != (err == nil) {
			t.Fatalf("%v: AppendJSON ok %v, encoding/json error %v", f, ok, err)
		}
		if ok && got != want {
			t.Fatalf("%v: AppendJSON %s, encoding/json %s", f, got, want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "<script>&amp;</script>", "\x00\x1f\x7f", "\xff", "\u2028\u2029", "é🙂", "\"\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := Event{ID: s, Data: map[string]any{s: s}}
		got, want, ok, err := marshalBoth(t, &e)
		if !ok || err != nil {
			t.Fatalf("AppendJSON ok %v, encoding/json error %v", ok, err)
		}
		if got != want {
			t.Fatalf("AppendJSON\n%s\nencoding/json\n%s", got, want)
		}
	})
}

func BenchmarkAppendJSON(b *testing.B) {
	item := written(b)
	e, err := FromItem(item)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("AppendJSON", func(b *testing.B) {
		var buf []byte
		for range b.N {
			buf, _ = AppendJSON(buf[:0], &e)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for range b.N {
			if _, err := json.Marshal(&e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
