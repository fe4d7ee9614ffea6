package streams

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Filter is one FilterCriteria pattern of an event source mapping. Lambda invokes the
// function only with records that match at least one of the mapping's filters.
//
// Supported, as EventBridge patterns define them: nested objects; lists of alternatives
// of exact values (strings, numbers, booleans, null); and the operators prefix, suffix,
// equals-ignore-case, anything-but (a value or a list) and exists.
type Filter struct {
	pattern map[string]any
	text    string
}

// ParseFilter parses a pattern as written in template.yaml.
func ParseFilter(s string) (Filter, error) {
	var p map[string]any
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return Filter{}, fmt.Errorf("filter pattern %s: not a JSON object: %w", s, err)
	}
	if err := check(p, ""); err != nil {
		return Filter{}, fmt.Errorf("filter pattern %s: %w", s, err)
	}
	return Filter{pattern: p, text: s}, nil
}

func check(p map[string]any, at string) error {
	for k, v := range p {
		switch x := v.(type) {
		case map[string]any:
			if err := check(x, at+k+"."); err != nil {
				return err
			}
		case []any:
			for _, alt := range x {
				if op, ok := alt.(map[string]any); ok {
					if len(op) != 1 {
						return fmt.Errorf("%s%s: an operator object has exactly one key", at, k)
					}
					for name := range op {
						switch name {
						case "prefix", "suffix", "equals-ignore-case", "anything-but", "exists":
						default:
							return fmt.Errorf("%s%s: operator %q is not supported locally", at, k, name)
						}
					}
				}
			}
		default:
			return fmt.Errorf("%s%s: a leaf must be a list of values", at, k)
		}
	}
	return nil
}

// Match reports whether the record (as generic JSON) matches the pattern.
func (f Filter) Match(rec map[string]any) bool { return matchObject(f.pattern, rec) }

func matchObject(pattern map[string]any, value any) bool {
	obj, ok := value.(map[string]any)
	if !ok {
		return false
	}
	for k, pv := range pattern {
		v, present := obj[k]
		switch p := pv.(type) {
		case map[string]any:
			if !present || !matchObject(p, v) {
				return false
			}
		case []any:
			if !matchAny(p, v, present) {
				return false
			}
		}
	}
	return true
}

func matchAny(alts []any, v any, present bool) bool {
	for _, alt := range alts {
		if matchOne(alt, v, present) {
			return true
		}
	}
	return false
}

func matchOne(alt, v any, present bool) bool {
	if op, ok := alt.(map[string]any); ok {
		for name, arg := range op {
			switch name {
			case "exists":
				want, _ := arg.(bool)
				return present == want
			case "prefix":
				s, ok := v.(string)
				p, _ := arg.(string)
				return present && ok && strings.HasPrefix(s, p)
			case "suffix":
				s, ok := v.(string)
				p, _ := arg.(string)
				return present && ok && strings.HasSuffix(s, p)
			case "equals-ignore-case":
				s, ok := v.(string)
				p, _ := arg.(string)
				return present && ok && strings.EqualFold(s, p)
			case "anything-but":
				if !present {
					return false
				}
				list, isList := arg.([]any)
				if !isList {
					list = []any{arg}
				}
				for _, x := range list {
					if equal(x, v) {
						return false
					}
				}
				return true
			}
		}
		return false
	}
	if !present {
		return false
	}
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			if equal(alt, e) {
				return true
			}
		}
		return false
	}
	return equal(alt, v)
}

func equal(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	}
	return false
}
