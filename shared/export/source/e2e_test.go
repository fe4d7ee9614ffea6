package source_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/local/streams"
	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/export"
	"github.com/contrail/contrail/shared/export/files"
	"github.com/contrail/contrail/shared/export/source"
	"github.com/contrail/contrail/shared/export/worker"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/idempotency"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/mail"
	"github.com/contrail/contrail/shared/report"
	"github.com/contrail/contrail/shared/s3bucket"
	"github.com/contrail/contrail/shared/tenant"
)

func TestMain(m *testing.M) { stacktest.Main(m) }

// The stack of one test: the API service, the worker run by the local stream poller from
// template.yaml's mapping, the runner, all on DynamoDB Local, gofakes3 and the SES emulator.
type stack struct {
	svc    *export.Service
	runner *export.Runner
	worker *worker.Worker
	engine *report.Engine
	src    *source.Reports
	s3     *s3.Client
	bucket string
	clock  *stacktest.Clock
	calls  atomic.Int64 // worker invocations by the stream poller
}

// invoker runs the worker in process, as the local runtime would run its binary, and
// counts the invocations.
type invoker struct {
	w     *worker.Worker
	calls *atomic.Int64
}

func (iv invoker) Invoke(ctx context.Context, function string, payload []byte) ([]byte, error) {
	defer iv.calls.Add(1)
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	resp, err := iv.w.Handle(ctx, ev)
	if err != nil {
		return nil, err
	}
	return json.Marshal(resp)
}

