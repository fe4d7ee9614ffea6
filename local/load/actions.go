package load

// The mix: what a caller sends, by weight. Each action picks a tenant by the Zipf draw, takes
// the contacts it acts on out of the tenant's pool (so two callers never race on one contact
// and every 4xx is a finding, not the load's own doing) and puts them back as they now are.

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"time"
)

// Route families: the rows of the latency table.
const (
	FamilyContacts     = "contact actions"  // create, connect, comment, archive, unarchive, delete, merge
	FamilyMail         = "mail requests"    // invite, message, share
	FamilyIngest       = "event ingest"     // POST /v1/audit-events
	FamilyCobrowse     = "co-browsing"      // POST /v1/cobrowse/sessions/{id}/events
	FamilyCobrowseRead = "co-browsing read" // GET /v1/cobrowse/sessions/{id}/events
	FamilyOverview     = "overview"         // GET /v1/reports/contacts/overview
	FamilyLogs         = "logs"             // the four logs
	FamilyAuditQuery   = "audit-log query"  // GET /v1/audit-events
)

// Families are the route families in the table's order.
var Families = []string{FamilyContacts, FamilyMail, FamilyIngest, FamilyCobrowse, FamilyCobrowseRead, FamilyOverview, FamilyLogs, FamilyAuditQuery}

// actions are the mix; weight is how often each comes.
var actions = []struct {
	name   string
	weight int
	run    func(w *worker, t *tenantState)
}{
	{"create", 14, (*worker).create},
	{"connect", 7, (*worker).connect},
	{"comment", 7, (*worker).comment},
	{"archive", 3, (*worker).archive},
	{"unarchive", 2, (*worker).unarchive},
	{"delete", 3, (*worker).remove},
	{"merge", 3, (*worker).merge},
	{"invite", 2, func(w *worker, t *tenantState) { w.mail(t, "invite") }},
	{"message", 2, func(w *worker, t *tenantState) { w.mail(t, "messages") }},
	{"share", 2, func(w *worker, t *tenantState) { w.mail(t, "share") }},
	{"ingest", 14, (*worker).ingest},
	{"cobrowse", 8, (*worker).cobrowse},
	{"cobrowse read", 3, (*worker).cobrowseRead},
	{"overview", 4, (*worker).overview},
	{"log", 4, (*worker).log},
	{"audit query", 4, (*worker).auditQuery},
}

// pickAction maps u in [0, total weight) to an action's index.
func pickAction(u int) int {
	i := 0
	for ; i < len(actions)-1 && u >= actions[i].weight; i++ {
		u -= actions[i].weight
	}
	return i
}

func totalWeight() int {
	n := 0
	for _, a := range actions {
		n += a.weight
	}
	return n
}

// eventOf is the audit event each acknowledged contact action records, one per request.
var eventOf = map[string]string{
	"create": "CONTACT_ADDED", "connect": "CONTACT_CONNECTED", "comment": "COMMENT_ADDED",
	"archive": "CONTACT_ARCHIVED", "unarchive": "CONTACT_UNARCHIVED", "delete": "CONTACT_DELETED",
	"merge": "CONTACT_MERGED", "invite": "CONTACT_INVITED", "messages": "MESSAGE_SENT", "share": "CONTACT_SHARED",
}

func (w *worker) create(t *tenantState) {
	n := t.next()
	st, b := w.send(t, FamilyContacts, "create", t.agent, "POST", "/v1/contacts", map[string]any{
		"name": fmt.Sprintf("Load %s %d", t.id, n), "email": fmt.Sprintf("c%d@%s.load.example", n, t.id), "phone": "+62 812 0000 0000",
	})
	if st == 201 {
		var v struct{ ID string }
		_ = json.Unmarshal(b, &v)
		if v.ID != "" {
			t.put(&t.active, v.ID)
		}
	}
}

