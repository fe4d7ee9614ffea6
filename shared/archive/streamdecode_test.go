package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
)

// decodeBoth decodes raw with encoding/json and with DecodeStreamBatch and fails on any
// difference in result or in whether it is an error.
func decodeBoth(t *testing.T, raw []byte) (want *StreamBatch, wantErr error) {
	t.Helper()
	var std StreamBatch
	wantErr = json.Unmarshal(raw, &std)
	got, err := DecodeStreamBatch(raw)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("DecodeStreamBatch error %v, encoding/json error %v", err, wantErr)
	}
	if wantErr != nil {
		if err.Error() != wantErr.Error() {
			t.Fatalf("DecodeStreamBatch error %q, encoding/json error %q", err, wantErr)
		}
		// The fast path must not have accepted what encoding/json rejects.
		if _, ok := (&streamDecoder{data: raw}).batch(); ok {
			t.Fatalf("fast decoder accepted input encoding/json rejects (%v)", wantErr)
		}
		return nil, wantErr
	}
	if diff := cmp.Diff(&std, got); diff != "" {
		t.Fatalf("DecodeStreamBatch differs from encoding/json (-want +got):\n%s", diff)
	}
	return &std, nil
}

// fastOnly decodes raw with the fast path alone (no fallback) and compares it with
// encoding/json: the shapes Lambda delivers must not need the fallback.
func fastOnly(t *testing.T, raw []byte) {
	t.Helper()
	var std StreamBatch
	if err := json.Unmarshal(raw, &std); err != nil {
		t.Fatal(err)
	}
	got, ok := (&streamDecoder{data: raw}).batch()
	if !ok {
		t.Fatal("fast decoder fell back to encoding/json")
	}
	if diff := cmp.Diff(&std, got); diff != "" {
		t.Fatalf("fast decoder differs from encoding/json (-want +got):\n%s", diff)
	}
}

func TestDecodeStreamBatchMatchesEncodingJSON(t *testing.T) {
	samples, err := filepath.Glob(filepath.Join(stacktest.Root(t), "events", "archiver-*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) == 0 {
		t.Fatal("no events/archiver-*.json samples")
	}
	for _, p := range samples {
		t.Run(filepath.Base(p), func(t *testing.T) {
			raw := readRepoFile(t, filepath.Join("events", filepath.Base(p)))
			fastOnly(t, raw)
			decodeBoth(t, raw)
		})
	}
	its := items(t, sampleEvents(t, 7, "acme", "2026-11-30", 300))
	recs := inserts(its, 1)
	recs = append(recs, streamRecord{Name: "REMOVE", Seq: seq(9001), Item: its[0], IsTTL: true},
		streamRecord{Name: "MODIFY", Seq: seq(9002), Item: its[1]})
	t.Run("generated", func(t *testing.T) {
		raw := streamJSON(t, recs)
		decodeBoth(t, raw)
		var indented bytes.Buffer
		if err := json.Indent(&indented, raw, "", "\t"); err != nil {
			t.Fatal(err)
		}
		decodeBoth(t, indented.Bytes())
	})
}

// TestDecodeStreamBatchEdgeCases covers the inputs where encoding/json's rules are subtle
// (escapes, invalid UTF-8, case-insensitive and repeated field names, null, types that do
// not match, binary attributes, invalid JSON): the result must be encoding/json's.
func TestDecodeStreamBatchEdgeCases(t *testing.T) {
	for _, raw := range fuzzSeeds {
		t.Run(raw, func(t *testing.T) { decodeBoth(t, []byte(raw)) })
	}
}

// TestInvokeMatchesStart checks that Archiver.Invoke answers a payload exactly as the
// handler lambda.Start(a.Handle) builds by reflection.
func TestInvokeMatchesStart(t *testing.T) {
	its := items(t, sampleEvents(t, 3, "acme", "2026-11-30", 20))
	raw := streamJSON(t, inserts(its, 1))
	for name, payload := range map[string][]byte{"batch": raw, "invalid": []byte(`{"Records":[`), "wrong type": []byte(`[]`)} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			want, wantErr := lambda.NewHandler((&Archiver{Store: &DirStore{Dir: t.TempDir()}, Log: discardLog()}).Handle).Invoke(ctx, payload)
			got, err := (&Archiver{Store: &DirStore{Dir: t.TempDir()}, Log: discardLog()}).Invoke(ctx, payload)
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("Invoke error %v, lambda handler error %v", err, wantErr)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Fatalf("response (-want +got):\n%s", diff)
			}
		})
	}
}

