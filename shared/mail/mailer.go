package mail

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/oklog/ulid/v2"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/ddb"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/tenant"
	"github.com/contrail/contrail/shared/validate"
)

// Sender is the part of the SES v2 client the mailer uses.
type Sender interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

var _ Sender = (*sesv2.Client)(nil)

// DB is the part of the DynamoDB client the mailer uses: claims in the contacts table,
// outcome events in the audit table.
type DB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

var _ DB = (*dynamodb.Client)(nil)

// Contacts reads a contact (contact.Store), for the details a share sends.
type Contacts interface {
	Get(ctx context.Context, tenant tenant.ID, id contact.ID) (*contact.Contact, bool, error)
}

// Config is what the mailer function reads from its environment.
type Config struct {
	From             string // MAIL_FROM: the sender address, an SES-verified identity
	ConfigurationSet string // MAIL_CONFIGURATION_SET, optional
	ContactsTable    string // claims and contacts
	AuditTable       string
	AuditShards      int // AUDIT_WRITE_SHARDS
	RetentionDays    int // RETENTION_CONTACT_DAYS: hot retention of email events
}

// Check reports a configuration the mailer cannot send with, naming the variable.
func (c Config) Check() error {
	if msg := validate.EmailProblem(c.From); msg != "" {
		return fmt.Errorf("configuration: MAIL_FROM=%q %s (a bare address of an SES-verified identity)", c.From, msg)
	}
	return nil
}

// Defaults of a Mailer.
const (
	DefaultDeliveries = 5 // deliveries of one request before a transient failure is final
	DefaultTries      = 4 // SES calls per delivery
	DefaultBackoff    = 200 * time.Millisecond
	DefaultMaxBackoff = 5 * time.Second
	DefaultReserve    = 5 * time.Second    // no SES call starts with less time than this left
	DefaultLease      = 2 * time.Minute    // a claim in state sending is held this long when the invocation has no deadline
	leaseMargin       = 5 * time.Second    // otherwise until its deadline and this margin
	ClaimRetention    = 7 * 24 * time.Hour // claims outlive the stream's 24 h record retention
)

// Mailer handles batches of the audit table's stream.
type Mailer struct {
	Config    Config
	SES       Sender
	DB        DB
	Contacts  Contacts
	Keys      audit.Keys
	Retention audit.Retention
	Clock     ident.Clock

	Deliveries int           // DefaultDeliveries when 0
	Tries      int           // DefaultTries when 0
	Backoff    time.Duration // DefaultBackoff when 0
	Reserve    time.Duration // DefaultReserve when 0
	Lease      time.Duration // DefaultLease when 0
	// Sleep waits between tries (a timer honouring ctx when nil); Jitter spreads a wait
	// (a random 50-100 % of it when nil). Tests replace both.
	Sleep  func(ctx context.Context, d time.Duration) error
	Jitter func(d time.Duration) time.Duration
}

// New builds the mailer of a function.
func New(cfg Config, db *dynamodb.Client, ses Sender) *Mailer {
	days := time.Duration(cfg.RetentionDays) * 24 * time.Hour
	return &Mailer{
		Config: cfg, SES: ses, DB: db,
		Contacts:  &contact.Store{DB: db, Table: cfg.ContactsTable},
		Keys:      audit.Keys{Shards: cfg.AuditShards},
		Retention: audit.Retention{audit.CategoryEmail: days},
		Clock:     ident.SystemClock,
	}
}

// Handle processes one stream batch. A record is reported in BatchItemFailures only when it
// should be delivered again (a transient failure with deliveries left, or a store error);
// records that are not email requests are skipped, and a record that can never be read is
// logged and skipped rather than blocking the shard.
func (m *Mailer) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	resp := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}
	for i := range ev.Records {
		rec := &ev.Records[i]
		if rec.EventName != string(events.DynamoDBOperationTypeInsert) {
			continue
		}
		typ := rec.Change.NewImage["type"]
		if typ.DataType() != events.DataTypeString || !IsRequest(typ.String()) {
			continue
		}
		req, err := audit.EventFromStreamImage(rec.Change.NewImage)
		if err != nil {
			slog.ErrorContext(ctx, "mail request unreadable; skipped", "stream_event_id", rec.EventID, "error", err.Error())
			continue
		}
		if err := m.process(ctx, &req); err != nil {
			slog.WarnContext(ctx, "mail request will be retried", "tenant_id", req.TenantID, "event_id", req.ID, "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
		}
	}
	return resp, nil
}