func newStack(t *testing.T, withPoller bool) *stack {
	t.Helper()
	db, s3c := stacktest.DynamoDB(t), stacktest.S3(t)
	tables, bucket := stacktest.Tables(t), stacktest.Bucket(t)
	st := &stack{s3: s3c, bucket: bucket, clock: stacktest.NewClock(time.Date(2026, 11, 30, 1, 20, 0, 0, time.UTC))}
	store := &archive.S3Store{Client: s3c, Bucket: bucket}
	st.engine = report.NewEngine(store, st.clock.Now)
	st.src = &source.Reports{Engine: st.engine, Archive: &archive.Reader{Store: store}}
	st.worker = worker.New(worker.Config{
		JobsTable: tables["JobsTable"], Exports: s3bucket.Config{Name: bucket},
		Audit: audit.StoreConfig{Table: tables["AuditTable"], Shards: 2, Retention: audit.RetentionDays(400, 400, 400, 30)},
		Mail:  mail.Identity{From: "exports@contrail.example.com"}, Timeout: time.Minute,
	}, db, s3c, stacktest.SES(t), st.src)
	st.worker.Clock, st.worker.IDs = st.clock.Now, ident.NewGenerator(st.clock.Now)
	jobs := &export.Store{DB: db, Table: tables["JobsTable"]}
	st.svc = &export.Service{
		Store: jobs, Idem: &idempotency.Store{DB: db, Table: tables["ContactsTable"], Clock: st.clock.Now},
		Links: files.NewPresigner(s3c, bucket, export.LinkTTL), Cursors: httpapi.NewCursors("k"),
		IDs: ident.NewGenerator(st.clock.Now), Clock: st.clock.Now,
		AuditTable: tables["AuditTable"], Keys: audit.Keys{Shards: 2}, Retention: audit.RetentionDays(400, 400, 400, 30),
	}
	st.runner = &export.Runner{Store: jobs, Clock: st.clock.Now}
	writeArchive(t, s3c, bucket)

	if withPoller {
		all, err := streams.MappingsFromTemplate(stacktest.Template(t), tables)
		if err != nil {
			t.Fatal(err)
		}
		var ms []streams.Mapping
		for _, m := range all {
			if m.Function == "ExportWorkerFunction" {
				ms = append(ms, m)
			}
		}
		if len(ms) != 1 {
			t.Fatalf("template.yaml maps %d streams to ExportWorkerFunction, want 1", len(ms))
		}
		p, err := streams.New(streams.Config{Mappings: ms, Streams: stacktest.DynamoDBStreams(t), Tables: db,
			Invoker: invoker{st.worker, &st.calls}, PollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { p.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		select {
		case <-p.Ready():
		case <-time.After(30 * time.Second):
			t.Fatal("stream poller not ready")
		}
	}
	return st
}

// The archive: acme's events on 2 and 3 November 2026 (one archived twice, one near
// midnight in Jakarta), and another tenant's event that no export of acme may show.
var (
	rina = audit.Actor{Type: audit.ActorUser, ID: "u-1", Name: "Rina Admin"}
	adi  = audit.Actor{Type: audit.ActorUser, ID: "u-2", Name: "Adi"}
)

func ev(id, at, typ string, actor audit.Actor, contactID, name, source, channel string, data map[string]any) audit.Event {
	if data == nil {
		data = map[string]any{}
	}
	return audit.Event{ID: id, TenantID: "acme", OccurredAt: at, RecordedAt: at, Type: typ, Category: audit.CategoryOf(typ),
		Actor: actor, Contact: &audit.ContactRef{ID: contactID, Name: name}, Source: source, Channel: channel, Data: data}
}

var archived = []audit.Event{
	ev("01KA0000000000000000000001", "2026-11-02T09:00:00.000Z", "CONTACT_ADDED", rina, "c-1", "Budi", "manual", "", map[string]any{"email": "budi@example.com"}),
	ev("01KA0000000000000000000002", "2026-11-02T16:59:59.999Z", "CONTACT_ADDED", adi, "c-2", "=HYPERLINK(\"x\")", "import", "", nil),
	ev("01KA0000000000000000000003", "2026-11-02T17:00:00.000Z", "CONTACT_ADDED", adi, "c-3", "Siti, \"S\"", "incoming_message", "whatsapp", nil),
	ev("01KA0000000000000000000004", "2026-11-03T08:00:00.000Z", "CONTACT_CONNECTED", rina, "c-1", "Budi", "incoming_message", "telegram", map[string]any{"externalId": "tg-1"}),
	ev("01KA0000000000000000000005", "2026-11-03T09:00:00.000Z", "CONTACT_DELETED", rina, "c-2", "=HYPERLINK(\"x\")", "user", "", nil),
	ev("01KA0000000000000000000006", "2026-11-03T10:00:00.000Z", "CONTACT_MERGED", rina, "c-1", "Budi", "user", "",
		map[string]any{"primaryContactId": "c-1", "mergedContactIds": []any{"c-3"}}),
	ev("01KA0000000000000000000007", "2026-11-03T11:00:00.000Z", "CONTACT_ADDED", rina, "c-4", "Dewi", "api", "", nil),
}

func writeArchive(t *testing.T, client *s3.Client, bucket string) {
	t.Helper()
	other := ev("01KA0000000000000000000008", "2026-11-03T12:00:00.000Z", "CONTACT_ADDED", rina, "g-1", "Globex contact", "manual", "", nil)
	other.TenantID = "globex"
	parts := map[string][]audit.Event{ // key: tenant/date/part
		"acme/2026-11-02/a":   archived[0:3],
		"acme/2026-11-03/a":   archived[3:6],
		"acme/2026-11-03/b":   archived[5:7], // the merge arrives twice (at-least-once delivery)
		"globex/2026-11-03/a": {other},
	}
	for name, evs := range parts {
		rows, err := archive.FromEvents(evs)
		if err != nil {
			t.Fatal(err)
		}
		tenant, date := tenant.ID(name[:len(name)-13]), name[len(name)-12:len(name)-2]
		key, b, err := archive.EncodePart(tenant, date, rows)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(b)}); err != nil {
			t.Fatal(err)
		}
	}
}

func request(route, body string, params map[string]string) events.APIGatewayV2HTTPRequest {
	return stacktest.Request{
		Route: route, Params: params, Body: body, RequestID: "req-e2e",
		As: stacktest.Caller{Tenant: "acme", Sub: "u-1", Name: "Rina Admin", Groups: "[admin]"},
	}.Event()
}

// putDailyAdded creates the schedule daily-added (the added log, daily, CSV, mailed to to)
// and returns it as the API answered.
func (st *stack) putDailyAdded(t *testing.T, to string) map[string]any {
	t.Helper()
	status, sc := st.call(t, st.svc.PutSchedule, request("PUT /v1/export-schedules/{name}",
		`{"report":"added","frequency":"daily","format":"csv","recipients":["`+to+`"]}`, map[string]string{"name": "daily-added"}))
	if status != http.StatusOK {
		t.Fatalf("PUT: %d %v", status, sc)
	}
	return sc
}

func (st *stack) call(t *testing.T, h httpapi.Handler, req events.APIGatewayV2HTTPRequest) (int, map[string]any) {
	t.Helper()
	resp, err := httpapi.Route(httpapi.AdminRoles, h)(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if resp.Body != "" {
		if err := json.Unmarshal([]byte(resp.Body), &m); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, m
}

// waitDone polls GET /v1/exports/{id} until the job is done (or failed) and returns it.
func (st *stack) waitDone(t *testing.T, id string, mailed bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, got := st.call(t, st.svc.Get, request("GET /v1/exports/{id}", "", map[string]string{"id": id}))
		j, err := st.svc.Store.Job(context.Background(), "acme", export.ID(id))
		if err != nil {
			t.Fatal(err)
		}
		if got["status"] == "failed" || (got["status"] == "done" && (!mailed || j.MailStatus == export.MailSent)) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("export %s not done after 60 s: %v", id, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var linkRE = regexp.MustCompile(`https?://\S+`)

// exportDone posts an export and waits until it is done (and mailed when asked): GET must
// answer want with the job's id, status done, its link and its creation time. It returns
// the id and the link.
func (st *stack) exportDone(t *testing.T, body string, mailed bool, want map[string]any) (id, url string) {
	t.Helper()
	status, created := st.call(t, st.svc.Create, request("POST /v1/exports", body, nil))
	if status != http.StatusAccepted {
		t.Fatalf("POST: %d %v", status, created)
	}
	id = created["id"].(string)
	got := st.waitDone(t, id, mailed)
	url, _ = got["url"].(string)
	want["id"], want["status"], want["url"], want["createdAt"] = id, "done", url, "2026-11-30T01:20:00.000Z"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("GET (-want +got):\n%s", diff)
	}
	return id, url
}

// TestExportEndToEnd: POST /v1/exports, the job's INSERT reaches the worker through the
// stream mapping of template.yaml, the file lands in S3, GET /v1/exports/{id} links it, and
// the link is mailed once.
func TestExportEndToEnd(t *testing.T) {
	st := newStack(t, true)
	to := stacktest.Address("e2e")
	_, url := st.exportDone(t, `{"report":"added","from":"2026-11-01","to":"2026-11-04","tz":"Asia/Jakarta","format":"csv","email":"`+to+`"}`, true,
		map[string]any{"rows": 4.0, "report": "added", "format": "csv", "from": "2026-10-31T17:00:00.000Z", "to": "2026-11-03T17:00:00.000Z", "tz": "Asia/Jakarta"})

	// The file is the report engine's CSV of the same log and period, and that CSV is what a
	// straightforward reading of the archived events gives (newest first, each event once,
	// formula cells neutralised, times in UTC).
	var engineCSV bytes.Buffer
	p, _ := httpapi.ParsePeriod("2026-11-01", "2026-11-04", "Asia/Jakarta", st.clock.Now(), 366)
	if _, err := st.engine.WriteCSV(context.Background(), &engineCSV, "acme", report.Added, p, report.Filter{}); err != nil {
		t.Fatal(err)
	}
	wantCSV := "\ufeffCreated At,Contact ID,Contact Name,Source,User\r\n" +
		"2026-11-03T11:00:00.000Z,c-4,Dewi,api,Rina Admin\r\n" +
		"2026-11-02T17:00:00.000Z,c-3,\"Siti, \"\"S\"\"\",incoming_message,Adi\r\n" +
		"2026-11-02T16:59:59.999Z,c-2,\"'=HYPERLINK(\"\"x\"\")\",import,Adi\r\n" +
		"2026-11-02T09:00:00.000Z,c-1,Budi,manual,Rina Admin\r\n"
	file := stacktest.Download(t, url)
	if diff := cmp.Diff(wantCSV, engineCSV.String()); diff != "" {
		t.Errorf("engine CSV (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(engineCSV.String(), string(file)); diff != "" {
		t.Errorf("exported file vs the engine's CSV (-want +got):\n%s", diff)
	}

	mails := stacktest.EmailsTo(t, to)
	if len(mails) != 1 {
		t.Fatalf("%d mails, want 1", len(mails))
	}
	if mailed := stacktest.Download(t, linkRE.FindString(mails[0].Text)); !bytes.Equal(mailed, file) {
		t.Errorf("the mailed link downloads %q, want the file", mailed)
	}
	if want := "Your export is ready: Contact added log, 2026-11-01 to 2026-11-03 (Asia/Jakarta)"; mails[0].Subject != want {
		t.Errorf("subject %q, want %q", mails[0].Subject, want)
	}
}

// TestOCSFExportEndToEnd: the audit report in format ocsf goes through the worker like any
// export: its file is the source's OCSF of the period, gzip, stored as application/gzip under
// its download name, one OCSF event a line.
func TestOCSFExportEndToEnd(t *testing.T) {
	st := newStack(t, true)
	id, url := st.exportDone(t, `{"report":"audit","from":"2026-11-02","to":"2026-11-04","tz":"UTC","format":"ocsf"}`, false,
		map[string]any{"rows": 7.0, "report": "audit", "format": "ocsf", "from": "2026-11-02T00:00:00.000Z", "to": "2026-11-04T00:00:00.000Z", "tz": "UTC"})
	var direct bytes.Buffer
	if _, err := st.src.Export(context.Background(), &direct, job(export.ReportAudit, export.FormatOCSF)); err != nil {
		t.Fatal(err)
	}
	file := stacktest.Download(t, url)
	text := gunzip(t, file)
	if diff := cmp.Diff(gunzip(t, direct.Bytes()), text); diff != "" {
		t.Errorf("exported file vs the source's OCSF (-want +got):\n%s", diff)
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	classes := map[float64]int{}
	for _, l := range lines {
		var e map[string]any
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		classes[e["class_uid"].(float64)]++
	}
	if d := cmp.Diff(map[float64]int{3004: 7}, classes); len(lines) != 7 || d != "" {
		t.Errorf("%d lines; classes (-want +got):\n%s", len(lines), d)
	}
	head, err := st.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &st.bucket, Key: aws.String(export.ObjectKey("acme", export.ID(id), export.FormatOCSF))})
	if err != nil {
		t.Fatal(err)
	}
	if ct, cd := aws.ToString(head.ContentType), aws.ToString(head.ContentDisposition); ct != "application/gzip" || cd != `attachment; filename="audit-events-2026-11-02-2026-11-04.ocsf.jsonl.gz"` {
		t.Errorf("stored as %q, %q", ct, cd)
	}
}

// TestScheduledExportOncePerPeriod: the runner runs late, then again, for the same day:
// one job, one file, one email.
func TestScheduledExportOncePerPeriod(t *testing.T) {
	st := newStack(t, true)
	to := stacktest.Address("sched")
	st.clock.Set(time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC))
	if sc := st.putDailyAdded(t, to); sc["nextRunAt"] != "2026-11-04T00:00:00.000Z" {
		t.Fatalf("PUT: %v", sc)
	}
	id := export.ScheduledJobID("acme", "daily-added", time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC))
	runs := []struct {
		at   time.Time
		want export.Result
	}{
		{time.Date(2026, 11, 4, 9, 0, 0, 0, time.UTC), export.Result{Due: 1, Created: 1}}, // nine hours late
		{time.Date(2026, 11, 4, 9, 15, 0, 0, time.UTC), export.Result{}},                  // and again
	}
	for _, r := range runs {
		st.clock.Set(r.at)
		got, err := st.runner.Run(context.Background())
		if err != nil || got != r.want {
			t.Errorf("Run at %s = %+v, %v; want %+v", r.at, got, err, r.want)
		}
	}
	got := st.waitDone(t, id, true)
	if got["rows"] != 1.0 || got["schedule"] != "daily-added" {
		t.Errorf("scheduled export: %v, want 1 row (the one added on 3 November UTC) of schedule daily-added", got)
	}
	// A duplicate INSERT delivery (the stream is at least once) changes nothing either.
	if err := st.worker.Run(context.Background(), "acme", export.ID(id)); err != nil {
		t.Fatal(err)
	}
	objs, err := st.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(st.bucket), Prefix: aws.String("exports/")})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range objs.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	if diff := cmp.Diff([]string{"exports/acme/" + id + ".csv"}, keys); diff != "" {
		t.Errorf("export files (-want +got):\n%s", diff)
	}
	if mails := stacktest.EmailsTo(t, to); len(mails) != 1 {
		t.Errorf("%d mails, want 1", len(mails))
	}
}

