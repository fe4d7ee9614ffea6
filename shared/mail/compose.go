// Package mail is the outbox mailer: it turns the request events of the contact routes
// (CONTACT_INVITED, MESSAGE_SENT, CONTACT_SHARED) into emails, sends them through SES v2
// exactly once per event (a conditional claim per send), retries throttling and 5xx with
// backoff, and records the outcome as EMAIL_DELIVERED or EMAIL_FAILED.
package mail

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/validate"
)

// Types are the event types the mailer sends an email for.
var Types = []string{"CONTACT_INVITED", "MESSAGE_SENT", "CONTACT_SHARED"}

// IsRequest reports whether typ is one the mailer sends.
func IsRequest(typ string) bool {
	for _, t := range Types {
		if t == typ {
			return true
		}
	}
	return false
}

// Message is one composed email.
type Message struct {
	To      string
	Subject string // one line, no CR or LF
	Text    string
	HTML    string
}

// PermanentError is a request that can never be sent (a bad recipient, a missing field, a
// contact gone before its details could be shared): it is recorded as EMAIL_FAILED at once.
type PermanentError struct{ Reason string }

func (e *PermanentError) Error() string { return e.Reason }

func permanent(format string, args ...any) error {
	return &PermanentError{Reason: fmt.Sprintf(format, args...)}
}

// Compose builds the email of a request event. shared is the contact's current state, for
// CONTACT_SHARED only (nil otherwise). Every value that came from a user is escaped in the
// HTML part, and the subject is one line.
func Compose(ev *audit.Event, shared *contact.Contact) (Message, error) {
	sender := ev.Actor.Name
	if sender == "" {
		sender = "A Contrail user"
	}
	contactName := ""
	if ev.Contact != nil {
		contactName = ev.Contact.Name
	}
	var (
		m    Message
		page htmlPage
		err  error
	)
	switch ev.Type {
	case "CONTACT_INVITED":
		if m.To, err = recipient(ev, "email"); err != nil {
			return m, err
		}
		m.Subject = "You're invited by " + sender
		greeting := "Hello,"
		if contactName != "" {
			greeting = "Hello " + contactName + ","
		}
		m.Text = greeting + "\n\n" + sender + " invited you to stay in touch through Contrail.\n" +
			"Reply to " + sender + " on the channel you usually use to accept.\n"
		page = htmlPage{Title: m.Subject, Paragraphs: [][]string{{greeting},
			{sender + " invited you to stay in touch through Contrail."},
			{"Reply to " + sender + " on the channel you usually use to accept."}}}
	case "MESSAGE_SENT":
		if m.To, err = recipient(ev, "to"); err != nil {
			return m, err
		}
		text, _ := ev.Data["text"].(string)
		if strings.TrimSpace(text) == "" {
			return m, permanent("the message has no text")
		}
		m.Subject = "A message from " + sender
		m.Text = text + "\n\n-- \n" + sender + ", via Contrail\n"
		page = htmlPage{Title: m.Subject, Paragraphs: [][]string{lines(text)}, Signature: sender + ", via Contrail"}
	case "CONTACT_SHARED":
		if m.To, err = recipient(ev, "email"); err != nil {
			return m, err
		}
		if shared == nil {
			return m, permanent("the contact was not found when the email was sent")
		}
		note, _ := ev.Data["note"].(string)
		m.Subject = sender + " shared a contact with you: " + shared.Name
		rows := [][2]string{{"Name", shared.Name}, {"Email", orDash(shared.Email)}, {"Phone", orDash(shared.Phone)}, {"Channels", channels(shared.Channels)}}
		var b strings.Builder
		b.WriteString(sender + " shared the details of a contact with you.\n\n")
		for _, r := range rows {
			b.WriteString(r[0] + ": " + r[1] + "\n")
		}
		if note != "" {
			b.WriteString("\nNote from " + sender + ":\n" + note + "\n")
		}
		m.Text = b.String()
		page = htmlPage{Title: m.Subject, Paragraphs: [][]string{{sender + " shared the details of a contact with you."}}, Details: rows}
		if note != "" {
			page.NoteBy, page.Note = sender, lines(note)
		}
	default:
		return m, permanent("%s is not an email request", ev.Type)
	}
	m.Subject = subjectLine(m.Subject)
	var html bytes.Buffer
	if err := pageTemplate.Execute(&html, page); err != nil {
		return m, fmt.Errorf("render %s email: %w", ev.Type, err)
	}
	m.HTML = html.String()
	return m, nil
}

// recipient reads the address in data[field] and checks it is one plain address (the API
// checked it too; the event store is not trusted to be only ever written by the API).
func recipient(ev *audit.Event, field string) (string, error) {
	to, _ := ev.Data[field].(string)
	if to == "" {
		return "", permanent("the request has no recipient address (data.%s)", field)
	}
	if msg := validate.EmailProblem(to); msg != "" {
		return "", permanent("the recipient address %s", msg)
	}
	return to, nil
}

// MaxSubject is the longest subject, in characters.
const MaxSubject = 200

// subjectLine makes s one header-safe line: every control or line-separator character
// (CR, LF, tab, U+2028, ...) becomes a space, runs of spaces collapse, and it is cut to
// MaxSubject characters.
func subjectLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\u0085' {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > MaxSubject {
		s = string([]rune(s)[:MaxSubject-1]) + "…"
	}
	return s
}

func lines(s string) []string {
	return strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func channels(cs []contact.Channel) string {
	if len(cs) == 0 {
		return "-"
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.Channel + " " + c.ExternalID
	}
	return strings.Join(parts, ", ")
}

// htmlPage is what the HTML template renders; html/template escapes every value.
type htmlPage struct {
	Title      string
	Paragraphs [][]string // each a paragraph of lines joined by <br>
	Details    [][2]string
	NoteBy     string
	Note       []string
	Signature  string
}

var pageTemplate = template.Must(template.New("mail").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body style="font-family: sans-serif; line-height: 1.5">
{{- range .Paragraphs}}
<p>{{range $i, $l := .}}{{if $i}}<br>{{end}}{{$l}}{{end}}</p>
{{- end}}
{{- if .Details}}
<table cellpadding="4">
{{- range .Details}}
<tr><th align="left">{{index . 0}}</th><td>{{index . 1}}</td></tr>
{{- end}}
</table>
{{- end}}
{{- if .NoteBy}}
<p>Note from {{.NoteBy}}:<br>{{range $i, $l := .Note}}{{if $i}}<br>{{end}}{{$l}}{{end}}</p>
{{- end}}
{{- if .Signature}}
<p>-- <br>{{.Signature}}</p>
{{- end}}
</body></html>
`))
