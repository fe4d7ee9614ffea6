package replay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/contrail/contrail/local/queues"
	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/local/streams"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/mail"
	"github.com/contrail/contrail/shared/mail/replay"
	"github.com/contrail/contrail/shared/onfailure"
)

func TestMain(m *testing.M) { stacktest.Main(m) }

var now = time.Date(2026, 11, 30, 1, 1, 0, 0, time.UTC)

// fixture is one invitation written through the contact service to the stand-ins, the
// MailerFailureQueue message naming its stream range, and a replay whose log is kept.
type fixture struct {
	db      *dynamodb.Client
	tables  map[string]string
	to      string
	request audit.Event // the CONTACT_INVITED event, opened
	info    onfailure.BatchInfo
	msg     events.SQSMessage
	rp      *replay.Replayer
	logs    *bytes.Buffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: stacktest.DynamoDB(t), tables: stacktest.Tables(t), to: stacktest.Address("replayed"), logs: &bytes.Buffer{}}
	store := stacktest.AuditStore(f.tables)
	svc := stacktest.Contacts(t, f.db, f.tables, func() time.Time { return now.Add(-time.Minute) })
	caller := contact.Caller{TenantID: "acme", UserID: "u-agent", Name: "Ayu Agent"}
	c, err := svc.Add(ctx, caller, contact.CreateInput{Name: "Hana", Source: audit.SourceManual})
	if err != nil {
		t.Fatal(err)
	}
	out := stacktest.Call(t, httpapi.Route(httpapi.ContactRoles, svc.Invite), stacktest.Request{
		Route: "POST /v1/contacts/{id}/invite", Params: map[string]string{"id": string(c.ID)}, Body: `{"email":"` + f.to + `"}`,
		Headers: map[string]string{"content-type": "application/json"},
		As:      stacktest.Caller{Tenant: "acme", Sub: "u-agent", Name: "Ayu Agent", Groups: "[agent]"},
	})
	if out.StatusCode != 202 {
		t.Fatalf("invite: %d %s", out.StatusCode, out.Body)
	}
	reqs := stacktest.AuditEvents(t, f.db, f.tables["AuditTable"], "CONTACT_INVITED")
	if err := svc.Keyring.NewCache().Open(ctx, reqs); err != nil {
		t.Fatal(err)
	}
	f.request = reqs[0]

	// The batch the mailer gave up on: the stream's records so far (CONTACT_ADDED, CONTACT_INVITED).
	st := stacktest.DynamoDBStreams(t)
	arn, shards, err := streams.ReadAll(ctx, f.db, st, f.tables["AuditTable"])
	if err != nil {
		t.Fatal(err)
	}
	if len(shards) != 1 || len(shards[0].Records) != 2 {
		t.Fatalf("stream shards %+v, want one of 2 records", shards)
	}
	recs := shards[0].Records
	f.info = onfailure.BatchInfo{ShardID: shards[0].ShardID, StreamArn: arn, BatchSize: 2,
		StartSequenceNumber: aws.ToString(recs[0].Dynamodb.SequenceNumber), EndSequenceNumber: aws.ToString(recs[1].Dynamodb.SequenceNumber)}
	body, err := json.Marshal(onfailure.Record{Version: "1.0", DDBStreamBatchInfo: &f.info,
		RequestContext: onfailure.RequestContext{Condition: "RetryAttemptsExhausted", ApproximateInvokeCount: 11}})
	if err != nil {
		t.Fatal(err)
	}
	f.msg = events.SQSMessage{MessageId: "m-1", Body: string(body), Attributes: map[string]string{"ApproximateReceiveCount": "1"}}

	m := mail.New(mail.Config{Identity: mail.Identity{From: "no-reply@contrail.example.com"}, ContactsTable: f.tables["ContactsTable"], Audit: store},
		f.db, stacktest.SES(t))
	m.Clock = func() time.Time { return now }
	m.Keyring = svc.Keyring
	m.Sleep = func(context.Context, time.Duration) error { return nil }
	f.rp = &replay.Replayer{Streams: st, Mailer: m, Log: slog.New(slog.NewJSONHandler(f.logs, nil))}
	return f
}

