// Package worker runs export jobs: started by the INSERT of a job on the jobs table's
// stream, it claims the job, streams the report into an S3 multipart upload, marks the job
// done (in one transaction with its REPORT_EXPORTED event) or failed, and emails the link
// once when the job has recipients. It is the only export package that links the report
// engine, the archive reader and SES.
package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/export"
	"github.com/contrail/contrail/shared/export/files"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/tenant"
)

// Source writes a job's report, in the job's format, to w and returns the rows written.
// Reports (the report engine and the archive) is the real one.
type Source interface {
	Export(ctx context.Context, w io.Writer, j *export.Job) (rows int64, err error)
}

// Sender sends a job's email to its recipients (Mailer on SES v2 is the real one).
type Sender interface {
	Send(ctx context.Context, j *export.Job, subject, text, htmlBody string) (messageID string, err error)
}

// MaxAttempts is how many times a job is tried before it is marked failed.
const MaxAttempts = 3

// Worker runs export jobs.
type Worker struct {
	Jobs   *export.Store
	S3     files.S3
	Bucket string
	Links  export.Linker
	Source Source
	Mail   Sender

	AuditTable string
	Keys       audit.Keys
	Retention  audit.Retention
	IDs        *ident.Generator
	Clock      ident.Clock
	// Stale is how long a running job may go without finishing before another worker takes
	// it over (the function's timeout: its worker is surely gone by then).
	Stale time.Duration
	// Margin is kept from the invoke's deadline to record a failure before Lambda kills us.
	Margin time.Duration
}

// Handle is the stream handler: a job's INSERT is run, and a job that turned failed (the
// worker gave up, or the runner abandoned it) gets its failure mailed. A record that should
// be retried is reported as a batch item failure, never failing the whole batch.
func (w *Worker) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	for _, rec := range ev.Records {
		if !wanted(rec) {
			continue
		}
		img := rec.Change.NewImage
		rawTenant, rawID := attr(img, "tenantId"), attr(img, "id")
		tenant, err := tenant.Parse(rawTenant)
		if err != nil {
			// Never retried: no run could succeed. Jobs are written with a parsed tenant, so
			// this is a record written by something else; it is logged for an operator.
			slog.ErrorContext(ctx, "export job skipped: its tenant id is invalid", "export_id", rawID, "error", err.Error())
			continue
		}
		id, err := export.ParseID(rawID)
		if err != nil { // not a job the API or the runner made: nothing to run, nothing to retry
			slog.ErrorContext(ctx, "export job skipped: its id is not an export id", "tenant_id", tenant, "event_id", rec.EventID)
			continue
		}
		if err := w.Run(ctx, tenant, id); err != nil {
			slog.ErrorContext(ctx, "export job will be retried", "tenant_id", tenant, "export_id", id, "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rec.EventID})
		}
	}
	return resp, nil
}

// wanted says what the template's filters on the jobs stream let through: a job's INSERT,
// or a job's change from pending or running to failed.
func wanted(rec events.DynamoDBEventRecord) bool {
	newImg, oldImg := rec.Change.NewImage, rec.Change.OldImage
	if attr(newImg, "sk") != "JOB" {
		return false
	}
	switch rec.EventName {
	case string(events.DynamoDBOperationTypeInsert):
		return true
	case string(events.DynamoDBOperationTypeModify):
		was := attr(oldImg, "status")
		return attr(newImg, "status") == export.StatusFailed && (was == export.StatusPending || was == export.StatusRunning)
	}
	return false
}

func attr(img map[string]events.DynamoDBAttributeValue, name string) string {
	v, ok := img[name]
	if !ok || v.DataType() != events.DataTypeString {
		return ""
	}
	return v.String()
}

// Run brings one job to its end: runs it if nobody else is, then, if it has recipients and
// nothing went out yet, mails them its link (done) or what went wrong (failed). An error
// means: try again later.
func (w *Worker) Run(ctx context.Context, tenant tenant.ID, id export.ID) error {
	j, err := w.Jobs.Job(ctx, tenant, id)
	if export.IsNotFound(err) {
		slog.WarnContext(ctx, "export job gone", "tenant_id", tenant, "export_id", id)
		return nil
	}
	if err != nil {
		return err
	}
	if j.Status == export.StatusPending || j.Status == export.StatusRunning {
		now := w.Clock()
		if err := w.Jobs.Claim(ctx, j, now, w.Stale); errors.Is(err, export.ErrChanged) {
			slog.InfoContext(ctx, "export job taken by another worker", "tenant_id", tenant, "export_id", id)
			return nil
		} else if err != nil {
			return err
		}
		if err := w.run(ctx, j); err != nil {
			return err
		}
	}
	finished := j.Status == export.StatusDone || j.Status == export.StatusFailed
	if finished && len(j.Recipients) > 0 && j.MailStatus == "" {
		return w.mail(ctx, j)
	}
	return nil
}

