package httpapi

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/fault"
)

func TestDecodeJSON(t *testing.T) {
	type item struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	type body struct {
		Name   string  `json:"name"`
		Email  *string `json:"email"`
		Events []item  `json:"events"`
	}
	cases := []struct {
		name   string
		in     string
		code   string
		fields map[string]string
	}{
		{name: "ok", in: `{"name":"Ana","events":[{"type":"X","data":{"Any":"Case"}}]}`},
		{name: "empty", in: ` `, code: "invalid_body"},
		{name: "syntax", in: `{"name":`, code: "invalid_json"},
		{name: "unknown field", in: `{"nick":"a"}`, code: "invalid_request", fields: map[string]string{"nick": "is not a known field"}},
		{name: "case-folded field", in: `{"NAME":"a"}`, code: "invalid_request", fields: map[string]string{"NAME": "is not a known field"}},
		{name: "case-folded nested field", in: `{"events":[{"type":"X"},{"Type":"Y"}]}`, code: "invalid_request", fields: map[string]string{"events[1].Type": "is not a known field"}},
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