// putClaim leaves the request's claim as a mailer killed mid-invocation leaves it: sending,
// under a lease until leaseUntil.
func (f *fixture) putClaim(t *testing.T, leaseUntil time.Time) {
	t.Helper()
	item, err := attributevalue.MarshalMap(map[string]any{
		"pk": mail.ClaimPK("acme", f.request.ID), "itemType": "mail_claim", "tenantId": "acme", "requestEventId": f.request.ID,
		"state": "sending", "attempts": 1, "leaseUntil": leaseUntil.UnixMilli(), "expiresAt": now.Add(mail.ClaimRetention).Unix(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(f.tables["ContactsTable"]), Item: item}); err != nil {
		t.Fatal(err)
	}
}

// handle hands the message to the replay and returns the message ids it failed and the
// lines it logged (without their time).
func (f *fixture) handle(t *testing.T, msg events.SQSMessage) ([]string, []map[string]any) {
	t.Helper()
	f.logs.Reset()
	resp, err := f.rp.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{msg}})
	if err != nil {
		t.Fatalf("handler error: %v", err)
	}
	failed := []string{}
	for _, it := range resp.BatchItemFailures {
		failed = append(failed, it.ItemIdentifier)
	}
	return failed, logLines(t, f.logs.String())
}

func logLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		delete(m, "time")
		lines = append(lines, m)
	}
	return lines
}

// logged is a line of the replay's log about the fixture's message.
func (f *fixture) logged(level, msg string, more map[string]any) map[string]any {
	line := map[string]any{"level": level, "msg": msg, "message_id": "m-1", "receive_count": "1", "shard_id": f.info.ShardID,
		"start_sequence_number": f.info.StartSequenceNumber, "end_sequence_number": f.info.EndSequenceNumber}
	for k, v := range more {
		line[k] = v
	}
	return line
}

// TestReplayAfterTheLease: the request of a mailer killed mid-invocation is not sent while
// its claim's lease runs (the message stays in the queue), is sent once after it, and is not
// sent again when the message comes back.
func TestReplayAfterTheLease(t *testing.T) {
	f := newFixture(t)
	f.putClaim(t, now.Add(30*time.Second)) // the dead invocation's lease still runs

	failed, logs := f.handle(t, f.msg)
	stacktest.Diff(t, "failed messages while the lease runs", []string{"m-1"}, failed)
	stacktest.Diff(t, "log while the lease runs", []map[string]any{f.logged("WARN",
		"failed mail batch waits for a live lease (a mailer that died mid-invocation); the message comes back after the queue's visibility timeout",
		map[string]any{"error": fmt.Sprintf("deliver %s..%s again: mail request %s of acme: another delivery holds the claim",
			f.info.StartSequenceNumber, f.info.EndSequenceNumber, f.request.ID)})}, logs)
	stacktest.Diff(t, "emails while the lease runs", []stacktest.Email(nil), stacktest.EmailsTo(t, f.to))
	stacktest.Diff(t, "EMAIL_DELIVERED while the lease runs", []audit.Event(nil), stacktest.AuditEvents(t, f.db, f.tables["AuditTable"], "EMAIL_DELIVERED"))

	f.putClaim(t, now.Add(-time.Second)) // the lease ran out
	delivered := f.logged("INFO", "failed mail batch delivered again", map[string]any{"records": float64(2), "requests": float64(1)})
	for i, what := range []string{"after the lease", "the message delivered again"} {
		failed, logs = f.handle(t, f.msg)
		stacktest.Diff(t, "failed messages "+what, []string{}, failed)
		stacktest.Diff(t, "log "+what, []map[string]any{delivered}, logs)
		emails := stacktest.EmailsTo(t, f.to)
		stacktest.Diff(t, "emails "+what, 1, len(emails))
		outcomes := stacktest.AuditEvents(t, f.db, f.tables["AuditTable"], "EMAIL_DELIVERED")
		stacktest.Diff(t, "EMAIL_DELIVERED "+what, 1, len(outcomes))
		stacktest.Diff(t, fmt.Sprintf("outcome %d", i+1), []any{f.request.ID, emails[0].MessageID},
			[]any{outcomes[0].Data["requestEventId"], outcomes[0].Data["messageId"]})
	}
}

// TestAlreadySent: a batch the mailer gave up on after all (its email went out on a later
// delivery) sends nothing more.
func TestAlreadySent(t *testing.T) {
	f := newFixture(t)
	stacktest.Diff(t, "first delivery", nil, f.rp.Mailer.Redeliver(context.Background(), []audit.Event{f.request}))
	stacktest.Diff(t, "emails after the first delivery", 1, len(stacktest.EmailsTo(t, f.to)))

	failed, logs := f.handle(t, f.msg)
	stacktest.Diff(t, "failed messages", []string{}, failed)
	stacktest.Diff(t, "log", []map[string]any{f.logged("INFO", "failed mail batch delivered again",
		map[string]any{"records": float64(2), "requests": float64(1)})}, logs)
	stacktest.Diff(t, "emails", 1, len(stacktest.EmailsTo(t, f.to)))
	stacktest.Diff(t, "EMAIL_DELIVERED", 1, len(stacktest.AuditEvents(t, f.db, f.tables["AuditTable"], "EMAIL_DELIVERED")))
}

