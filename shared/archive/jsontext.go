package archive

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/contrail/contrail/shared/jsonenc"
)

// The data column holds the event's data object as canonical JSON: object keys sorted,
// no HTML escaping, numbers as encoding/json spells a float64. Both sources of rows (an
// audit.Event and a DynamoDB stream image) write it through the functions here, so the
// same event gives the same bytes either way and Parquet output is deterministic.

// appendJSON appends v (a value as encoding/json decodes it, or []string) to b.
func appendJSON(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendJSONString(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case float64:
		return jsonenc.Float(b, x)
	case float32:
		return jsonenc.Float(b, float64(x))
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case json.Number:
		return append(b, x...), nil
	case map[string]any:
		return jsonenc.Object(b, x, false, appendJSON)
	case []any:
		return jsonenc.Array(b, x, appendJSON)
	case []string:
		return jsonenc.Array(b, x, appendString)
	default:
		// Anything else (typed structs, other numbers): let encoding/json spell it, then
		// canonicalise through a generic decode.
		raw, err := json.Marshal(x)
		if err != nil {
			return b, err
		}
		var g any
		if err := json.Unmarshal(raw, &g); err != nil {
			return b, err
		}
		return appendJSON(b, g)
	}
}

// appendString is appendJSONString as an element speller of jsonenc.Array.
func appendString(b []byte, s string) ([]byte, error) { return appendJSONString(b, s), nil }

// appendNumberText appends a DynamoDB number (a decimal string) as its canonical JSON
// spelling: the float64 it parses to, as encoding/json would write it.
func appendNumberText(b []byte, n string) ([]byte, error) {
	// Fast path: small integers are already canonical.
	if len(n) > 0 && len(n) <= 15 {
		allDigits := true
		for i := 0; i < len(n); i++ {
			c := n[i]
			if (c < '0' || c > '9') && !(i == 0 && c == '-' && len(n) > 1) {
				allDigits = false
				break
			}
		}
		if allDigits && (n[0] != '0' || len(n) == 1) && !(n[0] == '-' && n[1] == '0') {
			return append(b, n...), nil
		}
	}
	f, err := strconv.ParseFloat(n, 64)
	if err != nil {
		return b, fmt.Errorf("number %q: %w", n, err)
	}
	return jsonenc.Float(b, f)
}

// appendJSONString appends s quoted the way encoding/json does with HTML escaping off.
func appendJSONString(b []byte, s string) []byte { return jsonenc.String(b, s, false) }

// DataJSON returns data as the data column holds it (canonical JSON, as FromEvent writes
// it), for a reader that changed a row's data (opening its sealed personal fields) and must
// give back the bytes the plaintext event would have had.
func DataJSON(data map[string]any) (string, error) {
	if data == nil {
		return "{}", nil
	}
	b, err := appendJSON(nil, data)
	return string(b), err
}
