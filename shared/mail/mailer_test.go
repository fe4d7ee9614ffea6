package mail_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/local/streams"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/mail"
	"github.com/contrail/contrail/shared/pii"
)

func TestMain(m *testing.M) { stacktest.Main(m) }

var t0 = time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)

const from = "no-reply@contrail.example.com"

// The agent's name and the contact's are written to be escaped: they reach the HTML part.
const (
	agentName   = `Ayu <b>Agent</b> & Co`
	contactName = `Bob "Bobby" <script>x</script>`
)

type harness struct {
	t      *testing.T
	db     *dynamodb.Client
	tables map[string]string
	svc    *contact.Service
	mailer *mail.Mailer
	sleeps []time.Duration
}

// newHarness builds the contact service and the mailer over fresh tables; ses wraps the
// emulator's client when set (to inject SES failures).
func newHarness(t *testing.T, ses func(mail.Sender) mail.Sender) *harness {
	t.Helper()
	db := stacktest.DynamoDB(t)
	tables := stacktest.Tables(t)
	clock := func() time.Time { return t0 }
	h := &harness{t: t, db: db, tables: tables}
	store := stacktest.AuditStore(tables)
	h.svc = stacktest.Contacts(t, db, tables, clock)
	var sender mail.Sender = stacktest.SES(t)
	if ses != nil {
		sender = ses(sender)
	}
	h.mailer = mail.New(mail.Config{Identity: mail.Identity{From: from}, ContactsTable: tables["ContactsTable"], Audit: store}, db, sender)
	h.mailer.Clock = func() time.Time { return t0.Add(time.Minute) }
	h.mailer.Keyring = h.svc.Keyring
	h.mailer.Jitter = func(d time.Duration) time.Duration { return d }
	h.mailer.Sleep = func(_ context.Context, d time.Duration) error { h.sleeps = append(h.sleeps, d); return nil }
	return h
}

// addContact adds a contact through the contact service and returns its id.
func (h *harness) addContact(in contact.CreateInput) string {
	h.t.Helper()
	in.Source = audit.SourceManual
	c, err := h.svc.Add(context.Background(), contact.Caller{TenantID: "acme", UserID: "u-agent", Name: agentName}, in)
	if err != nil {
		h.t.Fatal(err)
	}
	return string(c.ID)
}

// invite adds a contact named name and invites it at the address to; it returns the
// contact's id.
func (h *harness) invite(name, to string) string {
	h.t.Helper()
	id := h.addContact(contact.CreateInput{Name: name})
	h.request("invite", id, `{"email":"`+to+`"}`)
	return id
}

// request calls a contact route (invite, messages, share) as the agent; it wants 202.
func (h *harness) request(route, id, body string) {
	h.t.Helper()
	handlers := map[string]httpapi.Handler{"invite": h.svc.Invite, "messages": h.svc.Message, "share": h.svc.Share}
	h.call("POST /v1/contacts/{id}/"+route, handlers[route], id, body, 202)
}

// call sends a request of route for contact id as the agent, through the route as the
// functions wire it, and fails the test unless the answer has status want.
func (h *harness) call(route string, hd httpapi.Handler, id, body string, want int) events.APIGatewayV2HTTPResponse {
	h.t.Helper()
	out := stacktest.Call(h.t, httpapi.Route(httpapi.ContactRoles, hd), stacktest.Request{
		Route: route, Params: map[string]string{"id": id}, Body: body,
		Headers:   map[string]string{"content-type": "application/json"},
		As:        stacktest.Caller{Tenant: "acme", Sub: "u-agent", Name: agentName, Groups: "[agent]"},
		RequestID: "req-1", SourceIP: "203.0.113.7", UserAgent: "mail-test/1.0",
	})
	if out.StatusCode != want {
		h.t.Fatalf("%s: %d %s, want %d", route, out.StatusCode, out.Body, want)
	}
	return out
}

// stream reads every record of the audit table's stream from DynamoDB Local, in Lambda's
// event shape.
func (h *harness) stream() events.DynamoDBEvent {
	h.t.Helper()
	arn, shards, err := streams.ReadAll(context.Background(), h.db, stacktest.DynamoDBStreams(h.t), h.tables["AuditTable"])
	if err != nil {
		h.t.Fatal(err)
	}
	var recs []streamtypes.Record
	for _, sh := range shards {
		recs = append(recs, sh.Records...)
	}
	ev, err := streams.LambdaEvent(arn, recs)
	if err != nil {
		h.t.Fatal(err)
	}
	return ev
}

