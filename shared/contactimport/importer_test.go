package contactimport_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/contactimport"
	"github.com/contrail/contrail/shared/fault"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/idempotency"
	"github.com/contrail/contrail/shared/ident"
)

func TestMain(m *testing.M) { stacktest.Main(m) }

var t0 = time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)

type harness struct {
	*stacktest.Stack
	t   *testing.T
	svc *contact.Service
	im  *contactimport.Importer
}

// newHarness builds the importer over fresh tables of DynamoDB Local. wrap, when set, wraps
// the contact service (to inject failures).
func newHarness(t *testing.T, workers int, wrap func(contactimport.Adder) contactimport.Adder) *harness {
	t.Helper()
	st := stacktest.NewStack(t, t0)
	db, clock := st.DB, st.Clock
	table := st.Tables["ContactsTable"]
	svc := stacktest.Contacts(t, db, st.Tables, clock)
	var adder contactimport.Adder = svc
	if wrap != nil {
		adder = wrap(svc)
	}
	return &harness{Stack: st, t: t, svc: svc, im: &contactimport.Importer{
		Contacts: adder,
		Idem:     &idempotency.Store{DB: db, Table: table, Clock: clock},
		DB:       db, Table: table, Clock: clock,
		Workers: workers, Backoff: time.Millisecond,
	}}
}

type response struct {
	Status  int
	Headers map[string]string
	Body    any
}

// post sends POST /v1/contacts/import as an agent of tenant acme.
func (h *harness) post(contentType, body string, headers map[string]string) response {
	return h.postAs("[agent]", contentType, body, headers)
}

func (h *harness) postAs(groups, contentType, body string, headers map[string]string) response {
	h.t.Helper()
	r := stacktest.Request{
		Route: "POST /v1/contacts/import", Body: body,
		Headers:   map[string]string{"content-type": contentType},
		As:        stacktest.Caller{Tenant: "acme", Sub: "u-agent", Name: "Ayu Agent", Groups: groups},
		RequestID: "req-1", SourceIP: "203.0.113.7", UserAgent: "import-test/1.0",
	}
	for k, v := range headers {
		r.Headers[k] = v
	}
	out := stacktest.Call(h.t, httpapi.Route(httpapi.ContactRoles, h.im.Handle), r)
	return response{Status: out.StatusCode, Headers: out.Headers, Body: stacktest.JSON(h.t, out.Body)}
}

// items returns every item of a table whose itemType is typ, as plain values sorted by pk, sk.
func (h *harness) items(logicalID, typ string) []map[string]any {
	h.t.Helper()
	var items []map[string]any
	for _, it := range h.Items(h.t, logicalID) {
		if it["itemType"] == typ {
			items = append(items, it)
		}
	}
	return stacktest.SortByKey(items)
}

func (h *harness) contacts() []map[string]any { return h.items("ContactsTable", "contact") }

// events returns the audit items with their personal fields opened (stacktest.OpenItems).
func (h *harness) events() []map[string]any {
	evs := h.items("AuditTable", audit.ItemType)
	stacktest.OpenItems(h.t, h.svc.Keyring, evs)
	return evs
}

// imported is one contact the test expects, with the ids it gets.
type imported struct {
	id, eventID, name, email, phone string
}

// wantContact is the contacts-table item of c, exactly as POST /v1/contacts writes it.
func wantContact(c imported, at string) map[string]any {
	m := map[string]any{
		"pk": "T#acme#C#" + c.id, "itemType": "contact", "id": c.id, "tenantId": "acme", "name": c.name,
		"status": "active", "channels": []any{}, "createdAt": at, "updatedAt": at, "version": float64(1),
		"createdBy": "u-agent", "statusKey": "T#acme#active", "createdKey": at + "#" + c.id,
	}
	if c.email != "" {
		m["email"] = c.email
	}
	if c.phone != "" {
		m["phone"] = c.phone
	}
	return m
}

