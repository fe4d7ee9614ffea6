package report

import (
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/ident"
)

// TestLogTiesAcrossPages pages one row at a time through events sharing a millisecond,
// spread over two parts: each comes once, ordered by id within the millisecond.
func TestLogTiesAcrossPages(t *testing.T) {
	st := &archive.S3Store{Client: stacktest.S3(t), Bucket: stacktest.Bucket(t)}
	gen := ident.NewGenerator(func() time.Time { return fixtureNow })
	tie := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	var evs []audit.Event
	for i, at := range []time.Time{tie.Add(-time.Second), tie, tie, tie, tie, tie, tie.Add(time.Second)} {
		evs = append(evs, audit.Event{
			ID: gen.At(at), TenantID: "acme", OccurredAt: audit.FormatTime(at), RecordedAt: audit.FormatTime(at),
			Type: TypeAdded, Category: audit.CategoryContact, Actor: users[0], Source: audit.SourceManual,
			Contact: &audit.ContactRef{ID: fmt.Sprintf("c-%d", i), Name: "Tie"}, Data: map[string]any{},
		})
	}
	putPart(t, st, "acme", "2026-03-10", evs[:4])
	putPart(t, st, "acme", "2026-03-10", evs[2:])
	e := NewEngine(st, func() time.Time { return fixtureNow })
	p := mustPeriod(t, "2026-03-10", "2026-03-11", "")
	var got []string
	var after *Position
	for {
		rows, next, err := e.Log(context.Background(), "acme", Added, p, Filter{}, after, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			got = append(got, r.ContactID)
		}
		if next == nil {
			break
		}
		after = next
	}
	// ids grow with i at equal times (a monotonic generator), so newest first is 6, 5, ..., 0
	want := []string{"c-6", "c-5", "c-4", "c-3", "c-2", "c-1", "c-0"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
}

// FuzzCSVRecord: whatever a row holds, its CSV reads back cell for cell, no cell starts a
// formula, and a neutralised cell is the value with one leading quote.
func FuzzCSVRecord(f *testing.F) {
	for _, s := range []string{"Budi", "=1+1", "+62", "-x", "@a", "\tx", "\rx", "a,b", "\"q\"", "line\nbreak", "Ñandú 🌺", ""} {
		f.Add(s, s, s)
	}
	f.Fuzz(func(t *testing.T, name, source, user string) {
		row := Row{OccurredAt: time.UnixMilli(1_773_000_000_000).UTC(), ContactID: "c-1", ContactName: name, Source: source, UserName: user,
			PrimaryContactID: "c-1", MergedContactIDs: []string{"c-2", "c-3"}, Channel: source}
		for _, k := range Kinds {
			var b strings.Builder
			w, err := NewCSVWriter(&b, k)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(row); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			r := csv.NewReader(strings.NewReader(strings.TrimPrefix(b.String(), BOM)))
			recs, err := r.ReadAll()
			if err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			want := CSVRecord(k, row)
			// encoding/csv drops carriage returns inside quoted fields when reading (the
			// bytes written keep them): compare without them
			for i := range want {
				want[i] = strings.ReplaceAll(want[i], "\r", "")
			}
			for i := range recs[1] {
				recs[1][i] = strings.ReplaceAll(recs[1][i], "\r", "")
			}
			if d := cmp.Diff([][]string{CSVHeader(k), want}, recs); d != "" {
				t.Fatalf("%s (-want +got):\n%s", k, d)
			}
			for _, c := range CSVRecord(k, row) {
				if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
					t.Fatalf("%s: cell %q starts a formula", k, c)
				}
			}
			if got := SafeCell(name); got != name && got != "'"+name {
				t.Fatalf("SafeCell(%q) = %q", name, got)
			}
		}
	})
}
