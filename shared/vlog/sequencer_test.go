package vlog

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/piitest"
	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/ident"
)

// archiveRows writes rows through the archiver's write path: parts and sequence markers.
func (h *harness) archiveRows(rows ...[]archive.Row) {
	h.t.Helper()
	var all []archive.Row
	for _, rs := range rows {
		all = append(all, rs...)
	}
	ids := make([]string, len(all))
	for i := range all {
		ids[i] = all[i].EventID
	}
	a := &archive.Archiver{Store: h.archive, Clock: h.Now, Log: quiet}
	if _, failed := a.Write(context.Background(), all, ids); len(failed) > 0 {
		h.t.Fatalf("archive: %d rows failed", len(failed))
	}
	h.Advance(time.Second)
}

// archiveBatches archives n batches of size sample rows of acme on 2026-12-01, one write
// each, and returns them in the order written.
func (h *harness) archiveBatches(n, size int) [][]archive.Row {
	h.t.Helper()
	batches := make([][]archive.Row, n)
	for i := range batches {
		batches[i] = sampleRows("acme", "2026-12-01", i*size, size)
		h.archiveRows(batches[i])
	}
	return batches
}

func (h *harness) run(l *Log) error {
	return (&Sequencer{Log: l}).Run(context.Background())
}

// TestSequencerWorksOffABacklog: with more markers than a run takes, the oldest go first and
// the next runs take the rest, in recorded order.
func TestSequencerWorksOffABacklog(t *testing.T) {
	h := newHarness(t)
	batches := h.archiveBatches(5, 10)
	for run, want := range []int{2, 4, 5} {
		if err := (&Sequencer{Log: h.newLog(), MaxMarkers: 2}).Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(idsOf(batches[:want]...), h.verify("acme", leavesOf(t, batches...))); d != "" {
			t.Errorf("after run %d (-want +got):\n%s", run+1, d)
		}
	}
}

func (h *harness) markers() []string { return h.keys(h.archive, archive.SequencePrefix) }

var errKilled = errors.New("killed")

// TestSequencerRecoversFromACrash: a sequencer killed after the commit (before the index items
// and tiles), after the index items (before the tiles), after the tiles (before the checkpoint)
// or before deleting the markers, then run again: no leaf lost or repeated, tiles and checkpoint complete, markers gone.
// The second batch also redelivers half the first (a retried stream batch).
func TestSequencerRecoversFromACrash(t *testing.T) {
	for _, step := range []string{"commit", "index", "tiles", "markers"} {
		t.Run(step, func(t *testing.T) {
			h := newHarness(t)
			first := sampleRows("acme", "2026-12-01", 0, 10)
			other := sampleRows("globex", "2026-12-01", 0, 4)
			h.archiveRows(first, other)
			if err := h.run(h.newLog()); err != nil {
				t.Fatal(err)
			}
			second := sampleRows("acme", "2026-12-01", 100, 270)
			h.archiveRows(first[5:], second)
			if err := h.run(h.killedLog(step)); !errors.Is(err, errKilled) {
				t.Fatalf("killed run: %v", err)
			}
			if err := h.run(h.newLog()); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(idsOf(first, second), h.verify("acme", leavesOf(t, first, second))); d != "" {
				t.Errorf("acme's log (-want +got):\n%s", d)
			}
			// The index, written after the commit, is complete: every event at its leaf.
			ids := idsOf(first, second)
			want := map[string]int64{}
			for i, id := range ids {
				want[id] = int64(i)
			}
			got, err := h.newLog().Sequenced(context.Background(), "acme", ids)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("acme's index (-want +got):\n%s", d)
			}
			if d := cmp.Diff(idsOf(other), h.verify("globex", leavesOf(t, other))); d != "" {
				t.Errorf("globex's log (-want +got):\n%s", d)
			}
			if d := cmp.Diff([]string{}, h.markers()); d != "" {
				t.Errorf("markers left (-want +got):\n%s", d)
			}
		})
	}
}

