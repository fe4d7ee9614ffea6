package bundle_test

import (
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/contrail/contrail/shared/vlog/bundle"
	"github.com/contrail/contrail/shared/vlog/bundle/bundletest"
)

func TestTilePath(t *testing.T) {
	tests := []struct {
		tile tlog.Tile
		path string
	}{
		{tlog.Tile{H: 8, L: 0, N: 0, W: 256}, "tile/0/000"},
		{tlog.Tile{H: 8, L: 0, N: 7, W: 3}, "tile/0/007.p/3"},
		{tlog.Tile{H: 8, L: 1, N: 0, W: 2}, "tile/1/000.p/2"},
		{tlog.Tile{H: 8, L: 0, N: 999, W: 256}, "tile/0/999"},
		{tlog.Tile{H: 8, L: 0, N: 1000, W: 256}, "tile/0/x001/000"},
		{tlog.Tile{H: 8, L: 2, N: 1001, W: 44}, "tile/2/x001/001.p/44"},
		{tlog.Tile{H: 8, L: 0, N: 1234067, W: 256}, "tile/0/x001/x234/067"},
		{tlog.Tile{H: 8, L: 3, N: 1234067, W: 255}, "tile/3/x001/x234/067.p/255"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := bundle.TilePath(tt.tile); got != tt.path {
				t.Errorf("TilePath(%+v) = %q, want %q", tt.tile, got, tt.path)
			}
			got, err := bundle.ParseTilePath(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.tile {
				t.Errorf("ParseTilePath(%q) = %+v, want %+v", tt.path, got, tt.tile)
			}
		})
	}
}

func TestParseTilePathRejects(t *testing.T) {
	for _, p := range []string{
		"",
		"tile/8/0/000",         // x/mod's path, with the height
		"tiles/0/000",          // not tile/
		"tile/0/0",             // N not three digits
		"tile/0/x000/001",      // not canonical: a leading x000
		"tile/0/001/002",       // x missing on the upper group
		"tile/0/000.p/256",     // a full tile is not partial
		"tile/0/000.p/0",       // nor empty
		"tile/0/000.p/",        // width missing
		"tile/data/000",        // data tiles are not hash tiles
		"tile/-1/000",          // no negative level
		"tile/0/000/",          // trailing slash
		"tile/entries/000.p/3", // C2SP entry bundles are not hash tiles
	} {
		if tile, err := bundle.ParseTilePath(p); err == nil {
			t.Errorf("ParseTilePath(%q) = %+v, want an error", p, tile)
		}
	}
}

func TestTileSet(t *testing.T) {
	tests := []struct {
		size int64
		want []string
	}{
		{size: 1, want: []string{"tile/0/000.p/1"}},
		{size: 256, want: []string{"tile/0/000", "tile/1/000.p/1"}},
		{size: 600, want: []string{"tile/0/000", "tile/0/001", "tile/0/002.p/88", "tile/1/000.p/2"}},
	}
	for _, tt := range tests {
		log := bundletest.New("acme", int(tt.size))
		tiles, root := log.Tree(tt.size)
		if diff := cmp.Diff(tt.want, keys(tiles)); diff != "" {
			t.Errorf("size %d: tiles (-want +got):\n%s", tt.size, diff)
		}
		// The tiles hold the tree: read back through tlog, they give its leaves' hashes.
		hr := tlog.TileHashReader(tlog.Tree{N: tt.size, Hash: root}, tileReader(t, tiles))
		got, err := hr.ReadHashes([]int64{tlog.StoredHashIndex(0, tt.size-1)})
		if err != nil {
			t.Fatalf("size %d: %v", tt.size, err)
		}
		if want := bundle.LeafHash(log.Leaves[tt.size-1]); got[0] != want {
			t.Errorf("size %d: last leaf hash %v, want %v", tt.size, got[0], want)
		}
	}
}

// TestVerifyBeyondTile1000 verifies a period across the thousandth tile of level 0, where
// the tile paths gain a group (tile/0/x001/000).
func TestVerifyBeyondTile1000(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a log of 256,300 events")
	}
	const size = 256300
	key := bundletest.NewKey("contrail")
	log := bundletest.New("acme", size)
	b := log.Bundle(255990, 256010, log.Checkpoint(key, size, bundletest.At(5, 0)))
	// 1001 full tiles and one of 44 leaf hashes; 3 full and one of 233 above; the root's tile.
	if got := len(b.Tiles); got != 1002+4+1 {
		t.Errorf("%d tiles, want %d", got, 1002+4+1)
	}
	for _, p := range []string{"tile/0/999", "tile/0/x001/000", "tile/0/x001/001.p/44", "tile/1/003.p/233", "tile/2/000.p/3"} {
		if b.Tiles[p] == nil {
			t.Errorf("tile %s missing from %v...", p, keys(b.Tiles)[:5])
		}
	}
	rep, err := bundle.Verify(b, bundle.Options{Keys: []string{key.Vkey}, Tenant: "acme", Now: bundletest.At(5, 30)})
	if err != nil {
		t.Fatal(err)
	}
	if want := "OK contrail/acme: 20 events [255990,256010) verified against checkpoint 256300 signed 2026-12-07T05:00:00Z"; rep.Verdict() != want {
		t.Errorf("verdict %q, want %q; problems %v", rep.Verdict(), want, rep.Problems)
	}
}

func keys(tiles map[string][]byte) []string {
	var out []string
	for p := range tiles {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

type mapTiles map[tlog.Tile][]byte

func (mapTiles) Height() int                     { return bundle.TileHeight }
func (mapTiles) SaveTiles([]tlog.Tile, [][]byte) {}
func (m mapTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	var out [][]byte
	for _, t := range tiles {
		out = append(out, m[t])
	}
	return out, nil
}

func tileReader(t *testing.T, tiles map[string][]byte) tlog.TileReader {
	m := mapTiles{}
	for p, d := range tiles {
		tile, err := bundle.ParseTilePath(p)
		if err != nil {
			t.Fatal(err)
		}
		m[tile] = d
	}
	return m
}
