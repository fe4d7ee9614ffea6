package vlog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/tenant"
)

// tileReader reads a tenant's tiles from the archive bucket (tlog.TileReader). A partial
// tile of a width never written (a tree size that was never a head) is cut from a wider
// one: a tile's first hashes never change as it fills.
type tileReader struct {
	ctx    context.Context
	store  archive.Store
	tenant tenant.ID

	mu    sync.Mutex
	cache map[tlog.Tile][]byte
	reads int // objects fetched
}

var _ tlog.TileReader = (*tileReader)(nil)

func newTileReader(ctx context.Context, st archive.Store, t tenant.ID) *tileReader {
	return &tileReader{ctx: ctx, store: st, tenant: t, cache: map[tlog.Tile][]byte{}}
}

func (r *tileReader) Height() int { return TileHeight }

func (r *tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := r.readTile(t)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// Reads returns how many tile objects the reader fetched.
func (r *tileReader) Reads() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reads
}

func (r *tileReader) readTile(t tlog.Tile) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if b, ok := r.cache[t]; ok {
		return b, nil
	}
	want := t.W * tlog.HashSize
	// A wider tile already read serves too.
	for w := t.W + 1; w <= 1<<TileHeight; w++ {
		if b, ok := r.cache[tlog.Tile{H: t.H, L: t.L, N: t.N, W: w}]; ok {
			return b[:want], nil
		}
	}
	key, err := tileKey(r.tenant, t)
	if err != nil {
		return nil, err
	}
	r.reads++
	b, err := r.store.Get(r.ctx, key)
	if errors.Is(err, archive.ErrNotFound) && t.W < 1<<TileHeight {
		b, err = r.wider(t)
	}
	if err != nil {
		return nil, fmt.Errorf("read tile %s of %s: %w", TileOf(t), r.tenant, err)
	}
	if len(b) < want {
		return nil, fmt.Errorf("read tile %s of %s: %d bytes, want %d", TileOf(t), r.tenant, len(b), want)
	}
	r.cache[t] = b[:want]
	return b[:want], nil
}

// wider reads the full tile or the narrowest partial tile wider than t.
func (r *tileReader) wider(t tlog.Tile) ([]byte, error) {
	full := t
	full.W = 1 << TileHeight
	key, err := tileKey(r.tenant, full)
	if err != nil {
		return nil, err
	}
	r.reads++
	b, err := r.store.Get(r.ctx, key)
	if !errors.Is(err, archive.ErrNotFound) {
		return b, err
	}
	objs, err := r.store.List(r.ctx, key+".p/")
	if err != nil {
		return nil, err
	}
	best := 0
	for _, o := range objs {
		w, err := strconv.Atoi(strings.TrimPrefix(o.Key, key+".p/"))
		if err == nil && w > t.W && (best == 0 || w < best) {
			best = w
		}
	}
	if best == 0 {
		return nil, archive.ErrNotFound
	}
	r.reads++
	return r.store.Get(r.ctx, key+".p/"+strconv.Itoa(best))
}

// hashes is a tlog.HashReader over a tree being extended: the stored hashes of the leaves
// added in memory, and below them the hashes of the tiled tree, read through
// tlog.TileHashReader (which checks every tile it reads against the tiled root) and kept.
type hashes struct {
	base  int64 // stored hash indexes below this come from the tiles
	tiles tlog.HashReader
	known map[int64]tlog.Hash
}

func newHashes(tiled tlog.Tree, tr tlog.TileReader) *hashes {
	return &hashes{base: tlog.StoredHashIndex(0, tiled.N), tiles: tlog.TileHashReader(tiled, tr), known: map[int64]tlog.Hash{}}
}

func (h *hashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var missing []int64
	for _, x := range indexes {
		if _, ok := h.known[x]; !ok {
			if x >= h.base {
				return nil, fmt.Errorf("stored hash %d is not in the log yet", x)
			}
			missing = append(missing, x)
		}
	}
	if len(missing) > 0 {
		got, err := h.tiles.ReadHashes(missing)
		if err != nil {
			return nil, fmt.Errorf("read hashes below stored hash %d: %w", h.base, err)
		}
		for i, x := range missing {
			h.known[x] = got[i]
		}
	}
	for i, x := range indexes {
		out[i] = h.known[x]
	}
	return out, nil
}

// add stores the hashes of leaf n, whose record hash is leaf.
func (h *hashes) add(n int64, leaf tlog.Hash) error {
	hs, err := tlog.StoredHashesForRecordHash(n, leaf, h)
	if err != nil {
		return fmt.Errorf("hash leaf %d: %w", n, err)
	}
	x := tlog.StoredHashIndex(0, n)
	for i, s := range hs {
		h.known[x+int64(i)] = s
	}
	return nil
}

// writeTiles writes the tiles a tree of size to adds to one of size from, from the hashes
// known. Full tiles are immutable and any writer writes the same bytes.
func writeTiles(ctx context.Context, st archive.Store, t tenant.ID, from, to int64, h tlog.HashReader) error {
	for _, tile := range tlog.NewTiles(TileHeight, from, to) {
		data, err := tlog.ReadTileData(tile, h)
		if err != nil {
			return fmt.Errorf("tile %s of %s: %w", TileOf(tile), t, err)
		}
		key, err := tileKey(t, tile)
		if err != nil {
			return err
		}
		if err := st.Put(ctx, key, data); err != nil {
			return fmt.Errorf("write tile %s of %s: %w", TileOf(tile), t, err)
		}
	}
	return nil
}
