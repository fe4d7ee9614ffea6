package bundle_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/vlog/bundle"
	"github.com/contrail/contrail/shared/vlog/bundle/bundletest"
)

// ev names event i as the problem lines do.
func ev(i int64) string {
	return fmt.Sprintf("%s (%s, index %d)", bundletest.EventID(i), bundletest.OccurredAt(i), i)
}

func TestVerify(t *testing.T) {
	key := bundletest.NewKey("contrail")
	other := bundletest.NewKey("contrail")
	rotated := bundletest.NewKey("contrail")
	acme := bundletest.New("acme", 600)
	cp600 := acme.Checkpoint(key, 600, bundletest.At(5, 0))
	heartbeat := acme.Checkpoint(key, 600, bundletest.At(6, 0))
	cp300 := acme.Checkpoint(key, 300, bundletest.At(3, 0))
	_, root600 := acme.Tree(600)
	// Tampered history: leaf 10 rewritten, the tree re-signed with the same key.
	forked := acme.With(10, bytes.Replace(acme.Leaves[10], []byte("CONTACT_ADDED"), []byte("CONTACT_MERGED"), 1))
	fork600 := forked.Checkpoint(key, 600, bundletest.At(5, 0))

	// tampered is the bundle of events [120,480) against cp600, changed by edit.
	tampered := func(edit func(b *bundle.Bundle)) *bundle.Bundle {
		b := acme.Bundle(120, 480, cp600)
		edit(b)
		return b
	}

	type tc struct {
		name    string
		bundle  *bundle.Bundle
		opts    func(*bundle.Options)
		verdict string
		want    []string
		// unwritable: Write refuses the bundle (entries out of index order or range).
		unwritable bool
	}
	tests := []tc{
		{
			name:    "a plain period",
			bundle:  acme.Bundle(120, 480, cp600),
			verdict: "OK contrail/acme: 360 events [120,480) verified against checkpoint 600 signed 2026-12-07T05:00:00Z",
		},
		{
			name:    "the whole log",
			bundle:  acme.Bundle(0, 600, cp600),
			verdict: "OK contrail/acme: 600 events [0,600) verified against checkpoint 600 signed 2026-12-07T05:00:00Z",
		},
		{
			name:    "a heartbeat: same size, newer time, the earlier one saved",
			bundle:  acme.Bundle(120, 480, heartbeat),
			opts:    func(o *bundle.Options) { o.Saved, o.Now = []byte(cp600), bundletest.At(7, 30) },
			verdict: "OK contrail/acme: 360 events [120,480) verified against checkpoint 600 signed 2026-12-07T06:00:00Z, consistent with saved checkpoint 600 signed 2026-12-07T05:00:00Z",
		},
		{
			name:    "a saved earlier checkpoint the log extends",
			bundle:  acme.Bundle(120, 480, cp600),
			opts:    func(o *bundle.Options) { o.Saved = []byte(cp300) },
			verdict: "OK contrail/acme: 360 events [120,480) verified against checkpoint 600 signed 2026-12-07T05:00:00Z, consistent with saved checkpoint 300 signed 2026-12-07T03:00:00Z",
		},
		{
			name:    "a checkpoint signed by the new key while the old one is still accepted",
			bundle:  acme.Bundle(120, 480, acme.Checkpoint(rotated, 600, bundletest.At(5, 0))),
			opts:    func(o *bundle.Options) { o.Keys = append(o.Keys, rotated.Vkey) },
			verdict: "OK contrail/acme: 360 events [120,480) verified against checkpoint 600 signed 2026-12-07T05:00:00Z",
		},
		{
			name:    "a quiet period: no event, the tree unchanged",
			bundle:  acme.Bundle(600, 600, heartbeat),
			opts:    func(o *bundle.Options) { o.Now = bundletest.At(6, 10) },
			verdict: "OK contrail/acme: 0 events [600,600) verified against checkpoint 600 signed 2026-12-07T06:00:00Z",
		},
		{
			name:    "a checkpoint without a time line",
			bundle:  acme.Bundle(120, 480, bundletest.Sign(key, bundle.Checkpoint{Origin: "contrail/acme", Size: 600, Root: root600}.Body())),
			verdict: "FAIL contrail/acme: 1 problem in events [120,480) against checkpoint 600 (no signing time)",
			want:    []string{"the checkpoint has no time line: its freshness cannot be checked"},
		},
		{
			name:   "a saved checkpoint of another tenant",
			bundle: acme.Bundle(120, 480, cp600),
			opts: func(o *bundle.Options) {
				o.Saved = []byte(bundletest.New("globex", 10).Checkpoint(key, 10, bundletest.At(3, 0)))
			},
			verdict: "FAIL contrail/acme: 1 problem in events [120,480) against checkpoint 600 signed 2026-12-07T05:00:00Z",
			want:    []string{"the saved checkpoint is of contrail/globex, not contrail/acme"},
		},
		{
			name:    "a period ending at the checkpoint's size",
			bundle:  acme.Bundle(590, 600, cp600),
			verdict: "OK contrail/acme: 10 events [590,600) verified against checkpoint 600 signed 2026-12-07T05:00:00Z",
		},
		{
			name: "one byte of one event edited",
			bundle: tampered(func(b *bundle.Bundle) {
				b.Entries[200-120].Leaf = bytes.Replace(b.Entries[200-120].Leaf, []byte("AbC0200"), []byte("AbC0201"), 1)
			}),
			verdict: "FAIL contrail/acme: 1 problem in events [120,480) against checkpoint 600 signed 2026-12-07T05:00:00Z",
			want:    []string{"event " + bundletest.EventID(200) + " at index 200 was altered: its bytes are not the leaf the log recorded at that index"},
		},
		{
			name: "one event deleted",
			bundle: tampered(func(b *bundle.Bundle) {
				b.Entries = append(b.Entries[:300-120], b.Entries[301-120:]...)
			}),
			verdict: "FAIL contrail/acme: 1 problem in events [120,480) against checkpoint 600 signed 2026-12-07T05:00:00Z",
			want:    []string{"index 300 missing: an event between " + ev(299) + " and " + ev(301) + " was deleted"},
		},
		{
			name: "three events deleted, the first of the period among them",
			bundle: tampered(func(b *bundle.Bundle) {
				b.Entries = b.Entries[3:]
			}),
			verdict: "FAIL contrail/acme: 1 problem in events [120,480) against checkpoint 600 signed 2026-12-07T05:00:00Z",
			want:    []string{"indices 120-122 missing: 3 events between the start of the bundle and " + ev(123) + " were deleted"},
		},
		{
			name: "one event deleted and the later ones renumbered to close the gap",
			bundle: tampered(func(b *bundle.Bundle) {
				b.Entries = append(b.Entries[:300-120], b.Entries[301-120:]...)
				for i := 300 - 120; i < len(b.Entries); i++ {
					b.Entries[i].Index--
				}
			}),
			verdict: "FAIL contrail/acme: 2 problems in events [120,480) against checkpoint 600 signed 2026-12-07T05:00:00Z",
			want: []string{
				"index 479 missing: an event between " + bundletest.EventID(479) + " (" + bundletest.OccurredAt(479) + ", index 478) and the end of the bundle was deleted",
				"events at indices 300-478 are those the log recorded at 301-479: events were reordered (moved by -1)",
			},
		},
		{
			name: "two events swapped",
			bundle: tampered(func(b *bundle.Bundle) {
				e := b.Entries
				e[250-120].Leaf, e[251-120].Leaf = e[251-120].Leaf, e[250-120].Leaf
			}),
			verdict: "FAIL contrail/acme: 1 problem in events [120,480) against checkpoint 600 signed 2026-12-07T05:00:00Z",
			want: []string{"events swapped: event " + bundletest.EventID(251) + " is at index 250 and event " + bundletest.EventID(250) +
				" at index 251, each where the log recorded the other"},
		},
		{
			name: "an index given twice",
			bundle: tampered(func(b *bundle.Bundle) {
				b.Entries = append(b.Entries[:131-120], append([]bundle.Entry{b.Entries[130-120]}, b.Entries[131-120:]...)...)
			}),
			verdict:    "FAIL contrail/acme: 1 problem in events [120,480) against checkpoint 600 signed 2026-12-07T05:00:00Z",
			want:       []string{"index 130 is given twice: " + ev(130) + " and " + ev(130)},
			unwritable: true,
		},
		{
			name: "an event given twice, the second time in place of the next one",
			bundle: tampered(func(b *bundle.Bundle) {
				b.Entries[131-120].Leaf = acme.Leaves[130]
			}),
			verdict: "FAIL contrail/acme: 2 problems in events [120,480) against checkpoint 600 signed 2026-12-07T05:00:00Z",
			want: []string{
				"event " + bundletest.EventID(130) + " appears twice, at indices 130 and 131",
				"event " + bundletest.EventID(130) + " is at index 131, but the log recorded it at index 130: events were reordered",
			},
		},
		{
			name: "an event outside the bundle's range",
			bundle: tampered(func(b *bundle.Bundle) {
				b.Entries = append(b.Entries, bundle.Entry{Index: 480, Leaf: acme.Leaves[480]})
			}),
			verdict:    "FAIL contrail/acme: 1 problem in events [120,480) against checkpoint 600 signed 2026-12-07T05:00:00Z",
			want:       []string{ev(480) + " lies outside the bundle's range [120,480)"},
			unwritable: true,
		},
		{
			name:    "the newest events removed with the checkpoints after them, caught by the saved checkpoint",
			bundle:  acme.Bundle(120, 480, acme.Checkpoint(key, 500, bundletest.At(4, 0))),
			opts:    func(o *bundle.Options) { o.Saved = []byte(cp600) },
			verdict: "FAIL contrail/acme: 1 problem in events [120,480) against checkpoint 500 signed 2026-12-07T04:00:00Z",
			want:    []string{"the log shrank from 600 to 500: the newest events were removed (saved checkpoint 600 signed 2026-12-07T05:00:00Z; the bundle's checkpoint 500 signed 2026-12-07T04:00:00Z)"},
		},
		{
			name:    "the newest events removed with the checkpoints after them, caught by freshness",
			bundle:  acme.Bundle(120, 480, acme.Checkpoint(key, 500, bundletest.At(3, 0))),
			verdict: "FAIL contrail/acme: 1 problem in events [120,480) against checkpoint 500 signed 2026-12-07T03:00:00Z",
			want:    []string{"stale: newest checkpoint is from 2026-12-07T03:00:00Z, 2h30m0s before 2026-12-07T05:30:00Z (at most 2h0m0s allowed); events after it may have been cut off"},
		},
		{
			name:    "a fork: another tree of the same size, against the saved checkpoint",
			bundle:  forked.Bundle(120, 480, fork600),
			opts:    func(o *bundle.Options) { o.Saved = []byte(cp600) },
			verdict: "FAIL contrail/acme: 1 problem in events [120,480) against checkpoint 600 signed 2026-12-07T05:00:00Z",
			want:    []string{"fork: the saved checkpoint 600 signed 2026-12-07T05:00:00Z and the bundle's checkpoint 600 signed 2026-12-07T05:00:00Z are trees of the same size with different roots: the log was rewritten"},
		},
		{
			name:    "a fork: a rewritten history that does not extend the saved smaller checkpoint",
			bundle:  forked.Bundle(120, 480, fork600),
			opts:    func(o *bundle.Options) { o.Saved = []byte(cp300) },
			verdict: "FAIL contrail/acme: 1 problem in events [120,480) against checkpoint 600 signed 2026-12-07T05:00:00Z",
			want:    []string{"fork: the bundle's checkpoint 600 signed 2026-12-07T05:00:00Z does not extend the saved checkpoint 300 signed 2026-12-07T03:00:00Z: the log's first 300 events were rewritten"},
		},
		{
			name:    "a checkpoint forged with another key",
			bundle:  acme.Bundle(120, 480, acme.Checkpoint(other, 600, bundletest.At(5, 0))),
			verdict: "FAIL contrail/acme: 1 problem in events [120,480); the checkpoint did not verify",
			want: []string{fmt.Sprintf("checkpoint: not signed by any given key: it is signed only by contrail+%08x (forged, or signed by a key this verifier was not given)",
				other.Signer.KeyHash())},
		},
		{
			name:    "a checkpoint whose text was changed after signing",
			bundle:  acme.Bundle(120, 480, string(bytes.Replace([]byte(cp600), []byte("\n600\n"), []byte("\n480\n"), 1))),
			verdict: "FAIL contrail/acme: 1 problem in events [120,480); the checkpoint did not verify",
			want: []string{fmt.Sprintf("checkpoint: the signature by contrail+%08x does not verify: the checkpoint's text was changed after it was signed",
				key.Signer.KeyHash())},
		},
		{
			name:    "a saved checkpoint forged with another key",
			bundle:  acme.Bundle(120, 480, cp600),
			opts:    func(o *bundle.Options) { o.Saved = []byte(acme.Checkpoint(other, 300, bundletest.At(3, 0))) },
			verdict: "FAIL contrail/acme: 1 problem in events [120,480) against checkpoint 600 signed 2026-12-07T05:00:00Z",
			want: []string{fmt.Sprintf("saved checkpoint: not signed by any given key: it is signed only by contrail+%08x (forged, or signed by a key this verifier was not given)",
				other.Signer.KeyHash())},
		},
		{
			name: "a full tile edited",
			bundle: tampered(func(b *bundle.Bundle) {
				b.Tiles["tile/0/001"][5] ^= 1
			}),
			verdict: "FAIL contrail/acme: 2 problems in events [120,480) against checkpoint 600 signed 2026-12-07T05:00:00Z",
			want: []string{
				"tile tile/0/001 was altered: its hashes do not add up to hash 1 of tile tile/1/000.p/2, which the checkpoint's root covers",
				"events at indices 256-479 were not checked: tile tile/0/001 (or one above it) did not verify",
			},
		},
		{
			name: "a right-edge tile edited",
			bundle: tampered(func(b *bundle.Bundle) {
				b.Tiles["tile/1/000.p/2"][40] ^= 1
			}),
			verdict: "FAIL contrail/acme: 3 problems in events [120,480) against checkpoint 600 signed 2026-12-07T05:00:00Z",
			want: []string{
				"tiles tile/0/002.p/88, tile/1/000.p/2 do not hash to the root of checkpoint 600 signed 2026-12-07T05:00:00Z: at least one of them was altered",
				"events at indices 120-255 were not checked: tile tile/0/000 (or one above it) did not verify",
				"events at indices 256-479 were not checked: tile tile/0/001 (or one above it) did not verify",
			},
		},
		{
			name: "a tile missing and one too many",
			bundle: tampered(func(b *bundle.Bundle) {
				b.Tiles["tile/0/003"] = b.Tiles["tile/0/000"]
				delete(b.Tiles, "tile/0/000")
			}),
			verdict: "FAIL contrail/acme: 3 problems in events [120,480) against checkpoint 600 signed 2026-12-07T05:00:00Z",
			want: []string{
				"tile tile/0/003 is not a tile of the tree of checkpoint 600 signed 2026-12-07T05:00:00Z",
				"tile tile/0/000 is missing",
				"no event was checked: the bundle does not hold every tile of the tree of checkpoint 600 signed 2026-12-07T05:00:00Z",
			},
		},
		{
			name:    "another tenant's bundle",
			bundle:  acme.Bundle(120, 480, cp600),
			opts:    func(o *bundle.Options) { o.Tenant = "globex" },
			verdict: "FAIL contrail/globex: 2 problems in events [120,480); the checkpoint did not verify",
			want: []string{
				"the bundle is of contrail/acme, not contrail/globex",
				"the checkpoint is of contrail/acme, not contrail/globex",
			},
		},
		{
			name:    "a bundle claiming more than its checkpoint holds",
			bundle:  acme.Bundle(120, 480, acme.Checkpoint(key, 400, bundletest.At(5, 0))),
			verdict: "FAIL contrail/acme: 1 problem in events [120,480) against checkpoint 400 signed 2026-12-07T05:00:00Z",
			want:    []string{"the bundle claims events up to index 479, but checkpoint 400 signed 2026-12-07T05:00:00Z holds only 400"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := bundle.Options{Keys: []string{key.Vkey}, Tenant: "acme", Now: bundletest.At(5, 30)}
			if tt.opts != nil {
				tt.opts(&opts)
			}
			rep, err := bundle.Verify(tt.bundle, opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := rep.Verdict(); got != tt.verdict {
				t.Errorf("verdict:\n got %s\nwant %s", got, tt.verdict)
			}
			var got []string
			for _, p := range rep.Problems {
				got = append(got, p.Message)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if rep.OK() != (len(tt.want) == 0) {
				t.Errorf("OK() = %v with problems %q", rep.OK(), got)
			}
			// The same bundle written and read back in one pass verifies the same way (Write
			// refuses what tt.unwritable says).
			var buf bytes.Buffer
			if err := bundle.Write(&buf, tt.bundle); err != nil {
				if tt.unwritable {
					return
				}
				t.Fatal(err)
			}
			rep2, err := bundle.VerifyReader(&buf, opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(rep, rep2); diff != "" {
				t.Errorf("VerifyReader differs from Verify (-Verify +VerifyReader):\n%s", diff)
			}
		})
	}
}

// TestVerifyProblemFields: besides its message, a problem says its kind and the index,
// event and tile it concerns, for a program (the console, an exporter's self-check) to act on.
func TestVerifyProblemFields(t *testing.T) {
	key := bundletest.NewKey("contrail")
	acme := bundletest.New("acme", 600)
	b := acme.Bundle(120, 480, acme.Checkpoint(key, 520, bundletest.At(4, 0)))
	b.Entries[200-120].Leaf = bytes.Replace(acme.Leaves[200], []byte("u-7"), []byte("u-9"), 1)
	e := b.Entries
	e[250-120].Leaf, e[251-120].Leaf = e[251-120].Leaf, e[250-120].Leaf
	b.Entries = append(b.Entries[:300-120], b.Entries[301-120:]...)
	b.Tiles["tile/0/001"][0] ^= 1
	rep, err := bundle.Verify(b, bundle.Options{Keys: []string{key.Vkey}, Tenant: "acme", Now: bundletest.At(6, 30),
		Saved: []byte(acme.Checkpoint(key, 600, bundletest.At(5, 0)))})
	if err != nil {
		t.Fatal(err)
	}
	for i := range rep.Problems {
		rep.Problems[i].Message = "" // TestVerify checks the messages
	}
	want := []bundle.Problem{
		{Kind: bundle.KindMissing, Index: 300},
		{Kind: bundle.KindTile, Index: -1, Tile: "tile/0/001"},
		{Kind: bundle.KindUnchecked, Index: 256, Tile: "tile/0/001"},
		{Kind: bundle.KindAltered, Index: 200, EventID: bundletest.EventID(200)},
		{Kind: bundle.KindReordered, Index: 250, EventID: bundletest.EventID(251)},
		{Kind: bundle.KindShrank, Index: 520},
		{Kind: bundle.KindStale, Index: -1},
	}
	if diff := cmp.Diff(want, rep.Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}
