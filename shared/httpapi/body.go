package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/contrail/contrail/shared/fault"
)

// MaxBody is the largest body the contract accepts.
const MaxBody = 256 << 10

// Decode reads the JSON body into v strictly: at most 256 KiB (413 above), one JSON value,
// no unknown fields, right types. Each failure is a 400 that names the field.
func (r *Request) Decode(v any) error {
	b, err := r.Body()
	if err != nil {
		return err
	}
	return DecodeJSON(b, v)
}

// DecodeJSON is Decode for a body already read.
func DecodeJSON(b []byte, v any) error {
	if len(b) > MaxBody {
		return fault.New(fault.TooLarge, "body_too_large", fmt.Sprintf("The request body is %d bytes; send at most %d.", len(b), MaxBody))
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return fault.New(fault.Invalid, "invalid_body", "Send a JSON object as the request body.")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fault.New(fault.Invalid, "invalid_body", "The request body must hold a single JSON object and nothing after it.")
	}
	return nil
}

func decodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return fault.New(fault.Invalid, "invalid_body", "Send a JSON object as the request body.")
		}
		return fault.InvalidFields("invalid_request", "Fix the field listed in error.fields: "+field+".",
			map[string]string{field: "must be " + jsonKind(typeErr.Type.Kind().String())})
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fault.New(fault.Invalid, "invalid_json", "The request body is not valid JSON.")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fault.InvalidFields("invalid_request", "Remove the unknown field "+field+".", map[string]string{field: "is not a known field"})
	default:
		return fault.New(fault.Invalid, "invalid_json", "The request body is not valid JSON.")
	}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	default:
		return "a number"
	}
}
