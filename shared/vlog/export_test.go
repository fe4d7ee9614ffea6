package vlog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/tenant"
	"github.com/contrail/contrail/shared/vlog/bundle"
)

// The audit table's keys and retention in these tests (as make run's).
var (
	testAuditKeys = audit.Keys{Shards: 4}
	testRetention = audit.RetentionDays(400, 400, 400, 30)
)

// sampleEvents returns n contact events of tenant on day, one a second from second `from`,
// personal fields sealed (pii1:...) as the audit table and the archive hold them.
func sampleEvents(tn tenant.ID, day string, from, n int) []audit.Event {
	base, _ := time.Parse(time.DateOnly, day)
	gen := ident.NewGenerator(func() time.Time { return base })
	evs := make([]audit.Event, n)
	for i := range evs {
		at := base.Add(time.Duration(from+i) * time.Second)
		evs[i] = audit.Event{
			ID: gen.At(at), TenantID: tn, OccurredAt: audit.FormatTime(at), RecordedAt: audit.FormatTime(at.Add(7 * time.Millisecond)),
			Type: "CONTACT_ADDED", Category: "contact", Actor: audit.Actor{Type: audit.ActorUser, ID: "u-1", Name: "Ana <Lima>"},
			Contact: &audit.ContactRef{ID: fmt.Sprintf("c-%04d", from+i), Name: fmt.Sprintf("pii1:c2VhbGVk%04d", from+i)},
			Source:  "manual", Channel: "email", Data: map[string]any{"email": fmt.Sprintf("pii1:ZW1haWw%04d", from+i), "n": from + i},
			Context: &audit.Context{IP: "203.0.113.9", RequestID: fmt.Sprintf("req-%d", from+i)},
		}
	}
	return evs
}

// rowsOf converts events into their archive rows.
func rowsOf(t testing.TB, evs []audit.Event) []archive.Row {
	t.Helper()
	rows, err := archive.FromEvents(evs)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// record stores events as the stack does: in the audit table (when inTable; an event the
// table no longer holds is only in the archive), then archived with a sequence marker.
func (h *harness) record(evs []audit.Event, inTable bool) []archive.Row {
	h.t.Helper()
	if inTable {
		for i := range evs {
			item, err := testAuditKeys.Item(&evs[i], testRetention)
			if err != nil {
				h.t.Fatal(err)
			}
			if _, err := h.db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(h.tables["AuditTable"]), Item: item}); err != nil {
				h.t.Fatal(err)
			}
		}
	}
	rows := rowsOf(h.t, evs)
	h.archiveRows(rows)
	return rows
}

// exporter returns the verifiable export over the harness's tables and archive.
func (h *harness) exporter() *Exporter {
	return &Exporter{Log: h.newLog(), AuditTable: h.tables["AuditTable"], AuditKeys: testAuditKeys, Retention: testRetention, Clock: h.Now}
}