// wantEvent is the audit item of c's CONTACT_ADDED event.
func wantEvent(c imported, at string) map[string]any {
	data := map[string]any{}
	if c.email != "" {
		data["email"] = c.email
	}
	if c.phone != "" {
		data["phone"] = c.phone
	}
	day, shard := at[:10], audit.Keys{Shards: 4}.Shard(c.eventID)
	return map[string]any{
		"pk": fmt.Sprintf("T#acme#D#%s#%d", day, shard), "sk": at + "#" + c.eventID,
		"id": c.eventID, "tenantId": "acme", "occurredAt": at, "recordedAt": at,
		"type": "CONTACT_ADDED", "category": "contact", "source": "import",
		"actor":       map[string]any{"type": "user", "id": "u-agent", "name": "Ayu Agent"},
		"contact":     map[string]any{"id": c.id, "name": c.name},
		"data":        data,
		"context":     map[string]any{"ip": "203.0.113.7", "userAgent": "import-test/1.0", "requestId": "req-1"},
		"typeKey":     fmt.Sprintf("T#acme#Y#CONTACT_ADDED#%s#%d", day, shard),
		"categoryKey": fmt.Sprintf("T#acme#G#contact#%s#%d", day, shard),
		"contactKey":  "T#acme#C#" + c.id, "actorKey": fmt.Sprintf("T#acme#A#u-agent#%s#%d", day, shard),
		"itemType": "event", "expiresAt": float64(t0.Add(400 * 24 * time.Hour).Unix()),
	}
}

func TestImportCSV(t *testing.T) {
	h := newHarness(t, 1, nil) // one worker: ids are handed out in row order
	body := "\xEF\xBB\xBFName, Email ,PHONE\r\n" +
		"\"Doe, Jane \"\"JD\"\"\",jane@example.com,+62 812-3456-7890\r\n" +
		"Broken,not-an-email,\r\n" +
		"\"Multi\r\nLine Person\",,\r\n" +
		"Too,many,fields,here\r\n" +
		"  Plain Bob  ,,  (021) 555 0100  \r\n"
	got := h.post("text/csv; charset=utf-8", body, nil)
	stacktest.Diff(t, "response", response{Status: 200, Headers: map[string]string{"content-type": "application/json"}, Body: map[string]any{
		"imported": float64(2),
		"failed": []any{
			map[string]any{"row": float64(2), "line": float64(3), "message": "email: must be one email address, like name@example.com"},
			// A quoted line break is read (as LF), but a name is one line.
			map[string]any{"row": float64(3), "line": float64(4), "message": "name: must be one line, without control characters"},
			map[string]any{"row": float64(4), "line": float64(6), "message": "has 4 fields; the header has 3 (quote a field that holds a comma)"},
		},
	}}, got)

	at := audit.FormatTime(t0)
	want := []imported{
		{id: "00000000000000000000000001", eventID: "00000000000000000000000002", name: `Doe, Jane "JD"`, email: "jane@example.com", phone: "+62 812-3456-7890"},
		{id: "00000000000000000000000003", eventID: "00000000000000000000000004", name: "Plain Bob", phone: "(021) 555 0100"},
	}
	var wantContacts, wantEvents []map[string]any
	for _, c := range want {
		wantContacts = append(wantContacts, wantContact(c, at))
		wantEvents = append(wantEvents, wantEvent(c, at))
	}
	stacktest.Diff(t, "contacts", stacktest.SortByKey(wantContacts), h.contacts())
	stacktest.Diff(t, "events", stacktest.SortByKey(wantEvents), h.events())
}