func (h *harness) handle(ev events.DynamoDBEvent) []string {
	h.t.Helper()
	resp, err := h.mailer.Handle(context.Background(), ev)
	if err != nil {
		h.t.Fatalf("handler error: %v", err)
	}
	retry := []string{}
	for _, f := range resp.BatchItemFailures {
		retry = append(retry, f.ItemIdentifier)
	}
	return retry
}

// events returns the audit events of a type, oldest first.
func (h *harness) events(typ string) []audit.Event {
	h.t.Helper()
	evs := stacktest.AuditEvents(h.t, h.db, h.tables["AuditTable"], typ)
	// Stored sealed: opened as a reader opens them.
	if err := h.svc.Keyring.NewCache().Open(context.Background(), evs); err != nil {
		h.t.Fatal(err)
	}
	return evs
}

// claim returns the mail claim of a request event as plain values.
func (h *harness) claim(requestID string) map[string]any {
	h.t.Helper()
	out, err := h.db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(h.tables["ContactsTable"]), ConsistentRead: aws.Bool(true),
		Key: map[string]dbtypes.AttributeValue{"pk": &dbtypes.AttributeValueMemberS{Value: mail.ClaimPK("acme", requestID)}},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	var m map[string]any
	if err := attributevalue.UnmarshalMap(out.Item, &m); err != nil {
		h.t.Fatal(err)
	}
	return m
}

// want is the outcome event the mailer should record for req, written out in full; only
// the id (a ULID of the outcome time and a hash of the request) is computed.
func want(t *testing.T, req audit.Event, typ string, data map[string]any) audit.Event {
	t.Helper()
	at := audit.FormatTime(t0.Add(time.Minute))
	derived, err := mail.Outcome(&req, typ == "EMAIL_DELIVERED", "", "", at, t0)
	if err != nil {
		t.Fatal(err)
	}
	return audit.Event{
		ID: derived.ID, TenantID: "acme", OccurredAt: at, RecordedAt: at,
		Type: typ, Category: "email", Actor: audit.Actor{Type: "system", ID: "mailer", Name: "Contrail mailer"},
		Contact: req.Contact, Source: "system", Channel: "email", Data: data,
	}
}

// TestInviteDeliveredOnce: an invite's email lands in the SES emulator with both bodies and
// every user value escaped, EMAIL_DELIVERED is recorded, and the same batch delivered again
// sends nothing and records nothing.
func TestInviteDeliveredOnce(t *testing.T) {
	h := newHarness(t, nil)
	to := stacktest.Address("invite")
	id := h.invite(contactName, to)
	batch := h.stream()
	stacktest.Diff(t, "records in the batch", 2, len(batch.Records)) // CONTACT_ADDED (skipped) and CONTACT_INVITED

	stacktest.Diff(t, "retries", []string{}, h.handle(batch))
	req := h.events("CONTACT_INVITED")[0]
	delivered := h.events("EMAIL_DELIVERED")
	if len(delivered) != 1 {
		t.Fatalf("%d EMAIL_DELIVERED events, want 1", len(delivered))
	}
	messageID, _ := delivered[0].Data["messageId"].(string)
	stacktest.Diff(t, "EMAIL_DELIVERED", []audit.Event{want(t, req, "EMAIL_DELIVERED", map[string]any{"requestEventId": req.ID, "messageId": messageID})}, delivered)

	stacktest.Diff(t, "emails", []stacktest.Email{{
		From: from, To: []string{to}, MessageID: messageID,
		Subject: "You're invited by Ayu <b>Agent</b> & Co",
		Text: "Hello Bob \"Bobby\" <script>x</script>,\n\nAyu <b>Agent</b> & Co invited you to stay in touch through Contrail.\n" +
			"Reply to Ayu <b>Agent</b> & Co on the channel you usually use to accept.\n",
		HTML: `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>You&#39;re invited by Ayu &lt;b&gt;Agent&lt;/b&gt; &amp; Co</title></head>
<body style="font-family: sans-serif; line-height: 1.5">
<p>Hello Bob &#34;Bobby&#34; &lt;script&gt;x&lt;/script&gt;,</p>
<p>Ayu &lt;b&gt;Agent&lt;/b&gt; &amp; Co invited you to stay in touch through Contrail.</p>
<p>Reply to Ayu &lt;b&gt;Agent&lt;/b&gt; &amp; Co on the channel you usually use to accept.</p>
</body></html>
`,
	}}, stacktest.EmailsTo(t, to))
	stacktest.Diff(t, "claim", sentClaim(req, messageID), h.claim(req.ID))

	// The stream delivers the same batch again (a retry after a timeout, say).
	stacktest.Diff(t, "retries of the redelivery", []string{}, h.handle(batch))
	stacktest.Diff(t, "emails after redelivery", 1, len(stacktest.EmailsTo(t, to)))
	stacktest.Diff(t, "EMAIL_DELIVERED after redelivery", delivered, h.events("EMAIL_DELIVERED"))
	stacktest.Diff(t, "contact history", []string{"EMAIL_DELIVERED", "CONTACT_INVITED", "CONTACT_ADDED"}, h.history(id))
}