// TestSequencerMarkersDeliveredTwice: the same events in several markers (a stream batch
// retried whole, retried from the middle, an archive replay) are appended once.
func TestSequencerMarkersDeliveredTwice(t *testing.T) {
	h := newHarness(t)
	rows := sampleRows("acme", "2026-12-01", 0, 30)
	h.archiveRows(rows)
	h.archiveRows(rows)
	h.archiveRows(rows[10:])
	if err := h.run(h.newLog()); err != nil {
		t.Fatal(err)
	}
	h.archiveRows(rows[:20]) // once more, after they were sequenced
	if err := h.run(h.newLog()); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(idsOf(rows), h.verify("acme", leavesOf(t, rows))); d != "" {
		t.Errorf("log (-want +got):\n%s", d)
	}
}

// TestSequencerAfterCompaction: a part the compactor merged away before the sequencer read it
// is read from its day, keeping the marker's events and order.
func TestSequencerAfterCompaction(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	early := sampleRows("acme", "2026-12-01", 0, 5)
	h.archiveRows(early)
	if err := h.run(h.newLog()); err != nil {
		t.Fatal(err)
	}
	late := sampleRows("acme", "2026-12-01", 50, 8)
	h.archiveRows(late)
	c := &archive.Compactor{Store: h.archive, Clock: h.Now, Log: quiet}
	if _, err := c.CompactDay(ctx, "acme", "2026-12-01"); err != nil {
		t.Fatal(err)
	}
	parts, _ := h.archive.List(ctx, "events/tenant=acme/date=2026-12-01/part-")
	if len(parts) != 0 {
		t.Fatalf("parts left after compaction: %v", parts)
	}
	if err := h.run(h.newLog()); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(idsOf(early, late), h.verify("acme", leavesOf(t, early, late))); d != "" {
		t.Errorf("log (-want +got):\n%s", d)
	}
}

// TestSequencerHeartbeatWhenIdle: a run with no markers signs a fresh checkpoint only for logs
// whose last one is an hour old.
func TestSequencerHeartbeatWhenIdle(t *testing.T) {
	h := newHarness(t)
	h.archiveRows(sampleRows("acme", "2026-12-01", 0, 2))
	if err := h.run(h.newLog()); err != nil {
		t.Fatal(err)
	}
	h.Advance(30 * time.Minute)
	h.archiveRows(sampleRows("globex", "2026-12-01", 0, 2))
	if err := h.run(h.newLog()); err != nil {
		t.Fatal(err)
	}
	h.Advance(31 * time.Minute) // acme's last checkpoint is 61 minutes old, globex's 31
	if err := h.run(h.newLog()); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{
		"tenant=acme/00000000000000000002-1796119201.checkpoint",
		"tenant=acme/00000000000000000002-1796122862.checkpoint",
		"tenant=globex/00000000000000000002-1796121002.checkpoint",
	}, h.checkpointsKept("")); d != "" {
		t.Errorf("checkpoints (-want +got):\n%s", d)
	}
}

