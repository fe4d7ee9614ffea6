package isolation

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"time"
)

// An action: a route the model knows, by a random caller. Weights are how often each comes.
var actions = []struct {
	name   string
	weight int
	run    func(r *runner, c *caller)
}{
	{"create", 12, (*runner).create},
	{"keyed create", 4, (*runner).keyedCreate},
	{"connect", 8, (*runner).connect},
	{"archive", 5, func(r *runner, c *caller) {
		r.setStatus(c, "archive", active, archived, "CONTACT_ARCHIVED", "contact_already_archived")
	}},
	{"unarchive", 4, func(r *runner, c *caller) {
		r.setStatus(c, "unarchive", archived, active, "CONTACT_UNARCHIVED", "contact_not_archived")
	}},
	{"delete", 4, (*runner).remove},
	{"merge", 5, (*runner).merge},
	{"comment", 6, (*runner).comment},
	{"invite", 3, func(r *runner, c *caller) { r.mail(c, "invite") }},
	{"message", 3, func(r *runner, c *caller) { r.mail(c, "messages") }},
	{"share", 3, func(r *runner, c *caller) { r.mail(c, "share") }},
	{"erase", 3, (*runner).erase},
	{"ingest", 6, (*runner).ingest},
	{"cobrowse", 6, (*runner).cobrowse},
	{"export", 3, (*runner).export},
	{"schedule", 3, (*runner).schedule},
	{"settings", 3, (*runner).settings},
	{"probe", 8, (*runner).probe},
}

// act runs one action by a random caller: mostly one of a tenant's own callers, sometimes a
// token the edge refuses.
func (r *runner) act() {
	total := 0
	for _, a := range actions {
		total += a.weight
	}
	n := r.pick(total)
	i := 0
	for ; n >= actions[i].weight; i++ {
		n -= actions[i].weight
	}
	var c *caller
	if r.chance(0.04) {
		c = pickOf(r, r.refused)
	} else {
		t := r.tenants[r.pick(len(r.tenants))]
		cs := r.callers[t.ID]
		p := r.rng.Float64()
		if name := actions[i].name; name == "ingest" || name == "cobrowse" {
			p = 1 - p*p // mostly the service, whose routes these are
		}
		switch {
		case p < 0.45:
			c = cs[0] // admin
		case p < 0.85:
			c = cs[1] // agent
		default:
			c = cs[2] // service
		}
	}
	actions[i].run(r, c)
}

// tenantOf is the model of c's tenant; a refused caller acts on tenant iso-a's ids.
func (r *runner) tenantOf(c *caller) *tenantModel {
	if c.tenant != nil {
		return c.tenant
	}
	return r.tenants[0]
}

// allowed is the outcome of the role check, before anything else: 403 when c has none of
// roles, 0 (refused at the edge) for a refused token, ok otherwise.
func (r *runner) allowed(c *caller, roles ...string) (outcome, bool) {
	if c.tenant == nil {
		return outcome{}, false
	}
	if !c.has(roles...) {
		return outcome{403, "forbidden"}, false
	}
	return outcome{}, true
}

// target picks a contact id for c to act on: mostly one of its tenant's (of any status),
// sometimes another tenant's (which must be 404 and change nothing). "" when there is none.
func (r *runner) target(c *caller) (id string, foreign bool) {
	t := r.tenantOf(c)
	if r.chance(0.15) || len(t.Order) == 0 {
		o := r.tenants[r.pick(len(r.tenants))]
		if o != t && len(o.Order) > 0 {
			r.sum.ForeignProbes++
			return pickOf(r, o.Order), true
		}
	}
	if len(t.Order) == 0 {
		return "", false
	}
	// Live contacts more often than tombstones, so actions mostly reach their own rules.
	for range 3 {
		id = pickOf(r, t.Order)
		if t.Contacts[id].live() {
			break
		}
	}
	return id, false
}

