package audit

import (
	"fmt"
	"sort"
)

// Kind is the JSON type a data field must have.
type Kind string

// Field kinds.
const (
	String     Kind = "string"
	Bool       Kind = "boolean"
	Number     Kind = "number"
	Object     Kind = "object"
	StringList Kind = "string[]"
	Any        Kind = "any"
)

// Field is one field of an event's data.
type Field struct {
	Name     string
	Kind     Kind
	Required bool
	Enum     []string // allowed values of a String field, when limited
	// Personal marks data about the event's contact (an address, a text written to or about
	// them): it is stored sealed under the contact's data key (shared/pii), so erasing the
	// contact makes it unreadable everywhere, the write-once archive included.
	Personal bool
}

// ContactNameField names the event's contact.name in PersonalFields' terms: the name is
// personal in every event that has a contact, whatever its type.
const ContactNameField = "contact.name"

// Origin says who may record a type.
type Origin int

// Origins.
const (
	Recorded Origin = iota // written by Contrail itself (contact actions, mail, reads)
	Ingested               // sent to POST /v1/audit-events by a service
	Cobrowse               // sent to POST /v1/cobrowse/sessions/{id}/events
)

// Spec describes one event type: its category, who records it, its data fields.
type Spec struct {
	Type        string
	Category    string
	Origin      Origin
	Name        string // human name, as the product documents call it
	Description string
	Data        []Field
	Log         string // the contact report log it feeds, if any
	// By says who records it and when, where the category's usual recorder (RecordedBy)
	// does not.
	By string
	// OCSF is how the ocsf export format writes it.
	OCSF OCSF
}

func req(name string, k Kind) Field { return Field{Name: name, Kind: k, Required: true} }
func opt(name string, k Kind) Field { return Field{Name: name, Kind: k} }

// personal marks f as personal data of the event's contact.
func personal(f Field) Field { f.Personal = true; return f }