// onOne runs a contact action on one contact taken from pool (a create when the pool is
// empty), and puts it into back on success, into pool again otherwise.
func (w *worker) onOne(t *tenantState, pool, back *[]string, name, method, suffix string, body any, family string) (int, []byte) {
	ids := t.take(pool, 1, w.rng)
	if ids == nil {
		w.create(t)
		return 0, nil
	}
	st, b := w.send(t, family, name, t.agent, method, "/v1/contacts/"+ids[0]+suffix, body)
	switch {
	case st/100 == 2 && back != nil:
		t.put(back, ids[0])
	case st/100 != 2:
		t.put(pool, ids[0])
	}
	return st, b
}

func (w *worker) connect(t *tenantState) {
	n := t.next()
	ch := []string{"telegram", "whatsapp", "webchat"}[w.rng.IntN(3)]
	w.onOne(t, &t.active, &t.active, "connect", "POST", "/channels", map[string]any{"channel": ch, "externalId": fmt.Sprintf("@load_%d", n)}, FamilyContacts)
}

func (w *worker) comment(t *tenantState) {
	st, b := w.onOne(t, &t.active, &t.active, "comment", "POST", "/comments", map[string]any{"text": fmt.Sprintf("note %d", t.next())}, FamilyContacts)
	if st == 201 {
		var v struct{ ID string }
		_ = json.Unmarshal(b, &v)
		w.acked(t, v.ID)
	}
}

func (w *worker) archive(t *tenantState) {
	w.onOne(t, &t.active, &t.archived, "archive", "POST", "/archive", nil, FamilyContacts)
}

func (w *worker) unarchive(t *tenantState) {
	w.onOne(t, &t.archived, &t.active, "unarchive", "POST", "/unarchive", nil, FamilyContacts)
}

func (w *worker) remove(t *tenantState) {
	// Deleted contacts go nowhere: back is nil.
	w.onOne(t, &t.active, nil, "delete", "DELETE", "", nil, FamilyContacts)
}

func (w *worker) merge(t *tenantState) {
	ids := t.take(&t.active, 2+w.rng.IntN(2), w.rng)
	if ids == nil {
		w.create(t)
		return
	}
	st, _ := w.send(t, FamilyContacts, "merge", t.agent, "POST", "/v1/contacts/merge", map[string]any{"primaryId": ids[0], "mergedIds": ids[1:]})
	if st == 200 {
		t.put(&t.active, ids[0])
		return
	}
	t.put(&t.active, ids...)
}

// mail is invite, message or share: each mails an address (the contact's own for a message).
func (w *worker) mail(t *tenantState, route string) {
	n := t.next()
	body := map[string]any{"email": fmt.Sprintf("to%d@%s.load.example", n, t.id)}
	switch route {
	case "messages":
		body = map[string]any{"text": fmt.Sprintf("Hello %d", n)}
	case "share":
		body["note"] = "from the load"
	}
	st, b := w.onOne(t, &t.active, &t.active, route, "POST", "/"+route, body, FamilyMail)
	if st == 202 {
		var v struct {
			EventID string `json:"eventId"`
		}
		_ = json.Unmarshal(b, &v)
		w.acked(t, v.EventID)
		t.mu.Lock()
		t.mails++
		t.mu.Unlock()
	}
}

func (w *worker) ingest(t *tenantState) {
	n := 1 + w.rng.IntN(25)
	evs := make([]map[string]any, n)
	for i := range evs {
		typ := []string{"LOGGED_IN", "ONLINE_STATUS_ONLINE", "START_CALL"}[w.rng.IntN(3)]
		data := map[string]any{}
		if typ == "START_CALL" {
			data = map[string]any{"callId": fmt.Sprintf("call-%d-%d", t.next(), i), "customerId": "cust-" + t.id.String()}
		}
		evs[i] = map[string]any{"type": typ, "data": data}
	}
	st, b := w.send(t, FamilyIngest, "ingest", t.service, "POST", "/v1/audit-events", map[string]any{"events": evs})
	if st == 202 {
		w.acked(t, idsOf(b)...)
	}
}