func (r *runner) create(c *caller) {
	t := r.tenantOf(c)
	n := t.next()
	name := fmt.Sprintf("%s %s %d", pickOf(r, []string{"Ana", "Budi", "Siti", "Pat", "Dewi", "Rudi"}), t.Marker, n)
	body := map[string]any{"name": name}
	var email, phone *string
	if r.chance(0.7) {
		e := fmt.Sprintf("%s-%d@example.com", t.Marker, n)
		email, body["email"] = &e, e
	}
	if r.chance(0.4) {
		p := fmt.Sprintf("+62 812 %04d %04d", r.pick(10000), n%10000)
		phone, body["phone"] = &p, p
	}
	want, ok := r.allowed(c, "agent", "admin")
	if ok {
		want = outcome{Status: 201}
	}
	st, b := r.do(c, "POST", "/v1/contacts", body)
	if r.expect("create", c, want, st, b) {
		r.added(t, c, b, name, email, phone)
	}
}

// added puts a created contact into the model; it returns its id ("" when the answer has none).
func (r *runner) added(t *tenantModel, c *caller, b []byte, name string, email, phone *string) string {
	var v struct {
		ID        string `json:"id"`
		CreatedAt string `json:"createdAt"`
	}
	if err := json.Unmarshal(b, &v); err != nil || v.ID == "" {
		r.fail("create: answer %s", clip(b))
		return ""
	}
	t.Contacts[v.ID] = &mcontact{ID: v.ID, Name: name, CreatedAt: v.CreatedAt, Email: email, Phone: phone, Status: active, Channels: []channel{}}
	t.Names[v.ID] = name
	t.Order = append(t.Order, v.ID)
	t.record(event{Type: "CONTACT_ADDED", Contact: v.ID, Actor: c.Sub})
	return v.ID
}

// keyedCreate creates a contact with an Idempotency-Key drawn from a pool every tenant draws
// from. Within a tenant, the key with the same body replays the first answer and records
// nothing (404 once that contact is erased: the stored answer was sealed under its key), and
// with another body is 409; a key another tenant used means nothing here.
func (r *runner) keyedCreate(c *caller) {
	t := r.tenantOf(c)
	key := fmt.Sprintf("iso-key-%d", r.pick(8))
	prev, used := t.Keys[key]
	raw := prev.body
	name, email := "", ""
	if !used || r.chance(0.4) {
		n := t.next()
		name, email = fmt.Sprintf("Kei %s %d", t.Marker, n), fmt.Sprintf("%s-k%d@example.com", t.Marker, n)
		raw, _ = json.Marshal(map[string]any{"name": name, "email": email})
	}
	replay := used && string(raw) == string(prev.body)
	want, ok := r.allowed(c, "agent", "admin")
	switch {
	case !ok:
	case !used:
		want = outcome{Status: 201}
	case replay && t.Contacts[prev.contact].Erased:
		want = notFound
	case replay:
		want = outcome{Status: 201}
	default:
		want = outcome{409, "idempotency_key_reused"}
	}
	st, b := r.send(c, "POST", "/v1/contacts", raw, map[string]string{"Idempotency-Key": key})
	if !r.expect("keyed create", c, want, st, b) {
		return
	}
	if replay {
		var v struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(b, &v)
		if v.ID != prev.contact {
			r.fail("keyed create: a replay of %s answered contact %q, want the first answer's %s", key, v.ID, prev.contact)
		}
		return
	}
	if id := r.added(t, c, b, name, nil, nil); id != "" {
		t.Contacts[id].Email = &email
		t.Keys[key] = keyUse{body: raw, contact: id}
	}
}

// act runs a contact action on a target: the role check, then the contact's Load, then
// decide (the action's own rules), whose outcome the model predicts.
func (r *runner) contactAction(c *caller, name, method, suffix string, body any, roles []string,
	decide func(t *tenantModel, k *mcontact) outcome, apply func(t *tenantModel, k *mcontact, b []byte)) {
	id, foreign := r.target(c)
	if id == "" {
		r.create(c)
		return
	}
	t := r.tenantOf(c)
	want, ok := r.allowed(c, roles...)
	var k *mcontact
	if ok {
		if foreign {
			want = notFound
		} else if k, want = t.load(id); k != nil {
			want = decide(t, k)
		}
	}
	st, b := r.do(c, method, "/v1/contacts/"+id+suffix, body)
	if r.expect(name, c, want, st, b) && k != nil {
		apply(t, k, b)
	}
}

