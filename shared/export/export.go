// Package export holds report exports: the export job and the export schedule as the jobs
// table stores them, the store that writes them with conditional writes, the HTTP handlers
// of /v1/exports and /v1/export-schedules, and the schedule runner. The work itself (report
// to S3, link by email) is done by package export/worker, so the API functions link neither
// the report engine nor SES.
//
// Jobs table items:
//
//	export job   pk T#<tenant>#EXPORT#<id>   sk JOB      (its INSERT on the stream starts the worker;
//	                                                     until finished: dueKey OPEN, nextRunAt = deadline)
//	schedule     pk T#<tenant>#SCHEDULE      sk <name>   dueKey SCHEDULE, nextRunAt (GSI ByDue)
package export

import (
	"time"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/tenant"
	"github.com/contrail/contrail/shared/validate"
)

// Reports that can be exported: the overview, the four logs, and every audit event.
const (
	ReportOverview  = "overview"
	ReportAdded     = "added"
	ReportConnected = "connected"
	ReportDeleted   = "deleted"
	ReportMerged    = "merged"
	ReportAudit     = "audit"
)

// Reports lists the exportable reports, in the contract's order.
var Reports = []string{ReportOverview, ReportAdded, ReportConnected, ReportDeleted, ReportMerged, ReportAudit}

// isLog reports whether report is one of the four contact logs, the reports that take a
// LogFilter.
func isLog(report string) bool {
	switch report {
	case ReportAdded, ReportConnected, ReportDeleted, ReportMerged:
		return true
	}
	return false
}

// checkFilter adds to p a problem for each filter f sets that report does not take (only the
// four logs do) and for each value httpapi.LogFilter.Check refuses.
func checkFilter(p validate.Problems, report string, f httpapi.LogFilter) {
	f.Check(p)
	if isLog(report) {
		return
	}
	for _, name := range f.Names() {
		p.Add(name, "filters the added, connected, deleted and merged logs only")
	}
}

// File formats. FormatBundle is the verifiable export of the audit report: the period's
// events as the tenant's signed log holds them, with its checkpoint and tiles
// (contrail-log-bundle/v1, gzip; docs/verifying.md), which contrail-verify checks offline.
// FormatOCSF is the audit report for security tools: each event in the Open Cybersecurity
// Schema Framework (shared/ocsf), one a line, gzip.
const (
	FormatCSV     = "csv"
	FormatParquet = "parquet"
	FormatBundle  = "bundle"
	FormatOCSF    = "ocsf"
)

// Formats lists the file formats.
var Formats = []string{FormatCSV, FormatParquet, FormatBundle, FormatOCSF}

// auditFormats are the formats of the audit report alone, and what each is.
var auditFormats = map[string]string{
	FormatBundle: "bundle (the verifiable log)",
	FormatOCSF:   "ocsf (audit events for security tools)",
}

// checkFormat adds a problem when the format is one of the audit report's alone and the
// report is another. (An unknown report or format has its problem already.)
func checkFormat(p validate.Problems, report, format string) {
	what, ok := auditFormats[format]
	if !ok || report == ReportAudit {
		return
	}
	for _, r := range Reports {
		if r == report {
			p.Add("format", what+" exports the audit report only; use csv or parquet for the "+report+" report")
		}
	}
}

// Job statuses.
const (
	StatusPending = "pending"
	StatusRunning = "running"
	StatusDone    = "done"
	StatusFailed  = "failed"
)

// Mail statuses of a job with recipients: the claim that makes the link go out once.
const (
	MailSending = "sending"
	MailSent    = "sent"
	MailFailed  = "failed"
)

const (
	// MaxPeriodDays caps an export's period.
	MaxPeriodDays = 366
	// JobTTL is how long a job (and its file, by the bucket's lifecycle rule) is kept.
	JobTTL = 7 * 24 * time.Hour
	// StartWithin is how long a pending job may wait for a worker before the runner fails it.
	StartWithin = time.Hour
	// LinkTTL is how long a presigned download link works.
	LinkTTL = 15 * time.Minute
	// KeyPrefix is where export files go in the archive bucket (a lifecycle rule expires them).
	KeyPrefix = "exports/"

	skJob   = "JOB"
	dueKey  = "SCHEDULE" // ByDue partition of schedules
	dueOpen = "OPEN"     // ByDue partition of unfinished jobs, by their deadline
)

