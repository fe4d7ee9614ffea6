package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"

	"github.com/contrail/contrail/shared/fault"
)

// MaxBody is the largest body the contract accepts.
const MaxBody = 256 << 10

// Decode reads the JSON body into v strictly: at most 256 KiB (413 above), one JSON value,
// no unknown fields, right types, no member name twice in an object, every string valid
// UTF-8 without lone surrogates or control characters but tab, CR and LF (checkStrict).
// Each failure is a 400 that names the field.
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
	if err := checkStrict(b); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err, b, v)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fault.New(fault.Invalid, "invalid_body", "The request body must hold a single JSON object and nothing after it.")
	}
	if t := reflect.TypeOf(v); t.Kind() == reflect.Pointer {
		if field := inexactName(b, t.Elem(), ""); field != "" {
			return fault.InvalidFields("invalid_request", "Remove the unknown field "+field+".", map[string]string{field: "is not a known field"})
		}
	}
	return nil
}

// inexactName returns the path of the first object member whose name matches a struct field
// only case-insensitively ("" when every name is exact). encoding/json would take "NAME" for
// name; the contract says an unknown field is a 400, so it must not.
func inexactName(raw json.RawMessage, t reflect.Type, path string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return "" // the type reads its own members
	}
	switch t.Kind() {
	case reflect.Struct:
		var members map[string]json.RawMessage
		if json.Unmarshal(raw, &members) != nil {
			return ""
		}
		fields := jsonFields(t)
		names := make([]string, 0, len(members))
		for k := range members {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			ft, ok := fields[k]
			if !ok {
				return path + k
			}
			if f := inexactName(members[k], ft, path+k+"."); f != "" {
				return f
			}
		}
	case reflect.Slice, reflect.Array:
		var elems []json.RawMessage
		if json.Unmarshal(raw, &elems) != nil {
			return ""
		}
		for i, e := range elems {
			if f := inexactName(e, t.Elem(), fmt.Sprintf("%s[%d].", strings.TrimSuffix(path, "."), i)); f != "" {
				return f
			}
		}
	}
	return ""
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// jsonFields maps the JSON names of t's exported fields to their types; the fields of an
// embedded struct without a JSON name are t's own, as encoding/json reads them.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" && f.Anonymous && f.Type.Kind() == reflect.Struct {
			for k, ft := range jsonFields(f.Type) {
				if _, own := fields[k]; !own {
					fields[k] = ft
				}
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
	}
	return fields
}

// jsonPath is a field's path as encoding/json names it (the Field of an UnmarshalTypeError)
// as the client wrote it: without the Go names of the embedded structs it passes through.
func jsonPath(t reflect.Type, path string) string {
	var out []string
	for _, part := range strings.Split(path, ".") {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Map:
			t = t.Elem()
		case reflect.Struct:
			if f, ok := t.FieldByName(part); ok && f.Anonymous && f.Tag.Get("json") == "" {
				t = f.Type
				continue
			}
			t = jsonFields(t)[part]
			if t == nil {
				return path
			}
		}
		out = append(out, part)
	}
	return strings.Join(out, ".")
}

func decodeError(err error, b []byte, v any) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if t := reflect.TypeOf(v); field != "" && t.Kind() == reflect.Pointer {
			field = jsonPath(t.Elem(), field)
		}
		if field == "" {
			return fault.New(fault.Invalid, "invalid_body", "Send a JSON object as the request body.")
		}
		return fault.InvalidFields("invalid_request", "Fix the field listed in error.fields: "+field+".",
			map[string]string{field: "must be " + jsonKind(typeErr.Type.Kind().String())})
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fault.New(fault.Invalid, "invalid_json", "The request body is not valid JSON.")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		// encoding/json names the member only; a nested one is named by its path (cobrowse.x).
		if t := reflect.TypeOf(v); t.Kind() == reflect.Pointer {
			if path := inexactName(b, t.Elem(), ""); strings.HasSuffix(path, "."+field) {
				field = path
			}
		}
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
