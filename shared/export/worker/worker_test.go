package worker_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/export"
	"github.com/contrail/contrail/shared/export/files"
	"github.com/contrail/contrail/shared/export/worker"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/mail"
	"github.com/contrail/contrail/shared/s3bucket"
)

func TestMain(m *testing.M) { stacktest.Main(m) }

var now = time.Date(2026, 11, 30, 1, 20, 0, 0, time.UTC)

// rowsSource is the test seam: a small CSV of n rows, or an error on the listed attempts.
type rowsSource struct {
	mu      sync.Mutex
	rows    int
	failOn  map[int]bool
	calls   int
	written []byte
}

func (s *rowsSource) Export(_ context.Context, w io.Writer, j *export.Job) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	var b strings.Builder
	b.WriteString("Created At,Contact ID,Contact Name,Source,User\r\n")
	for i := 0; i < s.rows; i++ {
		fmt.Fprintf(&b, "2026-11-0%dT10:00:00.000Z,c%d,Name %d,manual,Rina\r\n", i%9+1, i, i)
	}
	if s.failOn[s.calls] {
		io.WriteString(w, b.String()[:b.Len()/2])
		return 0, errors.New("archive object unreadable")
	}
	s.written = []byte(b.String())
	_, err := io.WriteString(w, b.String())
	return int64(s.rows), err
}

type fixture struct {
	w      *worker.Worker
	db     *dynamodb.Client
	s3     *s3.Client
	tables map[string]string
	bucket string
	src    *rowsSource
}

func newFixture(t *testing.T, src *rowsSource) *fixture {
	t.Helper()
	db, s3c := stacktest.DynamoDB(t), stacktest.S3(t)
	tables, bucket := stacktest.Tables(t), stacktest.Bucket(t)
	clock := func() time.Time { return now }
	w := worker.New(worker.Config{
		JobsTable: tables["JobsTable"], Exports: s3bucket.Config{Name: bucket},
		Audit: audit.StoreConfig{Table: tables["AuditTable"], Shards: 4, Retention: audit.RetentionDays(400, 400, 400, 30)},
		Mail:  mail.Identity{From: "exports@contrail.example.com"}, Timeout: 5 * time.Minute,
	}, db, s3c, stacktest.SES(t), src)
	w.Clock, w.IDs = clock, ident.NewGenerator(clock)
	return &fixture{w: w, db: db, s3: s3c, tables: tables, bucket: bucket, src: src}
}

func (f *fixture) newJob(t *testing.T, id string, recipients ...string) *export.Job {
	t.Helper()
	j := &export.Job{
		TenantID: "acme", ID: id, Report: "added", From: "2026-11-01T00:00:00.000Z", To: "2026-12-01T00:00:00.000Z",
		TZ: "UTC", Format: "csv", Recipients: recipients, Status: "pending", CreatedAt: audit.FormatTime(now),
		CreatedBy: "u-1", CreatedByName: "Rina Admin", RequestID: "req-1", ExpiresAt: now.Add(export.JobTTL).Unix(),
	}
	if created, err := f.w.Jobs.CreateJob(context.Background(), j); err != nil || !created {
		t.Fatalf("create job: %v %v", created, err)
	}
	return j
}

func (f *fixture) object(t *testing.T, key string) ([]byte, bool) {
	t.Helper()
	out, err := f.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(key)})
	if err != nil {
		return nil, false
	}
	defer out.Body.Close()
	b, _ := io.ReadAll(out.Body)
	return b, true
}

