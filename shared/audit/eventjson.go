package audit

import (
	"errors"
	"strconv"

	"github.com/contrail/contrail/shared/jsonenc"
)

// AppendJSON appends e to b exactly as encoding/json.Marshal encodes it (field order,
// omitempty, data's keys sorted, HTML-safe string escapes, ES6 number form), without
// reflection: the read routes encode every event they return (a session page is 500), and
// encoding/json's reflective walk of Event and its data map was a sizeable part of their
// cost. ok is false when data holds a value of another type than decoding an item gives
// (string, float64, bool, nil, []any, map[string]any; also int and int64, which events
// built in code hold) or a number JSON cannot hold (NaN, ±Inf): the caller then encodes
// with encoding/json, which answers the same or refuses the same.
func AppendJSON(b []byte, e *Event) ([]byte, bool) {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, e.ID)
	b = append(b, `,"tenantId":`...)
	b = appendJSONString(b, string(e.TenantID))
	b = append(b, `,"occurredAt":`...)
	b = appendJSONString(b, e.OccurredAt)
	b = append(b, `,"recordedAt":`...)
	b = appendJSONString(b, e.RecordedAt)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, e.Type)
	b = append(b, `,"category":`...)
	b = appendJSONString(b, e.Category)
	b = append(b, `,"actor":{"type":`...)
	b = appendJSONString(b, e.Actor.Type)
	b = appendOptional(b, `,"id":`, e.Actor.ID)
	b = appendOptional(b, `,"name":`, e.Actor.Name)
	b = append(b, '}')
	if e.Contact != nil {
		b = append(b, `,"contact":{"id":`...)
		b = appendJSONString(b, e.Contact.ID)
		b = append(b, `,"name":`...)
		b = appendJSONString(b, e.Contact.Name)
		b = append(b, '}')
	}
	b = appendOptional(b, `,"source":`, e.Source)
	b = appendOptional(b, `,"channel":`, e.Channel)
	b = appendOptional(b, `,"sessionId":`, e.SessionID)
	if e.IsAgent != nil {
		b = append(b, `,"isAgent":`...)
		b = strconv.AppendBool(b, *e.IsAgent)
	}
	b = append(b, `,"data":`...)
	if e.Data == nil {
		b = append(b, "null"...)
	} else {
		var err error
		if b, err = appendJSONMap(b, e.Data); err != nil {
			return b, false
		}
	}
	if c := e.Context; c != nil {
		b = append(b, `,"context":{`...)
		n := len(b)
		b = appendOptional(b, `,"ip":`, c.IP)
		b = appendOptional(b, `,"userAgent":`, c.UserAgent)
		b = appendOptional(b, `,"requestId":`, c.RequestID)
		if len(b) > n {
			b = append(b[:n], b[n+1:]...) // the first member's comma
		}
		b = append(b, '}')
	}
	return append(b, '}'), true
}

// appendOptional appends key and s unless s is empty (omitempty).
func appendOptional(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendJSONString(append(b, key...), s)
}

func appendJSONString(b []byte, s string) []byte { return jsonenc.String(b, s, true) }

// errLeftToEncodingJSON stops AppendJSON at a value it leaves to encoding/json.
var errLeftToEncodingJSON = errors.New("a value only encoding/json spells")

func appendJSONMap(b []byte, m map[string]any) ([]byte, error) {
	return jsonenc.Object(b, m, true, appendJSONValue)
}

func appendJSONValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendJSONString(b, v), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case float64:
		return jsonenc.Float(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case map[string]any:
		if v == nil {
			return append(b, "null"...), nil
		}
		return appendJSONMap(b, v)
	case []any:
		if v == nil {
			return append(b, "null"...), nil
		}
		return jsonenc.Array(b, v, appendJSONValue)
	}
	return b, errLeftToEncodingJSON
}