// IndexByDue is the jobs table's GSI of schedules by nextRunAt (as declared in template.yaml).
const IndexByDue = "ByDue"

// Job is an export job as the jobs table stores it.
type Job struct {
	PK       string    `dynamodbav:"pk"`
	SK       string    `dynamodbav:"sk"`
	TenantID tenant.ID `dynamodbav:"tenantId"`
	ID       string    `dynamodbav:"id"`
	Report   string    `dynamodbav:"report"`
	From     string    `dynamodbav:"from"` // audit.TimeLayout, UTC, inclusive
	To       string    `dynamodbav:"to"`   // exclusive
	TZ       string    `dynamodbav:"tz"`   // IANA name of the report's day boundaries
	Format   string    `dynamodbav:"format"`
	// Filter narrows a log export to the events behind one number of the overview
	// (source, channel, user); nil for no filter and for the overview and audit reports.
	Filter     *httpapi.LogFilter `dynamodbav:"filter,omitempty"`
	Recipients []string           `dynamodbav:"recipients,omitempty"` // POST's email, or a schedule's recipients
	Schedule   string             `dynamodbav:"schedule,omitempty"`   // the schedule that made it
	Status     string             `dynamodbav:"status"`
	Rows       *int64             `dynamodbav:"rows,omitempty"`
	Key        string             `dynamodbav:"key,omitempty"` // S3 object key, set when done
	Error      string             `dynamodbav:"error,omitempty"`
	Attempt    int                `dynamodbav:"attempt"`
	CreatedAt  string             `dynamodbav:"createdAt"`
	CreatedBy  string             `dynamodbav:"createdBy,omitempty"` // user id; empty for a schedule's job
	// CreatedByName and RequestID describe the request that asked for it, for the
	// REPORT_EXPORTED event.
	CreatedByName string `dynamodbav:"createdByName,omitempty"`
	RequestID     string `dynamodbav:"requestId,omitempty"`
	StartedAt     string `dynamodbav:"startedAt,omitempty"`
	FinishedAt    string `dynamodbav:"finishedAt,omitempty"`
	MailStatus    string `dynamodbav:"mailStatus,omitempty"`
	MailMessageID string `dynamodbav:"mailMessageId,omitempty"`
	MailError     string `dynamodbav:"mailError,omitempty"`
	// DueKey and Deadline are set while the job is unfinished (GSI ByDue: dueKey OPEN,
	// nextRunAt = when it must have started, or the end of its worker's lease), so the
	// runner finds a job that never started or whose worker died.
	DueKey    string `dynamodbav:"dueKey,omitempty"`
	Deadline  string `dynamodbav:"nextRunAt,omitempty"`
	ExpiresAt int64  `dynamodbav:"expiresAt"` // TTL, epoch seconds
}

// JobPK is the partition key of a tenant's export job.
func JobPK(tenant tenant.ID, id ID) string {
	return "T#" + tenant.String() + "#EXPORT#" + string(id)
}

// ObjectKey is where a job's file goes: exports/<tenant>/<id>.<extension of the format>.
func ObjectKey(tenant tenant.ID, id ID, format string) string {
	return KeyPrefix + tenant.String() + "/" + string(id) + "." + Extension(format)
}

// Extension is the file name extension of a format's file: the format's name, json.gz for
// a bundle (gzip-compressed JSON), ocsf.jsonl.gz for OCSF (gzip-compressed JSON Lines).
func Extension(format string) string {
	switch format {
	case FormatBundle:
		return "json.gz"
	case FormatOCSF:
		return "ocsf.jsonl.gz"
	}
	return format
}

// Period returns the job's period.
func (j *Job) Period() (from, to time.Time, tz *time.Location, err error) {
	if from, err = audit.ParseTime(j.From); err != nil {
		return
	}
	if to, err = audit.ParseTime(j.To); err != nil {
		return
	}
	tz, err = time.LoadLocation(j.TZ)
	return
}

// ContentType returns the media type of a format's file.
func ContentType(format string) string {
	switch format {
	case FormatParquet:
		return "application/vnd.apache.parquet"
	case FormatBundle, FormatOCSF:
		return "application/gzip"
	}
	return "text/csv; charset=utf-8"
}

func formatTime(t time.Time) string { return audit.FormatTime(t) }
