package vlog

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/sumdb/tlog"
)

// TestTilePath: x/mod's tile paths carry the height (tile/8/...), C2SP's do not.
func TestTilePath(t *testing.T) {
	for _, tc := range []struct {
		tile tlog.Tile
		path string
	}{
		{tlog.Tile{H: 8, L: 0, N: 0, W: 256}, "tile/0/000"},
		{tlog.Tile{H: 8, L: 0, N: 0, W: 5}, "tile/0/000.p/5"},
		{tlog.Tile{H: 8, L: 1, N: 1234067, W: 256}, "tile/1/x001/x234/067"},
		{tlog.Tile{H: 8, L: 2, N: 1000, W: 17}, "tile/2/x001/000.p/17"},
	} {
		if got := TileOf(tc.tile).String(); got != tc.path {
			t.Errorf("%+v: path %q, want %q", tc.tile, got, tc.path)
		}
		p, err := ParseTilePath(tc.path)
		if err != nil {
			t.Errorf("%s: %v", tc.path, err)
			continue
		}
		if d := cmp.Diff(tc.tile, p.Tile()); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.path, d)
		}
	}
	for _, bad := range []string{
		"", "tile", "tile/", "tile/8/0/000", "tile/data/000", "tile/-1/000", "tile/0/0", "tile/0/0000", "tile/0/1000",
		"tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/05", "tile/0/000/", "tile/0/../000", "tile/0/x000/001",
		"../tile/0/000", "tile/0/000.p/5/x", "TILE/0/000", "tile/0/x001/x002/x003/x004/x005/x006/x007/x008/x009/x010/x011/x012/000",
		"tile/0/ 000", "tile/0/000?x=1", "tile/64/000",
	} {
		if p, err := ParseTilePath(bad); err == nil {
			t.Errorf("ParseTilePath(%q) = %+v, want an error", bad, p.Tile())
		}
	}
}

func FuzzParseTilePath(f *testing.F) {
	for _, s := range []string{"tile/0/000", "tile/1/x001/x234/067", "tile/0/000.p/5", "tile/data/000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseTilePath(s)
		if err != nil {
			return
		}
		if p.String() != s {
			t.Errorf("ParseTilePath(%q) gives back %q", s, p.String())
		}
	})
}
