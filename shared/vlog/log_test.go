package vlog

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/contrail/contrail/shared/archive"
)

// TestAppendProofsVerify: appends of 1, 300 and 299 events (crossing full tiles) give a log
// whose checkpoints open with note.Open, whose every leaf proves with tlog.CheckRecord from
// the tiles in S3, and whose heads are consistent (tlog.CheckTree) with every earlier one.
func TestAppendProofsVerify(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	l := h.newLog()
	batches := [][]archive.Row{sampleRows("acme", "2026-12-01", 0, 1), sampleRows("acme", "2026-12-01", 1, 300), sampleRows("acme", "2026-12-01", 301, 299)}
	var trees []tlog.Tree
	for i, b := range batches {
		h.Advance(time.Minute)
		added, err := l.Append(ctx, "acme", entries(t, b))
		if err != nil || added != len(b) {
			t.Fatalf("append %d: %d, %v", i, added, err)
		}
		ids := h.verify("acme", leavesOf(t, batches[:i+1]...))
		if d := cmp.Diff(idsOf(batches[:i+1]...), ids); d != "" {
			t.Fatalf("log after append %d (-want +got):\n%s", i, d)
		}
		head, _ := l.Head(ctx, "acme")
		trees = append(trees, head.tree())
	}
	// The signed note: C2SP tlog-checkpoint, key name contrail, the time line.
	key, _ := CheckpointKey("acme")
	signed, err := h.archive.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(h.signer.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		t.Fatal(err)
	}
	last := trees[len(trees)-1]
	want := fmt.Sprintf("contrail/acme\n600\n%s\ntime 2026-12-01T10:03:00Z\n", last.Hash)
	if n.Text != want || n.Sigs[0].Name != "contrail" {
		t.Errorf("checkpoint %q signed by %q, want %q by contrail", n.Text, n.Sigs[0].Name, want)
	}
	thr := tlog.TileHashReader(last, newTileReader(ctx, h.archive, "acme"))
	for _, old := range trees {
		p, err := tlog.ProveTree(last.N, old.N, thr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckTree(p, last.N, last.Hash, old.N, old.Hash); err != nil {
			t.Errorf("size %d is not a prefix of %d: %v", old.N, last.N, err)
		}
	}
	// Every checkpoint also went to the checkpoint bucket, locked.
	keys := h.checkpointsKept("")
	for _, k := range keys {
		if got := h.locks.modes[k]; got != "COMPLIANCE 2026-12-31T10:03:00Z" && got != "COMPLIANCE 2026-12-31T10:02:00Z" && got != "COMPLIANCE 2026-12-31T10:01:00Z" {
			t.Errorf("%s written with lock %q", k, got)
		}
	}
	if d := cmp.Diff([]string{
		"tenant=acme/00000000000000000001-1796119260.checkpoint",
		"tenant=acme/00000000000000000301-1796119320.checkpoint",
		"tenant=acme/00000000000000000600-1796119380.checkpoint",
	}, keys); d != "" {
		t.Errorf("checkpoint bucket (-want +got):\n%s", d)
	}
}

// TestExactlyOnce: the same events again, overlapping batches and repeats inside a batch are
// appended once, in first-seen order.
func TestExactlyOnce(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	l := h.newLog()
	rows := sampleRows("acme", "2026-12-01", 0, 40)
	es := entries(t, rows)
	for _, tc := range []struct {
		name  string
		batch []Entry
		added int
	}{
		{"first half", es[:20], 20},
		{"the same again", es[:20], 0},
		{"overlapping", es[10:30], 10},
		{"repeats inside", append(append([]Entry{}, es[30:]...), es[30:]...), 10},
		{"all of it", es, 0},
	} {
		added, err := l.Append(ctx, "acme", tc.batch)
		if err != nil || added != tc.added {
			t.Errorf("%s: added %d, %v; want %d", tc.name, added, err, tc.added)
		}
	}
	if d := cmp.Diff(idsOf(rows), h.verify("acme", leavesOf(t, rows))); d != "" {
		t.Errorf("log (-want +got):\n%s", d)
	}
	// The index answers for each event, and knows nothing of another tenant's.
	got, err := l.Sequenced(ctx, "acme", idsOf(rows))
	if err != nil || len(got) != len(rows) || got[rows[39].EventID] != 39 {
		t.Errorf("index: %d events, %v", len(got), err)
	}
	other, err := l.Sequenced(ctx, "globex", idsOf(rows))
	if err != nil || len(other) != 0 {
		t.Errorf("another tenant's index: %v, %v", other, err)
	}
}

// TestRacingWritersNeverFork: two writers append overlapping batches to one tenant at once,
// retrying after each conflict. Every head either saw is a prefix of the final log, and
// every event is in it once.
func TestRacingWritersNeverFork(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	rows := sampleRows("acme", "2026-12-01", 0, 120)
	es := entries(t, rows)
	var mu sync.Mutex
	var heads []tlog.Tree
	conflicts := 0
	var wg sync.WaitGroup
	for w := range 2 {
		l := h.newLog()
		l.MaxAppend = 7
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < len(es); i += 15 {
				batch := es[i:min(i+30, len(es))] // each batch overlaps the next
				if w == 1 {
					batch = es[max(0, len(es)-i-30) : len(es)-i]
				}
				for {
					_, err := l.Append(ctx, "acme", batch)
					if errors.Is(err, ErrConflict) {
						mu.Lock()
						conflicts++
						mu.Unlock()
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
					break
				}
				head, err := l.Head(ctx, "acme")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				heads = append(heads, head.tree())
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	ids := h.verify("acme", leavesOf(t, rows))
	sorted := append([]string{}, ids...)
	sort.Strings(sorted)
	if d := cmp.Diff(idsOf(rows), sorted); d != "" {
		t.Errorf("events in the log (-want +got):\n%s", d)
	}
	// The index names each event's leaf: a writer that lost a race wrote none of its own.
	want := map[string]int64{}
	for i, id := range ids {
		want[id] = int64(i)
	}
	got, err := h.newLog().Sequenced(ctx, "acme", ids)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("index (-want +got):\n%s", d)
	}
	final, _ := h.newLog().Head(ctx, "acme")
	thr := tlog.TileHashReader(final.tree(), newTileReader(ctx, h.archive, "acme"))
	for _, old := range heads {
		p, err := tlog.ProveTree(final.Size, old.N, thr)
		if err == nil {
			err = tlog.CheckTree(p, final.Size, hashOf(final.Root), old.N, old.Hash)
		}
		if err != nil {
			t.Errorf("head %d is not a prefix of the final log: %v", old.N, err)
		}
	}
	t.Logf("%d conflicts", conflicts)
}

// TestLatestCheckpointNeverBehind: writer A signs the checkpoint of 119 leaves while writer
// B appends the 120th and signs its own; whatever order their writes land in, the latest
// checkpoint object ends as the one the head records, of all 120 leaves.
func TestLatestCheckpointNeverBehind(t *testing.T) {
	for _, tc := range []struct {
		name   string
		aStops string // A stops at its first step of this name until B is done or stopped
		bStops string // B stops at the second step of this name (the first is its checkpoint of A's 119) until A is done
	}{
		{"A's older checkpoint published after B's", "signed", ""},
		{"A's older checkpoint recorded between B's publishing and recording", "signed", "published"},
		{"B's checkpoint recorded between A's recording and publishing again", "recorded", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			ctx := context.Background()
			rows := sampleRows("acme", "2026-12-01", 0, 120)
			es := entries(t, rows)
			if _, err := h.newLog().Append(ctx, "acme", es[:100]); err != nil {
				t.Fatal(err)
			}
			a, b := h.newLog(), h.newLog()
			aAt, aGo := stopAt(a, tc.aStops, 1)
			bAt, bGo := stopAt(b, tc.bStops, 2)
			aDone, bDone := make(chan error, 1), make(chan error, 1)
			go func() { _, err := a.Append(ctx, "acme", es[100:119]); aDone <- err }()
			<-aAt
			go func() { _, err := b.Append(ctx, "acme", es[119:]); bDone <- err }()
			if tc.bStops != "" {
				<-bAt
				close(aGo)
				if err := <-aDone; err != nil {
					t.Fatalf("A: %v", err)
				}
				close(bGo)
			}
			if err := <-bDone; err != nil {
				t.Fatalf("B: %v", err)
			}
			if tc.bStops == "" {
				close(aGo)
				if err := <-aDone; err != nil {
					t.Fatalf("A: %v", err)
				}
			}
			if d := cmp.Diff(idsOf(rows), h.verify("acme", leavesOf(t, rows))); d != "" {
				t.Errorf("log (-want +got):\n%s", d)
			}
			head, err := h.newLog().Head(ctx, "acme")
			if err != nil || head.CheckpointSize != 120 {
				t.Errorf("head records checkpoint %d, %v; want 120", head.CheckpointSize, err)
			}
		})
	}
}

// stopAt makes l stop at the nth step of the name: reached is closed then, and l goes on
// once release is closed. No name: it never stops.
func stopAt(l *Log, name string, nth int) (reached, release chan struct{}) {
	reached, release = make(chan struct{}), make(chan struct{})
	seen := 0
	l.crash = func(s string) error {
		if name != "" && s == name {
			if seen++; seen == nth {
				close(reached)
				<-release
			}
		}
		return nil
	}
	return reached, release
}

// TestHeartbeat: an idle log gets a fresh checkpoint of the same tree once its last one is an
// hour old, and not before.
func TestHeartbeat(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	l := h.newLog()
	if _, err := l.Append(ctx, "acme", entries(t, sampleRows("acme", "2026-12-01", 0, 3))); err != nil {
		t.Fatal(err)
	}
	key, _ := CheckpointKey("acme")
	read := func() Checkpoint {
		b, err := h.archive.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		c, err := OpenCheckpoint(b, h.signer.VerifierKey())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	first := read()
	for _, tc := range []struct {
		after time.Duration
		want  time.Time
	}{
		{59 * time.Minute, first.Time},
		{time.Minute, first.Time.Add(time.Hour)},
		{30 * time.Minute, first.Time.Add(time.Hour)},
		{31 * time.Minute, first.Time.Add(2*time.Hour + time.Minute)},
	} {
		h.Advance(tc.after)
		if err := l.Heartbeat(ctx); err != nil {
			t.Fatal(err)
		}
		if c := read(); c.Time != tc.want || c.Size != 3 || c.Root != first.Root {
			t.Errorf("at %s: checkpoint %d %s, want size 3 at %s", h.Now().Format(time.RFC3339), c.Size, c.Time.Format(time.RFC3339), tc.want.Format(time.RFC3339))
		}
	}
	if got := h.checkpointsKept("tenant=acme/"); len(got) != 3 {
		t.Errorf("checkpoints kept %v, want 3", got)
	}
	// A tenant without a log gets none.
	if _, err := h.archive.Get(ctx, "log/tenant=globex/checkpoint"); !errors.Is(err, archive.ErrNotFound) {
		t.Errorf("globex checkpoint: %v", err)
	}
}
