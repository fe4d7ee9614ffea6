package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// DecodeStreamBatch decodes a stream event's JSON into a StreamBatch with exactly the
// result json.Unmarshal gives, several times faster: a reflection-free scanner handles the
// fixed shape Lambda delivers. Whatever it does not handle itself (invalid JSON, null where
// a value is decoded, a type mismatch, a repeated or non-ASCII field name, binary
// attributes, deep nesting) makes it hand the whole payload to json.Unmarshal instead, so
// the result and the errors are always encoding/json's.
func DecodeStreamBatch(data []byte) (*StreamBatch, error) {
	d := streamDecoder{data: data}
	if b, ok := d.batch(); ok {
		return b, nil
	}
	var b StreamBatch
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

// Invoke makes the Archiver a lambda.Handler: it receives the raw payload, so the stream
// event is decoded by DecodeStreamBatch rather than by reflection, and answers with the
// JSON lambda.Start would write for Handle's response.
func (a *Archiver) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	batch, err := DecodeStreamBatch(payload)
	if err != nil {
		return nil, fmt.Errorf("decode stream event: %w", err)
	}
	resp, err := a.Handle(ctx, batch)
	if err != nil {
		return nil, err
	}
	// As lambda.Start writes a handler's response: no HTML escaping, no trailing newline.
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(resp); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), nil
}

// errFallback aborts the fast decoder; json.Unmarshal decides instead.
var errFallback = errors.New("fallback to encoding/json")

const maxFastDepth = 256

type streamDecoder struct {
	data  []byte
	pos   int
	depth int
	seen  [maxFastDepth + 1]uint64 // fields seen in the object open at each depth
}

func (d *streamDecoder) batch() (b *StreamBatch, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if r != errFallback {
				panic(r)
			}
			b, ok = nil, false
		}
	}()
	b = &StreamBatch{}
	d.ws()
	d.only("Records", func() { d.records(b) })
	d.ws()
	if d.pos != len(d.data) {
		panic(errFallback)
	}
	return b, true
}

func (d *streamDecoder) records(b *StreamBatch) {
	d.at('[')
	b.Records = make([]StreamRecord, 0, 64)
	d.array(func() {
		b.Records = append(b.Records, StreamRecord{})
		d.record(&b.Records[len(b.Records)-1])
	})
}

func (d *streamDecoder) record(r *StreamRecord) {
	d.object(func(key []byte, seen *uint64) {
		switch d.field(key, seen, "eventName", "dynamodb") {
		case 0:
			r.EventName = d.str()
		case 1:
			d.object(func(key []byte, seen *uint64) {
				switch d.field(key, seen, "SequenceNumber", "NewImage") {
				case 0:
					r.DynamoDB.SequenceNumber = d.str()
				case 1:
					r.DynamoDB.NewImage = &EventImage{}
					d.image(r.DynamoDB.NewImage)
				default:
					d.skip()
				}
			})
		default:
			d.skip()
		}
	})
}

var imageFields = []string{"itemType", "id", "tenantId", "occurredAt", "recordedAt", "type", "category",
	"actor", "contact", "source", "channel", "sessionId", "isAgent", "data", "context"}

func (d *streamDecoder) image(im *EventImage) {
	// The string attributes, by their index in imageFields.
	strs := [...]*attrS{&im.ItemType, &im.ID, &im.TenantID, &im.OccurredAt, &im.RecordedAt, &im.Type, &im.Category,
		9: &im.Source, 10: &im.Channel, 11: &im.SessionID}
	d.object(func(key []byte, seen *uint64) {
		switch i := d.field(key, seen, imageFields...); i {
		case 0, 1, 2, 3, 4, 5, 6, 9, 10, 11:
			d.attrS(strs[i])
		case 7:
			m := &im.Actor.M
			d.mapOf(func() { d.attrs(personFields, &m.Type, &m.ID, &m.Name) })
		case 8:
			im.Contact = &struct {
				M struct {
					ID   attrS `json:"id"`
					Name attrS `json:"name"`
				} `json:"M"`
			}{}
			m := &im.Contact.M
			d.mapOf(func() { d.attrs(personFields, nil, &m.ID, &m.Name) })
		case 12:
			im.IsAgent = &struct {
				BOOL *bool `json:"BOOL"`
			}{}
			a := im.IsAgent
			d.only("BOOL", func() {
				v := d.boolean()
				a.BOOL = &v
			})
		case 13:
			im.Data = d.attr()
		case 14:
			im.Context = &struct {
				M struct {
					IP        attrS `json:"ip"`
					UserAgent attrS `json:"userAgent"`
					RequestID attrS `json:"requestId"`
				} `json:"M"`
			}{}
			m := &im.Context.M
			d.mapOf(func() { d.attrs(contextFields, &m.IP, &m.UserAgent, &m.RequestID) })
		default:
			d.skip()
		}
	})
}