// run does a claimed job: the file, then done (with its event) or failed.
func (w *Worker) run(ctx context.Context, j *export.Job) error {
	work := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		work, cancel = context.WithDeadline(ctx, dl.Add(-w.Margin))
		defer cancel()
	}
	log := slog.With("tenant_id", j.TenantID, "export_id", j.ID, "report", j.Report, "format", j.Format, "attempt", j.Attempt)
	key := export.ObjectKey(j.TenantID, export.ID(j.ID), j.Format)
	up := files.NewUpload(work, w.S3, w.Bucket, key, export.ContentType(j.Format), FileName(j))
	rows, err := w.Source.Export(work, up, j)
	var size int64
	if err == nil {
		size, err = up.Close()
	} else if aerr := up.Abort(); aerr != nil {
		log.WarnContext(ctx, "abort export upload", "error", aerr.Error())
	}
	now := w.Clock()
	if err != nil {
		return w.failed(ctx, j, err, errors.Is(work.Err(), context.DeadlineExceeded))
	}
	put, err := w.Keys.PutTx(w.AuditTable, w.event(j, rows, now), w.Retention)
	if err != nil {
		return err
	}
	if err := w.Jobs.Finish(ctx, j, rows, key, now, put); errors.Is(err, export.ErrChanged) {
		log.WarnContext(ctx, "export job claim lost before it finished; the other worker's file stands")
		return nil
	} else if err != nil {
		return err
	}
	log.InfoContext(ctx, "export done", "rows", rows, "bytes", size)
	return nil
}

// failed gives a failed attempt back for a retry, or marks the job failed for good when it
// ran out of time or attempts.
func (w *Worker) failed(ctx context.Context, j *export.Job, cause error, timedOut bool) error {
	log := slog.With("tenant_id", j.TenantID, "export_id", j.ID, "attempt", j.Attempt)
	now := w.Clock()
	if !timedOut && j.Attempt < MaxAttempts {
		log.WarnContext(ctx, "export attempt failed; will retry", "error", cause.Error())
		if err := w.Jobs.Release(ctx, j, now); err != nil && !errors.Is(err, export.ErrChanged) {
			return errors.Join(cause, err)
		}
		return cause
	}
	reason := "The export failed on our side after " + fmt.Sprint(j.Attempt) + " attempts; create it again, and contact support with export id " + j.ID + " if it fails again."
	if timedOut {
		reason = "The export did not finish in time; export a shorter period (or a log instead of every audit event)."
	}
	log.ErrorContext(ctx, "export failed", "error", cause.Error())
	if err := w.Jobs.Fail(context.WithoutCancel(ctx), j, reason, now); err != nil && !errors.Is(err, export.ErrChanged) {
		return errors.Join(cause, err)
	}
	return nil
}

// event is the REPORT_EXPORTED event of a finished job: the user who asked for it, or the
// system for a schedule's job. It names the recipients the link goes to, so the log shows
// where every mailed export went.
func (w *Worker) event(j *export.Job, rows int64, now time.Time) *audit.Event {
	filters := map[string]any{"from": j.From, "to": j.To, "tz": j.TZ, "format": j.Format}
	if j.Schedule != "" {
		filters["schedule"] = j.Schedule
	}
	if j.Filter != nil { // source, channel, user: as REPORT_VIEWED records them
		j.Filter.AddTo(filters)
	}
	ev := &audit.Event{
		ID: w.IDs.At(now), TenantID: j.TenantID, OccurredAt: audit.FormatTime(now), RecordedAt: audit.FormatTime(now),
		Type: "REPORT_EXPORTED", Category: audit.CategoryOf("REPORT_EXPORTED"),
		Actor:  audit.Actor{Type: audit.ActorUser, ID: j.CreatedBy, Name: j.CreatedByName},
		Source: audit.SourceUser,
		Data:   map[string]any{"report": j.Report, "filters": filters, "exportId": j.ID, "rows": rows},
	}
	if len(j.Recipients) > 0 {
		ev.Data["recipients"] = j.Recipients
	}
	if j.CreatedBy == "" {
		ev.Actor = audit.Actor{Type: audit.ActorSystem, ID: "export-scheduler", Name: "Scheduled export " + j.Schedule}
		ev.Source = audit.SourceSystem
	}
	if j.RequestID != "" {
		ev.Context = &audit.Context{RequestID: j.RequestID}
	}
	return ev
}