// latestSigned returns the tenant's latest checkpoint as published.
func (h *harness) latestSigned(tn tenant.ID) []byte {
	h.t.Helper()
	key, _ := CheckpointKey(tn)
	b, err := h.archive.Get(context.Background(), key)
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

// wantBundle is the bundle an honest export of [from, to) must be: every leaf of the log
// (ids in leaf order, leaves by id, times by id) from the period's first event to its last,
// the latest checkpoint, and the tiles of the whole tree recomputed in memory.
func wantBundle(t testing.TB, tn tenant.ID, from, to time.Time, ids []string, leaves map[string][]byte, signed []byte) *bundle.Bundle {
	t.Helper()
	hashes := make([]tlog.Hash, len(ids))
	first, next := int64(len(ids)), int64(len(ids))
	found := false
	for i, id := range ids {
		hashes[i] = tlog.RecordHash(leaves[id])
		var f struct {
			At string `json:"occurred_at"`
		}
		if err := jsonUnmarshal(leaves[id], &f); err != nil {
			t.Fatal(err)
		}
		at, _ := time.Parse(time.RFC3339Nano, f.At)
		if !at.Before(from) && at.Before(to) {
			if !found {
				first, found = int64(i), true
			}
			next = int64(i) + 1
		}
	}
	tiles, _, err := bundle.TileSetFromLeafHashes(hashes)
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle.Bundle{
		Header: bundle.Header{Format: bundle.Format, Origin: Origin(tn), From: from, To: to, First: first, Next: next, Checkpoint: string(signed)},
		Tiles:  tiles,
	}
	for i := first; i < next; i++ {
		b.Entries = append(b.Entries, bundle.Entry{Index: i, Leaf: leaves[ids[i]]})
	}
	return b
}

// TestExportBundle: the verifiable export of a period, on the real stand-ins, is exactly the
// log's leaves from the period's first event to its last (events recorded late included, with
// the leaves between them), the latest checkpoint and every tile; it passes contrail-verify's
// checks (bundle.VerifyReader) with the tenant's key; another tenant's events, in the same
// table, archive and days, never appear. Leaves come from the audit table while it keeps the
// events and from the archive otherwise (not in the table any more, or past its retention).
func TestExportBundle(t *testing.T) {
	h := newHarness(t)
	batch1 := h.record(sampleEvents("acme", "2026-11-30", 0, 120), true)
	other := h.record(sampleEvents("globex", "2026-11-30", 0, 30), true)
	if err := h.run(h.newLog()); err != nil {
		t.Fatal(err)
	}
	batch2 := h.record(sampleEvents("acme", "2026-12-01", 0, 100), false) // no longer in the table
	late := h.record(sampleEvents("acme", "2026-11-30", 200, 5), true)    // occurred in the period, recorded late
	if err := h.run(h.newLog()); err != nil {
		t.Fatal(err)
	}
	batch3 := h.record(sampleEvents("acme", "2026-12-01", 100, 50), true)
	if err := h.run(h.newLog()); err != nil {
		t.Fatal(err)
	}
	leaves := leavesOf(t, batch1, batch2, late, batch3, other)
	ids := h.verify("acme", leaves)
	signed := h.latestSigned("acme")
	from, to := time.Date(2026, 11, 30, 0, 1, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 30, 0, time.UTC)

	tests := []struct {
		name     string
		tenant   tenant.ID
		from, to time.Time
		prepare  func(x *Exporter)
		// the leaves the bundle must hold: [first, next) of the log
		first, next int64
		verdict     string
	}{
		{"the period, leaves from the table and the archive", "acme", from, to, nil, 60, 225,
			"OK contrail/acme: 165 events [60,225) verified against checkpoint 275 signed 2026-12-01T10:00:05Z"},
		{"resolved 7 leaves at a time", "acme", from, to, func(x *Exporter) { x.Chunk = 7 }, 60, 225,
			"OK contrail/acme: 165 events [60,225) verified against checkpoint 275 signed 2026-12-01T10:00:05Z"},
		{"past the table's retention: every leaf from the archive", "acme", from, to, func(x *Exporter) {
			x.Clock = func() time.Time { return h.Now().Add(2 * 365 * 24 * time.Hour) }
		}, 60, 225, "OK contrail/acme: 165 events [60,225) verified against checkpoint 275 signed 2026-12-01T10:00:05Z"},
		{"the whole log", "acme", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), nil, 0, 275,
			"OK contrail/acme: 275 events [0,275) verified against checkpoint 275 signed 2026-12-01T10:00:05Z"},
		{"a period without events: an empty range at the end", "acme", time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC), nil, 275, 275,
			"OK contrail/acme: 0 events [275,275) verified against checkpoint 275 signed 2026-12-01T10:00:05Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := h.exporter()
			if tt.prepare != nil {
				tt.prepare(x)
			}
			var buf bytes.Buffer
			n, err := x.WriteBundle(context.Background(), &buf, tt.tenant, tt.from, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			want := wantBundle(t, tt.tenant, tt.from, tt.to, ids, leaves, signed)
			if want.First != tt.first || want.Next != tt.next || n != tt.next-tt.first {
				t.Fatalf("%d entries; the test expects [%d,%d), the log gives [%d,%d)", n, tt.first, tt.next, want.First, want.Next)
			}
			got, err := bundle.Read(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("bundle (-want +got):\n%s", d)
			}
			if bytes.Contains(buf.Bytes(), []byte("globex")) {
				t.Errorf("acme's bundle holds globex's data")
			}
			opts := bundle.Options{Keys: []string{h.signer.VerifierKey()}, Tenant: "acme", Now: h.Now()}
			streamed, err := bundle.VerifyReader(bytes.NewReader(buf.Bytes()), opts)
			if err != nil {
				t.Fatal(err)
			}
			whole, err := bundle.Verify(got, opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, rep := range []bundle.Report{streamed, whole} {
				if rep.Verdict() != tt.verdict || len(rep.Problems) > 0 {
					t.Errorf("verdict %q %v, want %q", rep.Verdict(), rep.Problems, tt.verdict)
				}
			}
		})
	}
	t.Run("a tenant without a log", func(t *testing.T) {
		_, err := h.exporter().WriteBundle(context.Background(), &bytes.Buffer{}, "initech", from, to)
		if !errors.Is(err, ErrNoLog) {
			t.Errorf("error %v, want ErrNoLog", err)
		}
	})
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
