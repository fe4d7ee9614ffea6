package bundle_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/vlog/bundle"
	"github.com/contrail/contrail/shared/vlog/bundle/bundletest"
)

// FuzzRead: whatever Read accepts, Write writes back to the same bundle.
func FuzzRead(f *testing.F) {
	key := bundletest.NewKey("contrail")
	log := bundletest.New("acme", 5)
	var buf bytes.Buffer
	if err := bundle.Write(&buf, log.Bundle(1, 4, log.Checkpoint(key, 5, bundletest.At(5, 0)))); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(`{"format":"contrail-log-bundle/v1","origin":"o","first":0,"next":0,"checkpoint":"","entries":[],"tiles":{}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		b, err := bundle.Read(bytes.NewReader(in))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := bundle.Write(&out, b); err != nil {
			return // Read takes what Write refuses: entries out of order, tiles off the C2SP paths
		}
		again, err := bundle.Read(&out)
		if err != nil {
			t.Fatalf("Read(Write(b)): %v", err)
		}
		if diff := cmp.Diff(b, again); diff != "" {
			t.Errorf("round trip (-read +again):\n%s", diff)
		}
	})
}

// FuzzParseTilePath: an accepted path is the canonical path of its tile.
func FuzzParseTilePath(f *testing.F) {
	for _, p := range []string{"tile/0/000", "tile/1/000.p/2", "tile/0/x001/x234/067", "tile/8/0/000", "tile/data/000"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		tile, err := bundle.ParseTilePath(p)
		if err != nil {
			return
		}
		if got := bundle.TilePath(tile); got != p {
			t.Errorf("ParseTilePath(%q) = %+v, whose path is %q", p, tile, got)
		}
	})
}

// FuzzParseCheckpointBody: an accepted body formats back to itself when it has only the
// lines Contrail writes.
func FuzzParseCheckpointBody(f *testing.F) {
	f.Add("contrail/acme\n480\n7z3O0F5l8iYOkYRvzwKqSW6Iz/Gd9UVUm8wXRt9AkWg=\ntime 2026-12-07T05:00:00Z\n")
	f.Add("contrail/acme\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n")
	f.Fuzz(func(t *testing.T, body string) {
		c, err := bundle.ParseCheckpointBody(body)
		if err != nil || strings.Count(body, "\n") != 3+min(1, strings.Count(body, "\ntime ")) {
			return
		}
		if got := string(c.Body()); got != body {
			t.Errorf("ParseCheckpointBody(%q).Body() = %q", body, got)
		}
	})
}