// CSV cells follow the rules of JSON bodies: no control characters in a name, an email or a
// phone, valid UTF-8; each bad cell fails its row only, by field.
func TestImportCSVCells(t *testing.T) {
	h := newHarness(t, 1, nil)
	body := "name,email,phone\n" +
		"Ana\x00Admin,,\n" +
		"Bob\x1b[31m,,\n" +
		"Cici\xff,,\n" +
		"Dodi,d\xe9@example.com,\n" +
		"Eka,,123\t456\n" +
		"\"Fajar\tTab\",,\n" +
		"Gita,gita@example.com,\n"
	got := h.post("text/csv", body, nil)
	oneLine := "must be one line, without control characters"
	stacktest.Diff(t, "response", response{Status: 200, Headers: map[string]string{"content-type": "application/json"}, Body: map[string]any{
		"imported": float64(1),
		"failed": []any{
			map[string]any{"row": float64(1), "line": float64(2), "message": "name: " + oneLine},
			map[string]any{"row": float64(2), "line": float64(3), "message": "name: " + oneLine},
			map[string]any{"row": float64(3), "line": float64(4), "message": "name: must be valid UTF-8"},
			map[string]any{"row": float64(4), "line": float64(5), "message": "email: must be valid UTF-8"},
			map[string]any{"row": float64(5), "line": float64(6), "message": "phone: must be a phone number like +62 812-3456-7890: an optional +, then 6 to 20 digits with spaces, dashes, dots or parentheses"},
			map[string]any{"row": float64(6), "line": float64(7), "message": "name: " + oneLine},
		},
	}}, got)
	at := audit.FormatTime(t0)
	gita := imported{id: "00000000000000000000000001", eventID: "00000000000000000000000002", name: "Gita", email: "gita@example.com"}
	stacktest.Diff(t, "contacts", []map[string]any{wantContact(gita, at)}, h.contacts())
	stacktest.Diff(t, "events", []map[string]any{wantEvent(gita, at)}, h.events())
}

// A header may hold name alone, or name with any of the other columns in any order.
func TestImportCSVNameOnly(t *testing.T) {
	h := newHarness(t, 1, nil)
	got := h.post("text/csv", "Name\nAna\n\n", nil)
	stacktest.Diff(t, "response", response{Status: 200, Headers: map[string]string{"content-type": "application/json"},
		Body: map[string]any{"imported": float64(1), "failed": []any{}}}, got)
	at := audit.FormatTime(t0)
	ana := imported{id: "00000000000000000000000001", eventID: "00000000000000000000000002", name: "Ana"}
	stacktest.Diff(t, "contacts", []map[string]any{wantContact(ana, at)}, h.contacts())
	stacktest.Diff(t, "events", []map[string]any{wantEvent(ana, at)}, h.events())
}

func TestImportJSON(t *testing.T) {
	h := newHarness(t, 1, nil)
	got := h.post("application/json", `{"contacts":[
		{"name":"Ana","email":"ana@example.com"},
		{"name":"","email":"x@example.com"},
		{"name":"Cici","phone":"+1 555 010 0200","email":null},
		{"name":"Dodi","fax":"123"}
	]}`, nil)
	stacktest.Diff(t, "response", response{Status: 200, Headers: map[string]string{"content-type": "application/json"}, Body: map[string]any{
		"imported": float64(2),
		"failed": []any{
			map[string]any{"row": float64(2), "message": "name: is required"},
			map[string]any{"row": float64(4), "message": "fax: is not a known field (use name, email, phone)"},
		},
	}}, got)
	at := audit.FormatTime(t0)
	ana := imported{id: "00000000000000000000000001", eventID: "00000000000000000000000002", name: "Ana", email: "ana@example.com"}
	cici := imported{id: "00000000000000000000000003", eventID: "00000000000000000000000004", name: "Cici", phone: "+1 555 010 0200"}
	stacktest.Diff(t, "contacts", []map[string]any{wantContact(ana, at), wantContact(cici, at)}, h.contacts())
	stacktest.Diff(t, "events", stacktest.SortByKey([]map[string]any{wantEvent(ana, at), wantEvent(cici, at)}), h.events())
}

