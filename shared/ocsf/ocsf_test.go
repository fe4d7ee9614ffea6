package ocsf

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
)

// row is an archived event of tenant acme at 2026-12-01T10:00:00Z, recorded 20 ms later.
func row(typ string, with func(r *archive.Row)) archive.Row {
	r := archive.Row{EventID: "01KBJ5N1ZR0000000000000001", TenantID: "acme", OccurredAt: 1796119200000, RecordedAt: 1796119200020,
		Type: typ, Category: audit.CategoryOf(typ), ActorType: "user", ActorID: "u-1", ActorName: "Ana", Data: "{}"}
	if with != nil {
		with(&r)
	}
	return r
}

// head is the part every event has, as JSON, for class/activity, type and message.
func head(class int, className string, category int, categoryName string, activity int, activityName, message string) string {
	b, _ := json.Marshal(map[string]any{"class_uid": class, "class_name": className, "category_uid": category, "category_name": categoryName,
		"activity_id": activity, "activity_name": activityName, "type_uid": class*100 + activity, "type_name": className + ": " + activityName, "message": message})
	return string(b)
}

// TestFromRow: whole OCSF events of one type of each class and shape.
func TestFromRow(t *testing.T) {
	const meta = `"metadata":{"version":"1.1.0","product":{"name":"Contrail","vendor_name":"Contrail"},"uid":"01KBJ5N1ZR0000000000000001","tenant_uid":"acme"`
	const base = `"time":1796119200000,"severity_id":1,"severity":"Informational"`
	ana := `"actor":{"user":{"uid":"u-1","name":"Ana","type":"User","type_id":1}}`
	for _, tc := range []struct {
		name string
		row  archive.Row
		want string // the event, as JSON, in any key order
	}{
		{"a contact added from a request", row("CONTACT_ADDED", func(r *archive.Row) {
			r.ContactID, r.ContactName, r.Source = "01KBJ5N1ZR00000000000000C1", "Maria Lima", "manual"
			r.Data, r.IP, r.UserAgent, r.RequestID = `{"email":"maria@example.com"}`, "203.0.113.9", "curl/8", "req-1"
		}), `{` + meta + `,"correlation_uid":"req-1","logged_time":1796119200020},` + base + `,"status_id":1,"status":"Success",` + ana + `,
			"entity":{"uid":"01KBJ5N1ZR00000000000000C1","name":"Maria Lima","type":"Contact"},
			"src_endpoint":{"ip":"203.0.113.9"},"http_request":{"user_agent":"curl/8"},
			"unmapped":{"type":"CONTACT_ADDED","category":"contact","source":"manual","data":{"email":"maria@example.com"}}}` +
			head(3004, "Entity Management", 3, "Identity & Access Management", 1, "Create", "Contact added")},
		{"contacts merged", row("CONTACT_MERGED", func(r *archive.Row) {
			r.ContactID, r.ContactName, r.PrimaryContactID, r.MergedContactIDs = "01KBJ5N1ZR00000000000000C1", "[erased]", "01KBJ5N1ZR00000000000000C1", []string{"01KBJ5N1ZR00000000000000C2"}
			r.Data = `{"mergedContactIds":["01KBJ5N1ZR00000000000000C2"],"primaryContactId":"01KBJ5N1ZR00000000000000C1"}`
		}), `{` + meta + `,"logged_time":1796119200020},` + base + `,"status_id":1,"status":"Success",` + ana + `,
			"entity":{"uid":"01KBJ5N1ZR00000000000000C1","name":"[erased]","type":"Contact"},
			"unmapped":{"type":"CONTACT_MERGED","category":"contact","primary_contact_id":"01KBJ5N1ZR00000000000000C1","merged_contact_ids":["01KBJ5N1ZR00000000000000C2"],
			"data":{"mergedContactIds":["01KBJ5N1ZR00000000000000C2"],"primaryContactId":"01KBJ5N1ZR00000000000000C1"}}}` +
			head(3004, "Entity Management", 3, "Identity & Access Management", 3, "Update", "Contacts merged")},
		{"a comment: an API call on the contact", row("COMMENT_ADDED", func(r *archive.Row) {
			r.ContactID, r.ContactName, r.Data, r.RequestID = "01KBJ5N1ZR00000000000000C1", "Maria Lima", `{"text":"<b>called</b> & left a note"}`, "req-2"
		}), `{` + meta + `,"correlation_uid":"req-2","logged_time":1796119200020},` + base + `,"status_id":1,"status":"Success",` + ana + `,
			"api":{"operation":"COMMENT_ADDED","request":{"uid":"req-2"}},
			"resources":[{"uid":"01KBJ5N1ZR00000000000000C1","name":"Maria Lima","type":"Contact"}],
			"src_endpoint":{"svc_name":"contrail"},
			"unmapped":{"type":"COMMENT_ADDED","category":"contact","data":{"text":"<b>called</b> & left a note"}}}` +
			head(6003, "API Activity", 6, "Application Activity", 1, "Create", "Comment added")},
		{"a failed email: Contrail's own, a failure", row("EMAIL_FAILED", func(r *archive.Row) {
			r.ActorType, r.ActorID, r.ActorName = "system", "mailer", "Contrail"
			r.ContactID, r.ContactName, r.Data = "01KBJ5N1ZR00000000000000C1", "Maria Lima", `{"reason":"bounced","requestEventId":"01KBJ5N1ZR0000000000000000"}`
		}), `{` + meta + `,"logged_time":1796119200020},` + base + `,"status_id":2,"status":"Failure",
			"actor":{"user":{"uid":"mailer","name":"Contrail","type":"System","type_id":3}},
			"api":{"operation":"EMAIL_FAILED"},
			"resources":[{"uid":"01KBJ5N1ZR00000000000000C1","name":"Maria Lima","type":"Contact"}],
			"src_endpoint":{"svc_name":"contrail"},
			"unmapped":{"type":"EMAIL_FAILED","category":"email","data":{"reason":"bounced","requestEventId":"01KBJ5N1ZR0000000000000000"}}}` +
			head(6003, "API Activity", 6, "Application Activity", 1, "Create", "Email failed")},
		{"a login: the actor is the user", row("LOGGED_IN", func(r *archive.Row) {
			r.ActorType, r.Source, r.IP = "customer", "api", "2001:db8::1"
		}), `{` + meta + `,"logged_time":1796119200020},` + base + `,"status_id":1,"status":"Success",
			"actor":{"user":{"uid":"u-1","name":"Ana","type":"Customer","type_id":99}},
			"user":{"uid":"u-1","name":"Ana","type":"Customer","type_id":99},
			"src_endpoint":{"ip":"2001:db8::1"},
			"unmapped":{"type":"LOGGED_IN","category":"platform","source":"api","data":{}}}` +
			head(3002, "Authentication", 3, "Identity & Access Management", 1, "Logon", "[Account] Logged in")},
		{"a role given: the user and the privilege", row("ROLE_CHANGE", func(r *archive.Row) {
			r.ActorType, r.ActorID, r.ActorName = "service", "svc-crm", ""
			r.Data = `{"roleName":"supervisor","tenantUser":"bruno@acme.example"}`
		}), `{` + meta + `,"logged_time":1796119200020},` + base + `,"status_id":1,"status":"Success",
			"actor":{"user":{"uid":"svc-crm","type":"Service","type_id":99}},
			"user":{"name":"bruno@acme.example"},"privileges":["supervisor"],
			"unmapped":{"type":"ROLE_CHANGE","category":"platform","data":{"roleName":"supervisor","tenantUser":"bruno@acme.example"}}}` +
			head(3005, "User Access Management", 3, "Identity & Access Management", 1, "Assign Privileges", "[Roles] changed")},
		{"a schedule deleted: the entity named by its data", row("EXPORT_SCHEDULE_DELETED", func(r *archive.Row) {
			r.Data = `{"format":"ocsf","frequency":"daily","recipients":[],"report":"audit","schedule":"siem","tz":"UTC"}`
		}), `{` + meta + `,"logged_time":1796119200020},` + base + `,"status_id":1,"status":"Success",` + ana + `,
			"entity":{"name":"siem","type":"Export schedule"},
			"unmapped":{"type":"EXPORT_SCHEDULE_DELETED","category":"access","data":{"format":"ocsf","frequency":"daily","recipients":[],"report":"audit","schedule":"siem","tz":"UTC"}}}` +
			head(3004, "Entity Management", 3, "Identity & Access Management", 4, "Delete", "Export schedule deleted")},
		{"a co-browsing click: the session", row("CLICK", func(r *archive.Row) {
			agent := false
			r.ActorType, r.ActorID, r.ActorName, r.SessionID, r.IsAgent, r.Data = "customer", "c-9", "", "s-1", &agent, `{"element":"#buy"}`
		}), `{` + meta + `,"logged_time":1796119200020},` + base + `,"status_id":1,"status":"Success",
			"actor":{"user":{"uid":"c-9","type":"Customer","type_id":99}},
			"api":{"operation":"CLICK"},"resources":[{"uid":"s-1","type":"Session"}],
			"src_endpoint":{"svc_name":"contrail"},
			"unmapped":{"type":"CLICK","category":"cobrowse","session_id":"s-1","is_agent":false,"data":{"element":"#buy"}}}` +
			head(6003, "API Activity", 6, "Application Activity", 99, "Other", "Clicked on element")},
		{"a type the registry does not know", row("RETIRED_TYPE", func(r *archive.Row) { r.ActorType = "robot" }),
			`{` + meta + `,"logged_time":1796119200020},` + base + `,"status_id":1,"status":"Success",
			"actor":{"user":{"uid":"u-1","name":"Ana","type":"robot"}},
			"api":{"operation":"RETIRED_TYPE"},"src_endpoint":{"svc_name":"contrail"},
			"unmapped":{"type":"RETIRED_TYPE","category":"","data":{}}}` +
				head(6003, "API Activity", 6, "Application Activity", 99, "Other", "RETIRED_TYPE")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			w := NewWriter(&b)
			if err := w.Write(&tc.row); err != nil {
				t.Fatal(err)
			}
			if n, err := w.Close(); n != 1 || err != nil {
				t.Fatalf("Close: %d, %v", n, err)
			}
			line := b.String()
			if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
				t.Fatalf("not one line: %q", line)
			}
			if d := cmp.Diff(merge(t, tc.want), decode(t, line)); d != "" {
				t.Errorf("event (-want +got):\n%s", d)
			}
		})
	}
}