// mapOf decodes {"M": <inner>} (other keys skipped).
func (d *streamDecoder) mapOf(inner func()) { d.only("M", inner) }

// only decodes an object of which only the field name counts: value consumes its value;
// other fields are skipped.
func (d *streamDecoder) only(name string, value func()) {
	d.object(func(key []byte, seen *uint64) {
		switch d.field(key, seen, name) {
		case 0:
			value()
		default:
			d.skip()
		}
	})
}

var (
	personFields  = []string{"type", "id", "name"} // an actor's; a contact's has no type
	contextFields = []string{"ip", "userAgent", "requestId"}
)

// attrs decodes an object of string attributes: the field names[i] into into[i], skipped
// where into[i] is nil, as are fields not named.
func (d *streamDecoder) attrs(names []string, into ...*attrS) {
	d.object(func(key []byte, seen *uint64) {
		if i := d.field(key, seen, names...); i >= 0 && into[i] != nil {
			d.attrS(into[i])
		} else {
			d.skip()
		}
	})
}

func (d *streamDecoder) attrS(a *attrS) { d.only("S", func() { a.S = d.str() }) }

var attrFieldNames = []string{"S", "N", "BOOL", "NULL", "M", "L", "SS", "NS"}

// attr decodes a DynamoDB JSON value into a new AttributeValue.
func (d *streamDecoder) attr() *AttributeValue {
	v := &AttributeValue{}
	// S and N, BOOL and NULL: by their index in attrFieldNames.
	strs, bools := [...]**string{&v.S, &v.N}, [...]**bool{2: &v.BOOL, 3: &v.NULL}
	d.object(func(key []byte, seen *uint64) {
		switch i := d.field(key, seen, attrFieldNames...); i {
		case 0, 1:
			s := d.str()
			*strs[i] = &s
		case 2, 3:
			b := d.boolean()
			*bools[i] = &b
		case 4:
			d.at('{')
			v.M = map[string]*AttributeValue{}
			d.mapObject(func(key string) { v.M[key] = d.attr() })
		case 5:
			d.at('[')
			v.L = []*AttributeValue{}
			d.array(func() { v.L = append(v.L, d.attr()) })
		case 6:
			v.SS = d.strs()
		case 7:
			v.NS = d.strs()
		default:
			// B and BS (base64) and anything case-folding to them: encoding/json decides.
			if equalFoldASCII(key, "B") || equalFoldASCII(key, "BS") {
				panic(errFallback)
			}
			d.skip()
		}
	})
	return v
}

func (d *streamDecoder) strs() []string {
	d.at('[')
	out := []string{}
	d.array(func() { out = append(out, d.str()) })
	return out
}

// --- scanning primitives ---

func (d *streamDecoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *streamDecoder) peek() byte {
	d.ws()
	if d.pos >= len(d.data) {
		panic(errFallback)
	}
	return d.data[d.pos]
}

func (d *streamDecoder) enter() {
	d.depth++
	if d.depth > maxFastDepth {
		panic(errFallback)
	}
}

// object decodes a JSON object whose fields map to struct fields: each call of fn gets a
// plain-ASCII key without escapes (others fall back) and must consume the value.
// seen tracks the fields decoded so far, for field.
func (d *streamDecoder) object(fn func(key []byte, seen *uint64)) {
	if !d.open('{', '}') {
		return
	}
	// One slot per depth in the decoder: a local would escape through fn.
	seen := &d.seen[d.depth]
	*seen = 0
	for more := true; more; more = d.more('}') {
		d.at('"')
		key := d.plainKey()
		d.colon()
		fn(key, seen)
	}
}

// mapObject decodes a JSON object into a map: keys are any strings.
func (d *streamDecoder) mapObject(fn func(key string)) {
	if !d.open('{', '}') {
		return
	}
	for more := true; more; more = d.more('}') {
		key := d.str()
		d.colon()
		fn(key)
	}
}

func (d *streamDecoder) array(fn func()) {
	if !d.open('[', ']') {
		return
	}
	for more := true; more; more = d.more(']') {
		fn()
	}
}

// open enters the object or array at pos, whose brackets are open and close. It returns
// false when the object or array is empty, having left it again.
func (d *streamDecoder) open(open, close byte) bool {
	d.at(open)
	d.enter()
	d.pos++
	if d.peek() == close {
		d.pos++
		d.depth--
		return false
	}
	return true
}

// more moves past what follows a member or element: true after a comma, false after the
// closing bracket close, which leaves the object or array.
func (d *streamDecoder) more(close byte) bool {
	switch d.peek() {
	case ',':
		d.pos++
		return true
	case close:
		d.pos++
		d.depth--
		return false
	}
	panic(errFallback)
}

// at falls back unless the next non-space byte is c.
func (d *streamDecoder) at(c byte) {
	if d.peek() != c {
		panic(errFallback)
	}
}

