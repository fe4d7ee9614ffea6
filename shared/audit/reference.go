package audit

import (
	"bytes"
	"fmt"
	"strings"
)

// The event reference (docs/events.md) lives between these markers; `make docs` rewrites it from
// the registry and a test fails when the two differ.
const (
	ReferenceStart = "<!-- event-reference:start -->"
	ReferenceEnd   = "<!-- event-reference:end -->"
)

var categoryTitles = []struct{ category, title string }{
	{CategoryContact, "Contact events"},
	{CategoryEmail, "Email delivery events"},
	{CategoryPlatform, "Platform events"},
	{CategoryCobrowse, "Co-browsing events"},
	{CategoryAccess, "Access events"},
}

// RecordedBy says who records events of s.
func (s *Spec) RecordedBy() string {
	switch {
	case s.By != "":
		return s.By
	case s.Origin == Ingested:
		return "a service, `POST /v1/audit-events`"
	case s.Origin == Cobrowse:
		return "a service, `POST /v1/cobrowse/sessions/{sessionId}/events`"
	case s.Category == CategoryEmail:
		return "Contrail, after sending the email"
	case s.Category == CategoryAccess:
		return "Contrail, on each read"
	default:
		return "Contrail, in the contact action's transaction"
	}
}

// Reference returns the event reference in Markdown, generated from the registry: one
// table per category with each type's data fields.
func Reference() string {
	var b strings.Builder
	b.WriteString("Generated from the registry in `shared/audit/registry.go` by `make docs`; do not edit by hand.\n")
	b.WriteString("Data fields are required unless marked optional.\n")
	b.WriteString("Fields marked personal, and `contact.name` of every event that has a contact, are personal data of\n")
	b.WriteString("that contact: `shared/pii` seals them under the contact's own key, and they read `[erased]` once the\n")
	b.WriteString("contact is erased.\n")
	b.WriteString("The OCSF column is the class (`class_uid`) and activity each type has in the `ocsf` export format\n")
	b.WriteString("(OCSF " + OCSFVersion + ", [reports.md](reports.md#ocsf-for-security-tools)).\n")
	for _, c := range categoryTitles {
		fmt.Fprintf(&b, "\n### %s (category `%s`)\n\n", c.title, c.category)
		b.WriteString("| type | name | recorded by | data | OCSF class: activity | description |\n|---|---|---|---|---|---|\n")
		for _, s := range registry {
			if s.Category != c.category {
				continue
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", s.Type, cell(s.Name), s.RecordedBy(), dataCell(s.Data), s.OCSF.describe(), cell(s.Description))
		}
	}
	return b.String()
}

func dataCell(fields []Field) string {
	if len(fields) == 0 {
		return "—"
	}
	parts := make([]string, len(fields))
	for i, f := range fields {
		p := fmt.Sprintf("`%s` %s", f.Name, f.Kind)
		if len(f.Enum) > 0 {
			p += " (" + strings.Join(f.Enum, ", ") + ")"
		}
		if !f.Required {
			p += ", optional"
		}
		if f.Personal {
			p += ", personal"
		}
		parts[i] = p
	}
	return cell(strings.Join(parts, "; "))
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// RewriteReference returns readme with the text between the reference markers replaced by
// the generated reference.
func RewriteReference(readme []byte) ([]byte, error) {
	start := bytes.Index(readme, []byte(ReferenceStart))
	end := bytes.Index(readme, []byte(ReferenceEnd))
	if start < 0 || end < start {
		return nil, fmt.Errorf("the file has no %s ... %s section", ReferenceStart, ReferenceEnd)
	}
	var out bytes.Buffer
	out.Write(readme[:start+len(ReferenceStart)])
	out.WriteString("\n" + Reference())
	out.Write(readme[end:])
	return out.Bytes(), nil
}