// merge decodes the want text: one JSON object followed by the head object.
func merge(t *testing.T, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	out := map[string]any{}
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("want: %v", err)
		}
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func decode(t *testing.T, line string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatalf("line is not JSON: %v", err)
	}
	return m
}

// TestEveryType: an event of every registered type, with sample data, converts to its
// class's required attributes.
func TestEveryType(t *testing.T) {
	for _, s := range audit.Specs() {
		raw, _ := json.Marshal(stacktest.SampleData(s, 1))
		r := row(s.Type, func(r *archive.Row) { r.Data = string(raw) })
		e, err := FromRow(&r)
		if err != nil {
			t.Fatalf("%s: %v", s.Type, err)
		}
		if e.ClassUID != s.OCSF.Class || e.ActivityID != s.OCSF.Activity || e.ActivityName == "" || e.ClassName == "" || e.CategoryName == "" {
			t.Errorf("%s: class %d %q activity %d %q category %q", s.Type, e.ClassUID, e.ClassName, e.ActivityID, e.ActivityName, e.CategoryName)
		}
		var missing []string
		switch e.ClassUID {
		case audit.OCSFAuthentication:
			if e.User == nil {
				missing = append(missing, "user")
			}
		case audit.OCSFUserAccess:
			if e.User == nil || e.User.Name == "" || len(e.Privileges) != 1 || e.Privileges[0] == "" {
				missing = append(missing, "user, privileges")
			}
		case audit.OCSFEntityManagement:
			if e.Entity == nil || e.Entity.Type == "" || (s.OCSF.NameField != "" && e.Entity.Name == "") {
				missing = append(missing, "entity")
			}
		case audit.OCSFAPIActivity:
			if e.API == nil || e.API.Operation != s.Type || e.SrcEndpoint == nil {
				missing = append(missing, "api, src_endpoint")
			}
		}
		if missing != nil {
			t.Errorf("%s: missing %v", s.Type, missing)
		}
	}
}

