package worker

import (
	"context"
	"errors"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/contrail/contrail/shared/export"
)

// SES is the part of the SES v2 client the mailer uses.
type SES interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

var _ SES = (*sesv2.Client)(nil)

// Mailer sends export links through SES v2: one message to all of a job's recipients
// (at most 50, SES's limit per message), text and HTML.
type Mailer struct {
	SES              SES
	From             string
	ConfigurationSet string // optional
}

// PermanentError is a send that retrying will not fix (a rejected message or address, an
// unverified sender, a paused account).
type PermanentError struct {
	Reason string
	Err    error
}

func (e *PermanentError) Error() string { return e.Reason + ": " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Send mails a message about job j to its recipients.
func (m *Mailer) Send(ctx context.Context, j *export.Job, subject, text, htmlBody string) (string, error) {
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(m.From),
		Destination:      &types.Destination{ToAddresses: j.Recipients},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(subject), Charset: aws.String("UTF-8")},
			Body: &types.Body{
				Text: &types.Content{Data: aws.String(text), Charset: aws.String("UTF-8")},
				Html: &types.Content{Data: aws.String(htmlBody), Charset: aws.String("UTF-8")},
			},
		}},
	}
	if m.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(m.ConfigurationSet)
	}
	out, err := m.SES.SendEmail(ctx, in)
	if err != nil {
		return "", classify(err)
	}
	return aws.ToString(out.MessageId), nil
}

func classify(err error) error {
	var rej *types.MessageRejected
	var dom *types.MailFromDomainNotVerifiedException
	var susp *types.AccountSuspendedException
	var paused *types.SendingPausedException
	var bad *types.BadRequestException
	var nf *types.NotFoundException
	switch {
	case errors.As(err, &rej):
		return &PermanentError{Reason: "SES rejected the message", Err: err}
	case errors.As(err, &dom):
		return &PermanentError{Reason: "the sender's domain is not verified in SES", Err: err}
	case errors.As(err, &susp), errors.As(err, &paused):
		return &PermanentError{Reason: "sending is paused for this SES account", Err: err}
	case errors.As(err, &bad), errors.As(err, &nf):
		return &PermanentError{Reason: "SES refused the request", Err: err}
	}
	return fmt.Errorf("send export mail: %w", err)
}

var reportTitles = map[string]string{
	export.ReportOverview:  "Contact overview",
	export.ReportAdded:     "Contact added log",
	export.ReportConnected: "Contact connected log",
	export.ReportDeleted:   "Contact deleted log",
	export.ReportMerged:    "Contact merged log",
	export.ReportAudit:     "Audit events",
}

// LinkMessage returns the subject, text and HTML of a done job's email, with its link.
// Every value put into the HTML is escaped.
func LinkMessage(j *export.Job, url string) (subject, text, htmlBody string) {
	title, period := reportTitles[j.Report], periodText(j)
	subject = fmt.Sprintf("Your export is ready: %s, %s", title, period)
	intro := "The export you asked for is ready."
	if j.Schedule != "" {
		intro = fmt.Sprintf("The scheduled export %q is ready.", j.Schedule)
	}
	mins := int(export.LinkTTL / time.Minute)
	var rows int64
	if j.Rows != nil {
		rows = *j.Rows
	}
	t, h := messageStart(intro, j, [][2]string{{"Rows", fmt.Sprint(rows)}})
	fmt.Fprintf(t, "Download (the link works for %d minutes):\n%s\n\n", mins, url)
	fmt.Fprintf(t, "After that, GET /v1/exports/%s gives a fresh link while the file is kept (7 days).\n", j.ID)
	e := html.EscapeString
	fmt.Fprintf(h, "<p><a href=\"%s\">Download the file</a> (the link works for %d minutes).</p>", e(url), mins)
	fmt.Fprintf(h, "<p>After that, GET /v1/exports/%s gives a fresh link while the file is kept (7 days).</p>", e(j.ID))
	h.WriteString("</body></html>")
	return subject, t.String(), h.String()
}

// FailureMessage returns the subject, text and HTML of a failed job's email: what failed
// and the job's error, which says what to do. Every value put into the HTML is escaped.
func FailureMessage(j *export.Job) (subject, text, htmlBody string) {
	title, period := reportTitles[j.Report], periodText(j)
	subject = fmt.Sprintf("Your export failed: %s, %s", title, period)
	intro := "The export you asked for failed."
	if j.Schedule != "" {
		intro = fmt.Sprintf("The scheduled export %q failed.", j.Schedule)
	}
	t, h := messageStart(intro, j, [][2]string{{"Export id", j.ID}})
	fmt.Fprintf(t, "%s\n", j.Error)
	fmt.Fprintf(h, "<p>%s</p></body></html>", html.EscapeString(j.Error))
	return subject, t.String(), h.String()
}

// messageStart writes the opening every export email shares, as text and as HTML: the
// intro line and a table of the report, period, format and extra rows.
func messageStart(intro string, j *export.Job, extra [][2]string) (text, htmlBody *strings.Builder) {
	rows := append([][2]string{{"Report", reportTitles[j.Report]}, {"Period", periodText(j)}, {"Format", strings.ToUpper(j.Format)}}, extra...)
	text, htmlBody = &strings.Builder{}, &strings.Builder{}
	e := html.EscapeString
	fmt.Fprintf(text, "%s\n\n", intro)
	fmt.Fprintf(htmlBody, "<!DOCTYPE html><html><body><p>%s</p><table>", e(intro))
	for _, r := range rows {
		fmt.Fprintf(text, "%s: %s\n", r[0], r[1])
		fmt.Fprintf(htmlBody, "<tr><th align=\"left\">%s</th><td>%s</td></tr>", e(r[0]), e(r[1]))
	}
	text.WriteString("\n")
	htmlBody.WriteString("</table>")
	return text, htmlBody
}

// periodText is the period as dates in its time zone: "2026-01-01 to 2026-01-31 (Asia/Jakarta)",
// the last day inclusive when the period ends at midnight; one whole day is "2026-01-01 (UTC)".
func periodText(j *export.Job) string {
	from, to, loc, err := j.Period()
	if err != nil {
		return j.From + " to " + j.To
	}
	f, t := from.In(loc), to.In(loc)
	layout := time.DateOnly
	if f.Hour()+f.Minute()+f.Second() != 0 || t.Hour()+t.Minute()+t.Second() != 0 {
		layout = "2006-01-02 15:04"
	} else {
		t = t.AddDate(0, 0, -1)
	}
	if layout == time.DateOnly && f.Equal(t) { // one day, as a daily schedule exports
		return fmt.Sprintf("%s (%s)", f.Format(layout), loc.String())
	}
	return fmt.Sprintf("%s to %s (%s)", f.Format(layout), t.Format(layout), loc.String())
}
