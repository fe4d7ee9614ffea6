package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/piitest"
	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/pii"
	"github.com/contrail/contrail/shared/tenant"
)

const piiTenant tenant.ID = "pii-co"

// piiEvents returns three days of the four logs' events of piiTenant about contacts (ULIDs)
// of names a spreadsheet would run or trip on, and of one legacy contact, and the contacts.
func piiEvents() (evs []audit.Event, contacts []string) {
	gen := ident.NewGenerator(func() time.Time { return fixtureFirst })
	for range 12 {
		contacts = append(contacts, gen.New())
	}
	types := []string{TypeAdded, TypeConnected, TypeDeleted, TypeMerged, TypeAdded, TypeArchived}
	for i := range 150 {
		at := fixtureFirst.Add(time.Duration(i) * 29 * time.Minute)
		c := contacts[i%len(contacts)]
		e := audit.Event{
			ID: gen.At(at), TenantID: piiTenant, OccurredAt: audit.FormatTime(at), RecordedAt: audit.FormatTime(at),
			Type: types[i%len(types)], Actor: users[i%3], Source: audit.SourceManual,
			Contact: &audit.ContactRef{ID: c, Name: contactNames[i%len(contactNames)] + fmt.Sprint(i%len(contacts))},
			Data:    map[string]any{},
		}
		e.Category = audit.CategoryOf(e.Type)
		switch e.Type {
		case TypeAdded:
			e.Data = map[string]any{"email": fmt.Sprintf("c%d@example.com", i)}
		case TypeConnected:
			e.Channel, e.Data = audit.Channels[i%len(audit.Channels)], map[string]any{"externalId": fmt.Sprintf("ext-%d", i)}
		case TypeMerged:
			e.Data = map[string]any{"primaryContactId": c, "mergedContactIds": []any{contacts[(i+1)%len(contacts)]}}
		}
		evs = append(evs, e)
	}
	return evs, contacts
}

// piiArchive stores evs, one part a UTC day, in a fresh bucket.
func piiArchive(t *testing.T, evs []audit.Event) archive.Store {
	t.Helper()
	st := &archive.S3Store{Client: stacktest.S3(t), Bucket: stacktest.Bucket(t)}
	days := map[string][]audit.Event{}
	for _, e := range evs {
		days[e.OccurredAt[:10]] = append(days[e.OccurredAt[:10]], e)
	}
	for d, evs := range days {
		putPart(t, st, piiTenant, d, evs)
	}
	return st
}

// sealAll returns evs with the events of contacts other than legacy sealed.
func sealAll(keys *piitest.Keys, evs []audit.Event, legacy string) []audit.Event {
	out := make([]audit.Event, len(evs))
	for i, e := range evs {
		if e.Contact.ID != legacy {
			keys.Seal(&e)
		}
		out[i] = e
	}
	return out
}

// erasedNames returns evs as a reader of the plaintext would see them had contact id's names
// been "[erased]" from the start.
func erasedNames(evs []audit.Event, id string) []audit.Event {
	out := make([]audit.Event, len(evs))
	for i, e := range evs {
		if e.Contact.ID == id {
			e.Contact = &audit.ContactRef{ID: id, Name: pii.Erased}
		}
		out[i] = e
	}
	return out
}

// auditTable is where the services of a test record their views.
type auditTable struct {
	db    AuditDB
	table string
}

func newAuditTable(t *testing.T) auditTable {
	return auditTable{stacktest.DynamoDB(t), stacktest.Tables(t)["AuditTable"]}
}

func (a auditTable) service(st archive.Store, keys *pii.Keyring) *Service {
	clock := func() time.Time { return fixtureNow }
	e := NewEngine(st, clock)
	if keys != nil {
		e.WithKeyring(keys)
	}
	return &Service{Engine: e, DB: a.db, AuditTable: a.table, Retention: audit.RetentionDays(400, 400, 400, 30), Keys: audit.Keys{Shards: 1}, Cursors: httpapi.NewCursors("test-secret"), IDs: ident.NewGenerator(clock)}
}

