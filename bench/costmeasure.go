package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/smithy-go/middleware"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/contrail/contrail/local/emulator"
	"github.com/contrail/contrail/local/template"
	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/auditlog"
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/mail"
	"github.com/contrail/contrail/shared/pii"
	"github.com/contrail/contrail/shared/report"
)

// ddbMeter counts what a DynamoDB client's calls consume. Every call asks for
// ReturnConsumedCapacity INDEXES, and what DynamoDB Local answers is counted, but for
// TransactWriteItems: DynamoDB Local reports those far off (8 units for a transaction of 25
// puts of 600 B items with four GSI entries each; 16 for one 1.5 KB put that PutItem counts
// 4), so a transaction's units are computed from its items as DynamoDB bills them: 2 WRU per
// KB of each item written (prepare and commit), plus 1 WRU per KB for each GSI entry the
// item writes (index writes are ordinary writes), 2 WRU for an update, delete or condition
// check (items of the contacts and keys tables are under 1 KB).
type ddbMeter struct {
	gsiKeys map[string][]string // table name -> the hash key attribute of each of its GSIs

	mu                 sync.Mutex
	wcu, rcu, tableWCU float64
	calls              int
}

// newDDBMeter knows the GSIs of template.yaml's tables, named as the bench names them.
func newDDBMeter(tpl *template.Template) *ddbMeter {
	m := &ddbMeter{gsiKeys: map[string][]string{}}
	for _, tb := range tpl.Tables() {
		in := tb.CreateTableInput(benchTable(tb.LogicalID))
		for _, g := range in.GlobalSecondaryIndexes {
			for _, k := range g.KeySchema {
				if k.KeyType == types.KeyTypeHash {
					m.gsiKeys[aws.ToString(in.TableName)] = append(m.gsiKeys[aws.ToString(in.TableName)], aws.ToString(k.AttributeName))
				}
			}
		}
	}
	return m
}

// kb is DynamoDB's write rounding: whole kilobytes, at least one.
func kb(bytes int) float64 { return math.Max(1, math.Ceil(float64(bytes)/1024)) }

// transaction is the write units of a TransactWriteItems, and those of the base tables.
func (m *ddbMeter) transaction(in *dynamodb.TransactWriteItemsInput) (total, table float64) {
	for _, it := range in.TransactItems {
		if it.Put == nil {
			total += 2
			table += 2
			continue
		}
		size := kb(ddbSize(it.Put.Item))
		total += 2 * size
		table += 2 * size
		for _, k := range m.gsiKeys[aws.ToString(it.Put.TableName)] {
			if _, ok := it.Put.Item[k]; ok {
				total += size
			}
		}
	}
	return total, table
}

func (m *ddbMeter) install(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("BenchCostMeter", m.handle), middleware.After)
	})
}

func (m *ddbMeter) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.wcu, m.rcu, m.tableWCU, m.calls = 0, 0, 0, 0
}

func (m *ddbMeter) handle(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	if f := reflect.ValueOf(in.Parameters).Elem().FieldByName("ReturnConsumedCapacity"); f.IsValid() && f.CanSet() {
		f.Set(reflect.ValueOf(types.ReturnConsumedCapacityIndexes))
	}
	out, md, err := next.HandleInitialize(ctx, in)
	op := awsmiddleware.GetOperationName(ctx)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if err != nil || out.Result == nil {
		return out, md, err
	}
	if tx, ok := in.Parameters.(*dynamodb.TransactWriteItemsInput); ok {
		total, table := m.transaction(tx)
		m.wcu += total
		m.tableWCU += table
		return out, md, err
	}
	read := op == "GetItem" || op == "BatchGetItem" || op == "Query" || op == "Scan" || op == "TransactGetItems"
	add := func(c *types.ConsumedCapacity) {
		units := aws.ToFloat64(c.CapacityUnits)
		if read {
			m.rcu += units
			return
		}
		m.wcu += units
		if c.Table != nil {
			m.tableWCU += aws.ToFloat64(c.Table.CapacityUnits)
		}
	}
	switch c := reflect.ValueOf(out.Result).Elem().FieldByName("ConsumedCapacity"); {
	case !c.IsValid():
	case c.Type() == reflect.TypeOf(&types.ConsumedCapacity{}):
		if !c.IsNil() {
			add(c.Interface().(*types.ConsumedCapacity))
		}
	case c.Type() == reflect.TypeOf([]types.ConsumedCapacity{}):
		for _, x := range c.Interface().([]types.ConsumedCapacity) {
			add(&x)
		}
	}
	return out, md, err
}

