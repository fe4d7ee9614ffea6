package bundle_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/vlog/bundle"
	"github.com/contrail/contrail/shared/vlog/bundle/bundletest"
)

// TestDecodeEntryLine: the fast decoding of an entry line decodes the shape Writer writes,
// as encoding/json does, and leaves everything else to encoding/json (ok false).
func TestDecodeEntryLine(t *testing.T) {
	ok := func(index int64, leaf string) *bundle.Entry { return &bundle.Entry{Index: index, Leaf: []byte(leaf)} }
	tests := []struct {
		name, line string
		want       *bundle.Entry // nil: left to encoding/json
	}{
		{"as Writer writes it", `{"index":7,"leaf":"{\"a\":1,\"b\":\"x\"}"},` + "\n", ok(7, `{"a":1,"b":"x"}`)},
		{"the last entry", `{"index":7,"leaf":"{}"}` + "\n],", ok(7, `{}`)},
		{"index 0, empty leaf", `{"index":0,"leaf":""}`, ok(0, ``)},
		{"18 digits", `{"index":999999999999999999,"leaf":"x"}`, ok(999999999999999999, `x`)},
		{"the short escapes", `{"index":1,"leaf":"\"\\\/\b\f\n\r\t"}`, ok(1, "\"\\/\b\f\n\r\t")},
		{"\\u escapes", `{"index":1,"leaf":"\u00e9\u2028\u0000\uABCD\u007f"}`, ok(1, "é\u2028\x00\uabcd\x7f")},
		{"escaped escapes, as leaves hold them", `{"index":1,"leaf":"{\"n\":\"a\\\"b\\\\c\\u2028\"}"}`, ok(1, `{"n":"a\"b\\c\u2028"}`)},
		{"raw UTF-8", "{\"index\":1,\"leaf\":\"é😀\u2028\"}", ok(1, "é😀\u2028")},
		{"an escaped surrogate pair", `{"index":1,"leaf":"\ud83d\ude00"}`, nil},
		{"a lone surrogate", `{"index":1,"leaf":"\ud800x"}`, nil},
		{"not UTF-8", "{\"index\":1,\"leaf\":\"a\xffb\"}", nil},
		{"a cut UTF-8 sequence", "{\"index\":1,\"leaf\":\"a\xc3\"}", nil},
		{"a control byte", "{\"index\":1,\"leaf\":\"a\tb\"}", nil},
		{"an unknown escape", `{"index":1,"leaf":"\x41"}`, nil},
		{"bad hex", `{"index":1,"leaf":"\u12g4"}`, nil},
		{"cut in an escape", `{"index":1,"leaf":"\u12`, nil},
		{"cut after a backslash", `{"index":1,"leaf":"ab\`, nil},
		{"cut in the leaf", `{"index":1,"leaf":"abc`, nil},
		{"cut before the brace", `{"index":1,"leaf":"abc"`, nil},
		{"cut after the index", `{"index":1`, nil},
		{"empty", ``, nil},
		{"the closing bracket", "]", nil},
		{"a key twice", `{"index":1,"index":2,"leaf":"x"}`, nil},
		{"a field more", `{"index":1,"leaf":"x","hash":"y"}`, nil},
		{"the other order", `{"leaf":"x","index":1}`, nil},
		{"a key in capitals", `{"Index":1,"leaf":"x"}`, nil},
		{"an escaped key", `{"ind\u0065x":1,"leaf":"x"}`, nil},
		{"index a string", `{"index":"1","leaf":"x"}`, nil},
		{"index true", `{"index":true,"leaf":"x"}`, nil},
		{"leaf a number", `{"index":1,"leaf":1}`, nil},
		{"leaf null", `{"index":1,"leaf":null}`, nil},
		{"19 digits", `{"index":1000000000000000000,"leaf":"x"}`, nil},
		{"past int64", `{"index":99999999999999999999,"leaf":"x"}`, nil},
		{"negative", `{"index":-1,"leaf":"x"}`, nil},
		{"a leading zero", `{"index":01,"leaf":"x"}`, nil},
		{"a fraction", `{"index":1.0,"leaf":"x"}`, nil},
		{"an exponent", `{"index":1e3,"leaf":"x"}`, nil},
		{"space after the brace", `{ "index":1,"leaf":"x"}`, nil},
		{"space after the colon", `{"index": 1,"leaf":"x"}`, nil},
		{"space before the comma", `{"index":1 ,"leaf":"x"}`, nil},
		{"space before the closing brace", `{"index":1,"leaf":"x" }`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, n, ok := bundle.DecodeEntryLine([]byte(tt.line), nil)
			if tt.want == nil {
				if ok {
					t.Errorf("decoded %+v (%d bytes), want it left to encoding/json", e, n)
				}
				return
			}
			if !ok {
				t.Fatalf("left to encoding/json, want %+v", *tt.want)
			}
			if diff := cmp.Diff(*tt.want, e); diff != "" {
				t.Errorf("entry (-want +got):\n%s", diff)
			}
			if got, err := decodeEntryJSON([]byte(tt.line[:n])); err != nil || !cmp.Equal(got, e) {
				t.Errorf("%d bytes %q: encoding/json gives %+v, %v", n, tt.line[:n], got, err)
			}
		})
	}
}

// decodeEntryJSON decodes one entry as the bundle's reader decodes it with encoding/json.
func decodeEntryJSON(line []byte) (bundle.Entry, error) {
	var e struct {
		Index *int64  `json:"index"`
		Leaf  *string `json:"leaf"`
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return bundle.Entry{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return bundle.Entry{}, errors.New("more after the entry")
	}
	if e.Index == nil || e.Leaf == nil {
		return bundle.Entry{}, errors.New("needs both index and leaf")
	}
	return bundle.Entry{Index: *e.Index, Leaf: []byte(*e.Leaf)}, nil
}

// FuzzDecodeEntryLine: whatever decodeEntryLine decodes, encoding/json decodes to the same
// entry.
func FuzzDecodeEntryLine(f *testing.F) {
	for _, s := range []string{`{"index":7,"leaf":"{\"a\":1}"},`, `{"index":1,"leaf":"\"\\\/\b\f\n\r\t\u00e9"}`,
		`{"index":1,"leaf":"\ud83d\ude00"}`, "{\"index\":1,\"leaf\":\"é\xff\"}", `{"index":0,"leaf":""}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		e, n, ok := bundle.DecodeEntryLine(line, nil)
		if !ok {
			return
		}
		got, err := decodeEntryJSON(line[:n])
		if err != nil {
			t.Fatalf("%q: decoded %+v, encoding/json refuses it: %v", line[:n], e, err)
		}
		if diff := cmp.Diff(got, e); diff != "" {
			t.Errorf("%q (-encoding/json +fast):\n%s", line[:n], diff)
		}
	})
}

// verifyFixture is a bundle as Writer writes it, whose leaves hold escapes and non-ASCII
// text, and one a string of long bytes (longer than the reader's buffer for 70,000), and
// what it is verified against.
func verifyFixture(t testing.TB, long int) ([]byte, bundle.Options) {
	key := bundletest.NewKey("contrail")
	log := bundletest.New("acme", 6)
	log = log.With(1, []byte(`{"event_id":"e1","note":"Ana \"A\" <b> & \\ é 😀 `+"\u2028"+` \n","occurred_at":"2026-12-07T00:01:00.000Z"}`))
	log = log.With(3, []byte(`{"data":"`+strings.Repeat("x", long)+`","event_id":"e3","occurred_at":"2026-12-07T00:03:00.000Z"}`))
	var buf bytes.Buffer
	if err := bundle.Write(&buf, log.Bundle(0, 6, log.Checkpoint(key, 6, bundletest.At(5, 0)))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), bundle.Options{Keys: []string{key.Vkey}, Tenant: "acme", Now: bundletest.At(5, 30)}
}

// sameOutcome compares got with want, cheaply when they are equal (cmp takes seconds over
// long leaves).
func sameOutcome(t testing.TB, want, got outcome) {
	t.Helper()
	if reflect.DeepEqual(want, got) {
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-encoding/json +fast):\n%s", diff)
	}
}

// outcome is everything reading and verifying a bundle gives.
type outcome struct {
	Report  bundle.Report
	Bundle  *bundle.Bundle
	ReadErr string
}

// outcomeOf reads and verifies in, whose reading fails with readErr after its last byte
// when readErr is not nil.
func outcomeOf(t testing.TB, in []byte, readErr error, opts bundle.Options) outcome {
	reader := func() io.Reader {
		if readErr == nil {
			return bytes.NewReader(in)
		}
		return io.MultiReader(bytes.NewReader(in), iotest.ErrReader(readErr))
	}
	var o outcome
	var err error
	if o.Report, err = bundle.VerifyReader(reader(), opts); err != nil {
		t.Fatal(err)
	}
	if o.Bundle, err = bundle.Read(reader()); err != nil {
		o.ReadErr = err.Error()
	}
	return o
}

// TestVerifyReaderSameAsEncodingJSON: with the fast decoding of entries, reading and
// verifying a bundle gives exactly what decoding every entry with encoding/json gave
// (the same verdict, problems, bundle, error), whatever is odd about the bundle.
func TestVerifyReaderSameAsEncodingJSON(t *testing.T) {
	canonical, opts := verifyFixture(t, 70_000)
	text := string(canonical)
	entry := func(i int) string { // entry i's line as written
		start := strings.Index(text, `{"index":`+string(rune('0'+i))+`,`)
		return text[start : start+strings.Index(text[start:], "\n")]
	}
	cut := func(s string) int { return strings.Index(text, s) + len(s) }
	const okVerdict = "OK contrail/acme: 6 events [0,6) verified against checkpoint 6 signed 2026-12-07T05:00:00Z"
	const unreadable = "FAIL contrail/acme: the bundle cannot be read"
	tests := []struct {
		name    string
		in      string
		readErr error
		verdict string
		problem string // the first problem's message
	}{
		{"as written", text, nil, okVerdict, ""},
		{"on one line", strings.ReplaceAll(text, "\n", ""), nil, okVerdict, ""},
		{"CRLF", strings.ReplaceAll(text, "\n", "\r\n"), nil, okVerdict, ""},
		{"spaced entries", strings.ReplaceAll(text, `{"index":`, `{ "index" : `), nil, okVerdict, ""},
		{"commas first", strings.ReplaceAll(text, "},\n{", "}\n,{"), nil, okVerdict, ""},
		{"fields swapped", strings.Replace(text, entry(2), `{"leaf":`+strings.TrimSuffix(entry(2)[len(`{"index":2,"leaf":`):], "},")+`,"index":2},`, 1), nil, okVerdict, ""},
		{"a key in capitals", strings.Replace(text, `{"index":4,`, `{"INDEX":4,`, 1), nil, okVerdict, ""},
		{"an escaped key", strings.Replace(text, `{"index":4,`, `{"ind\u0065x":4,`, 1), nil, okVerdict, ""},
		{"index twice", strings.Replace(text, `{"index":4,`, `{"index":3,"index":4,`, 1), nil, okVerdict, ""},
		{"leaf twice", strings.Replace(text, `{"index":4,`, `{"index":4,"leaf":"x",`, 1), nil, okVerdict, ""},
		{"index 2.0", strings.Replace(text, `{"index":2,`, `{"index":2.0,`, 1), nil, unreadable,
			`read bundle: field "entries": entry 2: json: cannot unmarshal number 2.0 into Go struct field entryJSON.index of type int64`},
		{"a field more", strings.Replace(text, `{"index":2,`, `{"index":2,"hash":"x",`, 1), nil, unreadable,
			`read bundle: field "entries": entry 2: json: unknown field "hash"`},
		{"index a string", strings.Replace(text, `{"index":2,`, `{"index":"2",`, 1), nil, unreadable,
			`read bundle: field "entries": entry 2: json: cannot unmarshal string into Go struct field entryJSON.index of type int64`},
		{"leaf null", strings.Replace(text, entry(5), `{"index":5,"leaf":null}`, 1), nil, unreadable,
			`read bundle: field "entries": entry 5: needs both index and leaf`},
		{"past int64", strings.Replace(text, `{"index":2,`, `{"index":99999999999999999999,`, 1), nil, unreadable,
			`read bundle: field "entries": entry 2: json: cannot unmarshal number 99999999999999999999 into Go struct field entryJSON.index of type int64`},
		{"a 19-digit index", strings.Replace(text, `{"index":2,`, `{"index":9223372036854775807,`, 1), nil, "FAIL contrail/acme: 2 problems in events [0,6) against checkpoint 6 signed 2026-12-07T05:00:00Z",
			"index 2 missing: an event between e1 (2026-12-07T00:01:00.000Z, index 1) and e3 (2026-12-07T00:03:00.000Z, index 3) was deleted"},
		{"a negative index", strings.Replace(text, `{"index":2,`, `{"index":-2,`, 1), nil, "FAIL contrail/acme: 2 problems in events [0,6) against checkpoint 6 signed 2026-12-07T05:00:00Z",
			"01JEV000000000000000000002 (2026-12-06T19:02:00.000Z, index -2) lies outside the bundle's range [0,6)"},
		{"an escaped surrogate pair", strings.Replace(text, `😀`, `\ud83d\ude00`, 1), nil, okVerdict, ""},
		{"a lone surrogate", strings.Replace(text, `😀`, `\ud83d`, 1), nil, "FAIL contrail/acme: 1 problem in events [0,6) against checkpoint 6 signed 2026-12-07T05:00:00Z",
			"event e1 at index 1 was altered: its bytes are not the leaf the log recorded at that index"},
		{"not UTF-8", strings.Replace(text, `😀`, "\xff", 1), nil, "FAIL contrail/acme: 1 problem in events [0,6) against checkpoint 6 signed 2026-12-07T05:00:00Z",
			"event e1 at index 1 was altered: its bytes are not the leaf the log recorded at that index"},
		{"a raw tab", strings.Replace(text, `😀`, "\t", 1), nil, unreadable,
			`read bundle: field "entries": entry 1: invalid character '\t' in string literal`},
		{"an unknown escape", strings.Replace(text, `😀`, `\x`, 1), nil, unreadable,
			`read bundle: field "entries": entry 1: invalid character 'x' in string escape code`},
		{"a comma missing", strings.Replace(text, entry(2), strings.TrimSuffix(entry(2), ","), 1), nil, unreadable,
			`read bundle: field "entries": entry 3: expected comma after array element`},
		{"a comma more", strings.Replace(text, "\n],", ",\n],", 1), nil, unreadable,
			`read bundle: field "entries": entry 6: invalid character ']' looking for beginning of value`},
		{"two commas", strings.Replace(text, entry(2), entry(2)+",", 1), nil, unreadable,
			`read bundle: field "entries": entry 3: invalid character ',' looking for beginning of value`},
		{"the bracket missing", strings.Replace(text, "\n],", "\n,", 1), nil, unreadable,
			`read bundle: field "entries": entry 6: json: cannot unmarshal string into Go value of type bundle.entryJSON`},
		{"a brace for the bracket", strings.Replace(text, "\n],", "\n},", 1), nil, unreadable,
			`read bundle: field "entries": invalid character '}' after array element`},
		{"no entries", strings.Replace(text, text[cut(`"entries":[`):strings.Index(text, "\n],")], "", 1), nil, "FAIL contrail/acme: 1 problem in events [0,6) against checkpoint 6 signed 2026-12-07T05:00:00Z",
			"indices 0-5 missing: 6 events between the whole bundle's range were deleted"},
		{"tiles first", strings.Replace(text, `"entries":[`, `"tiles":{},"entries":[`, 1), nil, unreadable, `read bundle: field "tiles" given twice`},
		{"cut after the bracket", text[:cut(`"entries":[`)], nil, unreadable, `read bundle: field "entries": bundle ends where ] was expected: it was cut short`},
		{"cut in an entry", text[:cut(`{"index":2,"leaf":"{\"act`)], nil, unreadable, `read bundle: field "entries": entry 2: the bundle ends here: it was cut short`},
		{"cut in the long entry", text[:cut(`{"index":3,"leaf":"{\"data\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`)+66_000], nil, unreadable, `read bundle: field "entries": entry 3: the bundle ends here: it was cut short`},
		{"cut after an entry", text[:cut(entry(2))-1], nil, unreadable, `read bundle: field "entries": bundle ends where ] was expected: it was cut short`},
		{"cut after its comma", text[:cut(entry(2))], nil, unreadable, `read bundle: field "entries": entry 3: the bundle ends here: it was cut short`},
		{"cut after its line", text[:cut(entry(2))+1], nil, unreadable, `read bundle: field "entries": entry 3: the bundle ends here: it was cut short`},
		{"cut after the last entry", text[:cut(entry(5))], nil, unreadable, `read bundle: field "entries": bundle ends where ] was expected: it was cut short`},
		{"cut in the tiles", text[:cut(`"tiles":{`)+5], nil, unreadable, `read bundle: field "tiles": unexpected EOF`},
		{"a read error in an entry", text[:cut(`{"index":2,"leaf":"{\"act`)], errors.New("disk on fire"), unreadable, `read bundle: field "entries": entry 2: disk on fire`},
		{"a read error after a line", text[:cut(entry(2))+1], errors.New("disk on fire"), unreadable, `read bundle: field "entries": entry 3: disk on fire`},
		{"a read error in the tiles", text[:cut(`"tiles":{`)+5], errors.New("disk on fire"), unreadable, `read bundle: field "tiles": disk on fire`},
		{"data after the bundle", text + "{}", nil, unreadable, `read bundle: data after the bundle's closing brace`},
		{"tiles spaced", strings.ReplaceAll(text, `":"`, `" : "`), nil, okVerdict, ""},
		{"tiles on one line", strings.Replace(text, text[cut(`"tiles":{`):], strings.ReplaceAll(text[cut(`"tiles":{`):], "\n", ""), 1), nil, okVerdict, ""},
		{"a tile path escaped", strings.Replace(text, `"tile/0/000.p/6":`, `"tile\/0/000.p/6":`, 1), nil, okVerdict, ""},
		{"a tile twice, the wrong one first", strings.Replace(text, `"tiles":{`, `"tiles":{`+"\n"+`"tile/0/000.p/6":"AAAA",`, 1), nil, okVerdict, ""},
		{"a tile twice, the wrong one last", strings.Replace(text, "\n}}", ",\n"+`"tile/0/000.p/6":"AAAA"`+"\n}}", 1), nil, "FAIL contrail/acme: 2 problems in events [0,6) against checkpoint 6 signed 2026-12-07T05:00:00Z",
			"tile tile/0/000.p/6 holds 3 bytes; it must hold 6 hashes of 32 bytes"},
		{"a tile not base64", strings.Replace(text, `"tiles":{`, `"tiles":{`+"\n"+`"tile/9/000":"!!",`, 1), nil, unreadable, `read bundle: field "tiles": tile tile/9/000: not base64: illegal base64 data at input byte 0`},
		{"two tiles not base64", strings.Replace(text, `"tiles":{`, `"tiles":{`+"\n"+`"tile/9/000":"!!","tile/8/000":"!!",`, 1), nil, unreadable, `read bundle: field "tiles": tile tile/8/000: not base64: illegal base64 data at input byte 0`},
		{"a tile a number", strings.Replace(text, "\n}}", ",\n"+`"tile/9/000":5`+"\n}}", 1), nil, unreadable, `read bundle: field "tiles": json: cannot unmarshal number into Go value of type string`},
		{"a comma missing in the tiles", strings.Replace(text, `"tiles":{`, `"tiles":{`+"\n"+`"tile/9/000":"AAAA"`, 1), nil, unreadable, `read bundle: field "tiles": invalid character '"' after object key:value pair`},
		{"a comma more in the tiles", strings.Replace(text, "\n}}", ",\n}}", 1), nil, unreadable, `read bundle: field "tiles": invalid character '}' looking for beginning of object key string`},
		{"tiles null", strings.Replace(text, text[cut(`"tiles":`):], "null}", 1), nil, "FAIL contrail/acme: 2 problems in events [0,6) against checkpoint 6 signed 2026-12-07T05:00:00Z", "tile tile/0/000.p/6 is missing"},
		{"tiles a list", strings.Replace(text, text[cut(`"tiles":`):], "[]}", 1), nil, unreadable, `read bundle: field "tiles": json: cannot unmarshal array into Go value of type map[string]string`},
		{"tiles empty", strings.Replace(text, text[cut(`"tiles":`):], "{}}", 1), nil, "FAIL contrail/acme: 2 problems in events [0,6) against checkpoint 6 signed 2026-12-07T05:00:00Z", "tile tile/0/000.p/6 is missing"},
		{"tiles before the entries", strings.Replace(strings.Replace(text, text[cut(`"entries":[`)-len(`"entries":[`):cut("\n],")], "", 1), `"tiles":{`, text[cut(`"entries":[`)-len(`"entries":[`):cut("\n],")]+`"tiles":{`, 1), nil, okVerdict, ""},
		{"cut after the tiles' brace", text[:cut(`"tiles":{`)], nil, unreadable, `read bundle: field "tiles": unexpected EOF`},
		{"cut after a tile", text[:cut(`"tiles":{`)+1+strings.Index(text[cut(`"tiles":{`)+1:], ",")], nil, unreadable, `read bundle: field "tiles": unexpected EOF`},
		{"a read error after a tile", text[:cut(`"tiles":{`)+1+strings.Index(text[cut(`"tiles":{`)+1:], ",")+1], errors.New("disk on fire"), unreadable, `read bundle: field "tiles": disk on fire`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := outcomeOf(t, []byte(tt.in), tt.readErr, opts)
			var want outcome
			bundle.WithoutFastEntries(func() { want = outcomeOf(t, []byte(tt.in), tt.readErr, opts) })
			sameOutcome(t, want, got)
			var first string
			if len(got.Report.Problems) > 0 {
				first = got.Report.Problems[0].Message
			}
			if got.Report.Verdict() != tt.verdict || first != tt.problem {
				t.Errorf("got %q, first problem %q\nwant %q, %q", got.Report.Verdict(), first, tt.verdict, tt.problem)
			}
		})
	}
}

// FuzzVerifyReader: whatever the bundle, the fast decoding of entries reads and verifies it
// exactly as encoding/json did.
func FuzzVerifyReader(f *testing.F) {
	canonical, opts := verifyFixture(f, 10)
	f.Add(canonical)
	f.Add([]byte(`{"format":"contrail-log-bundle/v1","origin":"contrail/acme","first":0,"next":1,"checkpoint":"c","entries":[` + "\n" +
		`{"index":0,"leaf":"\ud83d\ude00"},` + "\n" + `{"index":1,"leaf":"x"}` + "\n" + `],"tiles":{` + "\n" + `"tile/0/000":"AAAA",` + "\n" + `"tile/0/000":"=="` + "\n" + `}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		got := outcomeOf(t, in, nil, opts)
		var want outcome
		bundle.WithoutFastEntries(func() { want = outcomeOf(t, in, nil, opts) })
		sameOutcome(t, want, got)
	})
}
