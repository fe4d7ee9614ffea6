package isolation

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/reconcile"
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/tenant"
)

// check settles what the actions set going, then checks every read route of every tenant
// against the model.
func (r *runner) check(ctx context.Context) error {
	r.phase = "settle"
	r.progress("%d actions in %.0f s; settling (mails, exports, the archive)", r.c.Actions, time.Since(r.start).Seconds())
	r.settleMails(ctx)
	for _, t := range r.tenants {
		r.settleExports(ctx, t, t.Exports)
	}
	last := time.Now().UTC()
	for _, t := range r.tenants {
		r.waitArchived(ctx, t, last)
	}
	r.day, r.dayAfter = r.start.UTC().Format(time.DateOnly), time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	steps := []struct {
		name string
		run  func(t *tenantModel)
	}{
		{"contacts", r.checkContacts},
		{"history", r.checkHistory},
		{"settings and schedules", r.checkSettings},
		{"reports", r.checkReports},
		{"audit log", r.checkAuditLog},
		{"sessions", r.checkSessions},
		{"exports", func(t *tenantModel) { r.checkExports(ctx, t) }},
	}
	for _, s := range steps {
		r.phase = s.name
		r.progress("checking %s", s.name)
		for _, t := range r.tenants {
			s.run(t)
		}
	}
	r.phase = "verifiable log"
	r.progress("checking the verifiable log and reconciling DynamoDB with the archive")
	return r.checkLog(ctx)
}

// get reads path as c, expecting 200; it counts the read and decodes the body into out.
func (r *runner) get(c *caller, path string, out any) bool {
	r.sum.Reads++
	st, b := r.do(c, "GET", path, nil)
	if st != http.StatusOK {
		r.fail("GET %s as %s: %d %s, want 200", path, c.Label, st, clip(b))
		return false
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			r.fail("GET %s as %s: %v: %s", path, c.Label, err, clip(b))
			return false
		}
	}
	return true
}

// want checks a read that must fail with want.
func (r *runner) want(c *caller, path string, want outcome) []byte {
	r.sum.Reads++
	st, b := r.do(c, "GET", path, nil)
	if st != want.Status || (want.Code != "" && errCode(b) != want.Code) {
		r.fail("GET %s as %s: %d %s, the model says %s", path, c.Label, st, clip(b), want)
	}
	return b
}