// sentClaim is the claim of req after its first delivery sent it as messageID.
func sentClaim(req audit.Event, messageID string) map[string]any {
	return map[string]any{
		"pk": mail.ClaimPK("acme", req.ID), "itemType": "mail_claim", "tenantId": "acme", "requestEventId": req.ID,
		"state": "sent", "attempts": float64(1), "leaseUntil": float64(t0.Add(time.Minute + mail.DefaultLease).UnixMilli()),
		"messageId": messageID, "doneAt": audit.FormatTime(t0.Add(time.Minute)),
		"expiresAt": float64(t0.Add(time.Minute + mail.ClaimRetention).Unix()),
	}
}

// history returns the types in GET /v1/contacts/{id}/history, newest first.
func (h *harness) history(id string) []string {
	h.t.Helper()
	out := h.call("GET /v1/contacts/{id}/history", h.svc.History, id, "", 200)
	var page struct {
		Items []audit.Event `json:"items"`
	}
	if err := json.Unmarshal([]byte(out.Body), &page); err != nil {
		h.t.Fatal(err)
	}
	types := []string{}
	for _, ev := range page.Items {
		types = append(types, ev.Type)
	}
	return types
}

func TestMessageAndShare(t *testing.T) {
	h := newHarness(t, nil)
	to := stacktest.Address("message")
	id := h.addContact(contact.CreateInput{Name: contactName, Email: &to})
	h.request("messages", id, `{"text":"Hi <Bob>,\nyour order & invoice are \"ready\".\r\nBye"}`)

	shareTo := stacktest.Address("share")
	phone := "+62 812 3456 7890"
	shared := h.addContact(contact.CreateInput{Name: "Cici <i>", Email: &to, Phone: &phone, Channel: "whatsapp", ExternalID: "62812<3456>"})
	h.request("share", shared, `{"email":"`+shareTo+`","note":"Call her <today>\nplease"}`)

	stacktest.Diff(t, "retries", []string{}, h.handle(h.stream()))
	ids := map[string]string{}
	for _, ev := range h.events("EMAIL_DELIVERED") {
		ids[ev.Data["requestEventId"].(string)] = ev.Data["messageId"].(string)
	}
	msgReq, shareReq := h.events("MESSAGE_SENT")[0], h.events("CONTACT_SHARED")[0]

	stacktest.Diff(t, "message email", []stacktest.Email{{
		From: from, To: []string{to}, MessageID: ids[msgReq.ID],
		Subject: "A message from Ayu <b>Agent</b> & Co",
		Text:    "Hi <Bob>,\nyour order & invoice are \"ready\".\r\nBye\n\n-- \nAyu <b>Agent</b> & Co, via Contrail\n",
		HTML: `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>A message from Ayu &lt;b&gt;Agent&lt;/b&gt; &amp; Co</title></head>
<body style="font-family: sans-serif; line-height: 1.5">
<p>Hi &lt;Bob&gt;,<br>your order &amp; invoice are &#34;ready&#34;.<br>Bye</p>
<p>-- <br>Ayu &lt;b&gt;Agent&lt;/b&gt; &amp; Co, via Contrail</p>
</body></html>
`,
	}}, stacktest.EmailsTo(t, to))

	stacktest.Diff(t, "share email", []stacktest.Email{{
		From: from, To: []string{shareTo}, MessageID: ids[shareReq.ID],
		Subject: "Ayu <b>Agent</b> & Co shared a contact with you: Cici <i>",
		Text: "Ayu <b>Agent</b> & Co shared the details of a contact with you.\n\n" +
			"Name: Cici <i>\nEmail: " + to + "\nPhone: +62 812 3456 7890\nChannels: whatsapp 62812<3456>\n" +
			"\nNote from Ayu <b>Agent</b> & Co:\nCall her <today>\nplease\n",
		HTML: `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Ayu &lt;b&gt;Agent&lt;/b&gt; &amp; Co shared a contact with you: Cici &lt;i&gt;</title></head>
<body style="font-family: sans-serif; line-height: 1.5">
<p>Ayu &lt;b&gt;Agent&lt;/b&gt; &amp; Co shared the details of a contact with you.</p>
<table cellpadding="4">
<tr><th align="left">Name</th><td>Cici &lt;i&gt;</td></tr>
<tr><th align="left">Email</th><td>` + to + `</td></tr>
<tr><th align="left">Phone</th><td>&#43;62 812 3456 7890</td></tr>
<tr><th align="left">Channels</th><td>whatsapp 62812&lt;3456&gt;</td></tr>
</table>
<p>Note from Ayu &lt;b&gt;Agent&lt;/b&gt; &amp; Co:<br>Call her &lt;today&gt;<br>please</p>
</body></html>
`,
	}}, stacktest.EmailsTo(t, shareTo))
}