// piiAnswers are a service's answers to every log's pages (JSON, 40 rows) and CSV, and the
// overview, over the whole fixture period, and the BatchGetItem calls of each JSON page.
func piiAnswers(t *testing.T, s *Service, keys *piitest.Keys) (answers map[string]events.APIGatewayV2HTTPResponse, calls map[string][]int) {
	t.Helper()
	answers, calls = map[string]events.APIGatewayV2HTTPResponse{}, map[string][]int{}
	q := query("from", "2026-03-01", "to", "2026-03-05", "tz", "Asia/Jakarta", "limit", "40")
	for _, k := range Kinds {
		h := httpapi.Route(httpapi.AdminRoles, s.Log(k))
		path := "/v1/reports/contacts/" + string(k)
		for page := 0; ; page++ {
			if keys != nil {
				keys.BatchGets()
			}
			resp := get(t, h, path, q, string(piiTenant), "[admin]")
			name := fmt.Sprintf("%s page %d", k, page)
			answers[name] = resp
			if keys != nil {
				calls[name] = keys.BatchGets()
			}
			var p struct{ NextCursor *string }
			if resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Body), &p) != nil || p.NextCursor == nil {
				break
			}
			q.Set("cursor", *p.NextCursor)
		}
		q.Del("cursor")
		csv := query("from", "2026-03-01", "to", "2026-03-05", "tz", "Asia/Jakarta", "format", "csv")
		answers[string(k)+" csv"] = get(t, h, path, csv, string(piiTenant), "[admin]")
		if keys != nil {
			calls[string(k)+" csv"] = keys.BatchGets()
		}
	}
	ov := httpapi.Route(httpapi.AdminRoles, s.Overview)
	answers["overview"] = get(t, ov, "/v1/reports/contacts/overview", query("from", "2026-03-01", "to", "2026-03-05", "tz", "Asia/Jakarta"), string(piiTenant), "[admin]")
	if keys != nil {
		calls["overview"] = keys.BatchGets()
	}
	return answers, calls
}

// TestLogsOpenNames: over sealed names every log page, CSV and the overview answer exactly
// what they answer over the same events in plaintext, with one BatchGetItem a page and none
// for the overview; once a contact is erased its names read "[erased]" and nothing else
// changes; a tenant key that does not unwrap is a 500 logged at ERROR, never "[erased]".
func TestLogsOpenNames(t *testing.T) {
	evs, contacts := piiEvents()
	legacy := contacts[len(contacts)-1]
	keys := piitest.New(t)
	a := newAuditTable(t)
	sealed := piiArchive(t, sealAll(keys, evs, legacy))

	plain, _ := piiAnswers(t, a.service(piiArchive(t, evs), nil), nil)
	got, calls := piiAnswers(t, a.service(sealed, keys.Ring), keys)
	if len(got) < 10 {
		t.Fatalf("only %d answers", len(got))
	}
	for name, want := range plain {
		if want.StatusCode != 200 {
			t.Fatalf("%s: plaintext answer %d %s", name, want.StatusCode, want.Body)
		}
		if d := cmp.Diff(want, got[name]); d != "" {
			t.Errorf("%s over sealed names (-plaintext +sealed):\n%s", name, d)
		}
		switch n := calls[name]; {
		case name == "overview":
			if len(n) != 0 {
				t.Errorf("overview: BatchGetItem calls (keys each) %v, want none: it shows no names", n)
			}
		case strings.HasSuffix(name, " csv"):
			// A CSV opens a batch a day, each contact's key read once for the whole file:
			// the 11 sealed contacts and the tenant key at most.
			total := 0
			for _, k := range n {
				total += k
			}
			if len(n) == 0 || total > len(contacts) {
				t.Errorf("%s: BatchGetItem calls (keys each) %v, want keys read once each, at most %d", name, n, len(contacts))
			}
		case len(n) != 1:
			t.Errorf("%s: BatchGetItem calls (keys each) %v, want one for the page", name, n)
		}
	}

	t.Run("erased", func(t *testing.T) {
		keys.Erase(piiTenant, contacts[0])
		want, _ := piiAnswers(t, a.service(piiArchive(t, erasedNames(evs, contacts[0])), nil), nil)
		got, _ := piiAnswers(t, a.service(sealed, keys.Ring), nil)
		for name, w := range want {
			if d := cmp.Diff(w, got[name]); d != "" {
				t.Errorf("%s after erasing %s (-want +got):\n%s", name, contacts[0], d)
			}
		}
		if !strings.Contains(got["added csv"].Body, pii.Erased) {
			t.Errorf("the added CSV shows no %s", pii.Erased)
		}
	})

	t.Run("tenant key lost", func(t *testing.T) {
		var logs bytes.Buffer
		old := slog.Default()
		slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil)))
		defer slog.SetDefault(old)
		s := a.service(sealed, keys.Lost())
		for _, format := range []string{"json", "csv"} {
			logs.Reset()
			resp := get(t, httpapi.Route(httpapi.AdminRoles, s.Log(Added)), "/v1/reports/contacts/added",
				query("from", "2026-03-01", "to", "2026-03-05", "format", format), string(piiTenant), "[admin]")
			if resp.StatusCode != 500 || !strings.Contains(resp.Body, "internal_error") || strings.Contains(resp.Body, pii.Erased) {
				t.Errorf("%s: answer %d %s, want a 500 internal_error", format, resp.StatusCode, resp.Body)
			}
			var line struct{ Level, Error string }
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil || line.Level != "ERROR" || !strings.Contains(line.Error, pii.ErrTenantKeyUnavailable.Error()) {
				t.Errorf("%s: log %s, want one ERROR line naming %q", format, logs.String(), pii.ErrTenantKeyUnavailable)
			}
		}
	})
}