type page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"nextCursor"`
}

// walk reads every page of a list as c and returns its items and the first cursor seen.
// after, when set, runs after each page that answered 200 (a read that records itself).
func walk[T any](r *runner, c *caller, path string, after func()) (items []T, cursor string, ok bool) {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	cur := ""
	for range 500 {
		p := path
		if cur != "" {
			p += sep + "cursor=" + url.QueryEscape(cur)
		}
		var pg page[T]
		if !r.get(c, p, &pg) {
			return nil, cursor, false
		}
		if after != nil {
			after()
		}
		items = append(items, pg.Items...)
		if pg.NextCursor == nil {
			return items, cursor, true
		}
		cur = *pg.NextCursor
		if cursor == "" {
			cursor = cur
		}
	}
	r.fail("GET %s as %s: more than 500 pages", path, c.Label)
	return items, cursor, false
}

// replay sends a cursor minted for tenant t's query to another tenant's caller on the same
// route: it must be refused.
func (r *runner) replay(t *tenantModel, path, cursor string, role string) {
	if cursor == "" {
		return
	}
	o := r.other(t)
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	r.sum.ForeignProbes++
	r.want(r.role(o, role), path+sep+"cursor="+url.QueryEscape(cursor), outcome{400, "invalid_cursor"})
}

// other is a tenant other than t, drawn from the seed.
func (r *runner) other(t *tenantModel) *tenantModel {
	for {
		if o := pickOf(r, r.tenants); o != t {
			return o
		}
	}
}

func (r *runner) limit() string { return fmt.Sprint(1 + r.pick(7)) }

// view is a contact as the API shows it; updatedAt, which every action moves, is left out of
// the comparison.
type view = contact.View

func viewOf(c *mcontact) view {
	return view{ID: contact.ID(c.ID), Name: c.Name, Email: c.Email, Phone: c.Phone, Status: c.Status, Channels: c.Channels, CreatedAt: c.CreatedAt}
}

func withoutUpdatedAt(vs ...view) []view {
	for i := range vs {
		vs[i].UpdatedAt = ""
	}
	return vs
}

func (r *runner) checkContacts(t *tenantModel) {
	for _, role := range []string{"agent", "admin"} {
		c := r.role(t, role)
		for _, status := range []string{active, archived} {
			path := "/v1/contacts?status=" + status + "&limit=" + r.limit()
			got, cursor, ok := walk[view](r, c, path, nil)
			if !ok {
				continue
			}
			want := []view{}
			for _, k := range t.listed(status) {
				want = append(want, viewOf(k))
			}
			if got == nil {
				got = []view{}
			}
			if d := cmp.Diff(want, withoutUpdatedAt(got...)); d != "" {
				r.fail("GET %s as %s (-model +got):\n%s", path, c.Label, d)
			}
			r.replay(t, path, cursor, role)
		}
	}
	// Every contact of the tenant, whatever became of it; a few of every other tenant's.
	agent := r.role(t, "agent")
	for _, id := range t.Order {
		k, want := t.load(id)
		path := "/v1/contacts/" + id
		if k == nil {
			b := r.want(agent, path, want)
			if want.Code == "contact_merged" {
				var e struct {
					Error struct {
						MergedInto string `json:"mergedInto"`
					} `json:"error"`
				}
				_ = json.Unmarshal(b, &e)
				if into := t.mergedInto(t.Contacts[id]); e.Error.MergedInto != into {
					r.fail("GET %s: mergedInto %q, the model says %q", path, e.Error.MergedInto, into)
				}
			}
			continue
		}
		var got view
		if r.get(agent, path, &got) {
			if d := cmp.Diff(viewOf(k), withoutUpdatedAt(got)[0]); d != "" {
				r.fail("GET %s (-model +got):\n%s", path, d)
			}
		}
	}
	for _, o := range r.tenants {
		if o == t || len(o.Order) == 0 {
			continue
		}
		for range 3 {
			r.sum.ForeignProbes++
			r.want(agent, "/v1/contacts/"+pickOf(r, o.Order), notFound)
		}
	}
}

// item is an event as the history and the audit log show it.
type item struct {
	ID         string `json:"id"`
	TenantID   string `json:"tenantId"`
	OccurredAt string `json:"occurredAt"`
	Type       string `json:"type"`
	Category   string `json:"category"`
	Actor      struct {
		ID string `json:"id"`
	} `json:"actor"`
	Contact *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"contact"`
	SessionID string         `json:"sessionId"`
	Data      map[string]any `json:"data"`
}

func (it *item) sig() string {
	c := ""
	if it.Contact != nil {
		c = it.Contact.ID
	}
	return strings.Join([]string{it.Type, it.Category, c, it.Actor.ID, it.SessionID}, "|")
}