// cpuSeconds is this process's CPU time so far (user + system).
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// s3Counter counts the archive's S3 requests by price class (HEAD is a GET-class request).
type s3Counter struct {
	archive.S3API
	mu    sync.Mutex
	n     S3Requests
	parts float64 // PUTs of parts (events/…/part-*)
}

func (c *s3Counter) count(f *float64) {
	c.mu.Lock()
	*f++
	c.mu.Unlock()
}

func (c *s3Counter) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	c.count(&c.n.Put)
	if strings.Contains(aws.ToString(in.Key), "/part-") {
		c.count(&c.parts)
	}
	return c.S3API.PutObject(ctx, in, o...)
}

func (c *s3Counter) GetObject(ctx context.Context, in *s3.GetObjectInput, o ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	c.count(&c.n.Get)
	return c.S3API.GetObject(ctx, in, o...)
}

func (c *s3Counter) HeadObject(ctx context.Context, in *s3.HeadObjectInput, o ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	c.count(&c.n.Get)
	return c.S3API.HeadObject(ctx, in, o...)
}

func (c *s3Counter) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, o ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	c.count(&c.n.List)
	return c.S3API.ListObjectsV2(ctx, in, o...)
}

func (c *s3Counter) DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, o ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error) {
	c.count(&c.n.Delete)
	return c.S3API.DeleteObjects(ctx, in, o...)
}

func (c *s3Counter) take() S3Requests {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n, c.parts = S3Requests{}, 0
	return n
}

// fakeSES accepts every email: the mailer's DynamoDB work is measured, SES is priced per email.
type fakeSES struct{ n int }

func (f *fakeSES) SendEmail(context.Context, *sesv2.SendEmailInput, ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.n++
	return &sesv2.SendEmailOutput{MessageId: aws.String(fmt.Sprintf("bench-%d", f.n))}, nil
}

// costRig is what the measurements run on: the handler stack with a metered client beside
// the plain one, and the in-process S3 server.
type costRig struct {
	st    *handlerStack
	db    *dynamodb.Client // metered
	meter *ddbMeter
	ring  *pii.Keyring // over the metered client
	s3    *s3Counter
	bkt   string
	root  string
}

// measure runs fn once to warm up, then n times, and returns the per-run DynamoDB units,
// round trips and CPU time.
func (r *costRig) measure(name, function string, n int, fn func() error) (Action, error) {
	if err := fn(); err != nil {
		return Action{}, fmt.Errorf("%s: %w", name, err)
	}
	r.meter.reset()
	c0 := cpuSeconds()
	for range n {
		if err := fn(); err != nil {
			return Action{}, fmt.Errorf("%s: %w", name, err)
		}
	}
	cpu := cpuSeconds() - c0
	m := r.meter
	k := float64(n)
	return Action{Name: name, Function: function, WCU: m.wcu / k, RCU: m.rcu / k, Calls: float64(m.calls) / k, CPU: cpu / k}, nil
}

// handle calls a route's handler and wants status.
func handle(ctx context.Context, h func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error),
	ev events.APIGatewayV2HTTPRequest, status int) (string, error) {
	resp, err := h(ctx, ev)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != status {
		return "", fmt.Errorf("%s %s answered %d: %.300s", ev.RequestContext.HTTP.Method, ev.RawPath, resp.StatusCode, resp.Body)
	}
	return resp.Body, nil
}

// onContact points a sample request at contact id.
func onContact(ev events.APIGatewayV2HTTPRequest, id string) events.APIGatewayV2HTTPRequest {
	old := ev.PathParameters["id"]
	ev.PathParameters = map[string]string{"id": id}
	ev.RawPath = strings.Replace(ev.RawPath, old, id, 1)
	ev.RequestContext.HTTP.Path = ev.RawPath
	delete(ev.Headers, "idempotency-key")
	return ev
}

// measureCost measures every figure of the model on the stand-ins. events is how many
// generated events the archive part uses; runs how many times each request is timed.
func measureCost(ctx context.Context, o options, nEvents, runs int) (Figures, error) {
	var f Figures
	st, err := startHandlerStack(ctx, o.root)
	if err != nil {
		return f, err
	}
	defer st.Stop()
	meter := newDDBMeter(st.tpl)
	rig := &costRig{st: st, meter: meter, root: o.root}
	rig.db = dynamodb.New(st.db.Options(), meter.install)
	metered := *st
	metered.db = rig.db
	rig.ring = metered.keyring()
	srv := httptest.NewServer(emulator.NewS3(s3mem.New(), emulator.S3Options{}))
	defer srv.Close()
	s3c := s3.NewFromConfig(emulator.Config(srv.URL), func(o *s3.Options) { o.UsePathStyle = true })
	rig.bkt = "bench-archive"
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(rig.bkt)}); err != nil {
		return f, err
	}
	rig.s3 = &s3Counter{S3API: s3c}

	if err := rig.contactActions(ctx, &f, runs); err != nil {
		return f, err
	}
	if err := rig.auditActions(ctx, &f, o.seed, runs); err != nil {
		return f, err
	}
	if err := rig.archivePath(ctx, &f, o, nEvents, runs); err != nil {
		return f, err
	}
	return f, nil
}

