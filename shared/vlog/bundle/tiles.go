package bundle

import (
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// heightPrefix is what x/mod's tile paths carry and C2SP's leave out: the height is fixed.
var heightPrefix = fmt.Sprintf("tile/%d/", TileHeight)

// TilePath is t's C2SP tlog-tiles path: tile/<L>/<N>[.p/<W>], N in groups of three digits
// (x001/x234/067). Unlike tlog.Tile.Path it carries no height: every Contrail tile has
// height 8.
func TilePath(t tlog.Tile) string {
	return "tile/" + strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", t.H))
}

// ParseTilePath is the inverse of TilePath: it accepts only the canonical path of a hash
// tile of height 8 (no data tiles, no leading zeros beyond the three digits, .p/W only
// for 1 ≤ W < 256).
func ParseTilePath(path string) (tlog.Tile, error) {
	rest, ok := strings.CutPrefix(path, "tile/")
	if !ok {
		return tlog.Tile{}, fmt.Errorf("malformed tile path %q: it does not start with tile/", path)
	}
	t, err := tlog.ParseTilePath(heightPrefix + rest)
	if err != nil || t.L < 0 {
		return tlog.Tile{}, fmt.Errorf("malformed tile path %q", path)
	}
	return t, nil
}

// TileSet returns every hash tile of the tree of size n, by C2SP path, reading the stored
// hashes from r (the log's store, or a tlog.TileHashReader).
func TileSet(n int64, r tlog.HashReader) (map[string][]byte, error) {
	tiles := make(map[string][]byte)
	for _, t := range tlog.NewTiles(TileHeight, 0, n) {
		data, err := tlog.ReadTileData(t, r)
		if err != nil {
			return nil, fmt.Errorf("read hashes of tile %s: %w", TilePath(t), err)
		}
		tiles[TilePath(t)] = data
	}
	return tiles, nil
}

// TileSetFromLeafHashes builds the tree of the given leaf hashes (in index order) and
// returns its tiles, by C2SP path, and its root hash.
func TileSetFromLeafHashes(leaves []tlog.Hash) (map[string][]byte, tlog.Hash, error) {
	var stored storedHashes
	for i, h := range leaves {
		if err := stored.append(int64(i), h); err != nil {
			return nil, tlog.Hash{}, err
		}
	}
	n := int64(len(leaves))
	root, err := tlog.TreeHash(n, stored)
	if err != nil {
		return nil, tlog.Hash{}, fmt.Errorf("hash the tree of %d leaves: %w", n, err)
	}
	tiles, err := TileSet(n, stored)
	return tiles, root, err
}

// storedHashes is every stored hash of a tree in memory, indexed as tlog.StoredHashIndex.
type storedHashes []tlog.Hash

func (s *storedHashes) append(n int64, leaf tlog.Hash) error {
	add, err := tlog.StoredHashesForRecordHash(n, leaf, *s)
	if err != nil {
		return fmt.Errorf("store the hashes of leaf %d: %w", n, err)
	}
	*s = append(*s, add...)
	return nil
}

func (s storedHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(s)) {
			return nil, fmt.Errorf("stored hash %d not in a tree of %d stored hashes", x, len(s))
		}
		out[i] = s[x]
	}
	return out, nil
}

// tileStore is a tlog.TileReader over a bundle's tiles. It does not trust them:
// tlog.TileHashReader authenticates what it reads against the checkpoint's root.
type tileStore map[tlog.Tile][]byte

func (tileStore) Height() int { return TileHeight }

func (s tileStore) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	data := make([][]byte, len(tiles))
	for i, t := range tiles {
		d, ok := s[t]
		if !ok {
			return nil, fmt.Errorf("tile %s missing", TilePath(t))
		}
		data[i] = d
	}
	return data, nil
}

func (tileStore) SaveTiles([]tlog.Tile, [][]byte) {}

// fullTileHash is the hash of the subtree a full tile covers: the node above its two
// halves, each hashed by tlog from the tile's data.
func fullTileHash(t tlog.Tile, data []byte) (tlog.Hash, error) {
	level := t.L*t.H + t.H - 1
	left, err := tlog.HashFromTile(t, data, tlog.StoredHashIndex(level, 2*t.N))
	if err != nil {
		return tlog.Hash{}, err
	}
	right, err := tlog.HashFromTile(t, data, tlog.StoredHashIndex(level, 2*t.N+1))
	if err != nil {
		return tlog.Hash{}, err
	}
	return tlog.NodeHash(left, right), nil
}
