package isolation

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/contrail/contrail/shared/contact"
)

// The model: what each tenant holds after the actions the API accepted, in pure Go. It
// decides what status each action must get and what every read must return.

// Statuses of a contact in the model, as the contacts table keeps them.
const (
	active   = "active"
	archived = "archived"
	deleted  = "deleted"
	merged   = "merged"
)

// erasedName is what an erased contact's name and its events' contact names read.
const erasedName = "[erased]"

type channel = contact.Channel

// mcontact is a contact as the model holds it.
type mcontact struct {
	ID, Name, CreatedAt string
	Email, Phone        *string
	Status              string
	Erased              bool
	Channels            []channel
	MergedFrom          []string // every contact folded into this one, merges of merges too
	MergedInto          string
}

func (c *mcontact) live() bool { return (c.Status == active || c.Status == archived) && !c.Erased }

// event is one event the model expects in the tenant's audit table. id is "" until the API
// (or a settled read of its request, for the mailer's outcomes) says it.
type event struct {
	ID       string
	Type     string
	Category string
	Contact  string // contact.id: the ByContact index it is found under
	Actor    string // actor.id
	Session  string
	Text     *string // INPUT: data.text as stored ("[masked]" or the text)
	// Request is the request event id of a mailer outcome (EMAIL_DELIVERED or EMAIL_FAILED,
	// which one is learned when it is read).
	Request string
	Merged  []string // CONTACT_MERGED: the merged contact ids
}

// sig is what the model can say of an event whatever its id: the audit log and the history
// are compared as multisets of these, and by id where the model knows it.
func (e *event) sig() string {
	return strings.Join([]string{e.Type, e.Category, e.Contact, e.Actor, e.Session}, "|")
}

// keyUse is the first create sent with an Idempotency-Key.
type keyUse struct {
	body    []byte
	contact string
}

type export struct {
	ID, Report, By string
	Done           bool
}

type tenantModel struct {
	ID     string
	Marker string // in every name, email and text of the tenant: found in another's answer, a leak
	// Session is the stem of the tenant's co-browsing session ids.
	Session string
	// Contacts by id, and ids in creation order.
	Contacts   map[string]*mcontact
	Names      map[string]string // contact id -> the name it was created with (names never change here)
	Order      []string
	Identities map[[2]string]string // (channel, externalId) -> the live contact holding it
	Events     []*event
	Exports    []*export
	Schedules  map[string]string   // name -> frequency
	Sessions   map[string][]string // session -> "<occurredAt>#<id>" of each of its events
	Keys       map[string]keyUse   // Idempotency-Key -> its first create
	Clear      bool                // cobrowse.inputText is clear
	Version    int                 // the settings' version
	seq        int
}

func newTenant(id, marker string) *tenantModel {
	return &tenantModel{ID: id, Marker: marker, Contacts: map[string]*mcontact{}, Names: map[string]string{}, Identities: map[[2]string]string{},
		Schedules: map[string]string{}, Keys: map[string]keyUse{}, Sessions: map[string][]string{}}
}

func (t *tenantModel) next() int { t.seq++; return t.seq }

func (t *tenantModel) record(e event) *event {
	ev := e
	if ev.Category == "" {
		ev.Category = categoryOf(ev.Type)
	}
	t.Events = append(t.Events, &ev)
	return &ev
}

func categoryOf(typ string) string {
	switch typ {
	case "EMAIL_DELIVERED", "EMAIL_FAILED":
		return "email"
	case "AUDIT_LOG_VIEWED", "REPORT_VIEWED", "LOG_PROOF_VIEWED", "REPORT_EXPORTED", "SETTINGS_UPDATED",
		"EXPORT_SCHEDULE_CREATED", "EXPORT_SCHEDULE_UPDATED", "EXPORT_SCHEDULE_DELETED":
		return "access"
	case "LOGGED_IN", "ONLINE_STATUS_ONLINE", "ONLINE_STATUS_OFFLINE", "START_CALL":
		return "platform"
	case "CLICK", "PAGECHANGE", "INPUT":
		return "cobrowse"
	}
	return "contact"
}

// outcome is what the model says an action must answer: a status and, for a 4xx, its code.
type outcome struct {
	Status int
	Code   string
}

func (o outcome) String() string {
	if o.Code == "" {
		return fmt.Sprint(o.Status)
	}
	return fmt.Sprintf("%d %s", o.Status, o.Code)
}

var (
	notFound = outcome{404, "contact_not_found"}
)

// load is the contact routes' Load: the live contact, or why not.
func (t *tenantModel) load(id string) (*mcontact, outcome) {
	c, ok := t.Contacts[id]
	switch {
	case !ok || c.Status == deleted || c.Erased:
		return nil, notFound
	case c.Status == merged:
		return nil, outcome{404, "contact_merged"}
	}
	return c, outcome{}
}

// mergedInto follows a merged contact's chain to the contact it lives on in.
func (t *tenantModel) mergedInto(c *mcontact) string {
	into := c.MergedInto
	for range 20 {
		n, ok := t.Contacts[into]
		if !ok || n.Status != merged || n.MergedInto == "" {
			break
		}
		into = n.MergedInto
	}
	return into
}

// holder is the contact whose history holds c's events: c, or the end of its merge chain.
func (t *tenantModel) holder(id string) string {
	c := t.Contacts[id]
	if c.Status == merged {
		return t.mergedInto(c)
	}
	return id
}

func (t *tenantModel) release(c *mcontact) {
	for _, ch := range c.Channels {
		if t.Identities[[2]string{ch.Channel, ch.ExternalID}] == c.ID {
			delete(t.Identities, [2]string{ch.Channel, ch.ExternalID})
		}
	}
	c.Channels = []channel{}
}

// erase marks c and every contact folded into it erased, as POST .../erase does.
func (t *tenantModel) erase(c *mcontact) {
	for _, id := range append([]string{c.ID}, c.MergedFrom...) {
		m, ok := t.Contacts[id]
		if !ok || m.Erased {
			continue
		}
		m.Erased = true
		m.Name, m.Email, m.Phone = erasedName, nil, nil
		t.release(m)
	}
}

// nameOf is the contact name an event about id reads now.
func (t *tenantModel) nameOf(id string) string {
	if c, ok := t.Contacts[id]; ok && c.Erased {
		return erasedName
	}
	return t.Names[id]
}

// listed returns the contacts a list of status shows, newest first.
func (t *tenantModel) listed(status string) []*mcontact {
	var out []*mcontact
	for _, id := range t.Order {
		c := t.Contacts[id]
		if c.Status == status && !c.Erased {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].CreatedAt != out[j].CreatedAt {
			return out[i].CreatedAt > out[j].CreatedAt
		}
		return out[i].ID > out[j].ID
	})
	return out
}

// history returns the events a contact's history holds: its own and those of every contact
// folded into it.
func (t *tenantModel) history(id string) []*event {
	keys := append([]string{id}, t.Contacts[id].MergedFrom...)
	var out []*event
	for _, e := range t.Events {
		if e.Contact != "" && slices.Contains(keys, e.Contact) {
			out = append(out, e)
		}
	}
	return out
}

// ofType returns the tenant's events of the given types.
func (t *tenantModel) ofType(types ...string) []*event {
	var out []*event
	for _, e := range t.Events {
		if slices.Contains(types, e.Type) {
			out = append(out, e)
		}
	}
	return out
}

func (t *tenantModel) count(typ string) int { return len(t.ofType(typ)) }