// failingSES answers SendEmail with errs in turn, then passes calls to the emulator.
type failingSES struct {
	next  mail.Sender
	mu    sync.Mutex
	errs  []error
	calls int
}

func (f *failingSES) SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.mu.Lock()
	f.calls++
	var err error
	if len(f.errs) > 0 {
		err, f.errs = f.errs[0], f.errs[1:]
	}
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return f.next.SendEmail(ctx, in, opts...)
}

func throttled() error {
	return &sestypes.TooManyRequestsException{Message: aws.String("Maximum sending rate exceeded.")}
}

// TestThrottlingRetried: throttling is retried with exponential backoff within the delivery.
func TestThrottlingRetried(t *testing.T) {
	f := &failingSES{errs: []error{throttled(), throttled()}}
	h := newHarness(t, func(s mail.Sender) mail.Sender { f.next = s; return f })
	to := stacktest.Address("throttled")
	h.invite("Dee", to)
	stacktest.Diff(t, "retries", []string{}, h.handle(h.stream()))
	stacktest.Diff(t, "SES calls", 3, f.calls)
	stacktest.Diff(t, "backoff", []time.Duration{200 * time.Millisecond, 400 * time.Millisecond}, h.sleeps)
	stacktest.Diff(t, "emails", 1, len(stacktest.EmailsTo(t, to)))
	stacktest.Diff(t, "EMAIL_DELIVERED", 1, len(h.events("EMAIL_DELIVERED")))
}

// TestPermanentFailure: SES refusing the email records EMAIL_FAILED with the reason at
// once, sends nothing, and a redelivery records nothing more.
func TestPermanentFailure(t *testing.T) {
	f := &failingSES{errs: []error{&sestypes.MessageRejected{Message: aws.String("Email address is not verified.")}}}
	h := newHarness(t, func(s mail.Sender) mail.Sender { f.next = s; return f })
	to := stacktest.Address("rejected")
	h.invite("Eve", to)
	batch := h.stream()
	stacktest.Diff(t, "retries", []string{}, h.handle(batch))
	req := h.events("CONTACT_INVITED")[0]
	failed := []audit.Event{want(t, req, "EMAIL_FAILED", map[string]any{"requestEventId": req.ID,
		"reason": "SES refused the email: MessageRejected: Email address is not verified."})}
	stacktest.Diff(t, "EMAIL_FAILED", failed, h.events("EMAIL_FAILED"))
	stacktest.Diff(t, "emails", []stacktest.Email(nil), stacktest.EmailsTo(t, to))
	stacktest.Diff(t, "retries of the redelivery", []string{}, h.handle(batch))
	stacktest.Diff(t, "SES calls", 1, f.calls)
	stacktest.Diff(t, "EMAIL_FAILED after redelivery", failed, h.events("EMAIL_FAILED"))
}