// TestWriterRefusesBadData: data that is not JSON fails the export with the event named,
// where the mapping reads it and where it is copied.
func TestWriterRefusesBadData(t *testing.T) {
	for _, typ := range []string{"ROLE_CHANGE", "COMMENT_ADDED"} {
		r := row(typ, func(r *archive.Row) { r.Data = "{not json" })
		err := NewWriter(&bytes.Buffer{}).Write(&r)
		if err == nil || !strings.Contains(err.Error(), "event 01KBJ5N1ZR0000000000000001 in OCSF") {
			t.Errorf("%s: %v", typ, err)
		}
	}
}

// BenchmarkWrite: OCSF lines of a mix of contact, platform and co-browsing rows (b.N rows),
// to set beside the audit CSV export's cost per row.
func BenchmarkWrite(b *testing.B) {
	agent := true
	rows := []archive.Row{
		row("CONTACT_ADDED", func(r *archive.Row) {
			r.ContactID, r.ContactName, r.Source, r.Data, r.IP, r.UserAgent, r.RequestID = "01KBJ5N1ZR00000000000000C1", "Maria Lima", "manual", `{"email":"maria@example.com"}`, "203.0.113.9", "Mozilla/5.0", "req-1"
		}),
		row("ROLE_CHANGE", func(r *archive.Row) { r.Data = `{"roleName":"supervisor","tenantUser":"bruno@acme.example"}` }),
		row("CLICK", func(r *archive.Row) { r.SessionID, r.IsAgent, r.Data = "s-1", &agent, `{"element":"#buy"}` }),
		row("COMMENT_ADDED", func(r *archive.Row) {
			r.ContactID, r.ContactName, r.Data = "01KBJ5N1ZR00000000000000C1", "Maria Lima", `{"text":"called back"}`
		}),
	}
	w := NewWriter(io.Discard)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := w.Write(&rows[i%len(rows)]); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		b.Fatal(err)
	}
}