func (r *costRig) auditStore() audit.StoreConfig {
	return audit.StoreConfig{Table: benchTable("AuditTable"), Shards: 4, Retention: audit.RetentionDays(400, 400, 400, 30)}
}

// contactActions measures a sealed create, a sealed comment and the mailer's email.
func (r *costRig) contactActions(ctx context.Context, f *Figures, runs int) error {
	cfg := contact.Config{ContactsTable: benchTable("ContactsTable"), Audit: r.auditStore()}
	svc := contact.NewWith(cfg, r.db, ident.SystemClock, ident.NewGenerator(ident.SystemClock))
	svc.Keyring = r.ring
	createEv, err := readEvent(r.root, "create-contact-manual.json")
	if err != nil {
		return err
	}
	delete(createEv.Headers, "idempotency-key")
	create := httpapi.Route(httpapi.ContactRoles, svc.Create)
	if f.Create, err = r.measure("create contact (sealed)", "CreateContactFunction", runs, func() error {
		_, err := handle(ctx, create, createEv, 201)
		return err
	}); err != nil {
		return err
	}
	body, err := handle(ctx, create, createEv, 201)
	if err != nil {
		return err
	}
	var made struct{ ID string }
	if err := json.Unmarshal([]byte(body), &made); err != nil {
		return err
	}
	// Three contact actions on that contact, each through its route: a comment, a message
	// (an email request) and a channel connected (a new channel id each time, as two
	// contacts cannot hold the same one).
	for _, x := range []struct {
		to      *Action
		name    string
		fn      string
		sample  string
		handler httpapi.Handler
		status  int
		body    func(i int) string
	}{
		{&f.Comment, "comment on a contact (sealed)", "CommentContactFunction", "comment-contact-ok.json", svc.AddComment, 201, nil},
		{&f.Message, "message a contact (sealed)", "MessageContactFunction", "message-contact-ok.json", svc.Message, 202, nil},
		{&f.Connect, "connect a channel (sealed)", "ConnectChannelFunction", "connect-channel-whatsapp.json", svc.Connect, 201,
			func(i int) string { return fmt.Sprintf(`{"channel":"whatsapp","externalId":"+62812%08d"}`, i) }},
	} {
		ev, err := readEvent(r.root, x.sample)
		if err != nil {
			return err
		}
		ev = onContact(ev, made.ID)
		h := httpapi.Route(httpapi.ContactRoles, x.handler)
		i := 0
		if *x.to, err = r.measure(x.name, x.fn, runs, func() error {
			if x.body != nil {
				ev.Body = x.body(i)
				i++
			}
			_, err := handle(ctx, h, ev, x.status)
			return err
		}); err != nil {
			return err
		}
	}

	// The mailer: invites make its requests; one stream batch of them, as Lambda delivers.
	inviteEv, err := readEvent(r.root, "invite-contact-ok.json")
	if err != nil {
		return err
	}
	inviteEv = onContact(inviteEv, made.ID)
	invite := httpapi.Route(httpapi.ContactRoles, svc.Invite)
	for range runs + 1 {
		if _, err := handle(ctx, invite, inviteEv, 202); err != nil {
			return err
		}
	}
	items, err := tenantItems(ctx, r.st.db, benchTable("AuditTable"), createEv.RequestContext.Authorizer.JWT.Claims["custom:tenant_id"])
	if err != nil {
		return err
	}
	var recs []map[string]any
	for _, it := range items {
		if t, ok := it["type"].(*types.AttributeValueMemberS); ok && t.Value == "CONTACT_INVITED" {
			recs = append(recs, map[string]any{"eventID": fmt.Sprint(len(recs)), "eventName": "INSERT", "eventSource": "aws:dynamodb",
				"dynamodb": map[string]any{"SequenceNumber": fmt.Sprintf("%021d", len(recs)), "NewImage": audit.ToStreamImage(it), "StreamViewType": "NEW_IMAGE"}})
		}
	}
	if len(recs) != runs+1 {
		return fmt.Errorf("mailer: %d invites stored, want %d", len(recs), runs+1)
	}
	batch := func(recs []map[string]any) (events.DynamoDBEvent, error) {
		var ev events.DynamoDBEvent
		b, err := json.Marshal(map[string]any{"Records": recs})
		if err == nil {
			err = json.Unmarshal(b, &ev)
		}
		return ev, err
	}
	ses := &fakeSES{}
	mcfg := mail.Config{Identity: mail.Identity{From: "no-reply@contrail.example.com"}, ContactsTable: cfg.ContactsTable, Audit: cfg.Audit,
		Keys: pii.Config{Table: benchTable("KeysTable"), KMSKey: r.st.kms.KeyARN()}}
	m := mail.New(mcfg, r.db, ses)
	m.Keyring = r.ring
	i := 0
	if f.Mail, err = r.measure("mailer, per email", "MailerFunction", runs, func() error {
		ev, err := batch(recs[i : i+1])
		i++
		if err != nil {
			return err
		}
		resp, err := m.Handle(ctx, ev)
		if err == nil && len(resp.BatchItemFailures) > 0 {
			err = fmt.Errorf("mailer failed %d records", len(resp.BatchItemFailures))
		}
		return err
	}); err != nil {
		return err
	}
	if ses.n != runs+1 {
		return fmt.Errorf("mailer sent %d emails, want %d", ses.n, runs+1)
	}
	return nil
}