func (w *worker) cobrowse(t *tenantState) {
	session := fmt.Sprintf("sess-%d", w.rng.IntN(4))
	n := 1 + w.rng.IntN(10)
	at := time.Now().UTC()
	evs := make([]map[string]any, n)
	for i := range evs {
		typ := []string{"CLICK", "PAGECHANGE", "INPUT"}[w.rng.IntN(3)]
		data := map[string]any{"element": fmt.Sprintf("button-%d", i)}
		switch typ {
		case "PAGECHANGE":
			data = map[string]any{"page": fmt.Sprintf("https://shop.example.com/%d", i)}
		case "INPUT":
			data = map[string]any{"element": "field", "text": "typed"}
		}
		evs[i] = map[string]any{"type": typ, "occurredAt": at.Add(time.Duration(i) * time.Millisecond).Format("2006-01-02T15:04:05.000Z"), "isAgent": w.rng.IntN(2) == 0, "data": data}
	}
	st, b := w.send(t, FamilyCobrowse, "cobrowse", t.service, "POST", "/v1/cobrowse/sessions/"+session+"/events", map[string]any{"events": evs})
	if st == 202 {
		w.acked(t, idsOf(b)...)
		t.mu.Lock()
		t.sessions[session] = true
		t.mu.Unlock()
	}
}

func (w *worker) cobrowseRead(t *tenantState) {
	t.mu.Lock()
	var sessions []string
	for s := range t.sessions {
		sessions = append(sessions, s)
	}
	t.mu.Unlock()
	if len(sessions) == 0 {
		w.cobrowse(t)
		return
	}
	slices.Sort(sessions)
	w.send(t, FamilyCobrowseRead, "cobrowse read", t.admin, "GET", "/v1/cobrowse/sessions/"+sessions[w.rng.IntN(len(sessions))]+"/events?limit=100", nil)
}

// period is today and tomorrow (UTC), as a query.
func (w *worker) period() url.Values {
	d := time.Now().UTC()
	return url.Values{"from": {d.Format(time.DateOnly)}, "to": {d.AddDate(0, 0, 1).Format(time.DateOnly)}}
}

func (w *worker) overview(t *tenantState) {
	w.send(t, FamilyOverview, "overview", t.admin, "GET", "/v1/reports/contacts/overview?"+w.period().Encode(), nil)
}

func (w *worker) log(t *tenantState) {
	kind := []string{"added", "connected", "deleted", "merged"}[w.rng.IntN(4)]
	q := w.period()
	q.Set("limit", "100")
	w.send(t, FamilyLogs, kind+" log", t.admin, "GET", "/v1/reports/contacts/"+kind+"?"+q.Encode(), nil)
}

func (w *worker) auditQuery(t *tenantState) {
	q := w.period()
	q.Set("limit", "100")
	if w.rng.IntN(2) == 0 {
		q.Set("type", []string{"START_CALL", "CONTACT_ADDED", "LOGGED_IN"}[w.rng.IntN(3)])
	}
	w.send(t, FamilyAuditQuery, "audit query", t.admin, "GET", "/v1/audit-events?"+q.Encode(), nil)
}

func idsOf(b []byte) []string {
	var v struct {
		IDs []string `json:"ids"`
	}
	_ = json.Unmarshal(b, &v)
	return v.IDs
}

// take removes k random ids from pool; nil when it holds fewer.
func (t *tenantState) take(pool *[]string, k int, rng *rand.Rand) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(*pool) < k {
		return nil
	}
	out := make([]string, 0, k)
	for range k {
		p := *pool
		i := rng.IntN(len(p))
		out = append(out, p[i])
		p[i] = p[len(p)-1]
		*pool = p[:len(p)-1]
	}
	return out
}

func (t *tenantState) put(pool *[]string, ids ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	*pool = append(*pool, ids...)
}

func (t *tenantState) next() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n++
	return t.n
}