func (f *fixture) exportedEvents(t *testing.T) []audit.Event {
	t.Helper()
	var evs []audit.Event
	for shard := range 4 { // the worker's AuditShards
		out, err := f.db.Query(context.Background(), &dynamodb.QueryInput{
			TableName: aws.String(f.tables["AuditTable"]), IndexName: aws.String(audit.IndexByType),
			KeyConditionExpression: aws.String("typeKey = :k"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":k": &types.AttributeValueMemberS{Value: audit.TypeKey("acme", "REPORT_EXPORTED", "2026-11-30", shard)},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range out.Items {
			ev, err := audit.FromItem(item)
			if err != nil {
				t.Fatal(err)
			}
			evs = append(evs, ev)
		}
	}
	return evs
}

var linkRE = regexp.MustCompile(`https?://\S+`)

func TestWorkerExportsMailsOnce(t *testing.T) {
	f := newFixture(t, &rowsSource{rows: 3})
	to := stacktest.Address("rina")
	j := f.newJob(t, "01KB0C9Q2X8V6M3N4P5R7S8T9W", to)
	for i := 0; i < 2; i++ { // the second run is a redelivery of the same stream record
		if err := f.w.Run(context.Background(), "acme", export.ID(j.ID)); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
	}
	if f.src.calls != 1 {
		t.Errorf("the source ran %d times, want once", f.src.calls)
	}
	key := "exports/acme/" + j.ID + ".csv"
	body, ok := f.object(t, key)
	if !ok || string(body) != string(f.src.written) {
		t.Errorf("object %s = %q (exists %v), want the source's CSV %q", key, body, ok, f.src.written)
	}

	got, err := f.w.Jobs.Job(context.Background(), "acme", export.ID(j.ID))
	if err != nil {
		t.Fatal(err)
	}
	mails := stacktest.EmailsTo(t, to)
	if len(mails) != 1 {
		t.Fatalf("%d mails to %s, want 1", len(mails), to)
	}
	rows := int64(3)
	want := *j
	want.PK, want.SK, want.Status, want.Rows, want.Key, want.Attempt = export.JobPK("acme", export.ID(j.ID)), "JOB", "done", &rows, key, 1
	want.StartedAt, want.FinishedAt = audit.FormatTime(now), audit.FormatTime(now)
	want.MailStatus, want.MailMessageID = "sent", mails[0].MessageID
	want.DueKey, want.Deadline = "", "" // finished: out of the ByDue index
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("job (-want +got):\n%s", diff)
	}

	m := mails[0]
	link := linkRE.FindString(m.Text)
	wantText := "The export you asked for is ready.\n\nReport: Contact added log\nPeriod: 2026-11-01 to 2026-11-30 (UTC)\nFormat: CSV\nRows: 3\n\n" +
		"Download (the link works for 15 minutes):\n" + link + "\n\nAfter that, GET /v1/exports/" + j.ID + " gives a fresh link while the file is kept (7 days).\n"
	if diff := cmp.Diff(stacktest.Email{From: "exports@contrail.example.com", To: []string{to},
		Subject: "Your export is ready: Contact added log, 2026-11-01 to 2026-11-30 (UTC)", Text: wantText, HTML: m.HTML, MessageID: m.MessageID}, m); diff != "" {
		t.Errorf("mail (-want +got):\n%s", diff)
	}
	if !strings.Contains(m.HTML, `<a href="`+strings.ReplaceAll(link, "&", "&amp;")+`">`) {
		t.Errorf("HTML %q lacks the escaped link", m.HTML)
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	dl, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(dl) != string(f.src.written) {
		t.Errorf("the mailed link downloads %d %q, want the file", resp.StatusCode, dl)
	}

	evs := f.exportedEvents(t)
	if len(evs) != 1 {
		t.Fatalf("%d REPORT_EXPORTED events, want 1", len(evs))
	}
	wantEv := audit.Event{
		ID: evs[0].ID, TenantID: "acme", OccurredAt: audit.FormatTime(now), RecordedAt: audit.FormatTime(now),
		Type: "REPORT_EXPORTED", Category: "access", Actor: audit.Actor{Type: "user", ID: "u-1", Name: "Rina Admin"}, Source: "user",
		Data: map[string]any{"report": "added", "exportId": j.ID, "rows": 3.0, "recipients": []any{to},
			"filters": map[string]any{"from": j.From, "to": j.To, "tz": "UTC", "format": "csv"}},
		Context: &audit.Context{RequestID: "req-1"},
	}
	if diff := cmp.Diff(wantEv, evs[0]); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
}

func TestWorkerRetriesThenFails(t *testing.T) {
	tests := []struct {
		name       string
		failOn     map[int]bool
		wantStatus string
		wantError  string
		wantRuns   []bool // error returned per run
	}{
		{"a failed attempt is retried", map[int]bool{1: true}, "done", "", []bool{true, false}},
		{"three failed attempts fail the job", map[int]bool{1: true, 2: true, 3: true}, "failed",
			"The export failed on our side after 3 attempts; create it again, and contact support with export id 01KB0C9Q2X8V6M3N4P5R7S8T9W if it fails again.",
			[]bool{true, true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, &rowsSource{rows: 2, failOn: tt.failOn})
			to := stacktest.Address("retries")
			j := f.newJob(t, "01KB0C9Q2X8V6M3N4P5R7S8T9W", to)
			for i, wantErr := range tt.wantRuns {
				if err := f.w.Run(context.Background(), "acme", export.ID(j.ID)); (err != nil) != wantErr {
					t.Errorf("run %d: err = %v, want error %v", i+1, err, wantErr)
				}
			}
			got, err := f.w.Jobs.Job(context.Background(), "acme", export.ID(j.ID))
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.wantStatus || got.Error != tt.wantError {
				t.Errorf("job %s %q, want %s %q", got.Status, got.Error, tt.wantStatus, tt.wantError)
			}
			_, exists := f.object(t, "exports/acme/"+j.ID+".csv")
			if exists != (tt.wantStatus == "done") {
				t.Errorf("object exists = %v with the job %s", exists, got.Status)
			}
			if n := len(f.exportedEvents(t)); n != map[string]int{"done": 1, "failed": 0}[tt.wantStatus] {
				t.Errorf("%d REPORT_EXPORTED events", n)
			}
			// One mail either way: the link, or what failed and what to do.
			mails := stacktest.EmailsTo(t, to)
			if len(mails) != 1 || got.MailStatus != "sent" || got.MailMessageID != mails[0].MessageID {
				t.Fatalf("%d mails, job mail %s %s; want 1, sent", len(mails), got.MailStatus, got.MailMessageID)
			}
			if tt.wantStatus == "failed" {
				want := stacktest.Email{From: "exports@contrail.example.com", To: []string{to},
					Subject: "Your export failed: Contact added log, 2026-11-01 to 2026-11-30 (UTC)",
					Text: "The export you asked for failed.\n\nReport: Contact added log\nPeriod: 2026-11-01 to 2026-11-30 (UTC)\nFormat: CSV\n" +
						"Export id: " + j.ID + "\n\n" + tt.wantError + "\n",
					HTML: "<!DOCTYPE html><html><body><p>The export you asked for failed.</p><table>" +
						"<tr><th align=\"left\">Report</th><td>Contact added log</td></tr><tr><th align=\"left\">Period</th><td>2026-11-01 to 2026-11-30 (UTC)</td></tr>" +
						"<tr><th align=\"left\">Format</th><td>CSV</td></tr><tr><th align=\"left\">Export id</th><td>" + j.ID + "</td></tr></table>" +
						"<p>" + tt.wantError + "</p></body></html>",
					MessageID: mails[0].MessageID}
				if diff := cmp.Diff(want, mails[0]); diff != "" {
					t.Errorf("failure mail (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestHandleStreamRecords(t *testing.T) {
	f := newFixture(t, &rowsSource{rows: 1, failOn: map[int]bool{1: true}})
	j := f.newJob(t, "01KB0C9Q2X8V6M3N4P5R7S8T9W")
	to := stacktest.Address("abandoned")
	abandoned := f.newJob(t, "01KB0C9Q2X8V6M3N4P5R7S8T9Y", to)
	if err := f.w.Jobs.Abandon(context.Background(), abandoned, "The export did not start in time; create it again.", now); err != nil {
		t.Fatal(err)
	}
	img := func(sk, id, status string) map[string]events.DynamoDBAttributeValue {
		m := map[string]events.DynamoDBAttributeValue{
			"sk": events.NewStringAttribute(sk), "tenantId": events.NewStringAttribute("acme"), "id": events.NewStringAttribute(id),
		}
		if status != "" {
			m["status"] = events.NewStringAttribute(status)
		}
		return m
	}
	rec := func(eventID, name string, oldImg, newImg map[string]events.DynamoDBAttributeValue) events.DynamoDBEventRecord {
		return events.DynamoDBEventRecord{EventID: eventID, EventName: name, Change: events.DynamoDBStreamRecord{OldImage: oldImg, NewImage: newImg}}
	}
	ev := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{
		rec("1", "MODIFY", img("JOB", j.ID, "pending"), img("JOB", j.ID, "running")),                                              // a claim: not a new job
		rec("2", "INSERT", nil, img("web", "x", "")),                                                                              // not a job
		rec("3", "INSERT", nil, img("JOB", j.ID, "pending")),                                                                      // runs, fails, is retried
		rec("4", "INSERT", nil, img("JOB", "01KB0C9Q2X8V6M3N4P5R7S8T9X", "pending")),                                              // gone: skipped
		rec("5", "MODIFY", img("JOB", abandoned.ID, "pending"), img("JOB", abandoned.ID, "failed")),                               // abandoned: mailed
		rec("6", "MODIFY", img("JOB", abandoned.ID, "failed"), img("JOB", abandoned.ID, "failed")),                                // its mail claim: nothing
		rec("7", "MODIFY", img("JOB", abandoned.ID, "pending"), img("JOB", abandoned.ID, "failed")),                               // redelivered: nothing
		rec("8", "MODIFY", img("JOB", "01KB0C9Q2X8V6M3N4P5R7S8T9Z", "running"), img("JOB", "01KB0C9Q2X8V6M3N4P5R7S8T9Z", "done")), // done: its INSERT mails it
	}}
	resp, err := f.w.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	want := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{{ItemIdentifier: "3"}}}
	if diff := cmp.Diff(want, resp); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	if f.src.calls != 1 {
		t.Errorf("source ran %d times, want once (the INSERT of a job only; a missing job is skipped)", f.src.calls)
	}
	mails := stacktest.EmailsTo(t, to)
	if len(mails) != 1 || mails[0].Subject != "Your export failed: Contact added log, 2026-11-01 to 2026-11-30 (UTC)" {
		t.Errorf("mails to the abandoned job's recipient: %+v, want its failure mail once", mails)
	}
}

func TestFileName(t *testing.T) {
	tests := []struct {
		report, format, from, to, tz, want string
	}{
		{"added", "csv", "2026-10-31T17:00:00.000Z", "2026-11-30T17:00:00.000Z", "Asia/Jakarta", "contact-added-2026-11-01-2026-12-01.csv"},
		{"overview", "parquet", "2026-11-01T00:00:00.000Z", "2026-12-01T00:00:00.000Z", "UTC", "contact-overview-2026-11-01-2026-12-01.parquet"},
		{"audit", "csv", "2026-11-01T00:00:00.000Z", "2026-11-02T00:00:00.000Z", "UTC", "audit-events-2026-11-01-2026-11-02.csv"},
		{"audit", "ocsf", "2026-11-01T00:00:00.000Z", "2026-11-02T00:00:00.000Z", "UTC", "audit-events-2026-11-01-2026-11-02.ocsf.jsonl.gz"},
		{"audit", "bundle", "2026-10-31T17:00:00.000Z", "2026-11-30T17:00:00.000Z", "Asia/Jakarta", "contrail-log-acme-2026-11-01-2026-12-01.json.gz"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			got := worker.FileName(&export.Job{TenantID: "acme", Report: tt.report, Format: tt.format, From: tt.from, To: tt.to, TZ: tt.tz})
			if got != tt.want {
				t.Errorf("FileName = %q, want %q", got, tt.want)
			}
		})
	}
}

var _ files.S3 = (*s3.Client)(nil)

// TestSampleStreamEvents runs the sample events of the export worker (a job's INSERT, and
// a job's change to failed, as the stream delivers them) through Handle.
func TestSampleStreamEvents(t *testing.T) {
	tests := []struct {
		file       string
		prepare    func(f *fixture, j *export.Job) // the job's state when the record arrives
		wantStatus string
		wantMail   string // subject of the one mail to the job's recipient; "" = none
	}{
		{"export-worker-job-inserted.json", func(*fixture, *export.Job) {}, "done", ""},
		{"export-worker-job-failed.json", func(f *fixture, j *export.Job) {
			if err := f.w.Jobs.Abandon(context.Background(), j, "The export did not start in time; create it again.", now); err != nil {
				t.Fatal(err)
			}
		}, "failed", "Your export failed: Contact added log, 2026-11-01 to 2026-11-30 (UTC)"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f := newFixture(t, &rowsSource{rows: 1})
			ev := stacktest.Sample[events.DynamoDBEvent](t, tt.file)
			var to []string
			if tt.wantMail != "" {
				to = []string{stacktest.Address("sample")}
			}
			j := f.newJob(t, "01KB0C9Q2X8V6M3N4P5R7S8T9W", to...)
			tt.prepare(f, j)
			resp, err := f.w.Handle(context.Background(), ev)
			if err != nil || len(resp.BatchItemFailures) != 0 {
				t.Fatalf("Handle = %+v, %v", resp, err)
			}
			got, err := f.w.Jobs.Job(context.Background(), "acme", export.ID(j.ID))
			if err != nil || got.Status != tt.wantStatus {
				t.Errorf("job %+v (%v), want %s", got, err, tt.wantStatus)
			}
			if tt.wantMail != "" {
				if mails := stacktest.EmailsTo(t, to[0]); len(mails) != 1 || mails[0].Subject != tt.wantMail {
					t.Errorf("mails %+v, want one: %s", mails, tt.wantMail)
				}
			}
		})
	}
}

// TestExportedEventRecordsFilters: REPORT_EXPORTED holds the job's log filters in
// data.filters, by parameter name, as REPORT_VIEWED does ("" included: the system's events).
func TestExportedEventRecordsFilters(t *testing.T) {
	f := newFixture(t, &rowsSource{rows: 2})
	source, user := "import", ""
	j := &export.Job{
		TenantID: "acme", ID: "01KB0C9Q2X8V6M3N4P5R7S8T9X", Report: "added", From: "2026-11-01T00:00:00.000Z", To: "2026-12-01T00:00:00.000Z",
		TZ: "UTC", Format: "csv", Filter: &httpapi.LogFilter{Source: &source, User: &user}, Status: "pending", CreatedAt: audit.FormatTime(now),
		CreatedBy: "u-1", CreatedByName: "Rina Admin", RequestID: "req-1", ExpiresAt: now.Add(export.JobTTL).Unix(),
	}
	if created, err := f.w.Jobs.CreateJob(context.Background(), j); err != nil || !created {
		t.Fatalf("create job: %v %v", created, err)
	}
	if err := f.w.Run(context.Background(), "acme", export.ID(j.ID)); err != nil {
		t.Fatal(err)
	}
	evs := f.exportedEvents(t)
	if len(evs) != 1 {
		t.Fatalf("%d REPORT_EXPORTED events, want 1", len(evs))
	}
	want := map[string]any{"from": j.From, "to": j.To, "tz": "UTC", "format": "csv", "source": "import", "user": ""}
	if diff := cmp.Diff(want, evs[0].Data["filters"]); diff != "" {
		t.Errorf("data.filters (-want +got):\n%s", diff)
	}
}