// colon moves past the colon after an object key.
func (d *streamDecoder) colon() {
	d.at(':')
	d.pos++
}

// field returns the index of the struct field key names, matched as encoding/json matches
// (exactly or ASCII case-insensitively; non-ASCII keys fell back in plainKey), or -1 for
// an unknown key. A field seen twice in one object falls back: encoding/json merges
// repeated values into one another.
func (d *streamDecoder) field(key []byte, seen *uint64, names ...string) int {
	for i, n := range names {
		if len(n) == len(key) && (string(key) == n || equalFoldASCII(key, n)) {
			if *seen&(1<<i) != 0 {
				panic(errFallback)
			}
			*seen |= 1 << i
			return i
		}
	}
	return -1
}

func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// plain moves past the quoted string at pos and returns its contents and whether any byte
// of it is not ASCII; a string with an escape is left where it is (escaped true), for
// encoding/json.
func (d *streamDecoder) plain() (s []byte, nonASCII, escaped bool) {
	start := d.pos + 1 // after the opening quote
	for p := start; p < len(d.data); p++ {
		switch c := d.data[p]; {
		case c == '"':
			d.pos = p + 1
			return d.data[start:p], nonASCII, false
		case c == '\\':
			return nil, nonASCII, true
		case c < 0x20:
			panic(errFallback)
		case c >= utf8.RuneSelf:
			nonASCII = true
		}
	}
	panic(errFallback)
}

// plainKey reads a quoted object key made of printable ASCII without escapes.
func (d *streamDecoder) plainKey() []byte {
	key, nonASCII, escaped := d.plain()
	if nonASCII || escaped {
		panic(errFallback)
	}
	return key
}

// str reads a JSON string value. Strings with escapes or non-ASCII bytes that are not
// valid UTF-8 are decoded by encoding/json (escape rules, surrogate pairs, U+FFFD).
func (d *streamDecoder) str() string {
	d.at('"')
	start := d.pos
	s, nonASCII, escaped := d.plain()
	switch {
	case escaped:
		return d.slowString(start, d.skipString())
	case nonASCII && !utf8.Valid(s):
		return d.slowString(start, d.pos)
	}
	return string(s)
}

// slowString decodes the quoted string data[start:end] with encoding/json.
func (d *streamDecoder) slowString(start, end int) string {
	var s string
	if err := json.Unmarshal(d.data[start:end], &s); err != nil {
		panic(errFallback)
	}
	return s
}

// skipString moves past a quoted string at pos (validating escapes) and returns the end.
func (d *streamDecoder) skipString() int {
	d.pos++
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return d.pos
		case c == '\\':
			d.pos++
			if d.pos >= len(d.data) {
				panic(errFallback)
			}
			switch d.data[d.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if d.pos+4 >= len(d.data) {
					panic(errFallback)
				}
				for _, h := range d.data[d.pos+1 : d.pos+5] {
					if !isHex(h) {
						panic(errFallback)
					}
				}
				d.pos += 4
			default:
				panic(errFallback)
			}
		case c < 0x20:
			panic(errFallback)
		}
		d.pos++
	}
	panic(errFallback)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func (d *streamDecoder) boolean() bool {
	switch d.peek() {
	case 't':
		d.literal("true")
		return true
	case 'f':
		d.literal("false")
		return false
	}
	panic(errFallback)
}

func (d *streamDecoder) literal(lit string) {
	if len(d.data)-d.pos < len(lit) || string(d.data[d.pos:d.pos+len(lit)]) != lit {
		panic(errFallback)
	}
	d.pos += len(lit)
}

// skip moves past any JSON value, validating it.
func (d *streamDecoder) skip() {
	switch c := d.peek(); {
	case c == '{':
		if !d.open('{', '}') {
			return
		}
		for more := true; more; more = d.more('}') {
			d.at('"')
			d.skipString()
			d.colon()
			d.skip()
		}
	case c == '[':
		d.array(d.skip)
	case c == '"':
		d.skipString()
	case c == 't':
		d.literal("true")
	case c == 'f':
		d.literal("false")
	case c == 'n':
		d.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		d.number()
	default:
		panic(errFallback)
	}
}

// number moves past a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *streamDecoder) number() {
	p, n := d.pos, len(d.data)
	if p < n && d.data[p] == '-' {
		p++
	}
	digits := func() {
		s := p
		for p < n && '0' <= d.data[p] && d.data[p] <= '9' {
			p++
		}
		if p == s {
			panic(errFallback)
		}
	}
	switch {
	case p < n && d.data[p] == '0':
		p++
	default:
		digits()
	}
	if p < n && d.data[p] == '.' {
		p++
		digits()
	}
	if p < n && (d.data[p] == 'e' || d.data[p] == 'E') {
		p++
		if p < n && (d.data[p] == '+' || d.data[p] == '-') {
			p++
		}
		digits()
	}
	d.pos = p
}