// compareEvents checks a read's events against the model's: the same multiset of what the
// model knows of each, the same ids where it knows them, the tenant's own, newest first (or
// oldest), and each contact name as the model says it reads now.
func (r *runner) compareEvents(what string, t *tenantModel, want []*event, got []item, newestFirst bool) {
	var ws, gs []string
	known := map[string]*event{}
	for _, e := range want {
		ws = append(ws, e.sig())
		if e.ID != "" {
			known[e.ID] = e
		}
	}
	for i := range got {
		it := &got[i]
		gs = append(gs, it.sig())
		if it.TenantID != t.ID {
			r.fail("%s: event %s has tenantId %q, want %q", what, it.ID, it.TenantID, t.ID)
		}
		if e, ok := known[it.ID]; ok {
			delete(known, it.ID)
			if e.sig() != it.sig() {
				r.fail("%s: event %s is %s, the model says %s", what, it.ID, it.sig(), e.sig())
			}
			if e.Text != nil && it.Data["text"] != *e.Text {
				r.fail("%s: INPUT event %s has text %v, the model says %q", what, it.ID, it.Data["text"], *e.Text)
			}
		}
		if it.Contact != nil {
			name := t.nameOf(it.Contact.ID)
			if it.Type == "CONTACT_ERASED" {
				name = erasedName
			}
			if it.Contact.Name != name {
				r.fail("%s: event %s (%s) names contact %s %q, the model says %q", what, it.ID, it.Type, it.Contact.ID, it.Contact.Name, name)
			}
		}
		if i > 0 {
			a, b := got[i-1].OccurredAt+"#"+got[i-1].ID, it.OccurredAt+"#"+it.ID
			if newestFirst && a <= b || !newestFirst && a >= b {
				r.fail("%s: events %s and %s out of order", what, got[i-1].ID, it.ID)
			}
		}
	}
	for id := range known {
		r.fail("%s: event %s missing", what, id)
	}
	sort.Strings(ws)
	sort.Strings(gs)
	if d := cmp.Diff(ws, gs); d != "" {
		r.fail("%s: %d events, the model says %d (-model +got):\n%s", what, len(gs), len(ws), d)
	}
}

func (r *runner) checkHistory(t *tenantModel) {
	var cursor, cursorQuery string
	for _, id := range t.Order {
		role := pickOf(r, []string{"agent", "admin"})
		c := r.role(t, role)
		k := t.Contacts[id]
		query := "/history?limit=" + fmt.Sprint(2+r.pick(20))
		path := "/v1/contacts/" + id + query
		switch {
		case (k.Status == deleted || k.Erased) && role != "admin":
			r.want(c, path, notFound)
			continue
		case k.Status == merged && !k.Erased:
			r.want(c, path, outcome{404, "contact_merged"})
			continue
		}
		got, cur, ok := walk[item](r, c, path, nil)
		if !ok {
			continue
		}
		if cursor == "" && cur != "" {
			cursor, cursorQuery = cur, query
		}
		r.compareEvents("history of "+id+" as "+c.Label, t, t.history(id), got, true)
	}
	// Another tenant's history cursor on one of that tenant's own contacts: refused.
	if cursor != "" {
		o := r.other(t)
		if len(o.Order) > 0 {
			r.sum.ForeignProbes++
			id := o.Order[0]
			path := "/v1/contacts/" + id + cursorQuery
			want := outcome{400, "invalid_cursor"}
			if k := o.Contacts[id]; k.Status == merged && !k.Erased {
				want = outcome{404, "contact_merged"}
			}
			r.want(r.role(o, "admin"), path+"&cursor="+url.QueryEscape(cursor), want)
		}
	}
}

func (r *runner) checkSettings(t *tenantModel) {
	admin := r.role(t, "admin")
	var s struct {
		Cobrowse struct {
			InputText string `json:"inputText"`
		} `json:"cobrowse"`
		Version int `json:"version"`
	}
	if r.get(admin, "/v1/settings", &s) {
		want := map[bool]string{true: "clear", false: "masked"}[t.Clear]
		if s.Cobrowse.InputText != want || s.Version != t.Version {
			r.fail("settings of %s: %s version %d, the model says %s version %d", t.ID, s.Cobrowse.InputText, s.Version, want, t.Version)
		}
	}
	r.want(r.role(t, "agent"), "/v1/settings", outcome{403, "forbidden"})
	var list struct {
		Items []struct {
			Name      string `json:"name"`
			Frequency string `json:"frequency"`
		} `json:"items"`
	}
	if r.get(admin, "/v1/export-schedules", &list) {
		got := map[string]string{}
		for _, s := range list.Items {
			got[s.Name] = s.Frequency
		}
		if d := cmp.Diff(t.Schedules, got); d != "" {
			r.fail("export schedules of %s (-model +got):\n%s", t.ID, d)
		}
	}
}

