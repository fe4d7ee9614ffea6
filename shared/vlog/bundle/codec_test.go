package bundle_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/vlog/bundle"
	"github.com/contrail/contrail/shared/vlog/bundle/bundletest"
)

func TestWriteRead(t *testing.T) {
	key := bundletest.NewKey("contrail")
	log := bundletest.New("acme", 300)
	// Leaves travel as JSON strings: quotes, <, >, & and non-ASCII come back byte for byte.
	log.Leaves[11] = []byte(`{"data":{"note":"<b>Zoë & \"Ada\"</b> \\ ☃"},"event_id":"e11","occurred_at":"2026-12-06T19:11:00.000Z","type":"CONTACT_COMMENTED"}`)
	b := log.Bundle(10, 13, log.Checkpoint(key, 300, bundletest.At(5, 0)))
	var buf bytes.Buffer
	if err := bundle.Write(&buf, b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	wantStart := `{"format":"contrail-log-bundle/v1","origin":"contrail/acme","from":"2026-12-06T19:10:00Z","to":"2026-12-06T19:13:00Z","first":10,"next":13,"checkpoint":"contrail/acme\n300\n`
	if !strings.HasPrefix(lines[0], wantStart) {
		t.Errorf("first line %q, want it to start %q", lines[0], wantStart)
	}
	if lines[1] != `"entries":[` || lines[2] != `{"index":10,"leaf":`+quote(log.Leaves[10])+`},` {
		t.Errorf("entries start:\n%s\n%s", lines[1], lines[2])
	}
	got, err := bundle.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(b, got); diff != "" {
		t.Errorf("read back (-written +read):\n%s", diff)
	}
}

// quote is leaf as the writer puts it in a JSON string.
func quote(leaf []byte) string {
	return `"` + strings.ReplaceAll(string(leaf), `"`, `\"`) + `"`
}

func TestWriterRefuses(t *testing.T) {
	h := bundle.Header{Origin: "contrail/acme", First: 10, Next: 20}
	tests := []struct {
		name    string
		entries []bundle.Entry
		want    string
	}{
		{"before first", []bundle.Entry{{Index: 9, Leaf: []byte("{}")}}, "write bundle entry 9: outside [10,20)"},
		{"at next", []bundle.Entry{{Index: 20, Leaf: []byte("{}")}}, "write bundle entry 20: outside [10,20)"},
		{"out of order", []bundle.Entry{{Index: 12, Leaf: []byte("{}")}, {Index: 11, Leaf: []byte("{}")}}, "write bundle entry 11: after entry 12; entries go in increasing index order"},
		{"twice", []bundle.Entry{{Index: 12, Leaf: []byte("{}")}, {Index: 12, Leaf: []byte("{}")}}, "write bundle entry 12: after entry 12; entries go in increasing index order"},
		{"not UTF-8", []bundle.Entry{{Index: 10, Leaf: []byte("{\xff}")}}, "write bundle entry 10: leaf is not valid UTF-8 and would not survive a JSON string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := bundle.NewWriter(&bytes.Buffer{}, h)
			if err != nil {
				t.Fatal(err)
			}
			var got error
			for _, e := range tt.entries {
				if got = w.Add(e); got != nil {
					break
				}
			}
			if got == nil || got.Error() != tt.want {
				t.Errorf("got %v, want %s", got, tt.want)
			}
		})
	}
	if _, err := bundle.NewWriter(&bytes.Buffer{}, bundle.Header{Format: "contrail-log-bundle/v2"}); err == nil {
		t.Error("NewWriter took format v2")
	}
	w, _ := bundle.NewWriter(&bytes.Buffer{}, h)
	if err := w.Close(map[string][]byte{"tile/8/0/000": nil}); err == nil || err.Error() != `write bundle tiles: malformed tile path "tile/8/0/000"` {
		t.Errorf("Close with an x/mod tile path: %v", err)
	}
}