func (r *runner) connect(c *caller) {
	t := r.tenantOf(c)
	ch := pickOf(r, []string{"telegram", "whatsapp", "webchat"})
	// Identities of the tenant's own, and a few every tenant uses: uniqueness is per tenant.
	ext := fmt.Sprintf("@%s_%d", t.Marker, r.pick(12))
	if r.chance(0.3) {
		ext = fmt.Sprintf("@shared_%d", r.pick(4))
	}
	r.contactAction(c, "connect", "POST", "/channels", map[string]any{"channel": ch, "externalId": ext}, []string{"agent", "admin"},
		func(t *tenantModel, k *mcontact) outcome {
			switch holder, held := t.Identities[[2]string{ch, ext}]; {
			case held && holder == k.ID:
				return outcome{409, "channel_already_connected"}
			case held:
				return outcome{409, "channel_identity_taken"}
			}
			return outcome{Status: 201}
		},
		func(t *tenantModel, k *mcontact, b []byte) {
			var v struct {
				Channels []struct {
					Channel, ExternalID, ConnectedAt string
				} `json:"channels"`
			}
			_ = json.Unmarshal(b, &v)
			at := ""
			if n := len(v.Channels); n > 0 {
				at = v.Channels[n-1].ConnectedAt
			}
			k.Channels = append(k.Channels, channel{Channel: ch, ExternalID: ext, ConnectedAt: at})
			t.Identities[[2]string{ch, ext}] = k.ID
			t.record(event{Type: "CONTACT_CONNECTED", Contact: k.ID, Actor: c.Sub})
		})
}

func (r *runner) setStatus(c *caller, route, from, to, typ, wrong string) {
	r.contactAction(c, route, "POST", "/"+route, nil, []string{"agent", "admin"},
		func(t *tenantModel, k *mcontact) outcome {
			if k.Status != from {
				return outcome{409, wrong}
			}
			return outcome{Status: 200}
		},
		func(t *tenantModel, k *mcontact, _ []byte) {
			k.Status = to
			t.record(event{Type: typ, Contact: k.ID, Actor: c.Sub})
		})
}

func (r *runner) remove(c *caller) {
	r.contactAction(c, "delete", "DELETE", "", nil, []string{"agent", "admin"},
		func(*tenantModel, *mcontact) outcome { return outcome{Status: 204} },
		func(t *tenantModel, k *mcontact, _ []byte) {
			k.Status, k.Email, k.Phone = deleted, nil, nil
			t.release(k)
			t.record(event{Type: "CONTACT_DELETED", Contact: k.ID, Actor: c.Sub})
		})
}

func (r *runner) comment(c *caller) {
	t := r.tenantOf(c)
	text := fmt.Sprintf("note %s %d", t.Marker, t.next())
	r.contactAction(c, "comment", "POST", "/comments", map[string]any{"text": text}, []string{"agent", "admin"},
		func(*tenantModel, *mcontact) outcome { return outcome{Status: 201} },
		func(t *tenantModel, k *mcontact, b []byte) {
			var v struct{ ID string }
			_ = json.Unmarshal(b, &v)
			t.record(event{ID: v.ID, Type: "COMMENT_ADDED", Contact: k.ID, Actor: c.Sub})
		})
}

// mail is invite, message or share: the request event now, the mailer's outcome later.
func (r *runner) mail(c *caller, route string) {
	t := r.tenantOf(c)
	n := t.next()
	to := fmt.Sprintf("%s-to%d@example.com", t.Marker, n)
	var body map[string]any
	typ := map[string]string{"invite": "CONTACT_INVITED", "messages": "MESSAGE_SENT", "share": "CONTACT_SHARED"}[route]
	needsEmail := false
	switch route {
	case "invite":
		body = map[string]any{"email": to}
	case "messages":
		body, needsEmail = map[string]any{"text": fmt.Sprintf("Hello %s %d", t.Marker, n)}, true
	case "share":
		body = map[string]any{"note": "for " + t.Marker}
		if r.chance(0.5) {
			body["email"] = to
		} else {
			needsEmail = true
		}
	}
	r.contactAction(c, route, "POST", "/"+route, body, []string{"agent", "admin"},
		func(t *tenantModel, k *mcontact) outcome {
			if needsEmail && k.Email == nil {
				return outcome{422, "contact_has_no_email"}
			}
			return outcome{Status: 202}
		},
		func(t *tenantModel, k *mcontact, b []byte) {
			var v struct {
				EventID string `json:"eventId"`
			}
			_ = json.Unmarshal(b, &v)
			t.record(event{ID: v.EventID, Type: typ, Contact: k.ID, Actor: c.Sub})
			// The outcome, EMAIL_DELIVERED or EMAIL_FAILED, is learned once settled.
			r.mails = append(r.mails, mailed{t, t.record(event{Type: "EMAIL_DELIVERED", Contact: k.ID, Actor: "mailer", Request: v.EventID})})
		})
}