// TestImportManyRows imports with the worker pool: every row once, each with its event.
// (1000 rows work the same; 300 keep the test short on DynamoDB Local.)
func TestImportManyRows(t *testing.T) {
	const n = 300
	h := newHarness(t, contactimport.DefaultWorkers, nil)
	got := h.post("text/csv", contactimport.CSVRows(n), nil)
	stacktest.Diff(t, "response", response{Status: 200, Headers: map[string]string{"content-type": "application/json"},
		Body: map[string]any{"imported": float64(n), "failed": []any{}}}, got)

	var wantNames, gotNames, eventNames []string
	for i := 1; i <= n; i++ {
		wantNames = append(wantNames, fmt.Sprintf("Person %04d", i))
	}
	for _, c := range h.contacts() {
		gotNames = append(gotNames, c["name"].(string))
	}
	for _, e := range h.events() {
		eventNames = append(eventNames, e["contact"].(map[string]any)["name"].(string))
	}
	sort.Strings(gotNames)
	sort.Strings(eventNames)
	stacktest.Diff(t, "contact names", wantNames, gotNames)
	stacktest.Diff(t, "event contact names", wantNames, eventNames)
}

func TestImportRefused(t *testing.T) {
	manyJSON := `{"contacts":[` + strings.TrimSuffix(strings.Repeat(`{"name":"P"},`, 1001), ",") + `]}`
	tests := []struct {
		name        string
		groups      string
		contentType string
		body        string
		status      int
		code        string
	}{
		{"1001 CSV rows", "[agent]", "text/csv", contactimport.CSVRows(1001), 413, "too_many_rows"},
		{"1001 JSON rows", "[agent]", "application/json", manyJSON, 413, "too_many_rows"},
		{"over 256 KiB", "[admin]", "text/csv", "name,email,phone\n" + strings.Repeat("a", 256<<10) + ",,\n", 413, "body_too_large"},
		{"header only", "[agent]", "text/csv", "name,email,phone\n", 400, "no_rows"},
		{"extra header column", "[agent]", "text/csv", "name,email,phone,company\nA,,,X\n", 400, "invalid_csv_header"},
		{"broken quoting", "[agent]", "text/csv", "name,email,phone\n\"Ana,,\n", 400, "invalid_csv"},
		{"empty contacts", "[agent]", "application/json", `{"contacts":[]}`, 400, "no_rows"},
		{"unknown JSON field", "[agent]", "application/json", `{"contacts":[{"name":"A"}],"x":1}`, 400, "invalid_request"},
		{"XML", "[agent]", "application/xml", "<contacts/>", 415, "unsupported_media_type"},
		{"service role", "[service]", "text/csv", contactimport.CSVRows(1), 403, "forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, 2, nil)
			got := h.postAs(tt.groups, tt.contentType, tt.body, nil)
			gotCode := got.Body.(map[string]any)["error"].(map[string]any)["code"]
			stacktest.Diff(t, "status and code", []any{tt.status, tt.code}, []any{got.Status, gotCode})
			stacktest.Diff(t, "contacts written", []map[string]any(nil), h.contacts())
			stacktest.Diff(t, "events written", []map[string]any(nil), h.events())
		})
	}
}

// failing wraps the contact service: rows named in fail are throttled while fail[name] > 0
// (each try uses one up); fail[name] < 0 fails them for good with an internal error.
type failing struct {
	contactimport.Adder
	mu   sync.Mutex
	fail map[string]int
}

func (f *failing) check(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch n := f.fail[name]; {
	case n > 0:
		f.fail[name] = n - 1
		return fault.New(fault.Throttled, "throttled", "The service is busy; retry in a moment.")
	case n < 0:
		return fmt.Errorf("injected failure for %s", name)
	}
	return nil
}

func (f *failing) Add(ctx context.Context, by contact.Caller, in contact.CreateInput) (*contact.Contact, error) {
	if err := f.check(in.Name); err != nil {
		return nil, err
	}
	return f.Adder.Add(ctx, by, in)
}

func (f *failing) AddAt(ctx context.Context, by contact.Caller, in contact.CreateInput, at time.Time, ids contact.IDs) (*contact.Contact, error) {
	if err := f.check(in.Name); err != nil {
		return nil, err
	}
	return f.Adder.AddAt(ctx, by, in, at, ids)
}