// Claim states.
const (
	stateSending = "sending"
	stateSent    = "sent"
	stateFailed  = "failed"
)

// claim is the item that makes one request's email go out once (contacts table,
// pk T#<tenant>#MAIL#<request event id>).
type claim struct {
	PK             string    `dynamodbav:"pk"`
	ItemType       string    `dynamodbav:"itemType"`
	TenantID       tenant.ID `dynamodbav:"tenantId"`
	RequestEventID string    `dynamodbav:"requestEventId"`
	State          string    `dynamodbav:"state"`
	Attempts       int       `dynamodbav:"attempts"`
	LeaseUntil     int64     `dynamodbav:"leaseUntil"` // epoch ms
	MessageID      string    `dynamodbav:"messageId,omitempty"`
	Reason         string    `dynamodbav:"reason,omitempty"`
	LastError      string    `dynamodbav:"lastError,omitempty"`
	DoneAt         string    `dynamodbav:"doneAt,omitempty"` // when sent or failed: the outcome event's time
	ExpiresAt      int64     `dynamodbav:"expiresAt"`
}

// ClaimPK is the contacts-table key of the claim of a request event.
func ClaimPK(tenant tenant.ID, requestEventID string) string {
	return "T#" + tenant.String() + "#MAIL#" + requestEventID
}

// errBusy says another delivery of the same record holds a live claim.
var errBusy = errors.New("another delivery holds the claim")

// process sends the email of req at most once and records its outcome. A nil error means
// the record is done (sent, failed for good, or done earlier); an error asks for redelivery.
func (m *Mailer) process(ctx context.Context, req *audit.Event) error {
	c, won, err := m.claim(ctx, req)
	if err != nil {
		return err
	}
	if !won {
		switch c.State {
		case stateSent, stateFailed:
			// Done by an earlier delivery: make sure its outcome event exists (the earlier
			// delivery may have stopped between marking the claim and recording the event).
			return m.record(ctx, req, c)
		default:
			return errBusy
		}
	}

	msg, err := m.compose(ctx, req)
	var perm *PermanentError
	switch {
	case errors.As(err, &perm):
		return m.finish(ctx, req, c, stateFailed, "", perm.Reason)
	case err != nil:
		return m.release(ctx, req, c, err)
	}

	messageID, err := m.send(ctx, msg)
	if err == nil {
		slog.InfoContext(ctx, "email sent", "tenant_id", req.TenantID, "event_id", req.ID, "type", req.Type,
			"message_id", messageID, "attempt", c.Attempts)
		return m.finish(ctx, req, c, stateSent, messageID, "")
	}
	if errors.As(err, &perm) {
		return m.finish(ctx, req, c, stateFailed, "", perm.Reason)
	}
	if c.Attempts >= m.deliveries() {
		return m.finish(ctx, req, c, stateFailed, "", fmt.Sprintf("gave up after %d deliveries: %v", c.Attempts, err))
	}
	return m.release(ctx, req, c, err)
}

