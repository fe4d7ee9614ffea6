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

// SendLink mails the download link of job j.
func (m *Mailer) SendLink(ctx context.Context, j *export.Job, url string) (string, error) {
	subject, text, htmlBody := LinkMessage(j, url)
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
	return fmt.Errorf("send export link: %w", err)
}

var reportTitles = map[string]string{
	export.ReportOverview:  "Contact overview",
	export.ReportAdded:     "Contact added log",
	export.ReportConnected: "Contact connected log",
	export.ReportDeleted:   "Contact deleted log",
	export.ReportMerged:    "Contact merged log",
	export.ReportAudit:     "Audit events",
}

// LinkMessage returns the subject, text and HTML of a job's link email. Every value put
// into the HTML is escaped.
func LinkMessage(j *export.Job, url string) (subject, text, htmlBody string) {
	title := reportTitles[j.Report]
	period := periodText(j)
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
	var t strings.Builder
	fmt.Fprintf(&t, "%s\n\n", intro)
	fmt.Fprintf(&t, "Report: %s\nPeriod: %s\nFormat: %s\nRows: %d\n\n", title, period, strings.ToUpper(j.Format), rows)
	fmt.Fprintf(&t, "Download (the link works for %d minutes):\n%s\n\n", mins, url)
	fmt.Fprintf(&t, "After that, GET /v1/exports/%s gives a fresh link while the file is kept (7 days).\n", j.ID)
	text = t.String()

	e := html.EscapeString
	var h strings.Builder
	h.WriteString("<!DOCTYPE html><html><body>")
	fmt.Fprintf(&h, "<p>%s</p>", e(intro))
	fmt.Fprintf(&h, "<table><tr><th align=\"left\">Report</th><td>%s</td></tr><tr><th align=\"left\">Period</th><td>%s</td></tr>"+
		"<tr><th align=\"left\">Format</th><td>%s</td></tr><tr><th align=\"left\">Rows</th><td>%d</td></tr></table>",
		e(title), e(period), e(strings.ToUpper(j.Format)), rows)
	fmt.Fprintf(&h, "<p><a href=\"%s\">Download the file</a> (the link works for %d minutes).</p>", e(url), mins)
	fmt.Fprintf(&h, "<p>After that, GET /v1/exports/%s gives a fresh link while the file is kept (7 days).</p>", e(j.ID))
	h.WriteString("</body></html>")
	return subject, text, h.String()
}

// periodText is the period as dates in its time zone: "2026-01-01 to 2026-01-31 (Asia/Jakarta)",
// the last day inclusive when the period ends at midnight.
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
	return fmt.Sprintf("%s to %s (%s)", f.Format(layout), t.Format(layout), loc.String())
}