// TestAbandonedScheduledExportMailed: a schedule's job whose worker died is failed by the
// runner, and that change reaches the worker through template.yaml's stream filters, which
// mails the recipients once what failed and what to do.
func TestAbandonedScheduledExportMailed(t *testing.T) {
	st := newStack(t, true)
	to := stacktest.Address("abandoned")
	started := st.clock.Now()
	j := &export.Job{
		TenantID: "acme", ID: export.ScheduledJobID("acme", "daily-added", time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)),
		Report: "added", Format: "csv", From: "2026-11-29T00:00:00.000Z", To: "2026-11-30T00:00:00.000Z", TZ: "UTC",
		Recipients: []string{to}, Schedule: "daily-added", CreatedAt: audit.FormatTime(started), ExpiresAt: started.Add(export.JobTTL).Unix(),
		// Claimed by a worker that then died: running, its lease ending in two minutes.
		Status: "running", Attempt: 1, StartedAt: audit.FormatTime(started), DueKey: "OPEN", Deadline: audit.FormatTime(started.Add(2 * time.Minute)),
	}
	if created, err := st.svc.Store.CreateJob(context.Background(), j); err != nil || !created {
		t.Fatalf("create job: %v %v", created, err)
	}
	// The INSERT reaches the worker, which leaves a job with a live lease alone.
	for deadline := time.Now().Add(30 * time.Second); st.calls.Load() == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the job's INSERT did not reach the worker in 30 s")
		}
	}
	st.clock.Set(started.Add(3 * time.Minute))
	if got, err := st.runner.Run(context.Background()); err != nil || got != (export.Result{Abandoned: 1}) {
		t.Fatalf("runner: %+v, %v; want 1 job abandoned", got, err)
	}
	got := st.waitDone(t, j.ID, false)
	reason := "The export stopped before it finished; create it again (a shorter period finishes sooner)."
	if got["status"] != "failed" || got["error"] != reason {
		t.Fatalf("GET: %v, want failed: %s", got, reason)
	}
	var mails []stacktest.Email
	for deadline := time.Now().Add(30 * time.Second); len(mails) == 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no failure mail 30 s after the job was failed")
		}
		mails = stacktest.EmailsTo(t, to)
	}
	wantText := "The scheduled export \"daily-added\" failed.\n\nReport: Contact added log\nPeriod: 2026-11-29 (UTC)\nFormat: CSV\nExport id: " + j.ID + "\n\n" + reason + "\n"
	if diff := cmp.Diff(stacktest.Email{From: "exports@contrail.example.com", To: []string{to},
		Subject: "Your export failed: Contact added log, 2026-11-29 (UTC)", Text: wantText, HTML: mails[0].HTML, MessageID: mails[0].MessageID}, mails[0]); diff != "" {
		t.Errorf("mail (-want +got):\n%s", diff)
	}
	// The mail's own job updates and a redelivery send nothing more.
	time.Sleep(time.Second)
	if err := st.worker.Run(context.Background(), "acme", export.ID(j.ID)); err != nil {
		t.Fatal(err)
	}
	if n := len(stacktest.EmailsTo(t, to)); n != 1 {
		t.Errorf("%d mails, want 1", n)
	}
}