// mail sends a finished job's mail once (its link, or its failure): the claim is a
// conditional write on the job; a send that may succeed on a retry gives the claim back,
// one that cannot is recorded as failed.
func (w *Worker) mail(ctx context.Context, j *export.Job) error {
	log := slog.With("tenant_id", j.TenantID, "export_id", j.ID, "status", j.Status)
	if err := w.Jobs.ClaimMail(ctx, j); errors.Is(err, export.ErrChanged) {
		return nil
	} else if err != nil {
		return err
	}
	var subject, text, htmlBody string
	if j.Status == export.StatusDone {
		url, err := w.Links.Link(ctx, j.Key)
		if err != nil {
			return errors.Join(err, w.Jobs.ReleaseMail(context.WithoutCancel(ctx), j))
		}
		subject, text, htmlBody = LinkMessage(j, url)
	} else {
		subject, text, htmlBody = FailureMessage(j)
	}
	msgID, err := w.Mail.Send(ctx, j, subject, text, htmlBody)
	if err != nil {
		var perm *PermanentError
		if errors.As(err, &perm) {
			log.ErrorContext(ctx, "export mail failed for good", "error", err.Error())
			return w.Jobs.MailDone(context.WithoutCancel(ctx), j, export.MailFailed, "", perm.Reason)
		}
		log.WarnContext(ctx, "export mail failed; will retry", "error", err.Error())
		return errors.Join(err, w.Jobs.ReleaseMail(context.WithoutCancel(ctx), j))
	}
	log.InfoContext(ctx, "export mail sent", "recipients", len(j.Recipients), "message_id", msgID)
	return w.Jobs.MailDone(context.WithoutCancel(ctx), j, export.MailSent, msgID, "")
}

// FileName is the download name of a job's file: contact-<report>-<from>-<to>.<format>
// (audit-events-... for the audit report, contrail-log-<tenant>-<from>-<to>.json.gz for its
// verifiable bundle), the dates in the period's time zone, to exclusive, as report.FileName
// names a log's CSV.
func FileName(j *export.Job) string {
	prefix := "contact-" + j.Report
	switch {
	case j.Format == export.FormatBundle:
		prefix = "contrail-log-" + j.TenantID.String()
	case j.Report == export.ReportAudit:
		prefix = "audit-events"
	}
	ext := export.Extension(j.Format)
	from, to, loc, err := j.Period()
	if err != nil {
		return prefix + "-" + j.ID + "." + ext
	}
	return fmt.Sprintf("%s-%s-%s.%s", prefix, from.In(loc).Format(time.DateOnly), to.In(loc).Format(time.DateOnly), ext)
}

// New returns a worker with the real clock and ids, links valid export.LinkTTL.
func New(cfg Config, db export.DB, s3c *s3.Client, ses SES, src Source) *Worker {
	return &Worker{
		Jobs:   &export.Store{DB: db, Table: cfg.JobsTable},
		S3:     s3c,
		Bucket: cfg.Exports.Name,
		Links:  files.NewPresigner(s3c, cfg.Exports.Name, export.LinkTTL),
		Source: src,
		Mail:   &Mailer{SES: ses, From: cfg.Mail.From, ConfigurationSet: cfg.Mail.ConfigurationSet},

		AuditTable: cfg.Audit.Table,
		Keys:       cfg.Audit.Keys(),
		Retention:  cfg.Audit.Retention,
		IDs:        ident.NewGenerator(ident.SystemClock),
		Clock:      ident.SystemClock,
		Stale:      cfg.Timeout + time.Minute,
		Margin:     min(cfg.Timeout/10, 20*time.Second),
	}
}
