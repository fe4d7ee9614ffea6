package vlog

import (
	"bytes"
	"context"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/contrail/contrail/shared/vlog/bundle"
)

// TestLogVerifiesAsABundle: the log's checkpoint, its tiles as stored in S3 and its leaves, put
// in a bundle as the verifiable export will, pass contrail-verify's checks (bundle.Verify);
// the same bundle with one byte of one leaf changed fails, naming that event.
func TestLogVerifiesAsABundle(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	rows := sampleRows("acme", "2026-12-01", 0, 300)
	h.archiveRows(rows[:100])
	if err := h.run(h.newLog()); err != nil {
		t.Fatal(err)
	}
	h.archiveRows(rows[100:])
	if err := h.run(h.newLog()); err != nil {
		t.Fatal(err)
	}
	leaves := leavesOf(t, rows)
	ids := h.verify("acme", leaves)
	key, _ := CheckpointKey("acme")
	signed, err := h.archive.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := OpenCheckpoint(signed, h.signer.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	tiles := map[string][]byte{}
	for _, tile := range tlog.NewTiles(TileHeight, 0, c.Size) {
		k, _ := TileKey("acme", TileOf(tile))
		b, err := h.archive.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		tiles[TileOf(tile).String()] = b
	}
	b := &bundle.Bundle{
		Header: bundle.Header{Format: bundle.Format, Origin: Origin("acme"), From: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
			To: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), First: 0, Next: c.Size, Checkpoint: string(signed)},
		Tiles: tiles,
	}
	for i, id := range ids {
		b.Entries = append(b.Entries, bundle.Entry{Index: int64(i), Leaf: leaves[id]})
	}
	opts := bundle.Options{Keys: []string{h.signer.VerifierKey()}, Tenant: "acme", Now: h.Now()}
	rep, err := bundle.Verify(b, opts)
	if err != nil || !rep.OK() {
		t.Fatalf("the log as a bundle: %v %s %v", err, rep.Verdict(), rep.Problems)
	}
	b.Entries[7].Leaf = bytes.Replace(b.Entries[7].Leaf, []byte(`"manual"`), []byte(`"manuaL"`), 1)
	rep, err = bundle.Verify(b, opts)
	if err != nil || rep.OK() || len(rep.Problems) != 1 || rep.Problems[0].Kind != bundle.KindAltered || rep.Problems[0].Index != 7 {
		t.Errorf("one altered byte: %v %s %+v", err, rep.Verdict(), rep.Problems)
	}
}
