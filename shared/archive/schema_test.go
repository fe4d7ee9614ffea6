package archive

import (
	"bytes"
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Every field of every kind of event survives item -> stream JSON -> row -> Parquet -> row
// -> event, and the stream path and the audit.Event path give the same row.
func TestRoundTripThroughParquet(t *testing.T) {
	evs := sampleEvents(t, 1, "acme", "2026-11-29", 400)
	its := items(t, evs)
	var batch StreamBatch
	if err := json.Unmarshal(streamJSON(t, inserts(its, 1)), &batch); err != nil {
		t.Fatal(err)
	}
	rows := make([]Row, 0, len(evs))
	for i, rec := range batch.Records {
		if !rec.IsEvent() {
			t.Fatalf("record %d is not an event", i)
		}
		row, err := rec.DynamoDB.NewImage.Row()
		if err != nil {
			t.Fatal(err)
		}
		fromEvent, err := FromEvent(&evs[i])
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(fromEvent, row); d != "" {
			t.Fatalf("event %s: row from event vs row from stream (-event +stream):\n%s", evs[i].ID, d)
		}
		rows = append(rows, row)
	}
	sort.Slice(rows, func(i, j int) bool { return Less(&rows[i], &rows[j]) })
	obj, err := Encode(rows, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Encode(rows, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(obj) != string(again) {
		t.Errorf("the same rows encoded twice differ")
	}
	back, err := Decode(obj)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(rows, back); d != "" {
		t.Fatalf("rows (-written +read):\n%s", d)
	}
	want := wantEvents(t, its)
	for _, r := range back {
		got, err := r.ToEvent()
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want[r.EventID], got); d != "" {
			t.Errorf("event %s (-item +archive):\n%s", r.EventID, d)
		}
	}
}

func TestCanonicalDataJSON(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"sorted keys", map[string]any{"b": 1.0, "a": "x"}, `{"a":"x","b":1}`},
		{"escapes", map[string]any{"s": "<&>\"\\\n\t\u2028\x01"}, `{"s":"<&>\"\\\n\t\u2028\u0001"}`},
		{"numbers", []any{1e21, 1e-7, 0.5, -3.0, 123456789.0}, `[1e+21,1e-7,0.5,-3,123456789]`},
		{"nested", map[string]any{"l": []any{nil, true, map[string]any{}}}, `{"l":[null,true,{}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := appendJSON(nil, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			std, _ := json.Marshal(tc.in)
			var a, b any
			json.Unmarshal(got, &a)
			json.Unmarshal(std, &b)
			if d := cmp.Diff(b, a); d != "" {
				t.Errorf("differs from encoding/json (-std +ours):\n%s", d)
			}
		})
	}
}

func TestNumberText(t *testing.T) {
	for in, want := range map[string]string{
		"0": "0", "-7": "-7", "12.50": "12.5", "1E+21": "1e+21", "1000000000000000000000": "1e+21",
		"0.0000001": "1e-7", "007": "7", "-0": "-0", "123456789012345678": "123456789012345680",
	} {
		got, err := appendNumberText(nil, in)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s: got %s, want %s", in, got, want)
		}
	}
}

// The data column's string quoting is byte-for-byte encoding/json's (HTML escaping off).
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "<&>", "\"\\\n\r\t\b\f\x00\x1f", "\u2028\u2029", "é🌺", "\xff\xfe broken", "a\xc3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var std bytes.Buffer
		enc := json.NewEncoder(&std)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		want := bytes.TrimSuffix(std.Bytes(), []byte("\n"))
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("appendJSONString(%q) = %s, encoding/json = %s", s, got, want)
		}
	})
}

// A DynamoDB number is written as the float64 it parses to, as encoding/json spells it.
func FuzzNumberText(f *testing.F) {
	for _, s := range []string{"0", "-1", "12.50", "1E+21", "0.0000001", "123456789012345678", "-0.5e-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
			return
		}
		got, err := appendNumberText(nil, s)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(v)
		if !bytes.Equal(got, want) {
			t.Errorf("appendNumberText(%q) = %s, encoding/json = %s", s, got, want)
		}
	})
}