// TestTransientExhausted: a send that keeps being throttled is handed back to the stream
// (batch item failure) until its last delivery, which records EMAIL_FAILED.
func TestTransientExhausted(t *testing.T) {
	f := &failingSES{errs: []error{throttled(), throttled(), throttled(), throttled()}}
	h := newHarness(t, func(s mail.Sender) mail.Sender { f.next = s; return f })
	h.mailer.Deliveries, h.mailer.Tries = 2, 2
	to := stacktest.Address("exhausted")
	h.invite("Fay", to)
	batch := h.stream()
	invite := batch.Records[1].Change.SequenceNumber

	stacktest.Diff(t, "first delivery retries", []string{invite}, h.handle(batch))
	stacktest.Diff(t, "events after the first delivery", []audit.Event(nil), h.events("EMAIL_FAILED"))
	req := h.events("CONTACT_INVITED")[0]
	stacktest.Diff(t, "claim after the first delivery", []any{"sending", float64(1), float64(0)},
		[]any{h.claim(req.ID)["state"], h.claim(req.ID)["attempts"], h.claim(req.ID)["leaseUntil"]})

	stacktest.Diff(t, "second delivery retries", []string{}, h.handle(batch))
	stacktest.Diff(t, "EMAIL_FAILED", []audit.Event{want(t, req, "EMAIL_FAILED", map[string]any{"requestEventId": req.ID,
		"reason": "gave up after 2 deliveries: send email: TooManyRequestsException: Maximum sending rate exceeded."})},
		h.events("EMAIL_FAILED"))
	stacktest.Diff(t, "SES calls", 4, f.calls)
	stacktest.Diff(t, "emails", []stacktest.Email(nil), stacktest.EmailsTo(t, to))
}

// TestShareOfDeletedContact: the contact is deleted before the mailer runs: nothing is
// shared, EMAIL_FAILED says why.
func TestShareOfDeletedContact(t *testing.T) {
	h := newHarness(t, nil)
	to := stacktest.Address("gone")
	id := h.addContact(contact.CreateInput{Name: "Gus"})
	h.request("share", id, `{"email":"`+to+`"}`)
	h.call("DELETE /v1/contacts/{id}", h.svc.Delete, id, "", 204)
	stacktest.Diff(t, "retries", []string{}, h.handle(h.stream()))
	req := h.events("CONTACT_SHARED")[0]
	stacktest.Diff(t, "EMAIL_FAILED", []audit.Event{want(t, req, "EMAIL_FAILED", map[string]any{"requestEventId": req.ID,
		"reason": "the contact was deleted before the email was sent"})}, h.events("EMAIL_FAILED"))
	stacktest.Diff(t, "emails", []stacktest.Email(nil), stacktest.EmailsTo(t, to))
}

// TestSampleEvents: the sample batches in events/ run through the mailer against the stand-ins:
// the invite and the message go out; the share fails (its contact is not in the table).
func TestSampleEvents(t *testing.T) {
	for _, tt := range []struct {
		file              string
		delivered, failed int
		emailsToBudi      int
	}{
		{"mailer-invite.json", 1, 0, 1},
		{"mailer-batch.json", 2, 1, 2},
	} {
		t.Run(tt.file, func(t *testing.T) {
			h := newHarness(t, nil)
			ev := stacktest.Sample[events.DynamoDBEvent](t, tt.file)
			before := len(stacktest.EmailsTo(t, "budi@example.com"))
			stacktest.Diff(t, "retries", []string{}, h.handle(ev))
			var reasons []string
			for _, e := range h.events("EMAIL_FAILED") {
				reasons = append(reasons, e.Data["reason"].(string))
			}
			want := []string(nil)
			if tt.failed > 0 {
				want = []string{"the contact was not found when the email was sent"}
			}
			stacktest.Diff(t, "failures", want, reasons)
			stacktest.Diff(t, "delivered", tt.delivered, len(h.events("EMAIL_DELIVERED")))
			stacktest.Diff(t, "emails", tt.emailsToBudi, len(stacktest.EmailsTo(t, "budi@example.com"))-before)
		})
	}
}

