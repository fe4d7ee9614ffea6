package archive

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"unicode/utf8"
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
		return appendFloat(b, x)
	case float32:
		return appendFloat(b, float64(x))
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case json.Number:
		return append(b, x...), nil
	case map[string]any:
		return appendObject(b, x, appendJSON)
	case []any:
		return appendArray(b, x, appendJSON)
	case []string:
		return appendArray(b, x, appendString)
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

// appendObject appends the object m, keys sorted, each value spelled by value.
func appendObject[V any](b []byte, m map[string]V, value func([]byte, V) ([]byte, error)) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		var err error
		if b, err = value(b, m[k]); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// appendArray appends the array es, each element spelled by elem.
func appendArray[E any](b []byte, es []E, elem func([]byte, E) ([]byte, error)) ([]byte, error) {
	b = append(b, '[')
	for i, e := range es {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = elem(b, e); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

// appendString is appendJSONString as an element speller of appendArray.
func appendString(b []byte, s string) ([]byte, error) { return appendJSONString(b, s), nil }

// appendFloat spells f as encoding/json does.
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, fmt.Errorf("unsupported number %v", f)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b) - start
		if n >= 4 && b[len(b)-4] == 'e' && b[len(b)-3] == '-' && b[len(b)-2] == '0' {
			b[len(b)-2] = b[len(b)-1]
			b = b[:len(b)-1]
		}
	}
	return b, nil
}

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
	return appendFloat(b, f)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted the way encoding/json does with HTML escaping off.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

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
