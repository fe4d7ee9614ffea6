package jsonenc_test

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/contrail/contrail/shared/jsonenc"
)

// encodingJSON is what encoding/json writes for v, with or without HTML escaping.
func encodingJSON(t *testing.T, v any, html bool) (string, error) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"", "plain", "<a href=\"x\">&amp;</a>", "\x00\x08\x0c\x1f\x7f", "\xff\xc3", "\u2028\u2029", "é🙂", `\"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, html := range []bool{true, false} {
			want, err := encodingJSON(t, s, html)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(jsonenc.String(nil, s, html)); got != want {
				t.Fatalf("String(%q, html %v) = %s, encoding/json %s", s, html, got, want)
			}
		}
	})
}

func TestFloat(t *testing.T) {
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -1.5, 0.1, 1e-6, 9.99e-7, -1e-7, 1e20, 1e21, 123456789.125, 5e-324, math.MaxFloat64, 1e100} {
		want, err := encodingJSON(t, f, true)
		if err != nil {
			t.Fatal(err)
		}
		got, err := jsonenc.Float(nil, f)
		if err != nil || string(got) != want {
			t.Errorf("Float(%v) = %s, %v; encoding/json %s", f, got, err, want)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := jsonenc.Float(nil, f); err == nil {
			t.Errorf("Float(%v) spelled a number JSON cannot hold", f)
		}
	}
}

func TestObjectAndArray(t *testing.T) {
	m := map[string][]string{"b<": {"x&y", ""}, "a": {}, "": {"\u2028"}}
	str := func(b []byte, s string) ([]byte, error) { return jsonenc.String(b, s, true), nil }
	got, err := jsonenc.Object(nil, m, true, func(b []byte, es []string) ([]byte, error) { return jsonenc.Array(b, es, str) })
	if err != nil {
		t.Fatal(err)
	}
	want, err := encodingJSON(t, m, true)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("Object = %s, encoding/json %s", got, want)
	}
}