// registry is the one list of event types. Adding a type is one entry here: ingest
// validation, the query API, the archive and the event reference (docs/events.md) all read it.
var registry = []Spec{
	// Contact events (seeds 000, 001), recorded by the contact routes.
	{Type: "CONTACT_ADDED", Category: CategoryContact, Name: "Contact added", Description: "A contact was added manually, through the API, from an incoming message or by import.", Data: []Field{personal(opt("email", String)), personal(opt("phone", String))}, Log: "added", OCSF: ocsfContact(OCSFCreate)},
	{Type: "CONTACT_CONNECTED", Category: CategoryContact, Name: "Contact connected", Description: "A contact was connected to a channel identity.", Data: []Field{personal(req("externalId", String))}, Log: "connected", OCSF: ocsfContact(OCSFUpdate)},
	{Type: "CONTACT_ARCHIVED", Category: CategoryContact, Name: "Contact archived", Description: "A contact was archived.", OCSF: ocsfContact(OCSFUpdate)},
	{Type: "CONTACT_UNARCHIVED", Category: CategoryContact, Name: "Contact unarchived", Description: "An archived contact was made active again.", OCSF: ocsfContact(OCSFUpdate)},
	{Type: "CONTACT_DELETED", Category: CategoryContact, Name: "Contact deleted", Description: "A contact was deleted; the event keeps its name.", Log: "deleted", OCSF: ocsfContact(OCSFDelete)},
	{Type: "CONTACT_ERASED", Category: CategoryContact, Name: "Contact erased", Description: "An admin erased a contact's personal data (and that of the contacts merged into it): its data key is destroyed, so its earlier events read \"[erased]\". The event holds no personal data; its contact name is \"[erased]\".", OCSF: ocsfContact(OCSFDelete)},
	{Type: "CONTACT_MERGED", Category: CategoryContact, Name: "Contacts merged", Description: "Contacts were merged into a primary contact.", Data: []Field{req("primaryContactId", String), req("mergedContactIds", StringList)}, Log: "merged", OCSF: ocsfContact(OCSFUpdate)},
	{Type: "CONTACT_UPDATED", Category: CategoryContact, Name: "Contact updated", Description: "A contact's name, email or phone changed.", Data: []Field{personal(req("changes", Object))}, OCSF: ocsfContact(OCSFUpdate)},
	{Type: "CONTACT_INVITED", Category: CategoryContact, Name: "Contact invited", Description: "An invitation email was requested for a contact.", Data: []Field{personal(req("email", String))}, OCSF: ocsfAPI(OCSFCreate)},
	{Type: "MESSAGE_SENT", Category: CategoryContact, Name: "Message sent", Description: "A message was sent to a contact by email.", Data: []Field{personal(req("text", String)), personal(req("to", String))}, OCSF: ocsfAPI(OCSFCreate)},
	{Type: "CONTACT_SHARED", Category: CategoryContact, Name: "Contact shared", Description: "A contact's details were shared by email.", Data: []Field{personal(req("email", String)), personal(opt("note", String))}, OCSF: ocsfAPI(OCSFCreate)},
	{Type: "COMMENT_ADDED", Category: CategoryContact, Name: "Comment added", Description: "A comment was added to a contact's activity.", Data: []Field{personal(req("text", String))}, OCSF: ocsfAPI(OCSFCreate)},
	{Type: "EMAIL_DELIVERED", Category: CategoryEmail, Name: "Email delivered", Description: "SES accepted an invite, message or share email.", Data: []Field{req("requestEventId", String), opt("messageId", String)}, OCSF: ocsfAPI(OCSFCreate)},
	{Type: "EMAIL_FAILED", Category: CategoryEmail, Name: "Email failed", Description: "An invite, message or share email could not be sent.", Data: []Field{req("requestEventId", String), personal(req("reason", String))}, OCSF: ocsfAPI(OCSFCreate)},

	// Platform events (seed 002, general table), ingested by services.
	{Type: "START_CALL", Category: CategoryPlatform, Origin: Ingested, Name: "[Call] Start", Description: "A 1 to 1 audio, video or screen-sharing call started.", Data: []Field{req("callId", String), req("customerId", String)}, OCSF: ocsfAPI(OCSFCreate)},
	{Type: "MESSENGER_SEND", Category: CategoryPlatform, Origin: Ingested, Name: "[Messenger] Send message", Description: "A message was sent through the live chat.", Data: []Field{req("customerId", String)}, OCSF: ocsfAPI(OCSFCreate)},
	{Type: "LIVE_VIEW", Category: CategoryPlatform, Origin: Ingested, Name: "[LiveView] joined", Description: "A user joined a co-browsing session.", Data: []Field{req("sessionId", String)}, OCSF: ocsfAPI(OCSFRead)},
	{Type: "LOGGED_IN", Category: CategoryPlatform, Origin: Ingested, Name: "[Account] Logged in", Description: "A user logged in.", OCSF: OCSF{Class: OCSFAuthentication, Activity: OCSFLogon}},
	{Type: "ONLINE_STATUS_ONLINE", Category: CategoryPlatform, Origin: Ingested, Name: "[Agent] Go Online", Description: "A user went online.", OCSF: ocsfAPI(OCSFUpdate)},
	{Type: "ONLINE_STATUS_OFFLINE", Category: CategoryPlatform, Origin: Ingested, Name: "[Agent] Go Offline", Description: "A user went offline.", OCSF: ocsfAPI(OCSFUpdate)},
	{Type: "STATUS_CHANGE", Category: CategoryPlatform, Origin: Ingested, Name: "[Chat] Status changed", Description: "The status of a chat conversation changed.", Data: []Field{req("customerId", String), req("status", String), req("messageId", String)}, OCSF: ocsfAPI(OCSFUpdate)},
	{Type: "ROLE_CHANGE", Category: CategoryPlatform, Origin: Ingested, Name: "[Roles] changed", Description: "The role of a tenant user changed.", Data: []Field{req("roleName", String), req("tenantUser", String)}, OCSF: OCSF{Class: OCSFUserAccess, Activity: OCSFAssignPrivileges, Object: "User", NameField: "tenantUser", PrivilegeField: "roleName"}},
	{Type: "PERMISSION_CHANGE", Category: CategoryPlatform, Origin: Ingested, Name: "[Permissions] changed", Description: "The permissions of a role changed.", Data: []Field{req("roleName", String), req("permissions", StringList)}, OCSF: ocsfEntity(OCSFUpdate, "Role", "roleName")},
	{Type: "PLUGIN_CHANGE", Category: CategoryPlatform, Origin: Ingested, Name: "[Plugin] changed", Description: "A plugin's configuration changed.", Data: []Field{req("configuration", Object)}, OCSF: ocsfEntity(OCSFUpdate, "Plugin", "")},
	{Type: "SETTINGS_CHANGE", Category: CategoryPlatform, Origin: Ingested, Name: "[Settings] changed", Description: "Settings changed (security settings, for example).", Data: []Field{req("configuration", Object)}, OCSF: ocsfEntity(OCSFUpdate, "Settings", "")},
	{Type: "MEETING_CHANGE", Category: CategoryPlatform, Origin: Ingested, Name: "[Meeting] changed", Description: "A meeting was created, updated or deleted.", Data: []Field{{Name: "operation", Kind: String, Required: true, Enum: []string{"CREATE_OR_UPDATE", "DELETE"}}, req("conference", Object)}, OCSF: ocsfEntity(OCSFUpdate, "Meeting", "")},
	{Type: "CONFERENCE_AGENT", Category: CategoryPlatform, Origin: Ingested, Name: "[Meeting] Agent joined", Description: "An agent joined a conference meeting.", Data: []Field{req("callId", String), req("customerId", String)}, OCSF: ocsfAPI(OCSFUpdate)},
	{Type: "CONFERENCE_RECORDING", Category: CategoryPlatform, Origin: Ingested, Name: "[Meeting] Recording started", Description: "Recording of a conference started.", Data: []Field{req("callId", String), req("customerId", String), req("joinedAgents", StringList), req("tags", StringList)}, OCSF: ocsfAPI(OCSFCreate)},

	// Co-browsing events (seed 002, session table).
	{Type: "CLICK", Category: CategoryCobrowse, Origin: Cobrowse, Name: "Clicked on element", Description: "The agent or the customer clicked an element.", Data: []Field{req("element", String)}, OCSF: ocsfAPI(OCSFOther)},
	{Type: "SCROLL", Category: CategoryCobrowse, Origin: Cobrowse, Name: "Scroll on page or element", Description: "A page or an element was scrolled.", Data: []Field{req("position", Any), opt("element", String)}, OCSF: ocsfAPI(OCSFOther)},
	{Type: "FORM", Category: CategoryCobrowse, Origin: Cobrowse, Name: "Form sent", Description: "A form was submitted.", Data: []Field{req("form", String)}, OCSF: ocsfAPI(OCSFOther)},
	{Type: "INPUT", Category: CategoryCobrowse, Origin: Cobrowse, Name: "Input changed", Description: "Text was entered. Stored masked by default: text is [masked] and length the number of characters typed (set by Contrail, never sent). The text is stored as typed only when the tenant's settings allow it (cobrowse.inputText clear, PUT /v1/settings) and the producer did not mark the field sensitive (sensitive: true); then length is absent.", Data: []Field{req("element", String), req("text", String), opt("sensitive", Bool), opt("length", Number)}, OCSF: ocsfAPI(OCSFOther)},
	{Type: "PAGECHANGE", Category: CategoryCobrowse, Origin: Cobrowse, Name: "Page changed", Description: "The page changed.", Data: []Field{req("page", String)}, OCSF: ocsfAPI(OCSFOther)},
	{Type: "SELECTION", Category: CategoryCobrowse, Origin: Cobrowse, Name: "Text or elements selected", Description: "Text or elements were selected.", Data: []Field{opt("selection", Any)}, OCSF: ocsfAPI(OCSFOther)},
	{Type: "CUSTOM_EVENT", Category: CategoryCobrowse, Origin: Cobrowse, Name: "Custom event", Description: "A custom event was triggered through the API.", Data: []Field{req("eventType", String), req("value", Any)}, OCSF: ocsfAPI(OCSFOther)},

	// Access events: reading the audit trail is itself audited.
	{Type: "AUDIT_LOG_VIEWED", Category: CategoryAccess, Name: "Audit log viewed", Description: "An admin read the audit log; data holds the filters.", Data: []Field{opt("filters", Object)}, OCSF: ocsfAPI(OCSFRead)},
	{Type: "REPORT_VIEWED", Category: CategoryAccess, Name: "Report viewed", Description: "An admin read a contact report; data holds the report and filters.", Data: []Field{req("report", String), opt("filters", Object)}, OCSF: ocsfAPI(OCSFRead)},
	{Type: "LOG_PROOF_VIEWED", Category: CategoryAccess, Name: "Verifiable log read", Description: "An admin read the tenant's verifiable log (GET /v1/log/...); data says what: read is checkpoint, inclusion (with eventId and size), consistency (from, to) or tile (its path).", Data: []Field{req("read", String), opt("eventId", String), opt("size", Number), opt("from", Number), opt("to", Number), opt("tile", String)}, OCSF: ocsfAPI(OCSFRead)},
	{Type: "REPORT_EXPORTED", Category: CategoryAccess, Name: "Report exported", Description: "A report export finished; data holds the report, filters, rows and the addresses its link is mailed to.", Data: []Field{req("report", String), opt("filters", Object), opt("exportId", String), opt("rows", Number), opt("recipients", StringList)}, By: "Contrail, in the finished export job's transaction", OCSF: ocsfAPI(OCSFRead)},

	// Access events: where exports go. Who made a schedule mail what to whom, and who ran it.
	{Type: "EXPORT_SCHEDULE_CREATED", Category: CategoryAccess, Name: "Export schedule created", Description: "An admin created an export schedule; data holds what it exports, how often, and to whom.", Data: scheduleFields(), By: byScheduleChange, OCSF: ocsfEntity(OCSFCreate, "Export schedule", "schedule")},
	{Type: "EXPORT_SCHEDULE_UPDATED", Category: CategoryAccess, Name: "Export schedule updated", Description: "An admin changed an export schedule; data holds the schedule as saved and, in changes, each changed field's from and to.", Data: append(scheduleFields(), req("changes", Object)), By: byScheduleChange, OCSF: ocsfEntity(OCSFUpdate, "Export schedule", "schedule")},
	{Type: "EXPORT_SCHEDULE_DELETED", Category: CategoryAccess, Name: "Export schedule deleted", Description: "An admin deleted an export schedule; data holds the schedule as it was.", Data: scheduleFields(), By: byScheduleChange, OCSF: ocsfEntity(OCSFDelete, "Export schedule", "schedule")},
	{Type: "EXPORT_SCHEDULE_RUN", Category: CategoryAccess, Name: "Export schedule run now", Description: "An admin ran an export schedule now; data holds the schedule, the export job made and its period.", Data: append(scheduleFields(), req("exportId", String), req("from", String), req("to", String)), By: "Contrail, in the transaction that creates the export job", OCSF: ocsfAPI(OCSFCreate)},

	// Access events: what Contrail does differently for a tenant (such as keeping co-browsing input in clear).
	{Type: "SETTINGS_UPDATED", Category: CategoryAccess, Name: "Settings updated", Description: "An admin changed the tenant's settings (PUT /v1/settings); data holds the settings as saved, their version and, in changes, each changed setting's from and to (keyed cobrowse.inputText).", Data: []Field{req("settings", Object), req("version", Number), req("changes", Object)}, By: "Contrail, in the settings change's transaction", OCSF: ocsfEntity(OCSFUpdate, "Settings", "")},
}

