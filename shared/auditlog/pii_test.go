package auditlog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/piitest"
	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/pii"
)

// personalEvents returns contact events of tenant-a about two contacts (ULIDs), with every
// kind of personal field, and one legacy contact's: the data a sealed audit log holds.
func personalEvents(now time.Time) (evs []audit.Event, contacts []string) {
	gen := ident.NewGenerator(func() time.Time { return now })
	ada, bob, legacy := gen.New(), gen.New(), gen.New()
	mk := func(i int, typ, contact, name string, data map[string]any) audit.Event {
		at := audit.FormatTime(now.Add(-time.Duration(20-i) * time.Minute))
		return audit.Event{
			ID: gen.At(now.Add(-time.Duration(20-i) * time.Minute)), TenantID: "tenant-a", OccurredAt: at, RecordedAt: at,
			Type: typ, Category: audit.CategoryOf(typ), Actor: audit.Actor{Type: audit.ActorUser, ID: "agent-1", Name: "Ayu Agent"},
			Contact: &audit.ContactRef{ID: contact, Name: name}, Source: audit.SourceManual, Data: data,
			Context: &audit.Context{IP: sourceIP, UserAgent: userAgent, RequestID: "req-w"},
		}
	}
	evs = []audit.Event{
		mk(1, "CONTACT_ADDED", ada, "Ada Lovelace", map[string]any{"email": "ada@example.com", "phone": "+44 20 7946 0000"}),
		mk(2, "CONTACT_ADDED", bob, "Bob \"B\" Ñandú", map[string]any{"email": "bob@example.com"}),
		mk(3, "CONTACT_UPDATED", ada, "Ada King", map[string]any{"changes": map[string]any{"name": map[string]any{"from": "Ada Lovelace", "to": "Ada King"}}}),
		mk(4, "MESSAGE_SENT", ada, "Ada King", map[string]any{"text": "Hello =1+1", "to": "ada@example.com"}),
		mk(5, "COMMENT_ADDED", bob, "Bob \"B\" Ñandú", map[string]any{"text": "called back"}),
		mk(6, "CONTACT_ARCHIVED", bob, "Bob \"B\" Ñandú", map[string]any{}),
		mk(7, "CONTACT_ADDED", legacy, "Legacy Lee", map[string]any{"email": "lee@example.com"}),
	}
	return evs, []string{ada, bob, legacy}
}

// put writes events to the fixture's audit table, sealing those of sealed contacts.
func put(t *testing.T, f *fixture, keys *piitest.Keys, evs []audit.Event, sealed map[string]bool) {
	t.Helper()
	for _, e := range evs {
		e.Contact = &audit.ContactRef{ID: e.Contact.ID, Name: e.Contact.Name}
		if keys != nil && sealed[e.Contact.ID] {
			keys.Seal(&e)
		}
		item, err := f.svc.Keys.Item(&e, retention)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := stacktest.DynamoDB(t).PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(f.tables["AuditTable"]), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
}

// captureLogs sends slog's default logger to a buffer until the test ends.
func captureLogs(t *testing.T) *bytes.Buffer {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return &buf
}

// TestQueryOpensPersonalFields: over sealed events the query answers exactly what it does
// over the same events in plaintext, with one BatchGetItem for the page; once a contact is
// erased its names and personal fields read "[erased]" and nothing else changes; a tenant
// key that does not unwrap is a 500 logged at ERROR, never "[erased]".
func TestQueryOpensPersonalFields(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	evs, contacts := personalEvents(now)
	sealed := map[string]bool{contacts[0]: true, contacts[1]: true} // contacts[2] is legacy plaintext
	q := url.Values{"category": {audit.CategoryContact}, "from": {"2026-11-30T00:00:00Z"}, "to": {"2026-12-01T00:00:00Z"}}

	plain := newFixture(t, now)
	put(t, plain, nil, evs, nil)
	want := call(t, plain.query(), queryReq(adminA, q))

	f := newFixture(t, now)
	keys := piitest.New(t)
	f.svc.Keyring = keys.Ring
	put(t, f, keys, evs, sealed)
	keys.BatchGets()
	got := call(t, f.query(), queryReq(adminA, q))
	if got.StatusCode != 200 || got.Body != want.Body {
		t.Fatalf("sealed answer differs from the plaintext one:\n got %d %s\nwant %d %s", got.StatusCode, got.Body, want.StatusCode, want.Body)
	}
	if strings.Contains(got.Body, pii.Prefix) {
		t.Fatalf("a sealed value was served: %s", got.Body)
	}
	if d := cmp.Diff([]int{3}, keys.BatchGets()); d != "" { // two contacts and the tenant key, in one call
		t.Errorf("BatchGetItem calls (keys each) of one page (-want +got):\n%s", d)
	}

	t.Run("erased", func(t *testing.T) {
		keys.Erase("tenant-a", contacts[0])
		wantEvs := stacktest.Erased(newestFirst(evs), contacts[0])
		gotEvs := decode[page](t, call(t, f.query(), queryReq(adminA, q)), 200).Items
		diffEvents(t, "after erasing "+contacts[0], wantEvs, gotEvs)
	})

	t.Run("tenant key lost", func(t *testing.T) {
		logs := captureLogs(t)
		f.svc.Keyring = keys.Lost()
		defer func() { f.svc.Keyring = keys.Ring }()
		resp := call(t, f.query(), queryReq(adminA, q))
		body := decode[errorBody](t, resp, 500)
		if body.Error.Code != "internal_error" || strings.Contains(resp.Body, pii.Erased) {
			t.Errorf("answer %s, want internal_error", resp.Body)
		}
		var line struct{ Level, Error string }
		if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
			t.Fatalf("log %q: %v", logs.String(), err)
		}
		if line.Level != "ERROR" || !strings.Contains(line.Error, pii.ErrTenantKeyUnavailable.Error()) {
			t.Errorf("log line %s, want an ERROR naming %q", logs.String(), pii.ErrTenantKeyUnavailable)
		}
	})
}

// TestSessionWithoutKeysRefusesSealed: the session route has no personal-data keys; a
// sealed value reaching it fails the read rather than show ciphertext.
func TestSessionWithoutKeysRefusesSealed(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	f := newFixture(t, now)
	keys := piitest.New(t)
	evs, _ := personalEvents(now)
	e := evs[0]
	e.SessionID = "s-1"
	put(t, f, keys, []audit.Event{e}, map[string]bool{e.Contact.ID: true})
	captureLogs(t)
	resp := call(t, f.session(), sessionReq(adminA, "s-1", nil))
	if resp.StatusCode != 500 || strings.Contains(resp.Body, pii.Prefix) {
		t.Errorf("answer %d %s, want a 500 without ciphertext", resp.StatusCode, resp.Body)
	}
}