// TestInterruptedDelivery: a claim left "sending" by an invocation that died is waited for
// while its lease runs, then taken over, so the email is not lost.
func TestInterruptedDelivery(t *testing.T) {
	h := newHarness(t, nil)
	to := stacktest.Address("interrupted")
	h.invite("Hana", to)
	batch := h.stream()
	req := h.events("CONTACT_INVITED")[0]
	now := t0.Add(time.Minute)
	putClaim := func(leaseUntil time.Time) {
		item, err := attributevalue.MarshalMap(map[string]any{
			"pk": mail.ClaimPK("acme", req.ID), "itemType": "mail_claim", "tenantId": "acme", "requestEventId": req.ID,
			"state": "sending", "attempts": 1, "leaseUntil": leaseUntil.UnixMilli(), "expiresAt": now.Add(mail.ClaimRetention).Unix(),
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(h.tables["ContactsTable"]), Item: item}); err != nil {
			t.Fatal(err)
		}
	}

	putClaim(now.Add(30 * time.Second)) // the dead invocation's lease still runs
	stacktest.Diff(t, "retries while the lease runs", []string{batch.Records[1].Change.SequenceNumber}, h.handle(batch))
	stacktest.Diff(t, "emails while the lease runs", []stacktest.Email(nil), stacktest.EmailsTo(t, to))

	putClaim(now.Add(-time.Second)) // the lease ran out
	stacktest.Diff(t, "retries after the lease", []string{}, h.handle(batch))
	stacktest.Diff(t, "emails after the lease", 1, len(stacktest.EmailsTo(t, to)))
	stacktest.Diff(t, "claim state and attempts", []any{"sent", float64(2)}, []any{h.claim(req.ID)["state"], h.claim(req.ID)["attempts"]})
	stacktest.Diff(t, "EMAIL_DELIVERED", 1, len(h.events("EMAIL_DELIVERED")))
}

// TestErasedContact: a request whose contact was erased before the mailer reached it sends
// nothing (its address reads "[erased]"): EMAIL_FAILED is recorded with the reason "contact
// erased" and the contact's name "[erased]", in plaintext (there is no key left to seal under).
func TestErasedContact(t *testing.T) {
	h := newHarness(t, nil)
	to := stacktest.Address("erased")
	id := h.invite(contactName, to)
	ctx := context.Background()
	items, _, err := h.svc.Keyring.EraseTx(ctx, "acme", pii.ContactID(id))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
		t.Fatal(err)
	}

	stacktest.Diff(t, "retries", []string{}, h.handle(h.stream()))
	stacktest.Diff(t, "emails", []stacktest.Email(nil), stacktest.EmailsTo(t, to))
	req := h.events("CONTACT_INVITED")[0]
	stacktest.Diff(t, "the request reads erased", audit.ContactRef{ID: id, Name: pii.Erased}, *req.Contact)
	wantFailed := want(t, req, "EMAIL_FAILED", map[string]any{"requestEventId": req.ID, "reason": mail.ReasonErased})
	wantFailed.Contact = &audit.ContactRef{ID: id, Name: pii.Erased}
	stacktest.Diff(t, "EMAIL_FAILED", []audit.Event{wantFailed}, h.events("EMAIL_FAILED"))
	stacktest.Diff(t, "EMAIL_DELIVERED", []audit.Event(nil), h.events("EMAIL_DELIVERED"))
}