const byScheduleChange = "Contrail, in the schedule change's transaction"

// scheduleFields are the data of an export schedule's events: the schedule as it is (or was).
func scheduleFields() []Field {
	return []Field{req("schedule", String), req("report", String), req("frequency", String), req("format", String), req("recipients", StringList), req("tz", String), opt("filters", Object)}
}

var byType = func() map[string]*Spec {
	m := make(map[string]*Spec, len(registry))
	for i := range registry {
		s := &registry[i]
		if _, dup := m[s.Type]; dup {
			panic("audit registry: duplicate type " + s.Type)
		}
		m[s.Type] = s
	}
	return m
}()

// Lookup returns the spec of an event type.
func Lookup(typ string) (*Spec, bool) {
	s, ok := byType[typ]
	return s, ok
}

// PersonalFields returns the names of the personal data fields of typ, in registry order
// (nil for an unknown type or one without any). The event's contact.name (ContactNameField)
// is personal too wherever the event has a contact; it is not listed here.
func PersonalFields(typ string) []string {
	s, ok := byType[typ]
	if !ok {
		return nil
	}
	var names []string
	for _, f := range s.Data {
		if f.Personal {
			names = append(names, f.Name)
		}
	}
	return names
}

// Specs returns every registered type, in registry order.
func Specs() []Spec { return append([]Spec(nil), registry...) }