func (m *Mailer) compose(ctx context.Context, req *audit.Event) (Message, error) {
	var shared *contact.Contact
	if req.Type == "CONTACT_SHARED" && req.Contact != nil {
		id, err := contact.ParseID(req.Contact.ID)
		if err != nil {
			return Message{}, permanent("the event's contact id is not a contact id")
		}
		c, ok, err := m.Contacts.Get(ctx, req.TenantID, id)
		if err != nil {
			return Message{}, fmt.Errorf("read shared contact %s: %w", req.Contact.ID, err)
		}
		switch {
		case !ok:
			return Message{}, permanent("the contact was not found when the email was sent")
		case c.Status == contact.StatusDeleted:
			return Message{}, permanent("the contact was deleted before the email was sent")
		case c.Status == contact.StatusMerged:
			return Message{}, permanent("the contact was merged into contact %s before the email was sent", c.MergedInto)
		}
		shared = c
	}
	return Compose(req, shared)
}

// send calls SES, retrying throttling, 5xx and network errors with exponential backoff while
// the invocation has time left. A permanent SES refusal is a *PermanentError.
func (m *Mailer) send(ctx context.Context, msg Message) (string, error) {
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(m.Config.From),
		Destination:      &sestypes.Destination{ToAddresses: []string{msg.To}},
		Content: &sestypes.EmailContent{Simple: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String(msg.Subject), Charset: aws.String("UTF-8")},
			Body: &sestypes.Body{
				Text: &sestypes.Content{Data: aws.String(msg.Text), Charset: aws.String("UTF-8")},
				Html: &sestypes.Content{Data: aws.String(msg.HTML), Charset: aws.String("UTF-8")},
			},
		}},
	}
	if m.Config.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(m.Config.ConfigurationSet)
	}
	tries := m.Tries
	if tries <= 0 {
		tries = DefaultTries
	}
	wait := m.Backoff
	if wait <= 0 {
		wait = DefaultBackoff
	}
	reserve := m.Reserve
	if reserve <= 0 {
		reserve = DefaultReserve
	}
	var err error
	for try := 1; ; try++ {
		var out *sesv2.SendEmailOutput
		out, err = m.SES.SendEmail(ctx, in)
		if err == nil {
			return aws.ToString(out.MessageId), nil
		}
		if !Transient(err) {
			return "", &PermanentError{Reason: "SES refused the email: " + describe(err)}
		}
		d := m.jitter(wait)
		if try == tries || !timeLeft(ctx, reserve+d) {
			break
		}
		if err := m.sleep(ctx, d); err != nil {
			break
		}
		wait = min(wait*2, DefaultMaxBackoff)
	}
	return "", fmt.Errorf("send email: %s", describe(err))
}

// Transient reports whether an SES error may pass: throttling, a 5xx, a timeout or a
// network failure. Any other API error (MessageRejected, a bad address, an unverified
// sender, a 4xx) will fail the same way again.
func Transient(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "TooManyRequestsException", "LimitExceededException", "ThrottlingException", "Throttling",
			"InternalFailure", "ServiceUnavailable", "InternalServerError", "RequestTimeout":
			return true
		}
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		code := re.HTTPStatusCode()
		return code >= 500 || code == 429
	}
	// An API error not listed above is SES refusing this email; anything else (a network
	// error, a timeout) never got an answer and may pass.
	return ae == nil
}

// describe is an error's reason as recorded on EMAIL_FAILED: the SES code and message.
func describe(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}

func (m *Mailer) deliveries() int {
	if m.Deliveries > 0 {
		return m.Deliveries
	}
	return DefaultDeliveries
}

func (m *Mailer) jitter(d time.Duration) time.Duration {
	if m.Jitter != nil {
		return m.Jitter(d)
	}
	return d/2 + rand.N(d/2+1)
}