func (r *runner) merge(c *caller) {
	t := r.tenantOf(c)
	want, ok := r.allowed(c, "agent", "admin")
	if len(t.Order) < 2 {
		r.create(c)
		return
	}
	// A primary and one or two others, mostly live ones of the tenant, sometimes a tombstone
	// or another tenant's contact.
	ids := []string{}
	size := 2 + r.pick(2)
	for range 12 {
		if len(ids) == size {
			break
		}
		id, _ := r.target(c)
		if id == "" || slices.Contains(ids, id) {
			continue
		}
		ids = append(ids, id)
	}
	if len(ids) < 2 {
		return
	}
	if ok {
		want = outcome{Status: 200}
		for _, id := range ids {
			k, mine := t.Contacts[id]
			if !mine {
				want = notFound
				break
			}
			if !k.live() {
				want = outcome{409, "contact_not_mergeable"}
				break
			}
		}
	}
	st, b := r.do(c, "POST", "/v1/contacts/merge", map[string]any{"primaryId": ids[0], "mergedIds": ids[1:]})
	if !r.expect("merge", c, want, st, b) {
		return
	}
	p := t.Contacts[ids[0]]
	for _, id := range ids[1:] {
		m := t.Contacts[id]
		for _, ch := range m.Channels {
			if !slices.ContainsFunc(p.Channels, func(x channel) bool { return x.Channel == ch.Channel && x.ExternalID == ch.ExternalID }) {
				p.Channels = append(p.Channels, ch)
			}
			t.Identities[[2]string{ch.Channel, ch.ExternalID}] = p.ID
		}
		m.Channels = []channel{}
		m.Status, m.MergedInto = merged, p.ID
		for _, f := range append([]string{m.ID}, m.MergedFrom...) {
			if !slices.Contains(p.MergedFrom, f) {
				p.MergedFrom = append(p.MergedFrom, f)
			}
		}
	}
	t.record(event{Type: "CONTACT_MERGED", Contact: p.ID, Actor: c.Sub, Merged: ids[1:]})
}

func (r *runner) erase(c *caller) {
	id, foreign := r.target(c)
	if id == "" {
		r.create(c)
		return
	}
	t := r.tenantOf(c)
	want, ok := r.allowed(c, "admin")
	var k *mcontact
	if ok {
		want = outcome{Status: 200}
		if foreign {
			want = notFound
		} else {
			k = t.Contacts[id]
		}
	}
	st, b := r.do(c, "POST", "/v1/contacts/"+id+"/erase", nil)
	if !r.expect("erase", c, want, st, b) || k == nil || k.Erased {
		return
	}
	t.erase(k)
	t.record(event{Type: "CONTACT_ERASED", Contact: k.ID, Actor: c.Sub})
}

// ingest sends platform events: a service's or an admin's (the actor is the caller).
func (r *runner) ingest(c *caller) {
	t := r.tenantOf(c)
	want, ok := r.allowed(c, "service", "admin")
	if ok {
		want = outcome{Status: 202}
	}
	var types []string
	var evs []any
	for range 1 + r.pick(3) {
		typ := pickOf(r, []string{"LOGGED_IN", "ONLINE_STATUS_ONLINE", "START_CALL"})
		data := map[string]any{}
		if typ == "START_CALL" {
			data = map[string]any{"callId": fmt.Sprintf("call-%s-%d", t.Marker, t.next()), "customerId": "cust-" + t.Marker}
		}
		types = append(types, typ)
		evs = append(evs, map[string]any{"type": typ, "data": data})
	}
	ids, ok := r.postEvents("ingest", c, want, "/v1/audit-events", evs)
	if !ok {
		return
	}
	for i, typ := range types {
		t.record(event{ID: ids[i], Type: typ, Actor: c.Sub})
	}
}