// row is a report log's row, the columns the model knows.
type row struct {
	ContactID        string   `json:"contactId"`
	PrimaryContactID string   `json:"primaryContactId"`
	ContactName      string   `json:"contactName"`
	MergedContactIDs []string `json:"mergedContactIds"`
	User             string   `json:"user"`
	Channel          string   `json:"channel"`
}

func (r *runner) rowsOf(t *tenantModel, typ string) []row {
	out := []row{}
	for _, e := range t.ofType(typ) {
		x := row{ContactName: t.nameOf(e.Contact), User: r.names[e.Actor]}
		if typ == "CONTACT_MERGED" {
			x.PrimaryContactID, x.MergedContactIDs = e.Contact, e.Merged
		} else {
			x.ContactID = e.Contact
		}
		out = append(out, x)
	}
	return sortRows(out)
}

func sortRows(rs []row) []row {
	sort.Slice(rs, func(i, j int) bool {
		a, _ := json.Marshal(rs[i])
		b, _ := json.Marshal(rs[j])
		return string(a) < string(b)
	})
	return rs
}

func (r *runner) period() string { return "from=" + r.day + "&to=" + r.dayAfter }

func (r *runner) viewed(t *tenantModel, typ string, c *caller) func() {
	return func() { t.record(event{Type: typ, Actor: c.Sub}) }
}

func (r *runner) checkReports(t *tenantModel) {
	admin := r.role(t, "admin")
	for _, log := range []struct{ name, typ string }{{"added", "CONTACT_ADDED"}, {"connected", "CONTACT_CONNECTED"}, {"deleted", "CONTACT_DELETED"}, {"merged", "CONTACT_MERGED"}} {
		path := "/v1/reports/contacts/" + log.name + "?" + r.period() + "&limit=" + r.limit()
		got, cursor, ok := walk[row](r, admin, path, r.viewed(t, "REPORT_VIEWED", admin))
		if !ok {
			continue
		}
		for i := range got {
			got[i].Channel = ""
		}
		if got == nil {
			got = []row{}
		}
		if d := cmp.Diff(r.rowsOf(t, log.typ), sortRows(got)); d != "" {
			r.fail("the %s log of %s (-model +got):\n%s", log.name, t.ID, d)
		}
		r.replay(t, path, cursor, "admin")
	}
	var ov struct {
		Totals map[string]int `json:"totals"`
	}
	if r.get(admin, "/v1/reports/contacts/overview?"+r.period(), &ov) {
		t.record(event{Type: "REPORT_VIEWED", Actor: admin.Sub})
		want := map[string]int{}
		for _, k := range []string{"added", "connected", "deleted", "merged", "archived", "unarchived"} {
			want[k] = t.count("CONTACT_" + strings.ToUpper(k))
		}
		if d := cmp.Diff(want, ov.Totals); d != "" {
			r.fail("the overview of %s (-model +got):\n%s", t.ID, d)
		}
	}
	// Agents read contacts and histories only.
	agent := r.role(t, "agent")
	for _, p := range []string{"/v1/reports/contacts/overview?" + r.period(), "/v1/reports/contacts/added", "/v1/export-schedules", "/v1/cobrowse/sessions/x/events"} {
		r.want(agent, p, outcome{403, "forbidden"})
	}
}

// auditFilter is one query of the audit log and what the model keeps for it.
type auditFilter struct {
	query string
	keep  func(e *event) bool
}

