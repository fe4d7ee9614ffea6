// Package bundletest builds synthetic tenant logs for tests: leaves of the canonical JSON
// shape, their tree, tiles and signed checkpoints, and bundles of any period of them.
package bundletest

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/contrail/contrail/shared/vlog/bundle"
)

// Start is when the first event of a Log occurred; event i occurred i minutes later.
var Start = time.Date(2026, 12, 6, 19, 0, 0, 0, time.UTC)

// At is 2026-12-07 hh:mm UTC, the day the tests' checkpoints are signed.
func At(hh, mm int) time.Time { return time.Date(2026, 12, 7, hh, mm, 0, 0, time.UTC) }

// Key is a generated note key pair.
type Key struct {
	Signer note.Signer
	Vkey   string
}

// NewKey generates a key named name ("contrail" for Contrail's own).
func NewKey(name string) Key {
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		panic(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		panic(err)
	}
	return Key{Signer: s, Vkey: vkey}
}

// Log is one tenant's log in memory.
type Log struct {
	Tenant string
	Leaves [][]byte
}

// New returns a log of n events of tenant.
func New(tenant string, n int) *Log {
	l := &Log{Tenant: tenant}
	for i := range n {
		l.Leaves = append(l.Leaves, Leaf(int64(i)))
	}
	return l
}

// EventID is the id of event i of a Log.
func EventID(i int64) string { return fmt.Sprintf("01JEV%021d", i) }

// OccurredAt is the time of event i of a Log, as a leaf holds it.
func OccurredAt(i int64) string {
	return Start.Add(time.Duration(i) * time.Minute).Format("2006-01-02T15:04:05.000Z")
}

// Leaf is event i in canonical stored form: sorted keys, no whitespace, personal fields
// as ciphertext.
func Leaf(i int64) []byte {
	return fmt.Appendf(nil, `{"actor":{"id":"u-7","type":"user"},"category":"contact","data":{"contactId":"c-%d","name":"enc:v1:AbC%04dxYz=="},"event_id":"%s","occurred_at":"%s","type":"CONTACT_ADDED"}`,
		i, i, EventID(i), OccurredAt(i))
}

// With returns a copy of l whose leaf i is leaf: another history of the same size.
func (l *Log) With(i int64, leaf []byte) *Log {
	c := &Log{Tenant: l.Tenant, Leaves: append([][]byte(nil), l.Leaves...)}
	c.Leaves[i] = leaf
	return c
}

// Tree returns the tiles and root of the log's first size leaves.
func (l *Log) Tree(size int64) (map[string][]byte, tlog.Hash) {
	hashes := make([]tlog.Hash, size)
	for i := range size {
		hashes[i] = bundle.LeafHash(l.Leaves[i])
	}
	tiles, root, err := bundle.TileSetFromLeafHashes(hashes)
	if err != nil {
		panic(err)
	}
	return tiles, root
}

// Checkpoint is the signed checkpoint of the log's first size leaves at time at.
func (l *Log) Checkpoint(key Key, size int64, at time.Time) string {
	_, root := l.Tree(size)
	c := bundle.Checkpoint{Origin: bundle.OriginPrefix + l.Tenant, Size: size, Root: root, Time: at}
	return Sign(key, c.Body())
}

// Sign signs a note text.
func Sign(key Key, text []byte) string {
	msg, err := note.Sign(&note.Note{Text: string(text)}, key.Signer)
	if err != nil {
		panic(err)
	}
	return string(msg)
}

// Bundle is the bundle of leaves [first, next) with the given checkpoint and the tiles of
// the tree at its size.
func (l *Log) Bundle(first, next int64, checkpoint string) *bundle.Bundle {
	body, _, _ := strings.Cut(checkpoint, "\n\n")
	c, err := bundle.ParseCheckpointBody(body + "\n")
	if err != nil {
		panic(err)
	}
	tiles, _ := l.Tree(c.Size)
	b := &bundle.Bundle{
		Header: bundle.Header{
			Format: bundle.Format, Origin: bundle.OriginPrefix + l.Tenant,
			From: Start.Add(time.Duration(first) * time.Minute), To: Start.Add(time.Duration(next) * time.Minute),
			First: first, Next: next, Checkpoint: checkpoint,
		},
		Tiles: tiles,
	}
	for i := first; i < next; i++ {
		b.Entries = append(b.Entries, bundle.Entry{Index: i, Leaf: l.Leaves[i]})
	}
	return b
}