// Categories returns the category names, sorted.
func Categories() []string {
	return []string{CategoryAccess, CategoryCobrowse, CategoryContact, CategoryEmail, CategoryPlatform}
}

// CategoryOf returns the category of typ, or "" for an unknown type.
func CategoryOf(typ string) string {
	if s, ok := byType[typ]; ok {
		return s.Category
	}
	return ""
}

// CheckData validates data against the type's fields and returns field -> problem,
// with field names prefixed by prefix (e.g. "events[3].data.").
func (s *Spec) CheckData(prefix string, data map[string]any) map[string]string {
	problems := map[string]string{}
	known := make(map[string]bool, len(s.Data))
	for _, f := range s.Data {
		known[f.Name] = true
		v, ok := data[f.Name]
		if !ok || v == nil {
			if f.Required {
				problems[prefix+f.Name] = "is required for " + s.Type
			}
			continue
		}
		if msg := f.check(v); msg != "" {
			problems[prefix+f.Name] = msg
		}
	}
	extra := make([]string, 0)
	for k := range data {
		if !known[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		problems[prefix+k] = fmt.Sprintf("is not a field of %s", s.Type)
	}
	return problems
}

func (f Field) check(v any) string {
	switch f.Kind {
	case String:
		s, ok := v.(string)
		if !ok {
			return "must be a string"
		}
		if s == "" {
			return "must not be empty"
		}
		if len(f.Enum) > 0 {
			for _, e := range f.Enum {
				if s == e {
					return ""
				}
			}
			return fmt.Sprintf("must be one of %v", f.Enum)
		}
	case Bool:
		if _, ok := v.(bool); !ok {
			return "must be true or false"
		}
	case Number:
		switch v.(type) {
		case float64, int, int64:
		default:
			return "must be a number"
		}
	case Object:
		if _, ok := v.(map[string]any); !ok {
			return "must be an object"
		}
	case StringList:
		l, ok := v.([]any)
		if !ok {
			if _, ok := v.([]string); ok {
				return ""
			}
			return "must be an array of strings"
		}
		for _, x := range l {
			if _, ok := x.(string); !ok {
				return "must be an array of strings"
			}
		}
	}
	return ""
}