func (r *runner) checkAuditLog(t *tenantModel) {
	admin := r.role(t, "admin")
	filters := []auditFilter{{"", func(*event) bool { return true }}}
	for _, cat := range []string{"contact", "platform", "cobrowse", "email", "access"} {
		filters = append(filters, auditFilter{"category=" + cat, func(e *event) bool { return e.Category == cat }})
	}
	types := []string{"CONTACT_ADDED", "CONTACT_MERGED", "LOGGED_IN", "INPUT", "EMAIL_DELIVERED", "SETTINGS_UPDATED", "CONTACT_ERASED"}
	a, b := pickOf(r, types), pickOf(r, types)
	filters = append(filters, auditFilter{"type=" + a + "&type=" + b, func(e *event) bool { return e.Type == a || e.Type == b }})
	for _, role := range []string{"admin", "service", "agent"} {
		sub := r.role(t, role).Sub
		filters = append(filters, auditFilter{"actorId=" + url.QueryEscape(sub), func(e *event) bool { return e.Actor == sub }})
	}
	if len(t.Order) > 0 {
		id := pickOf(r, t.Order)
		filters = append(filters, auditFilter{"contactId=" + id, func(e *event) bool { return e.Contact == id }})
		filters = append(filters, auditFilter{"contactId=" + id + "&category=contact", func(e *event) bool { return e.Contact == id && e.Category == "contact" }})
	}
	// Another tenant's contact and actor: nothing.
	if o := r.other(t); len(o.Order) > 0 {
		r.sum.ForeignProbes += 2
		filters = append(filters, auditFilter{"contactId=" + pickOf(r, o.Order), func(*event) bool { return false }})
		filters = append(filters, auditFilter{"actorId=" + url.QueryEscape(r.role(o, "admin").Sub), func(*event) bool { return false }})
	}
	for _, f := range filters {
		path := "/v1/audit-events?" + r.period() + "&limit=" + fmt.Sprint(1+r.pick(200))
		if f.query != "" {
			path += "&" + f.query
		}
		var want []*event
		for _, e := range t.Events {
			if f.keep(e) {
				want = append(want, e)
			}
		}
		got, cursor, ok := walk[item](r, admin, path, r.viewed(t, "AUDIT_LOG_VIEWED", admin))
		if !ok {
			continue
		}
		r.compareEvents("GET "+path, t, want, got, true)
		r.replay(t, path, cursor, "admin")
	}
	r.want(r.role(t, "agent"), "/v1/audit-events", outcome{403, "forbidden"})
}

func (r *runner) checkSessions(t *tenantModel) {
	admin := r.role(t, "admin")
	var sessions []string
	for s := range t.Sessions {
		sessions = append(sessions, s)
	}
	sort.Strings(sessions)
	for _, s := range sessions {
		path := "/v1/cobrowse/sessions/" + s + "/events?limit=" + r.limit()
		got, cursor, ok := walk[item](r, admin, path, r.viewed(t, "AUDIT_LOG_VIEWED", admin))
		if !ok {
			continue
		}
		var want []*event
		for _, e := range t.Events {
			if e.Session == s {
				want = append(want, e)
			}
		}
		r.compareEvents("GET "+path, t, want, got, false)
		var ids []string
		for _, it := range got {
			ids = append(ids, it.ID)
		}
		var wantIDs []string
		for _, k := range sortedCopy(t.Sessions[s]) {
			wantIDs = append(wantIDs, k[strings.IndexByte(k, '#')+1:])
		}
		if d := cmp.Diff(wantIDs, ids); d != "" {
			r.fail("session %s of %s, oldest first (-model +got):\n%s", s, t.ID, d)
		}
		r.replay(t, path, cursor, "admin")
	}
}

// exportView is GET /v1/exports/{id}.
type exportView struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Rows   *int   `json:"rows"`
	URL    string `json:"url"`
	Report string `json:"report"`
}