func (m *Mailer) sleep(ctx context.Context, d time.Duration) error {
	if m.Sleep != nil {
		return m.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func timeLeft(ctx context.Context, need time.Duration) bool {
	if ctx.Err() != nil {
		return false
	}
	d, ok := ctx.Deadline()
	return !ok || time.Until(d) > need
}

// claim takes the send of req: it creates the claim, or takes over one whose earlier
// delivery released it or let its lease run out, counting the delivery. won is false when
// the claim is done or held; c is then the stored claim.
func (m *Mailer) claim(ctx context.Context, req *audit.Event) (c claim, won bool, err error) {
	now := m.Clock()
	lease := m.Lease
	if lease <= 0 {
		lease = DefaultLease
	}
	// The claim is held until this invocation can no longer be running: Lambda hands a
	// shard's records to one invocation at a time, so a redelivery that finds the lease run
	// out knows the holder died (possibly after SES accepted the email: the one case that
	// sends twice, preferred to an email that is never sent nor recorded).
	if d, ok := ctx.Deadline(); ok {
		lease = time.Until(d) + leaseMargin
	}
	pk := ClaimPK(req.TenantID, req.ID)
	out, err := m.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(m.Config.ContactsTable),
		Key:       map[string]dbtypes.AttributeValue{"pk": s(pk)},
		UpdateExpression: aws.String("SET #state = :sending, attempts = if_not_exists(attempts, :zero) + :one, " +
			"leaseUntil = :lease, itemType = :it, tenantId = :t, requestEventId = :r, expiresAt = if_not_exists(expiresAt, :exp)"),
		ConditionExpression:      aws.String("attribute_not_exists(pk) OR (#state = :sending AND leaseUntil <= :now)"),
		ExpressionAttributeNames: map[string]string{"#state": "state"},
		ExpressionAttributeValues: map[string]dbtypes.AttributeValue{
			":sending": s(stateSending), ":zero": n(0), ":one": n(1),
			":lease": n(now.Add(lease).UnixMilli()), ":now": n(now.UnixMilli()),
			":it": s("mail_claim"), ":t": s(req.TenantID.String()), ":r": s(req.ID),
			":exp": n(now.Add(ClaimRetention).Unix()),
		},
		ReturnValues: dbtypes.ReturnValueAllNew,
	})
	switch {
	case err == nil:
		if err := attributevalue.UnmarshalMap(out.Attributes, &c); err != nil {
			return c, false, fmt.Errorf("decode mail claim %s: %w", pk, err)
		}
		return c, true, nil
	case ddb.ConditionFailed(err):
		got, err := m.DB.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(m.Config.ContactsTable), ConsistentRead: aws.Bool(true),
			Key: map[string]dbtypes.AttributeValue{"pk": s(pk)},
		})
		if err != nil {
			return c, false, fmt.Errorf("read mail claim %s: %w", pk, err)
		}
		if err := attributevalue.UnmarshalMap(got.Item, &c); err != nil {
			return c, false, fmt.Errorf("decode mail claim %s: %w", pk, err)
		}
		return c, false, nil
	default:
		return c, false, fmt.Errorf("claim mail %s: %w", pk, err)
	}
}

// release gives the claim back after a transient failure so the next delivery of the
// record may try again, and asks for that redelivery.
func (m *Mailer) release(ctx context.Context, req *audit.Event, c claim, cause error) error {
	_, err := m.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(m.Config.ContactsTable),
		Key:                       map[string]dbtypes.AttributeValue{"pk": s(c.PK)},
		UpdateExpression:          aws.String("SET leaseUntil = :zero, lastError = :e"),
		ConditionExpression:       aws.String("#state = :sending AND attempts = :a"),
		ExpressionAttributeNames:  map[string]string{"#state": "state"},
		ExpressionAttributeValues: map[string]dbtypes.AttributeValue{":zero": n(0), ":e": s(cause.Error()), ":sending": s(stateSending), ":a": n(int64(c.Attempts))},
	})
	if err != nil {
		slog.WarnContext(ctx, "release mail claim", "tenant_id", req.TenantID, "event_id", req.ID, "error", err.Error())
	}
	return fmt.Errorf("delivery %d of %d: %w", c.Attempts, m.deliveries(), cause)
}