// TestImportRowFailures: a throttled row is retried with backoff; a row that keeps failing is
// reported in failed, never dropped, and the other rows are imported.
func TestImportRowFailures(t *testing.T) {
	f := &failing{fail: map[string]int{"Twice Throttled": 2, "Always Throttled": 99, "Broken Store": -1}}
	h := newHarness(t, 3, func(a contactimport.Adder) contactimport.Adder { f.Adder = a; return f })
	got := h.post("text/csv", "name,email,phone\nFine,,\nTwice Throttled,,\nAlways Throttled,,\nBroken Store,,\n", nil)
	stacktest.Diff(t, "response", response{Status: 200, Headers: map[string]string{"content-type": "application/json"}, Body: map[string]any{
		"imported": float64(2),
		"failed": []any{
			map[string]any{"row": float64(3), "line": float64(4), "message": "was not imported: the service is busy. Send it again."},
			map[string]any{"row": float64(4), "line": float64(5), "message": "was not imported because of an error on our side. Send it again."},
		},
	}}, got)
	var names []string
	for _, c := range h.contacts() {
		names = append(names, c["name"].(string))
	}
	sort.Strings(names)
	stacktest.Diff(t, "contacts", []string{"Fine", "Twice Throttled"}, names)
	stacktest.Diff(t, "tries left of Always Throttled", 96, f.fail["Always Throttled"])
}

// TestImportIdempotent: with an Idempotency-Key a repeat adds no contact twice; it retries
// only the rows that were not written, and once all are, the stored response is replayed.
func TestImportIdempotent(t *testing.T) {
	f := &failing{fail: map[string]int{"Late": 99}}
	h := newHarness(t, 4, func(a contactimport.Adder) contactimport.Adder { f.Adder = a; return f })
	body := "name,email,phone\nAna,ana@example.com,\nLate,,\nCici,,\n"
	key := map[string]string{"Idempotency-Key": "import-1"}

	first := h.post("text/csv", body, key)
	stacktest.Diff(t, "first response", response{Status: 200, Headers: map[string]string{"content-type": "application/json"}, Body: map[string]any{
		"imported": float64(2),
		"failed": []any{map[string]any{"row": float64(2), "line": float64(3),
			"message": "was not imported: the service is busy. Repeat the import with the same Idempotency-Key: rows already imported are not added twice."}},
	}}, first)
	afterFirst := h.contacts()

	f.mu.Lock()
	f.fail["Late"] = 0
	f.mu.Unlock()
	want := response{Status: 200, Headers: map[string]string{"content-type": "application/json"},
		Body: map[string]any{"imported": float64(3), "failed": []any{}}}
	stacktest.Diff(t, "second response", want, h.post("text/csv", body, key))

	// The rows of the first attempt are the same items; the late row joined them.
	contacts := h.contacts()
	if len(contacts) != 3 {
		t.Fatalf("%d contacts after the repeat, want 3: %v", len(contacts), contacts)
	}
	var kept []map[string]any
	for _, c := range contacts {
		if c["name"] != "Late" {
			kept = append(kept, c)
		}
	}
	stacktest.Diff(t, "contacts of the first attempt", afterFirst, kept)
	evs := h.events()
	var evNames []string
	for _, e := range evs {
		evNames = append(evNames, e["contact"].(map[string]any)["name"].(string))
	}
	sort.Strings(evNames)
	stacktest.Diff(t, "events", []string{"Ana", "Cici", "Late"}, evNames)

	// Complete now: a third attempt replays the stored response and writes nothing.
	want.Headers = map[string]string{"content-type": "application/json", "idempotent-replayed": "true"}
	stacktest.Diff(t, "third response", want, h.post("text/csv", body, key))
	stacktest.Diff(t, "contacts after replay", contacts, h.contacts())
	stacktest.Diff(t, "events after replay", evs, h.events())

	// The same key with another body is refused.
	other := h.post("text/csv", "name,email,phone\nZed,,\n", key)
	stacktest.Diff(t, "reused key", []any{409, "idempotency_key_reused"},
		[]any{other.Status, other.Body.(map[string]any)["error"].(map[string]any)["code"]})

	// Without a key a repeat imports again (documented).
	h.post("text/csv", "name,email,phone\nNoKey,,\n", nil)
	h.post("text/csv", "name,email,phone\nNoKey,,\n", nil)
	n := 0
	for _, c := range h.contacts() {
		if c["name"] == "NoKey" {
			n++
		}
	}
	stacktest.Diff(t, "contacts imported twice without a key", 2, n)
}

