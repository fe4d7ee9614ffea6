package vlog

import (
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/contrail/contrail/shared/vlog/bundle"
)

// TileHeight is the height of the log's tiles: 2^8 = 256 hashes a full tile (C2SP tlog-tiles).
const TileHeight = bundle.TileHeight

// maxTilePath bounds a tile path before parsing: ten three-digit groups of N are more than
// any log will reach.
const maxTilePath = 64

// TilePath is a valid C2SP tlog-tiles path of a hash tile: tile/<L>/<N>[.p/<W>], N in the
// x001/234 three-digit-group form. ParseTilePath is the only way to make one.
type TilePath struct{ tile tlog.Tile }

// TileOf returns the path of a tile of TileHeight.
func TileOf(t tlog.Tile) TilePath { return TilePath{t} }

// ParseTilePath parses a C2SP tile path (as the tile route receives it): bundle.ParseTilePath
// (no data tiles, no other height, only canonical numbers), on a path of bounded length and a
// level a log can have.
func ParseTilePath(s string) (TilePath, error) {
	if len(s) > maxTilePath || strings.HasPrefix(s, "tile/data/") {
		return TilePath{}, fmt.Errorf("tile path %q is not tile/<level>/<number>[.p/<width>]", s)
	}
	t, err := bundle.ParseTilePath(s)
	// Level 8 of height-8 tiles would hold more than 2^63 leaves.
	if err != nil || t.L >= 64/TileHeight {
		return TilePath{}, fmt.Errorf("tile path %q is not tile/<level>/<number>[.p/<width>]", s)
	}
	return TilePath{t}, nil
}

// Tile returns the tile.
func (p TilePath) Tile() tlog.Tile { return p.tile }

// String returns the C2SP path (x/mod's Tile.Path without the height).
func (p TilePath) String() string { return bundle.TilePath(p.tile) }