var fuzzSeeds = []string{
	`{}`, `null`, `[]`, `{"Records":null}`, `{"Records":[]}`, `{"Records":[null]}`, `{"Records":{}}`,
	`{"Records":[{}]}`, `{"Records":[{"eventName":"INSERT"}]} x`, `{"Records":[{"eventName":"INSERT"}]}  `,
	`{"Records":[{"eventName":"INSERT","eventName":"REMOVE"}]}`,
	`{"records":[{"EVENTNAME":"INSERT","DynamoDB":{"sequencenumber":"1"}}]}`,
	`{"Recordſ":[{"eventName":"INSERT"}]}`, `{"Rec\u006frds":[{"eventName":"INSERT"}]}`,
	`{"Records":[{"eventName":"IN\"SERT\u00e9\ud83d\ude00\ud800x\/"}]}`,
	`{"Records":[{"eventName":"\ud83d"}]}`, `{"Records":[{"eventName":"\u12"}]}`, `{"Records":[{"eventName":"\x"}]}`,
	"{\"Records\":[{\"eventName\":\"a\xffb\xc3\xa9\"}]}", "{\"Records\":[{\"eventName\":\"a\tb\"}]}",
	`{"Records":[{"eventName":5}]}`, `{"Records":[{"eventName":null}]}`,
	`{"Records":[{"dynamodb":{"NewImage":null,"SequenceNumber":"7"}}]}`,
	`{"Records":[{"dynamodb":{"NewImage":{"id":{"S":"a"},"ID":{"S":"b"}}}}]}`,
	`{"Records":[{"dynamodb":{"NewImage":{"data":{"M":{"b":{"B":"AAE="},"c":{"BS":["AA=="]}}}}}}]}`,
	`{"Records":[{"dynamodb":{"NewImage":{"data":{"M":{"a":{"L":[]},"b":{"M":{}},"c":{"SS":[]},"d":{"NS":["1","2.5"]},"e":{"NULL":true},"f":{"BOOL":false},"g":{"N":"-1e3"},"h":{"S":"x","N":"1"},"a":{"S":"dup"}}}}}}]}`,
	`{"Records":[{"dynamodb":{"NewImage":{"data":{"M":{"a":null,"b":{"L":[null]},"c":{"SS":[null]}}}}}}]}`,
	`{"Records":[{"dynamodb":{"NewImage":{"data":{"M":{"k\u00e9y":{"S":"v"},"\ud800":{"S":"lone"}}}}}}]}`,
	`{"Records":[{"dynamodb":{"NewImage":{"data":{"m":{"x":{"s":"lower"}},"X":1}}}}]}`,
	`{"Records":[{"dynamodb":{"NewImage":{"isAgent":{"BOOL":true},"contact":{"M":{"id":{"S":"c"},"type":{"S":"t"}}},"actor":{"M":{"type":{"S":"u"},"id":{"S":"i"},"name":{"S":"n"}}},"context":{"M":{"ip":{"S":"1.2.3.4"}}}}}}]}`,
	`{"Records":[{"dynamodb":{"NewImage":{"isAgent":{"BOOL":null}}}}]}`,
	`{"Records":[{"x":[1,-0.5e+3,0,true,false,null,{"a":[{}]},"s"],"dynamodb":{"ApproximateCreationDateTime":1.7643e9}}]}`,
	`{"Records":[{"x":01}]}`, `{"Records":[{"x":1.}]}`, `{"Records":[{"x":-}]}`, `{"Records":[{"x":tru}]}`,
	`{"Records":[{"x":[1,]}]}`, `{"Records":[{"x":{"a":1,}}]}`, `{"Records":[{,}]}`, `{"Records":[{"a" 1}]}`,
	`{"Records":[{"eventName":"INSERT"}],}`, `{"Records":[{"eventName":"INSERT"}]`, `{"Records"`, ``, ` `,
}

func FuzzDecodeStreamBatch(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	its := items(f, sampleEvents(f, 11, "acme", "2026-11-30", 3))
	f.Add(streamJSON(f, inserts(its, 1)))
	f.Fuzz(func(t *testing.T, raw []byte) { decodeBoth(t, raw) })
}