// TestRunScheduleNowEndToEnd: POST /v1/export-schedules/{name}/run makes the job of the
// last full day, the worker gets it from the jobs stream through template.yaml's mapping,
// exports and mails it once, and REPORT_EXPORTED names the admin who ran it and the
// recipients; the schedule's own next run is untouched.
func TestRunScheduleNowEndToEnd(t *testing.T) {
	st := newStack(t, true)
	to := stacktest.Address("runnow")
	st.clock.Set(time.Date(2026, 11, 4, 10, 0, 0, 0, time.UTC))
	st.putDailyAdded(t, to)
	status, job := st.call(t, st.svc.RunSchedule, request("POST /v1/export-schedules/{name}/run", "",
		map[string]string{"name": "daily-added"}))
	if status != http.StatusAccepted {
		t.Fatalf("run: %d %v", status, job)
	}
	id := job["id"].(string)
	got := st.waitDone(t, id, true)
	url, _ := got["url"].(string)
	want := map[string]any{"id": id, "status": "done", "rows": 1.0, "url": url, "report": "added", "format": "csv", "schedule": "daily-added",
		"from": "2026-11-03T00:00:00.000Z", "to": "2026-11-04T00:00:00.000Z", "tz": "UTC", "createdAt": "2026-11-04T10:00:00.000Z"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GET (-want +got):\n%s", diff)
	}
	if mails := stacktest.EmailsTo(t, to); len(mails) != 1 || mails[0].Subject != "Your export is ready: Contact added log, 2026-11-03 (UTC)" {
		t.Errorf("mails to the recipient: %+v; want one link mail for 3 November", mails)
	}

	r := &audit.Reader{DB: st.svc.Store.DB, Table: st.svc.AuditTable, Keys: st.svc.Keys}
	evs, _, err := r.Log(context.Background(), "acme", audit.Filter{Types: []string{"REPORT_EXPORTED"},
		From: time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)}, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 {
		t.Fatalf("%d REPORT_EXPORTED events, want 1", len(evs))
	}
	wantEv := audit.Event{ID: evs[0].ID, TenantID: "acme", OccurredAt: "2026-11-04T10:00:00.000Z", RecordedAt: "2026-11-04T10:00:00.000Z",
		Type: "REPORT_EXPORTED", Category: "access", Actor: rina, Source: "user",
		Data: map[string]any{"report": "added", "exportId": id, "rows": 1.0, "recipients": []any{to},
			"filters": map[string]any{"from": "2026-11-03T00:00:00.000Z", "to": "2026-11-04T00:00:00.000Z", "tz": "UTC", "format": "csv", "schedule": "daily-added"}},
		Context: &audit.Context{RequestID: "req-e2e"}}
	if diff := cmp.Diff(wantEv, evs[0]); diff != "" {
		t.Errorf("REPORT_EXPORTED (-want +got):\n%s", diff)
	}
	after, err := st.svc.Store.Schedule(context.Background(), "acme", "daily-added")
	if err != nil || after.NextRunAt != "2026-11-05T00:00:00.000Z" {
		t.Errorf("schedule after run now: %+v, %v; want nextRunAt still 2026-11-05T00:00:00.000Z", after, err)
	}
}

var _ worker.Source = (*source.Reports)(nil)