// TestImportKeyedWhileRunning: the same key with another body while the first attempt's
// response is not stored yet is refused too (the run record holds the body's hash).
func TestImportKeyedWhileRunning(t *testing.T) {
	f := &failing{fail: map[string]int{"Late": 99}}
	h := newHarness(t, 1, func(a contactimport.Adder) contactimport.Adder { f.Adder = a; return f })
	key := map[string]string{"Idempotency-Key": "import-2"}
	h.post("text/csv", "name,email,phone\nLate,,\n", key)
	got := h.post("text/csv", "name,email,phone\nOther,,\n", key)
	stacktest.Diff(t, "reused key", []any{409, "idempotency_key_reused"},
		[]any{got.Status, got.Body.(map[string]any)["error"].(map[string]any)["code"]})
	stacktest.Diff(t, "contacts", []map[string]any(nil), h.contacts())
}

// TestSampleEvents: the sample requests in events/ decode, run, and answer as documented.
func TestSampleEvents(t *testing.T) {
	tests := []struct {
		file string
		want any
	}{
		{"import-contacts-csv.json", map[string]any{"imported": float64(1), "failed": []any{
			map[string]any{"row": float64(2), "line": float64(3), "message": "email: must be one email address, like name@example.com"},
			map[string]any{"row": float64(3), "line": float64(4), "message": "name: must be one line, without control characters"}}}},
		{"import-contacts-json.json", map[string]any{"imported": float64(2), "failed": []any{
			map[string]any{"row": float64(2), "message": "name: is required"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			h := newHarness(t, 2, nil)
			ev := stacktest.Sample[events.APIGatewayV2HTTPRequest](t, tt.file)
			out, err := httpapi.Route(httpapi.ContactRoles, h.im.Handle)(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			var body any
			if err := json.Unmarshal([]byte(out.Body), &body); err != nil {
				t.Fatal(err)
			}
			stacktest.Diff(t, "response", []any{200, tt.want}, []any{out.StatusCode, body})
		})
	}
}

// BenchmarkImport1000 imports the largest import (1000 CSV rows) into DynamoDB Local per
// iteration, with the function's worker pool; ns/op is the time one import takes.
// go test ./shared/contactimport -run '^$' -bench Import1000 -benchtime 3x
func BenchmarkImport1000(b *testing.B) {
	body := contactimport.CSVRows(1000)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		h := newBenchHarness(b)
		b.StartTimer()
		res, retryable := h.Import(context.Background(), contact.Caller{TenantID: "acme", UserID: "u-agent", Name: "Ayu Agent"}, mustParse(b, body), nil)
		if res.Imported != 1000 || retryable {
			b.Fatalf("imported %d, failed %v", res.Imported, res.Failed)
		}
	}
}

func newBenchHarness(b *testing.B) *contactimport.Importer {
	tables := stacktest.Tables(b)
	db := stacktest.DynamoDB(b)
	cfg := stacktest.ContactsConfig(tables)
	svc := contact.New(cfg, db)
	svc.Keyring = stacktest.Keyring(b, tables["KeysTable"])
	return &contactimport.Importer{Contacts: svc, Idem: &idempotency.Store{DB: db, Table: cfg.ContactsTable, Clock: ident.SystemClock},
		DB: db, Table: cfg.ContactsTable, Clock: ident.SystemClock}
}

func mustParse(b *testing.B, body string) []contactimport.Row {
	rows, err := contactimport.Parse(contactimport.CSV, []byte(body))
	if err != nil {
		b.Fatal(err)
	}
	return rows
}