// cobrowse sends a session's events (services only); INPUT text is stored as the tenant's
// settings say.
func (r *runner) cobrowse(c *caller) {
	t := r.tenantOf(c)
	want, ok := r.allowed(c, "service")
	if ok {
		want = outcome{Status: 202}
	}
	// Not the marker: another tenant probing the session sends its id, which its own audit
	// log then keeps (see scan).
	session := fmt.Sprintf("sess-%s-%d", t.Session, r.pick(3))
	type sent struct {
		typ     string
		isAgent bool
		text    *string
	}
	var evs []any
	var sents []sent
	at := time.Now().UTC()
	for i := range 1 + r.pick(4) {
		s := sent{typ: pickOf(r, []string{"CLICK", "PAGECHANGE", "INPUT"}), isAgent: r.chance(0.5)}
		var data map[string]any
		switch s.typ {
		case "CLICK":
			data = map[string]any{"element": "button-" + fmt.Sprint(i)}
		case "PAGECHANGE":
			data = map[string]any{"page": "https://" + t.Marker + ".example.com/" + fmt.Sprint(i)}
		case "INPUT":
			typed := fmt.Sprintf("typed %s %d", t.Marker, t.next())
			sensitive := r.chance(0.3)
			data = map[string]any{"element": "field", "text": typed}
			if sensitive {
				data["sensitive"] = true
			}
			stored := "[masked]"
			if t.Clear && !sensitive {
				stored = typed
			}
			s.text = &stored
		}
		sents = append(sents, s)
		evs = append(evs, map[string]any{"type": s.typ, "occurredAt": at.Add(time.Duration(i) * time.Millisecond).Format("2006-01-02T15:04:05.000Z"), "isAgent": s.isAgent, "data": data})
	}
	ids, ok := r.postEvents("cobrowse", c, want, "/v1/cobrowse/sessions/"+session+"/events", evs)
	if !ok {
		return
	}
	for i, s := range sents {
		t.record(event{ID: ids[i], Type: s.typ, Session: session, Text: s.text})
		// Keyed as the session's sort key is (occurredAt#id), so batches sent a few
		// milliseconds apart sort as the API sorts them.
		t.Sessions[session] = append(t.Sessions[session], at.Add(time.Duration(i)*time.Millisecond).Format("2006-01-02T15:04:05.000Z")+"#"+ids[i])
	}
}

func (r *runner) export(c *caller) {
	t := r.tenantOf(c)
	want, ok := r.allowed(c, "admin")
	if ok {
		want = outcome{Status: 202}
	}
	report := pickOf(r, []string{"added", "connected", "deleted", "merged", "overview", "audit"})
	day := time.Now().UTC().Format(time.DateOnly)
	next := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	// CSV: its file is scanned as text (a Parquet file's pages are compressed, so a raw scan
	// would prove little); both formats are written from the same rows.
	st, b := r.do(c, "POST", "/v1/exports", map[string]any{"report": report, "from": day, "to": next, "format": "csv"})
	if !r.expect("export", c, want, st, b) {
		return
	}
	var v struct{ ID string }
	_ = json.Unmarshal(b, &v)
	t.Exports = append(t.Exports, &export{ID: v.ID, Report: report, By: c.Sub})
}

// schedule creates, changes or deletes an export schedule (admins).
func (r *runner) schedule(c *caller) {
	t := r.tenantOf(c)
	name := fmt.Sprintf("%s-s%d", t.Marker, r.pick(3))
	want, ok := r.allowed(c, "admin")
	freq, has := t.Schedules[name]
	if r.chance(0.35) {
		if ok {
			want = outcome{Status: 204}
			if !has {
				want = outcome{404, "schedule_not_found"}
			}
		}
		st, b := r.do(c, "DELETE", "/v1/export-schedules/"+name, nil)
		if r.expect("schedule delete", c, want, st, b) {
			delete(t.Schedules, name)
			t.record(event{Type: "EXPORT_SCHEDULE_DELETED", Actor: c.Sub})
		}
		return
	}
	// Always a change: a new schedule, or another frequency.
	next := map[string]string{"": "daily", "daily": "weekly", "weekly": "monthly", "monthly": "daily"}[freq]
	if ok {
		want = outcome{Status: 200}
	}
	st, b := r.do(c, "PUT", "/v1/export-schedules/"+name, map[string]any{"report": "added", "frequency": next, "format": "csv",
		"recipients": []string{t.Marker + "-r@example.com"}})
	if !r.expect("schedule put", c, want, st, b) {
		return
	}
	t.Schedules[name] = next
	typ := "EXPORT_SCHEDULE_CREATED"
	if has {
		typ = "EXPORT_SCHEDULE_UPDATED"
	}
	t.record(event{Type: typ, Actor: c.Sub})
}