// settleExports waits for each export to finish; a finished one records REPORT_EXPORTED.
func (r *runner) settleExports(ctx context.Context, t *tenantModel, xs []*export) {
	admin := r.role(t, "admin")
	deadline := time.Now().Add(3 * time.Minute)
	for _, x := range xs {
		for !x.Done {
			var v exportView
			if !r.get(admin, "/v1/exports/"+x.ID, &v) {
				break
			}
			if v.Status == "done" {
				x.Done = true
				t.record(event{Type: "REPORT_EXPORTED", Actor: x.By})
				break
			}
			if v.Status == "failed" || time.Now().After(deadline) || ctx.Err() != nil {
				r.fail("export %s of %s: %s, want done", x.ID, t.ID, v.Status)
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
}

func (r *runner) checkExports(ctx context.Context, t *tenantModel) {
	admin := r.role(t, "admin")
	// A fresh export of the Added log, now that everything is archived: its file holds
	// exactly the model's rows.
	st, b := r.do(admin, "POST", "/v1/exports", map[string]any{"report": "added", "from": r.day, "to": r.dayAfter, "format": "csv"})
	if st != http.StatusAccepted {
		r.fail("POST /v1/exports as %s: %d %s", admin.Label, st, clip(b))
	} else {
		var v struct{ ID string }
		_ = json.Unmarshal(b, &v)
		x := &export{ID: v.ID, Report: "added", By: admin.Sub}
		t.Exports = append(t.Exports, x)
		r.settleExports(ctx, t, []*export{x})
		if file, ok := r.exportFile(admin, x); ok {
			rec, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(file), "\ufeff"))).ReadAll()
			if err != nil || len(rec) == 0 {
				r.fail("export %s of %s: not a CSV file: %v", x.ID, t.ID, err)
			} else {
				got := []row{}
				for _, f := range rec[1:] {
					if len(f) == 5 {
						got = append(got, row{ContactID: f[1], ContactName: strings.TrimPrefix(f[2], "'"), User: f[4]})
					}
				}
				if d := cmp.Diff(r.rowsOf(t, "CONTACT_ADDED"), sortRows(got)); d != "" {
					r.fail("the exported Added log of %s (-model +got):\n%s", t.ID, d)
				}
			}
		}
	}
	// Every export the actions made: done, its file the tenant's alone (the leak scan).
	for _, x := range t.Exports {
		r.exportFile(admin, x)
	}
	for _, o := range r.tenants {
		if o != t && len(o.Exports) > 0 {
			r.sum.ForeignProbes++
			r.want(admin, "/v1/exports/"+pickOf(r, o.Exports).ID, outcome{404, "export_not_found"})
		}
	}
}

// exportFile reads an export and downloads its file, scanning it like any answer.
func (r *runner) exportFile(c *caller, x *export) ([]byte, bool) {
	var v exportView
	if !r.get(c, "/v1/exports/"+x.ID, &v) {
		return nil, false
	}
	if v.ID != x.ID || v.Status != "done" || v.Rows == nil || v.URL == "" {
		r.fail("export %s: %+v, want done with rows and a url", x.ID, v)
		return nil, false
	}
	resp, err := r.http.Get(v.URL)
	if err != nil {
		r.fail("download export %s: %v", x.ID, err)
		return nil, false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		r.fail("download export %s: %d", x.ID, resp.StatusCode)
		return nil, false
	}
	r.scan(c, "the file of export "+x.ID, "", string(b))
	return b, true
}