// TestFailureReasonSealed: an SES refusal may quote the recipient's address; the claim (kept
// ClaimRetention, in the contacts table) stores its reason sealed under the contact's data
// key, so after the contact's erasure it holds nothing readable, and an outcome recorded from
// the claim then (a redelivery after a crash between the claim and the event) reads "contact
// erased".
func TestFailureReasonSealed(t *testing.T) {
	to := stacktest.Address("quoted")
	msg := "Email address is not verified. The following identities failed the check: " + to
	f := &failingSES{errs: []error{&sestypes.MessageRejected{Message: aws.String(msg)}}}
	h := newHarness(t, func(s mail.Sender) mail.Sender { f.next = s; return f })
	id := h.invite("Eve", to)
	batch := h.stream()
	stacktest.Diff(t, "retries", []string{}, h.handle(batch))
	req := h.events("CONTACT_INVITED")[0]
	reason := "SES refused the email: MessageRejected: " + msg
	stacktest.Diff(t, "EMAIL_FAILED", []audit.Event{want(t, req, "EMAIL_FAILED", map[string]any{"requestEventId": req.ID, "reason": reason})}, h.events("EMAIL_FAILED"))

	stored, _ := h.claim(req.ID)["reason"].(string)
	if !pii.IsSealed(stored) || strings.Contains(stored, to) {
		t.Fatalf("the claim's reason is stored as %q, want it sealed", stored)
	}
	ctx := context.Background()
	open := func() any {
		v := []pii.Value{{Tenant: "acme", ContactID: id, EventID: mail.ClaimPK("acme", req.ID), Field: mail.ReasonField, V: stored}}
		if err := h.svc.Keyring.NewCache().OpenValues(ctx, v); err != nil {
			t.Fatal(err)
		}
		return v[0].V
	}
	stacktest.Diff(t, "the claim's reason opened", reason, open())

	items, _, err := h.svc.Keyring.EraseTx(ctx, "acme", pii.ContactID(id))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
		t.Fatal(err)
	}
	stacktest.Diff(t, "the claim's reason after the erasure", pii.Erased, open())

	// The outcome event lost (a crash between marking the claim and recording it): the
	// redelivery records it from the claim, whose reason now reads "contact erased".
	out, err := h.db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(h.tables["AuditTable"])})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range out.Items {
		if typ, _ := it["type"].(*dbtypes.AttributeValueMemberS); typ != nil && typ.Value == "EMAIL_FAILED" {
			if _, err := h.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(h.tables["AuditTable"]),
				Key: map[string]dbtypes.AttributeValue{"pk": it["pk"], "sk": it["sk"]}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	stacktest.Diff(t, "retries of the redelivery", []string{}, h.handle(batch))
	got := h.events("EMAIL_FAILED")
	if len(got) != 1 || got[0].Data["reason"] != mail.ReasonErased {
		t.Errorf("EMAIL_FAILED recorded from the claim after the erasure: %v", got)
	}
	stacktest.Diff(t, "SES calls", 1, f.calls)
}

// lostAnswers is DynamoDB answering 500 after it carried out a write: each UpdateItem whose
// condition contains one of conds runs, its answer is lost, and it runs again (as the
// SDK's retry does), whose answer the mailer gets.
type lostAnswers struct {
	mail.DB
	conds []string
	lost  int
}

func (l *lostAnswers) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	for _, c := range l.conds {
		if strings.Contains(aws.ToString(in.ConditionExpression), c) || strings.Contains(aws.ToString(in.UpdateExpression), c) {
			if _, err := l.DB.UpdateItem(ctx, in, opts...); err != nil {
				return nil, err
			}
			l.lost++
			break
		}
	}
	return l.DB.UpdateItem(ctx, in, opts...)
}

// TestLostAnswersToClaimWrites: a claim write DynamoDB carried out but whose answer was lost
// (a 500 after the write, retried by the SDK) is recognised as the mailer's own. Before, the
// taken claim looked held by another delivery until its lease ran out, the stream gave up on
// the record first, and the email was never sent nor EMAIL_FAILED recorded (found by the
// chaos suite's DynamoDB faults, local/chaos).
func TestLostAnswersToClaimWrites(t *testing.T) {
	for _, tc := range []struct {
		name  string
		conds []string
	}{
		{"taking the claim", []string{"attribute_not_exists(pk)"}},
		{"marking it sent", []string{"doneAt = :done"}},
		{"both", []string{"attribute_not_exists(pk)", "doneAt = :done"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			lost := &lostAnswers{DB: h.mailer.DB, conds: tc.conds}
			h.mailer.DB = lost
			to := stacktest.Address("lost")
			h.invite("Lia", to)
			stacktest.Diff(t, "retries", []string{}, h.handle(h.stream()))
			stacktest.Diff(t, "answers lost", len(tc.conds), lost.lost)
			stacktest.Diff(t, "emails", 1, len(stacktest.EmailsTo(t, to)))
			req := h.events("CONTACT_INVITED")[0]
			delivered := h.events("EMAIL_DELIVERED")
			if len(delivered) != 1 {
				t.Fatalf("%d EMAIL_DELIVERED events, want 1", len(delivered))
			}
			messageID, _ := delivered[0].Data["messageId"].(string)
			stacktest.Diff(t, "claim", sentClaim(req, messageID), h.claim(req.ID))
		})
	}
}