// finish marks the claim sent or failed, with the time the outcome event carries, then
// records that event.
func (m *Mailer) finish(ctx context.Context, req *audit.Event, c claim, state, messageID, reason string) error {
	c.State, c.MessageID, c.Reason, c.DoneAt = state, messageID, reason, audit.FormatTime(m.Clock())
	vals := map[string]dbtypes.AttributeValue{
		":state": s(state), ":done": s(c.DoneAt), ":sending": s(stateSending), ":a": n(int64(c.Attempts)),
	}
	set := "SET #state = :state, doneAt = :done"
	if messageID != "" {
		set += ", messageId = :m"
		vals[":m"] = s(messageID)
	}
	if reason != "" {
		set += ", reason = :why"
		vals[":why"] = s(reason)
	}
	_, err := m.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(m.Config.ContactsTable),
		Key:                       map[string]dbtypes.AttributeValue{"pk": s(c.PK)},
		UpdateExpression:          aws.String(set),
		ConditionExpression:       aws.String("#state = :sending AND attempts = :a"),
		ExpressionAttributeNames:  map[string]string{"#state": "state"},
		ExpressionAttributeValues: vals,
	})
	if err != nil {
		// The email may be out: redelivery finds the claim still sending under a live
		// lease and waits for it rather than sending again.
		return fmt.Errorf("mark mail claim %s %s: %w", c.PK, state, err)
	}
	if state == stateFailed {
		slog.WarnContext(ctx, "email failed", "tenant_id", req.TenantID, "event_id", req.ID, "type", req.Type,
			"attempt", c.Attempts, "reason", reason)
	}
	return m.record(ctx, req, c)
}

// record writes the outcome event of a done claim: EMAIL_DELIVERED or EMAIL_FAILED, with an
// id and time derived from the request and the claim, put only if absent, so a repeat
// records nothing twice.
func (m *Mailer) record(ctx context.Context, req *audit.Event, c claim) error {
	ev, err := Outcome(req, c.State == stateSent, c.MessageID, c.Reason, c.DoneAt, m.Clock())
	if err != nil {
		return err
	}
	item, err := m.Keys.Item(&ev, m.Retention)
	if err != nil {
		return err
	}
	_, err = m.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(m.Config.AuditTable),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if err != nil && !ddb.ConditionFailed(err) {
		return fmt.Errorf("record %s for %s: %w", ev.Type, req.ID, err)
	}
	return nil
}

// Actor is the actor of outcome events.
var Actor = audit.Actor{Type: audit.ActorSystem, ID: "mailer", Name: "Contrail mailer"}

// Outcome is the EMAIL_DELIVERED (delivered) or EMAIL_FAILED event of request req, done at
// doneAt. Its id is a ULID of doneAt whose random part is a hash of the request's tenant and
// id, so the same outcome always has the same key.
func Outcome(req *audit.Event, delivered bool, messageID, reason, doneAt string, now time.Time) (audit.Event, error) {
	at, err := audit.ParseTime(doneAt)
	if err != nil {
		return audit.Event{}, fmt.Errorf("outcome time of %s: %w", req.ID, err)
	}
	sum := sha256.Sum256([]byte("mail-outcome\x00" + req.TenantID.String() + "\x00" + req.ID))
	var id ulid.ULID
	if err := id.SetTime(ulid.Timestamp(at)); err != nil {
		return audit.Event{}, err
	}
	if err := id.SetEntropy(sum[:10]); err != nil {
		return audit.Event{}, err
	}
	ev := audit.Event{
		ID: id.String(), TenantID: req.TenantID, OccurredAt: doneAt, RecordedAt: audit.FormatTime(now),
		Category: audit.CategoryEmail, Actor: Actor, Contact: req.Contact,
		Source: audit.SourceSystem, Channel: "email",
		Data: map[string]any{"requestEventId": req.ID},
	}
	if delivered {
		ev.Type = "EMAIL_DELIVERED"
		if messageID != "" {
			ev.Data["messageId"] = messageID
		}
	} else {
		ev.Type = "EMAIL_FAILED"
		ev.Data["reason"] = reason
	}
	return ev, nil
}

func s(v string) dbtypes.AttributeValue { return &dbtypes.AttributeValueMemberS{Value: v} }
func n(v int64) dbtypes.AttributeValue {
	return &dbtypes.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}
