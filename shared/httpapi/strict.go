package httpapi

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/contrail/contrail/shared/fault"
	"github.com/contrail/contrail/shared/validate"
)

// checkStrict walks a JSON body token by token before it is decoded and refuses what
// encoding/json would silently accept: a member name repeated in one object (json keeps the
// last), a string that is not valid UTF-8 or holds an escaped lone surrogate such as \ud800
// (json replaces both with U+FFFD), and control characters in any string or member name other
// than tab, CR and LF (which validate keeps for free texts only). The fault names the field
// by its path, e.g. events[3].data.callId. A body that is not JSON at all is left to the
// decoder, which says so.
func checkStrict(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var stack []*level
	prev := int64(0)
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // end of input, or a syntax error the decoder reports itself
		}
		end := dec.InputOffset()
		raw := b[prev:end] // the token, after any separator and white space
		prev = end
		var top *level
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				stack = append(stack, &level{path: top.member(), object: t == '{', names: map[string]bool{}})
			default:
				stack = stack[:len(stack)-1]
				if len(stack) > 0 {
					stack[len(stack)-1].done()
				}
			}
		case string:
			naming := top != nil && top.object && top.name == ""
			path := top.member()
			if naming {
				path = join(top.path, t)
			}
			if problem := stringProblem(raw[bytes.IndexByte(raw, '"'):], t); problem != "" {
				return fieldFault(path, problem)
			}
			if naming {
				if top.names[t] {
					return fieldFault(path, "is repeated; send each field once")
				}
				top.names[t] = true
				top.name = t
				continue
			}
			top.done()
		default:
			top.done()
		}
	}
}

// level is an object or array being walked.
type level struct {
	path   string          // of the object or array itself ("" at the top)
	object bool            //
	names  map[string]bool // object: the member names seen
	name   string          // object: the member whose value comes next ("" while a name is due)
	index  int             // array: the element that comes next
}

// member is the path of the value that comes next in l (the top-level value when l is nil).
func (l *level) member() string {
	switch {
	case l == nil:
		return ""
	case l.object:
		return join(l.path, l.name)
	default:
		return l.path + "[" + strconv.Itoa(l.index) + "]"
	}
}

// done moves l past a value.
func (l *level) done() {
	switch {
	case l == nil:
	case l.object:
		l.name = ""
	default:
		l.index++
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func fieldFault(path, problem string) error {
	if path == "" {
		return fault.New(fault.Invalid, "invalid_body", "Send a JSON object as the request body.")
	}
	return fault.InvalidFields("invalid_request", "Fix the field listed in error.fields: "+path+".", map[string]string{path: problem})
}

// stringProblem says what is wrong with a JSON string, given as sent (quoted, escapes as
// they are) and as decoded, or "" when nothing is.
func stringProblem(quoted []byte, decoded string) string {
	if !utf8.Valid(quoted) {
		return "must be valid UTF-8"
	}
	if s := loneSurrogate(quoted); s != "" {
		return "must be valid UTF-8: " + s + " is half of a UTF-16 surrogate pair"
	}
	for _, r := range decoded {
		if validate.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return "must not contain control characters (only tab and line breaks, and only in texts)"
		}
	}
	return ""
}

// loneSurrogate returns the first \uXXXX escape of a surrogate that is not half of a pair
// (a high one followed by a low one), lower-cased, or "".
func loneSurrogate(quoted []byte) string {
	for i := 0; i < len(quoted); i++ {
		if quoted[i] != '\\' {
			continue
		}
		i++ // the escaped character
		if i >= len(quoted) || quoted[i] != 'u' {
			continue
		}
		u, ok := hex4(quoted, i+1)
		if !ok {
			continue
		}
		switch {
		case u >= 0xd800 && u <= 0xdbff:
			if i+6 < len(quoted) && quoted[i+5] == '\\' && quoted[i+6] == 'u' {
				if lo, ok := hex4(quoted, i+7); ok && lo >= 0xdc00 && lo <= 0xdfff {
					i += 10 // past both halves
					continue
				}
			}
			return `\u` + strconv.FormatUint(uint64(u), 16)
		case u >= 0xdc00 && u <= 0xdfff:
			return `\u` + strconv.FormatUint(uint64(u), 16)
		}
		i += 4
	}
	return ""
}

func hex4(b []byte, at int) (uint16, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	u, err := strconv.ParseUint(string(b[at:at+4]), 16, 16)
	return uint16(u), err == nil
}