// auditActions measures an ingest of 100 platform events and a filtered audit log page.
func (r *costRig) auditActions(ctx context.Context, f *Figures, seed uint64, runs int) error {
	cfg := auditlog.Config{Audit: r.auditStore(), ContactsTable: benchTable("ContactsTable"), CursorSecret: "bench-secret-0123456789abcdef0123456789abcdef",
		Keys: pii.Config{Table: benchTable("KeysTable"), KMSKey: r.st.kms.KeyARN()}}
	svc := auditlog.New(cfg, r.db, ident.SystemClock)
	svc.Keyring = r.ring
	ev, err := readEvent(r.root, "ingest-audit-events-batch.json")
	if err != nil {
		return err
	}
	delete(ev.Headers, "idempotency-key")
	ev.RequestContext.Authorizer.JWT.Claims["custom:tenant_id"] = busyTenant
	if ev.Body, err = platformBatch(seed, 100, time.Now().UTC()); err != nil {
		return err
	}
	ingest := httpapi.Route(httpapi.IngestRoles, svc.Ingest)
	if f.Ingest100, err = r.measure("ingest 100 platform events", "IngestAuditEventsFunction", max(runs/4, 3), func() error {
		_, err := handle(ctx, ingest, ev, 202)
		return err
	}); err != nil {
		return err
	}
	f.EventTableWCU = r.meter.tableWCU / float64(max(runs/4, 3)) / 100

	q, err := readEvent(r.root, "query-audit-events-by-type.json")
	if err != nil {
		return err
	}
	q.RequestContext.Authorizer.JWT.Claims["custom:tenant_id"] = busyTenant
	day := time.Now().UTC().Format(time.DateOnly)
	next := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	q.QueryStringParameters = map[string]string{"type": "STATUS_CHANGE", "from": day, "to": next, "limit": "50"}
	q.RawQueryString = "type=STATUS_CHANGE&from=" + day + "&to=" + next + "&limit=50"
	page := httpapi.Route(httpapi.AdminRoles, svc.Query)
	f.LogPage, err = r.measure("audit log page of 50, by type", "QueryAuditEventsFunction", runs, func() error {
		_, err := handle(ctx, page, q, 200)
		return err
	})
	return err
}

// storedBytes adds up the sizes of the objects under prefix.
func storedBytes(ctx context.Context, st archive.Store, prefix string) (int64, error) {
	objs, err := st.List(ctx, prefix)
	var n int64
	for _, o := range objs {
		n += o.Size
	}
	return n, err
}

