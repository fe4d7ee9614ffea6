package source_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/piitest"
	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/export"
	"github.com/contrail/contrail/shared/export/source"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/pii"
	"github.com/contrail/contrail/shared/report"
)

// personalEvents are two days of acme's events with every kind of personal field, about
// contacts (ULIDs), the last of them legacy (plaintext), and an event with no contact.
func personalEvents() (evs []audit.Event, contacts []string) {
	first := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	gen := ident.NewGenerator(func() time.Time { return first })
	for range 5 {
		contacts = append(contacts, gen.New())
	}
	actor := audit.Actor{Type: audit.ActorUser, ID: "u-1", Name: "Rina Admin"}
	for i := range 60 {
		at := first.Add(time.Duration(i) * 47 * time.Minute)
		c := contacts[i%len(contacts)]
		e := audit.Event{ID: gen.At(at), TenantID: "acme", OccurredAt: audit.FormatTime(at), RecordedAt: audit.FormatTime(at.Add(3 * time.Millisecond)),
			Actor: actor, Source: audit.SourceManual, Contact: &audit.ContactRef{ID: c, Name: fmt.Sprintf("=Name %d, \"%d\"", i%len(contacts), i)},
			Context: &audit.Context{IP: "203.0.113.9", RequestID: fmt.Sprintf("req-%d", i)}}
		switch i % 7 {
		case 0:
			e.Type, e.Data = report.TypeAdded, map[string]any{"email": fmt.Sprintf("c%d@example.com", i), "phone": "+62 812"}
		case 1:
			e.Type, e.Channel, e.Data = report.TypeConnected, "telegram", map[string]any{"externalId": fmt.Sprintf("tg-%d", i)}
		case 2:
			e.Type, e.Data = "CONTACT_UPDATED", map[string]any{"changes": map[string]any{"email": map[string]any{"from": nil, "to": "x@example.com"}}}
		case 3:
			e.Type, e.Data = "MESSAGE_SENT", map[string]any{"text": "line\nbreak \u00e9 <b>", "to": "c@example.com"}
		case 4:
			e.Type, e.Source, e.Data = report.TypeMerged, audit.SourceUser, map[string]any{"primaryContactId": c, "mergedContactIds": []any{contacts[(i+1)%len(contacts)]}}
		case 5:
			e.Type, e.Source, e.Data = report.TypeDeleted, audit.SourceUser, map[string]any{}
		case 6:
			e.Type, e.Contact, e.Data = "LOGGED_IN", nil, map[string]any{}
		}
		e.Category = audit.CategoryOf(e.Type)
		evs = append(evs, e)
	}
	return evs, contacts
}

// archiveOf stores evs, a part a UTC day, in a fresh bucket, and returns a source over it.
func archiveOf(t *testing.T, evs []audit.Event, keys *pii.Keyring) *source.Reports {
	t.Helper()
	store := &archive.S3Store{Client: stacktest.S3(t), Bucket: stacktest.Bucket(t)}
	all, err := archive.FromEvents(evs)
	if err != nil {
		t.Fatal(err)
	}
	days := map[string][]archive.Row{}
	for _, r := range all {
		days[r.Date()] = append(days[r.Date()], r)
	}
	for date, rows := range days {
		sort.Slice(rows, func(i, j int) bool { return archive.Less(&rows[i], &rows[j]) })
		key, b, err := archive.EncodePart("acme", date, rows)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Put(context.Background(), key, b); err != nil {
			t.Fatal(err)
		}
	}
	engine := report.NewEngine(store, func() time.Time { return time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC) })
	if keys != nil {
		engine.WithKeyring(keys)
	}
	return &source.Reports{Engine: engine, Archive: &archive.Reader{Store: store}, Keys: keys}
}

// exports runs every export of acme's two days that holds names or data, file by file.
func exports(t *testing.T, src *source.Reports) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range []string{export.ReportAudit, "added", "connected", "deleted", "merged"} {
		formats := []string{export.FormatCSV, export.FormatParquet}
		if r == export.ReportAudit {
			formats = append(formats, export.FormatOCSF)
		}
		for _, f := range formats {
			var buf bytes.Buffer
			n, err := src.Export(context.Background(), &buf, job(r, f))
			if err != nil {
				t.Fatalf("export %s as %s: %v", r, f, err)
			}
			file := buf.String()
			if f == export.FormatOCSF {
				file = gunzip(t, buf.Bytes())
			}
			out[r+"."+f] = fmt.Sprintf("%d rows\n%s", n, file)
		}
	}
	return out
}

// TestExportsOpenPersonalFields: every export of sealed events (the audit export's CSV,
// Parquet and OCSF, each log's CSV and Parquet) is byte for byte the export of the same events in
// plaintext; once a contact is erased its names and fields read "[erased]" and nothing else
// changes; a tenant key that does not unwrap fails the export, never "[erased]".
func TestExportsOpenPersonalFields(t *testing.T) {
	evs, contacts := personalEvents()
	keys := piitest.New(t)
	sealed := make([]audit.Event, len(evs))
	for i, e := range evs {
		if e.Contact != nil && e.Contact.ID != contacts[len(contacts)-1] {
			keys.Seal(&e)
		}
		sealed[i] = e
	}
	src := archiveOf(t, sealed, keys.Ring)
	want := exports(t, archiveOf(t, evs, nil))
	got := exports(t, src)
	for name, w := range want {
		if d := cmp.Diff(w, got[name]); d != "" {
			t.Errorf("%s over sealed events (-plaintext +sealed):\n%s", name, d)
		}
	}
	for _, name := range []string{"audit.csv", "audit.ocsf"} {
		if !strings.Contains(want[name], "c0@example.com") {
			t.Fatalf("the %s export shows no personal field:\n%s", name, want[name])
		}
	}

	t.Run("erased", func(t *testing.T) {
		keys.Erase("acme", contacts[0])
		want := exports(t, archiveOf(t, stacktest.Erased(evs, contacts[0]), nil))
		got := exports(t, src)
		for name, w := range want {
			if d := cmp.Diff(w, got[name]); d != "" {
				t.Errorf("%s after erasing %s (-want +got):\n%s", name, contacts[0], d)
			}
		}
	})

	t.Run("tenant key lost", func(t *testing.T) {
		lost := *src
		lost.Keys = keys.Lost()
		lost.Engine = archiveOf(t, sealed, lost.Keys).Engine
		for _, r := range []string{export.ReportAudit, "added"} {
			var buf bytes.Buffer
			_, err := lost.Export(context.Background(), &buf, job(r, export.FormatCSV))
			if !errors.Is(err, pii.ErrTenantKeyUnavailable) {
				t.Errorf("export %s: error %v, want %v", r, err, pii.ErrTenantKeyUnavailable)
			}
			if strings.Contains(buf.String(), pii.Erased) {
				t.Errorf("export %s wrote %s", r, pii.Erased)
			}
		}
	})
}