// TestErasedContactStillVerifies: events sealed under a contact's key, archived, sequenced;
// the contact is erased; the leaves (read again from the archive) still prove, and hold the
// ciphertext only, never the plaintext.
func TestErasedContactStillVerifies(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	keys := piitest.New(t)
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	gen := ident.NewGenerator(func() time.Time { return at })
	contactID := gen.New()
	var rows []archive.Row
	for i, typ := range []string{"CONTACT_ADDED", "COMMENT_ADDED"} {
		e := audit.Event{
			ID: gen.At(at.Add(time.Duration(i) * time.Second)), TenantID: "acme", Type: typ, Category: audit.CategoryOf(typ),
			OccurredAt: audit.FormatTime(at.Add(time.Duration(i) * time.Second)), RecordedAt: audit.FormatTime(at.Add(time.Duration(i) * time.Second)),
			Actor: audit.Actor{Type: audit.ActorUser, ID: "u-1", Name: "Ana"}, Source: audit.SourceManual,
			Contact: &audit.ContactRef{ID: contactID, Name: "Siti Rahayu"},
			Data:    map[string]any{"email": "siti@example.com", "text": "call Siti back"},
		}
		if typ == "COMMENT_ADDED" {
			delete(e.Data, "email")
		} else {
			delete(e.Data, "text")
		}
		keys.Seal(&e)
		row, err := archive.FromEvent(&e)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}
	h.archiveRows(rows)
	if err := h.run(h.newLog()); err != nil {
		t.Fatal(err)
	}
	keys.Erase("acme", contactID)
	leaves := map[string][]byte{}
	r := &archive.Reader{Store: h.archive}
	if err := r.ScanDay(ctx, "acme", "2026-12-01", nil, func(row *archive.Row) error {
		e, err := NewEntry(row) // now: the reader reuses row
		leaves[e.EventID] = e.Leaf
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(idsOf(rows), h.verify("acme", leaves)); d != "" {
		t.Errorf("log (-want +got):\n%s", d)
	}
	for id, leaf := range leaves {
		for _, plain := range []string{"Siti", "siti@example.com", "call"} {
			if strings.Contains(string(leaf), plain) {
				t.Errorf("leaf of %s holds %q: %s", id, plain, leaf)
			}
		}
		if strings.Count(string(leaf), `"pii1:`) != 2 {
			t.Errorf("leaf of %s does not hold the two sealed fields: %s", id, leaf)
		}
	}
}

// TestHandleScheduledEvent: the function's handler takes EventBridge's scheduled event
// (events/sequence-log-scheduled.json) and runs the sequencer once.
func TestHandleScheduledEvent(t *testing.T) {
	h := newHarness(t)
	rows := sampleRows("acme", "2026-12-01", 0, 3)
	h.archiveRows(rows)
	ev := stacktest.Sample[events.CloudWatchEvent](t, "sequence-log-scheduled.json")
	if err := (&Sequencer{Log: h.newLog()}).HandleSchedule(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(idsOf(rows), h.verify("acme", leavesOf(t, rows))); d != "" {
		t.Errorf("log (-want +got):\n%s", d)
	}
}

// TestTwoSequencersRacing: two sequencer runs over the same markers at once (a doubled
// invocation) leave one log holding each event once, in marker order per batch.
func TestTwoSequencersRacing(t *testing.T) {
	h := newHarness(t)
	all := h.archiveBatches(6, 50)
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- (&Sequencer{Log: h.newLog(), MaxConflicts: 20}).Run(context.Background()) }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if d := cmp.Diff(idsOf(all...), h.verify("acme", leavesOf(t, all...))); d != "" {
		t.Errorf("log (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{}, h.markers()); d != "" {
		t.Errorf("markers left (-want +got):\n%s", d)
	}
}

// The sequencer's process publishes its verifier keys on its first invocation, not at cold
// start (a start makes no writes), and once: later runs leave the table's keys as they are.
func TestHandleSchedulePublishesKeysOnce(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	previous, err := NewSigner("the secret's value before its rotation")
	if err != nil {
		t.Fatal(err)
	}
	l := h.newLog()
	s := &Sequencer{Log: l, previousKeys: []string{previous.VerifierKey()}}
	before, err := l.VerifierKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != 0 {
		t.Fatalf("keys before the first invocation = %q, want none", before)
	}
	want := []string{h.signer.VerifierKey(), previous.VerifierKey()}
	for run := 1; run <= 2; run++ {
		if err := s.HandleSchedule(ctx, events.CloudWatchEvent{}); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		got, err := l.VerifierKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("run %d: keys, newest first (-want +got):\n%s", run, d)
		}
	}
}