func TestReadRefuses(t *testing.T) {
	const head = `{"format":"contrail-log-bundle/v1","origin":"contrail/acme","first":0,"next":1,"checkpoint":"c",`
	tests := []struct {
		name, in, want string
	}{
		{"empty", ``, `read bundle: bundle ends where { was expected: it was cut short`},
		{"not an object", `[]`, `read bundle: found [ where { was expected`},
		{"another format", `{"format":"contrail-log-bundle/v2"}`, `read bundle: format "contrail-log-bundle/v2" is not contrail-log-bundle/v1, the one this verifier reads`},
		{"unknown field", head + `"proofs":[]}`, `read bundle: unknown field "proofs"`},
		{"field twice", head + `"first":0}`, `read bundle: field "first" given twice`},
		{"field missing", head + `"entries":[]}`, `read bundle: field "tiles" missing`},
		{"entry without leaf", head + `"entries":[{"index":0}],"tiles":{}}`, `read bundle: field "entries": entry 0: needs both index and leaf`},
		{"entry with more", head + `"entries":[{"index":0,"leaf":"{}","hash":"x"}],"tiles":{}}`, `read bundle: field "entries": entry 0: json: unknown field "hash"`},
		{"tile not base64", head + `"entries":[],"tiles":{"tile/0/000.p/1":"!"}}`, `read bundle: field "tiles": tile tile/0/000.p/1: not base64: illegal base64 data at input byte 0`},
		{"trailing data", head + `"entries":[],"tiles":{}} {}`, `read bundle: data after the bundle's closing brace`},
		{"cut short", head + `"entries":[{"index":0,"leaf":"{}"},`, `read bundle: field "entries": entry 1: the bundle ends here: it was cut short`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bundle.Read(strings.NewReader(tt.in))
			if err == nil || err.Error() != tt.want {
				t.Errorf("got %v\nwant %s", err, tt.want)
			}
		})
	}
}

// TestWriterAddTile: tiles added one by one, in tlog's order, read back as the same bundle as
// tiles given to Close; out of order, repeated, before an entry or mixed with Close's map,
// the writer refuses.
func TestWriterAddTile(t *testing.T) {
	key := bundletest.NewKey("contrail")
	log := bundletest.New("acme", 300)
	b := log.Bundle(10, 13, log.Checkpoint(key, 300, bundletest.At(5, 0)))
	var buf bytes.Buffer
	w, err := bundle.NewWriter(&buf, b.Header)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range b.Entries {
		if err := w.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"tile/0/000", "tile/0/001.p/44", "tile/1/000.p/1"} {
		if err := w.AddTile(p, b.Tiles[p]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(nil); err != nil {
		t.Fatal(err)
	}
	got, err := bundle.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(b, got); diff != "" {
		t.Errorf("read back (-written +read):\n%s", diff)
	}

	tile := b.Tiles["tile/0/000"]
	tests := []struct {
		name string
		run  func(w *bundle.Writer) error
		want string
	}{
		{"out of order", func(w *bundle.Writer) error {
			if err := w.AddTile("tile/1/000.p/1", tile[:32]); err != nil {
				return err
			}
			return w.AddTile("tile/0/000", tile)
		}, "write bundle tile tile/0/000: after tile tile/1/000.p/1; tiles go level by level, in increasing number"},
		{"twice", func(w *bundle.Writer) error {
			if err := w.AddTile("tile/0/000", tile); err != nil {
				return err
			}
			return w.AddTile("tile/0/000", tile)
		}, "write bundle tile tile/0/000: after tile tile/0/000; tiles go level by level, in increasing number"},
		{"an entry after a tile", func(w *bundle.Writer) error {
			if err := w.AddTile("tile/0/000", tile); err != nil {
				return err
			}
			return w.Add(bundle.Entry{Index: 10, Leaf: []byte("{}")})
		}, "write bundle entry 10: the tiles have begun; entries go first"},
		{"a tile and Close's map", func(w *bundle.Writer) error {
			if err := w.AddTile("tile/0/000", tile); err != nil {
				return err
			}
			return w.Close(map[string][]byte{"tile/0/001.p/44": tile})
		}, "write bundle tiles: 1 tiles were added one by one; Close takes no more"},
		{"not a tile path", func(w *bundle.Writer) error { return w.AddTile("tile/8/0/000", tile) }, `write bundle tiles: malformed tile path "tile/8/0/000"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := bundle.NewWriter(&bytes.Buffer{}, b.Header)
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.run(w); err == nil || err.Error() != tt.want {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}