// archivePath archives generated events through the archiver in stream batches, compacts
// them and reads an overview: against the counted S3 stand-in for requests and bytes, then
// the same over a folder for the CPU time (the in-process S3 server's own CPU apart).
func (r *costRig) archivePath(ctx context.Context, f *Figures, o options, n, runs int) error {
	recs, err := batchRecords(o.scale, o.seed, n)
	if err != nil {
		return err
	}
	const batch = 1000 // the archiver's BatchSize in template.yaml
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	archiveAll := func(st archive.Store, size int) (batches int, err error) {
		a := &archive.Archiver{Store: st, Log: quiet}
		for lo := 0; lo < len(recs); lo += size {
			b, err := archive.DecodeStreamBatch(batchJSON(recs[lo:min(lo+size, len(recs))]))
			if err != nil {
				return batches, err
			}
			resp, err := a.Handle(ctx, b)
			if err != nil {
				return batches, err
			}
			if len(resp.BatchItemFailures) > 0 {
				return batches, fmt.Errorf("archiver failed %d records", len(resp.BatchItemFailures))
			}
			batches++
		}
		return batches, nil
	}
	s3store := &archive.S3Store{Client: r.s3, Bucket: r.bkt}
	if _, err := archiveAll(s3store, batch); err != nil {
		return err
	}
	parts := r.s3.parts
	put := r.s3.take()
	f.PartRequests = put.Put / parts
	comp := &archive.Compactor{Store: s3store, Log: quiet, Clock: time.Now}
	res, err := comp.Run(ctx)
	if err != nil {
		return err
	}
	if res.Compacted == 0 || res.Failed > 0 {
		return fmt.Errorf("compactor: %+v", res)
	}
	c := r.s3.take()
	days := float64(res.Compacted)
	f.CompactRequests = S3Requests{Put: c.Put / days, Get: c.Get / days, List: c.List / days, Delete: c.Delete / days}

	// The CPU side, over a folder.
	dir, err := os.MkdirTemp("", "contrail-bench-cost-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ds := &archive.DirStore{Dir: filepath.Join(dir, "big")}
	c0 := cpuSeconds()
	if _, err := archiveAll(ds, batch); err != nil {
		return err
	}
	big := cpuSeconds() - c0
	partBytes, err := storedBytes(ctx, ds, archive.EventsPrefix)
	if err != nil {
		return err
	}
	f.PartBytesEvent = float64(partBytes) / float64(len(recs))
	one := min(len(recs), 200)
	small := &archive.DirStore{Dir: filepath.Join(dir, "small")}
	saved := recs
	recs = recs[:one]
	c0 = cpuSeconds()
	if _, err := archiveAll(small, 1); err != nil {
		return err
	}
	perSingle := (cpuSeconds() - c0) / float64(one)
	recs = saved
	f.ArchivePartCPU = perSingle
	f.ArchiveCPU = max(0, (big-perSingle*parts)/float64(len(recs)))
	c0 = cpuSeconds()
	if _, err := (&archive.Compactor{Store: ds, Log: quiet, Clock: time.Now}).Run(ctx); err != nil {
		return err
	}
	f.CompactCPU = (cpuSeconds() - c0) / float64(len(recs))
	compacted, err := storedBytes(ctx, ds, archive.EventsPrefix)
	if err != nil {
		return err
	}
	rollups, err := storedBytes(ctx, ds, archive.RollupsPrefix)
	if err != nil {
		return err
	}
	kept := compacted + rollups
	f.RollupBytesEvent = float64(rollups) / float64(len(recs))
	f.StoredBytesEvent = float64(kept) / float64(len(recs))
	duck, err := openDuck(1)
	if err != nil {
		return err
	}
	defer duck.Close()
	var scanned float64
	if err := duck.QueryRow(`SELECT sum(total_compressed_size) FROM parquet_metadata(` + sqlString(filepath.Join(ds.Dir, "events", "*", "*", "*.parquet")) + `)
		WHERE path_in_schema IN ('event_id', 'occurred_at', 'type', 'source', 'channel', 'actor_id', 'actor_name')`).Scan(&scanned); err != nil {
		return fmt.Errorf("athena estimate: %w", err)
	}
	f.AthenaBytesEvent = scanned / float64(len(recs))

	// A month's overview of the busiest tenant, through its handler, over the counted S3.
	ov, err := readEvent(r.root, "contact-overview-jakarta-month.json")
	if err != nil {
		return err
	}
	ov.RequestContext.Authorizer.JWT.Claims["custom:tenant_id"] = busyTenant
	a := r.auditStore()
	overview := func(st archive.Store) func() error {
		svc := &report.Service{Engine: report.NewArchiveEngine(st, r.db, a), DB: r.db, AuditTable: a.Table, Keys: a.Keys(),
			Retention: a.Retention, Cursors: httpapi.NewCursors("bench-secret-0123456789abcdef0123456789abcdef"), IDs: ident.NewGenerator(ident.SystemClock)}
		h := httpapi.Route(httpapi.AdminRoles, svc.Overview)
		return func() error { _, err := handle(ctx, h, ov, 200); return err }
	}
	if f.Report, err = r.measure("contact overview, a month", "ContactOverviewFunction", runs, overview(ds)); err != nil {
		return err
	}
	r.s3.take()
	if err := overview(s3store)(); err != nil {
		return err
	}
	f.ReportRequests = r.s3.take()
	return nil
}