// queueOf hands SQS events to the replay as Lambda's event source mapping does.
type queueOf struct {
	rp *replay.Replayer
	mu sync.Mutex
	n  int
}

func (q *queueOf) Invoke(ctx context.Context, _ string, payload []byte) ([]byte, error) {
	var ev events.SQSEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	q.mu.Lock()
	q.n++
	q.mu.Unlock()
	resp, err := q.rp.Handle(ctx, ev)
	if err != nil {
		return nil, err
	}
	return json.Marshal(resp)
}

// TestTrimmedRange: a range the stream no longer holds is never delivered: each receive
// fails with a line saying so, and after the queue's receives (the local SQS stand-in, with
// MailerFailureQueue's maxReceiveCount) the message is in the dead-letter queue.
func TestTrimmedRange(t *testing.T) {
	f := newFixture(t)
	f.rp.Streams = stacktest.TrimmedStreams{Client: stacktest.DynamoDBStreams(t)}
	failed, logs := f.handle(t, f.msg)
	stacktest.Diff(t, "failed messages", []string{"m-1"}, failed)
	stacktest.Diff(t, "log", []map[string]any{f.logged("ERROR",
		"failed mail batch no longer on the stream: its emails are not sent; the message goes to the dead-letter queue after its receives",
		map[string]any{"error": fmt.Sprintf("read shard %s of %s, %s..%s: the stream no longer holds these records (it keeps 24 hours): %s",
			f.info.ShardID, f.info.StreamArn, f.info.StartSequenceNumber, f.info.EndSequenceNumber, stacktest.ErrTrimmed.Error())})}, logs)

	var qs []queues.Queue
	for _, q := range queues.FromTemplate(stacktest.Template(t), func(fn string) bool { return fn == "MailReplayFunction" }) {
		q.Visibility = time.Millisecond // the template's 70 s, shortened for the test
		qs = append(qs, q)
	}
	stacktest.Diff(t, "queues", []string{"MailerFailureQueue"}, []string{qs[0].Name})
	var queueLog bytes.Buffer
	fn := &queueOf{rp: f.rp}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := queues.New(ctx, queues.Config{Queues: qs, Invoker: fn, Log: slog.New(slog.NewJSONHandler(&queueLog, nil))})
	if err := q.Send(ctx, "MailerFailureQueue", []byte(f.msg.Body)); err != nil {
		t.Fatal(err)
	}
	q.Wait()
	stacktest.Diff(t, "receives", qs[0].MaxReceive, fn.n)
	last := logLines(t, queueLog.String())
	stacktest.Diff(t, "the queue's last word", []any{"ERROR", "queue message moved to the dead-letter queue", float64(5)},
		[]any{last[len(last)-1]["level"], last[len(last)-1]["msg"], last[len(last)-1]["receives"]})
	stacktest.Diff(t, "emails", []stacktest.Email(nil), stacktest.EmailsTo(t, f.to))
}

// TestSampleEvent reads events/mail-replay-batch-exhausted.json (a MailerFailureQueue
// message as Lambda hands it to the function) the way Handle does.
func TestSampleEvent(t *testing.T) {
	ev := stacktest.Sample[events.SQSEvent](t, "mail-replay-batch-exhausted.json")
	if len(ev.Records) != 1 {
		t.Fatalf("%d messages, want 1", len(ev.Records))
	}
	got, err := onfailure.Parse(ev.Records[0].Body)
	if err != nil {
		t.Fatal(err)
	}
	stacktest.Diff(t, "BatchInfo", onfailure.BatchInfo{ShardID: "shardId-00000001795914000000-1a2b3c4d",
		StartSequenceNumber: "4421584500000000017450439123", EndSequenceNumber: "4421584500000000017450439123",
		ApproximateArrivalOfFirstRecord: "2026-11-30T01:20:12Z", ApproximateArrivalOfLastRecord: "2026-11-30T01:20:12Z", BatchSize: 1,
		StreamArn: "arn:aws:dynamodb:us-east-1:123456789012:table/contrail-AuditTable-1ABCDEF2GHIJ/stream/2026-11-01T00:00:00.000"}, got)
}