// settleMails waits for the mailer's outcome of every email request and learns which it was.
func (r *runner) settleMails(ctx context.Context) {
	deadline := time.Now().Add(2 * time.Minute)
	pending := slices.Clone(r.mails)
	for len(pending) > 0 && ctx.Err() == nil {
		var left []mailed
		seen := map[string]bool{}
		for _, m := range pending {
			holder := m.t.holder(m.e.Contact)
			key := m.t.ID + "/" + holder
			if !seen[key] {
				seen[key] = true
				got, _, _ := walk[item](r, r.role(m.t, "admin"), "/v1/contacts/"+holder+"/history?type=EMAIL_DELIVERED&type=EMAIL_FAILED&limit=200", nil)
				for _, it := range got {
					for _, p := range pending {
						if p.t == m.t && it.Data["requestEventId"] == p.e.Request {
							p.e.ID, p.e.Type = it.ID, it.Type
						}
					}
				}
			}
		}
		for _, m := range pending {
			if m.e.ID == "" {
				left = append(left, m)
			}
		}
		pending = left
		if len(pending) > 0 {
			if time.Now().After(deadline) {
				for _, m := range pending {
					r.fail("no EMAIL_DELIVERED or EMAIL_FAILED for request %s of %s after 2 minutes", m.e.Request, m.t.ID)
				}
				return
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
}

// waitArchived polls the tenant's overview, as the report tests do, until archivedThrough
// vouches for every event recorded before last. Each poll is a REPORT_VIEWED.
func (r *runner) waitArchived(ctx context.Context, t *tenantModel, last time.Time) {
	admin := r.role(t, "admin")
	day := last.Format(time.DateOnly)
	path := "/v1/reports/contacts/overview?from=" + day + "&to=" + last.AddDate(0, 0, 1).Format(time.DateOnly)
	deadline := time.Now().Add(2 * time.Minute)
	for ctx.Err() == nil {
		var ov struct {
			ArchivedThrough *string `json:"archivedThrough"`
		}
		if !r.get(admin, path, &ov) {
			return
		}
		t.record(event{Type: "REPORT_VIEWED", Actor: admin.Sub})
		if ov.ArchivedThrough != nil && *ov.ArchivedThrough >= last.Format("2006-01-02T15:04:05.000Z") {
			return
		}
		if time.Now().After(deadline) {
			r.fail("the archive of %s: archivedThrough %v two minutes after the last write (%s)", t.ID, ov.ArchivedThrough, last.Format(time.RFC3339Nano))
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// checkLog reconciles each tenant (DynamoDB, the archive and the reports agree, and DynamoDB
// holds exactly the model's events, type by type), runs the sequencer, and checks each
// tenant's checkpoint (size: every event) and inclusion proofs (its own events: 200; another
// tenant's: 404).
func (r *runner) checkLog(ctx context.Context) error {
	s := r.c.Stack
	checker, closeFn, err := reconcile.Open(ctx, reconcile.Config{Table: s.Tables["AuditTable"], KeysTable: s.Tables["KeysTable"], LogTable: s.Tables["LogTable"], Bucket: s.Buckets["ArchiveBucket"],
		DynamoDBEndpoint: s.DynamoDBEndpoint, S3Endpoint: s.S3Endpoint, StateDir: s.StateDir})
	if err != nil {
		return fmt.Errorf("open reconciliation: %w", err)
	}
	defer closeFn()
	r.reconcile(ctx, checker)
	if err := r.sequence(ctx); err != nil {
		return err
	}
	for _, t := range r.tenants {
		admin := r.role(t, "admin")
		size := len(t.Events)
		var cp struct {
			Origin string `json:"origin"`
			Size   int    `json:"size"`
		}
		if r.get(admin, "/v1/log/checkpoint", &cp) {
			t.record(event{Type: "LOG_PROOF_VIEWED", Actor: admin.Sub})
			if cp.Origin != "contrail/"+t.ID || cp.Size != size {
				r.fail("checkpoint of %s: origin %q size %d, the model says contrail/%s size %d", t.ID, cp.Origin, cp.Size, t.ID, size)
			}
		}
		r.want(r.role(t, "agent"), "/v1/log/checkpoint", outcome{403, "forbidden"})
		var own []string
		for _, e := range t.Events[:size] {
			if e.ID != "" {
				own = append(own, e.ID)
			}
		}
		for range min(4, len(own)) {
			id := pickOf(r, own)
			var p struct {
				EventID string `json:"eventId"`
				Size    int    `json:"size"`
			}
			if r.get(admin, "/v1/log/proof/inclusion?eventId="+id, &p) {
				t.record(event{Type: "LOG_PROOF_VIEWED", Actor: admin.Sub})
				if p.EventID != id || p.Size != size {
					r.fail("inclusion proof of %s in %s: %+v, want its own at size %d", id, t.ID, p, size)
				}
			}
		}
		for _, o := range r.tenants {
			var ids []string
			for _, e := range o.Events {
				if e.ID != "" {
					ids = append(ids, e.ID)
				}
			}
			if o == t || len(ids) == 0 {
				continue
			}
			r.sum.ForeignProbes++
			r.want(admin, "/v1/log/proof/inclusion?eventId="+pickOf(r, ids), outcome{404, "not_found"})
		}
	}
	r.phase = "reconcile"
	r.reconcile(ctx, checker)
	return nil
}

// sequence runs the sequencer once (the stack's schedules are off).
func (r *runner) sequence(ctx context.Context) error {
	tick := []byte(`{"version":"0","id":"isolation","detail-type":"Scheduled Event","source":"aws.events","time":"` + time.Now().UTC().Format(time.RFC3339) + `","detail":{}}`)
	if _, err := r.c.Stack.Invoke(ctx, "SequenceLogFunction", tick); err != nil {
		return fmt.Errorf("run the sequencer: %w", err)
	}
	return nil
}

// reconcile waits until DynamoDB, the archive, the verifiable log and the reports agree for
// every tenant, running the sequencer while the log lacks events, then compares DynamoDB's
// events, type by type, with the model's.
func (r *runner) reconcile(ctx context.Context, checker *reconcile.Checker) {
	from := r.start.UTC().Truncate(24 * time.Hour)
	to := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	for _, t := range r.tenants {
		deadline := time.Now().Add(2 * time.Minute)
		for {
			res, err := checker.Run(ctx, tenant.ID(t.ID), from, to)
			if err != nil {
				r.fail("reconcile %s: %v", t.ID, err)
				break
			}
			if res.Settled() {
				want := map[string]int{}
				for _, e := range t.Events {
					want[e.Type]++
				}
				if d := cmp.Diff(want, res.Counts["DynamoDB"]); d != "" {
					r.fail("%s's events in DynamoDB by type (-model +DynamoDB):\n%s", t.ID, d)
				}
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				var b strings.Builder
				_ = res.Write(&b)
				r.fail("reconcile %s: no agreement after 2 minutes:\n%s", t.ID, b.String())
				break
			}
			if res.Log != nil && len(res.Log.Pending)+len(res.Differences) > 0 {
				if err := r.sequence(ctx); err != nil {
					r.fail("reconcile %s: %v", t.ID, err)
					break
				}
			}
			time.Sleep(time.Second)
		}
	}
}

// Report prints a run's figures and its findings.
func (s *Summary) Report(w io.Writer) {
	outcomes := make([]string, 0, len(s.ByOutcome))
	for k, n := range s.ByOutcome {
		outcomes = append(outcomes, fmt.Sprintf("%s: %d", k, n))
	}
	sort.Strings(outcomes)
	events := 0
	for _, n := range s.Events {
		events += n
	}
	fmt.Fprintf(w, "isolation: seed %d, %d actions in %.1f s, %.1f s in all; %d reads checked against the model, %d probes of another tenant's ids and cursors, %d answers scanned, cross-tenant reads: %d; %d events in %d tenants\n",
		s.Seed, s.Actions, s.ActionTime.Seconds(), s.Elapsed.Seconds(), s.Reads, s.ForeignProbes, s.Responses, s.Leaks, events, len(s.Events))
	fmt.Fprintf(w, "isolation: outcomes %s\n", strings.Join(outcomes, ", "))
	if s.FindingCount == 0 {
		fmt.Fprintln(w, "isolation: every read agreed with the model; nothing of another tenant in any answer")
		return
	}
	fmt.Fprintf(w, "isolation: %d findings (first %d):\n", s.FindingCount, len(s.Findings))
	for _, f := range s.Findings {
		fmt.Fprintln(w, f)
	}
}
