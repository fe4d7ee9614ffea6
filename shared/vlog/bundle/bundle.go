// Package bundle is Contrail's verifiable log bundle, format contrail-log-bundle/v1: one
// tenant's events of a period in their stored (leaf) form with their leaf indices, the
// newest signed checkpoint and every hash tile of the tree at that checkpoint, and the
// offline checks contrail-verify runs on it. Pure logic: no AWS, no network. The hashing and
// proofs are golang.org/x/mod/sumdb/tlog's, the signatures sumdb/note's.
package bundle

import (
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// Format is the value of a v1 bundle's "format" field.
const Format = "contrail-log-bundle/v1"

// TileHeight is the height of every hash tile of a Contrail log (C2SP tlog-tiles: 8, so a
// full tile holds 256 hashes).
const TileHeight = 8

// OriginPrefix starts the origin of every tenant's log: "contrail/<tenant>".
const OriginPrefix = "contrail/"

// Header is everything of a bundle but its entries and tiles.
type Header struct {
	Format string `json:"format"`
	Origin string `json:"origin"`
	// From and To are the period asked for; informational, nothing is verified against them.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// The bundle holds every leaf with index in [First, Next).
	First int64 `json:"first"`
	Next  int64 `json:"next"`
	// Checkpoint is the signed note text of the newest checkpoint at export time; its size
	// is at least Next.
	Checkpoint string `json:"checkpoint"`
}

// Entry is one leaf of the log: the event's canonical stored form, byte for byte, and its
// index in the tenant's log.
type Entry struct {
	Index int64
	Leaf  []byte
}

// Bundle is a whole bundle in memory. For a long period prefer Writer to produce one and
// VerifyReader to check one: neither holds every leaf at once.
type Bundle struct {
	Header
	Entries []Entry // in index order
	// Tiles maps a C2SP tile path ("tile/0/000", "tile/1/000.p/2") to its hashes: every
	// tile of the tree at the checkpoint's size.
	Tiles map[string][]byte
}

// LeafHash is the log's hash of a leaf (RFC 6962: SHA-256 of 0x00 and the leaf).
func LeafHash(leaf []byte) tlog.Hash { return tlog.RecordHash(leaf) }
