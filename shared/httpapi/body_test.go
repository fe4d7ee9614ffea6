package httpapi

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/fault"
	"github.com/contrail/contrail/shared/validate"
)

func TestDecodeJSON(t *testing.T) {
	type item struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	type filter struct {
		Source *string `json:"source"`
	}
	type body struct {
		Name   string  `json:"name"`
		Email  *string `json:"email"`
		Events []item  `json:"events"`
		filter         // its fields are the body's, as export's requests embed httpapi.LogFilter
	}
	cases := []struct {
		name   string
		in     string
		code   string
		fields map[string]string
	}{
		{name: "ok", in: `{"name":"Ana","events":[{"type":"X","data":{"Any":"Case"}}]}`},
		{name: "embedded field", in: `{"name":"Ana","source":"import"}`},
		{name: "case-folded embedded field", in: `{"Source":"import"}`, code: "invalid_request", fields: map[string]string{"Source": "is not a known field"}},
		{name: "nested field of the wrong type", in: `{"events":[{"type":3}]}`, code: "invalid_request", fields: map[string]string{"events.type": "must be a string"}},
		{name: "embedded field of the wrong type", in: `{"source":3}`, code: "invalid_request", fields: map[string]string{"source": "must be a string"}},
		{name: "empty", in: ` `, code: "invalid_body"},
		{name: "syntax", in: `{"name":`, code: "invalid_json"},
		{name: "unknown field", in: `{"nick":"a"}`, code: "invalid_request", fields: map[string]string{"nick": "is not a known field"}},
		{name: "case-folded field", in: `{"NAME":"a"}`, code: "invalid_request", fields: map[string]string{"NAME": "is not a known field"}},
		{name: "case-folded nested field", in: `{"events":[{"type":"X"},{"Type":"Y"}]}`, code: "invalid_request", fields: map[string]string{"events[1].Type": "is not a known field"}},
		{name: "unknown nested field", in: `{"events":[{"type":"X"},{"type":"Y","kind":"Z"}]}`, code: "invalid_request", fields: map[string]string{"events[1].kind": "is not a known field"}},
		{name: "wrong type", in: `{"name":3}`, code: "invalid_request", fields: map[string]string{"name": "must be a string"}},
		{name: "trailing data", in: `{"name":"a"} {}`, code: "invalid_body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b body
			err := DecodeJSON([]byte(c.in), &b)
			if c.code == "" {
				if err != nil {
					t.Fatalf("DecodeJSON: %v", err)
				}
				return
			}
			fe := fault.As(err)
			if fe == nil || fe.Kind != fault.Invalid {
				t.Fatalf("DecodeJSON(%s) = %v, want a 400 fault", c.in, err)
			}
			if diff := cmp.Diff(c.code, fe.Code); diff != "" {
				t.Errorf("code (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(c.fields, fe.Fields); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeJSONTooLarge(t *testing.T) {
	big := make([]byte, MaxBody+1)
	var v struct{}
	if fe := fault.As(DecodeJSON(big, &v)); fe == nil || fe.Kind != fault.TooLarge {
		t.Fatalf("got %v, want a 413 fault", fe)
	}
}

// TestDecodeJSONText covers what encoding/json lets through on its own: control characters,
// invalid UTF-8 and lone surrogates (which it turns into U+FFFD), and repeated member names
// (where it keeps the last). Each is a 400 naming the field, at any depth.
func TestDecodeJSONText(t *testing.T) {
	type item struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	type body struct {
		Name   string `json:"name"`
		Text   string `json:"text"`
		Events []item `json:"events"`
	}
	field := func(name, problem string) *fault.Error {
		return &fault.Error{Kind: fault.Invalid, Code: "invalid_request",
			Message: "Fix the field listed in error.fields: " + name + ".", Fields: map[string]string{name: problem}}
	}
	const (
		control   = "must not contain control characters (only tab and line breaks, and only in texts)"
		utf8Bad   = "must be valid UTF-8"
		repeated  = "is repeated; send each field once"
		surrogate = `must be valid UTF-8: \ud800 is half of a UTF-16 surrogate pair`
	)
	cases := []struct {
		name string
		in   string
		want *fault.Error
	}{
		{"tab and line breaks are left to the field's rules", `{"text":"a\tb\nc\r\nd"}`, nil},
		{"a surrogate pair", `{"name":"\ud83d\ude00"}`, nil},
		{"an escaped backslash before u", `{"name":"\\ud800"}`, nil},
		{"same name in sibling objects", `{"events":[{"type":"a"},{"type":"b"}]}`, nil},
		{"NUL", `{"name":"a\u0000b"}`, field("name", control)},
		{"escape", `{"text":"\u001b[31mred"}`, field("text", control)},
		{"DEL", `{"name":"a\u007f"}`, field("name", control)},
		{"C1 control", "{\"name\":\"a\u0085\"}", field("name", control)},
		{"control in nested data", `{"events":[{"type":"X","data":{"k":["ok","\u0007"]}}]}`, field("events[0].data.k[1]", control)},
		{"control in a member name", `{"events":[{"type":"X","data":{"a\u0000":1}}]}`, field("events[0].data.a\x00", control)},
		{"invalid UTF-8", "{\"name\":\"a\xffb\"}", field("name", utf8Bad)},
		{"truncated UTF-8 in nested data", "{\"events\":[{\"type\":\"X\",\"data\":{\"k\":\"\xe2\x82\"}}]}", field("events[0].data.k", utf8Bad)},
		{"lone high surrogate", `{"name":"a\ud800b"}`, field("name", surrogate)},
		{"lone low surrogate", `{"text":"\uDC00"}`, field("text", `must be valid UTF-8: \udc00 is half of a UTF-16 surrogate pair`)},
		{"high surrogate then another escape", `{"text":"\ud800\u0041"}`, field("text", surrogate)},
		{"repeated name", `{"name":"a","name":"b"}`, field("name", repeated)},
		{"repeated name in an array element", `{"events":[{"type":"a"},{"type":"b","type":"c"}]}`, field("events[1].type", repeated)},
		{"repeated name in free data", `{"events":[{"type":"a","data":{"x":{"y":1,"y":2}}}]}`, field("events[0].data.x.y", repeated)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b body
			err := DecodeJSON([]byte(c.in), &b)
			var got *fault.Error
			if err != nil {
				if got = fault.As(err); got == nil {
					t.Fatalf("DecodeJSON(%q) = %v, want a fault", c.in, err)
				}
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("DecodeJSON(%q) (-want +got):\n%s", c.in, diff)
			}
		})
	}
}

// FuzzDecodeJSON: a body DecodeJSON accepts holds only strings and names without control
// characters (but tab, CR, LF) and no U+FFFD it did not send; anything else is a 400 or 413
// fault, never a panic. Run: go test -run '^$' -fuzz FuzzDecodeJSON -fuzztime 30s ./shared/httpapi/
func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"name":"Ana","events":[{"type":"X","data":{"k":["a\tb",1,null]}}]}`))
	f.Add([]byte(`{"name":"\ud83d\ude00 \\ud800"}`))
	f.Add([]byte("{\"name\":\"a\xffb\",\"name\":\"\\u0000\"}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var v struct {
			Name   string `json:"name"`
			Events []struct {
				Type string         `json:"type"`
				Data map[string]any `json:"data"`
			} `json:"events"`
		}
		err := DecodeJSON(b, &v)
		if err != nil {
			if fe := fault.As(err); fe == nil || (fe.Kind != fault.Invalid && fe.Kind != fault.TooLarge) || fe.Code == "" || fe.Message == "" {
				t.Fatalf("DecodeJSON(%q) = %v, want a 400 or 413 fault", b, err)
			}
			return
		}
		sentFFFD := bytes.Contains(b, []byte("\uFFFD")) || bytes.Contains(bytes.ToLower(b), []byte(`\ufffd`))
		check := func(s string) {
			if strings.ContainsFunc(s, func(r rune) bool { return validate.IsControl(r) && r != '\t' && r != '\n' && r != '\r' }) {
				t.Fatalf("DecodeJSON(%q) accepted a control character in %q", b, s)
			}
			if !sentFFFD && strings.ContainsRune(s, utf8.RuneError) {
				t.Fatalf("DecodeJSON(%q) accepted a replaced character in %q", b, s)
			}
		}
		var walk func(x any)
		walk = func(x any) {
			switch x := x.(type) {
			case string:
				check(x)
			case []any:
				for _, e := range x {
					walk(e)
				}
			case map[string]any:
				for k, e := range x {
					check(k)
					walk(e)
				}
			}
		}
		check(v.Name)
		for _, e := range v.Events {
			check(e.Type)
			walk(map[string]any(e.Data))
		}
	})
}