// settings flips cobrowse.inputText, or puts the value in force (which records nothing).
func (r *runner) settings(c *caller) {
	t := r.tenantOf(c)
	want, ok := r.allowed(c, "admin")
	clear := r.chance(0.5)
	if ok {
		want = outcome{Status: 200}
	}
	v := map[bool]string{true: "clear", false: "masked"}[clear]
	st, b := r.do(c, "PUT", "/v1/settings", map[string]any{"cobrowse": map[string]any{"inputText": v}})
	if !r.expect("settings", c, want, st, b) || clear == t.Clear {
		return
	}
	t.Clear = clear
	t.Version++
	t.record(event{Type: "SETTINGS_UPDATED", Actor: c.Sub})
}

// probe reads another tenant's contact, history, export or session as c: 404 (or an empty
// session), and nothing of the other tenant in the answer.
func (r *runner) probe(c *caller) {
	t := r.tenantOf(c)
	o := r.tenants[r.pick(len(r.tenants))]
	if o == t {
		o = r.tenants[(slices.Index(r.tenants, t)+1)%len(r.tenants)]
	}
	r.sum.ForeignProbes++
	switch r.pick(4) {
	case 0, 1:
		if len(o.Order) == 0 {
			return
		}
		id := pickOf(r, o.Order)
		suffix := pickOf(r, []string{"", "/history"})
		want, ok := r.allowed(c, "agent", "admin")
		if ok {
			want = notFound
		}
		st, b := r.do(c, "GET", "/v1/contacts/"+id+suffix, nil)
		r.expect("probe contact"+suffix, c, want, st, b)
	case 2:
		if len(o.Exports) == 0 {
			return
		}
		want, ok := r.allowed(c, "admin")
		if ok {
			want = outcome{404, "export_not_found"}
		}
		st, b := r.do(c, "GET", "/v1/exports/"+pickOf(r, o.Exports).ID, nil)
		r.expect("probe export", c, want, st, b)
	case 3:
		if len(o.Sessions) == 0 {
			return
		}
		var sessions []string
		for s := range o.Sessions {
			sessions = append(sessions, s)
		}
		s := pickOf(r, sortedCopy(sessions))
		want, ok := r.allowed(c, "admin")
		if ok {
			want = outcome{Status: 200}
		}
		st, b := r.do(c, "GET", "/v1/cobrowse/sessions/"+url.PathEscape(s)+"/events", nil)
		if r.expect("probe session", c, want, st, b) {
			if items := itemsOf(b); len(items) != 0 {
				r.fail("probe session: %s's session %s read by %s has %d events, want none", o.ID, s, c.Label, len(items))
			}
			t.record(event{Type: "AUDIT_LOG_VIEWED", Actor: c.Sub})
		}
	}
}

// postEvents sends the batch evs to path and returns the ids the route gave them, in order;
// ok is false when the answer is not the model's 2xx or does not hold one id per event.
func (r *runner) postEvents(name string, c *caller, want outcome, path string, evs []any) (ids []string, ok bool) {
	st, b := r.do(c, "POST", path, map[string]any{"events": evs})
	if !r.expect(name, c, want, st, b) {
		return nil, false
	}
	ids = idsOf(b)
	if len(ids) != len(evs) {
		r.fail("%s: %d ids for %d events: %s", name, len(ids), len(evs), clip(b))
		return nil, false
	}
	return ids, true
}

func idsOf(b []byte) []string {
	var v struct {
		IDs []string `json:"ids"`
	}
	_ = json.Unmarshal(b, &v)
	return v.IDs
}

func itemsOf(b []byte) []json.RawMessage {
	var v struct {
		Items []json.RawMessage `json:"items"`
	}
	_ = json.Unmarshal(b, &v)
	return v.Items
}
