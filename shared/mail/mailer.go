package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/pii"
	"github.com/contrail/contrail/shared/tenant"
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
	// Keyring opens the requests' personal fields and seals the outcome events'.
	Keyring *pii.Keyring

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
	return &Mailer{
		Config: cfg, SES: ses, DB: db,
		Contacts:  &contact.Store{DB: db, Table: cfg.ContactsTable},
		Keys:      cfg.Audit.Keys(),
		Retention: cfg.Audit.Retention,
		Clock:     ident.SystemClock,
	}
}

// NewSender is the SES client of a function that mails: without the SDK's retries, since the
// mailer retries SES itself (backoff bounded by the invocation, then redelivery) and the
// SDK's own would only hide the attempts.
func NewSender(awsCfg aws.Config) *sesv2.Client {
	return sesv2.NewFromConfig(awsCfg, func(o *sesv2.Options) { o.Retryer = aws.NopRetryer{} })
}

// NewService builds the mailer of a function: its configuration, clients of awsCfg (DynamoDB,
// the personal-data keyring) and ses.
func NewService(awsCfg aws.Config, cfg Config, ses Sender) *Mailer {
	m := New(cfg, dynamodb.NewFromConfig(awsCfg), ses)
	m.Keyring = pii.NewKeyring(awsCfg, cfg.Keys)
	return m
}

// Handle processes one stream batch. A record is reported in BatchItemFailures only when it
// should be delivered again (a transient failure with deliveries left, or a store error);
// records that are not email requests are skipped, and a record that can never be read is
// logged and skipped rather than blocking the shard.
func (m *Mailer) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	resp := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}
	if m.Keyring == nil {
		return resp, errNoKeyring
	}
	keys := m.Keyring.NewCache() // this invocation's
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
		if err := m.process(ctx, keys, &req); err != nil {
			slog.WarnContext(ctx, "mail request will be retried", "tenant_id", req.TenantID, "event_id", req.ID, "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
		}
	}
	return resp, nil
}

var errNoKeyring = errors.New("mailer: no personal-data keyring configured (KEYS_TABLE, KEYS_KMS_KEY_ARN)")

// Redeliver delivers requests again as Handle does, each at most once: for a batch the
// stream mapping gave up on, read back from the stream. The error joins those of the
// requests to deliver again later (each wrapping ErrClaimHeld while a live lease holds its
// claim); nil when every one is done (sent, failed for good, or done earlier).
func (m *Mailer) Redeliver(ctx context.Context, reqs []audit.Event) error {
	if m.Keyring == nil {
		return errNoKeyring
	}
	keys := m.Keyring.NewCache()
	var errs []error
	for i := range reqs {
		req := reqs[i]
		if err := m.process(ctx, keys, &req); err != nil {
			errs = append(errs, fmt.Errorf("mail request %s of %s: %w", req.ID, req.TenantID, err))
		}
	}
	return errors.Join(errs...)
}

// process sends the email of req at most once and records its outcome. A nil error means
// the record is done (sent, failed for good, or done earlier); an error asks for redelivery.
//
// req arrives sealed: it is opened first (keys, the invocation's cache), so the email and the
// outcome event's contact are plaintext; the outcome event is sealed again for its own id.
func (m *Mailer) process(ctx context.Context, keys *pii.Cache, req *audit.Event) error {
	opened := []audit.Event{*req}
	opened[0].Data = maps.Clone(req.Data)
	if err := keys.Open(ctx, opened); err != nil {
		return fmt.Errorf("open mail request %s: %w", req.ID, err)
	}
	*req = opened[0]
	c, won, err := m.claim(ctx, req)
	if err != nil {
		return err
	}
	if !won {
		switch c.State {
		case stateSent, stateFailed:
			// Done by an earlier delivery: make sure its outcome event exists (the earlier
			// delivery may have stopped between marking the claim and recording the event).
			return m.record(ctx, keys, req, c)
		default:
			return ErrClaimHeld
		}
	}

	msg, err := m.compose(ctx, req)
	var perm *PermanentError
	switch {
	case errors.As(err, &perm):
		return m.finish(ctx, keys, req, c, stateFailed, "", perm.Reason)
	case err != nil:
		return m.release(ctx, req, c, err)
	}

	messageID, err := m.send(ctx, msg)
	if err == nil {
		slog.InfoContext(ctx, "email sent", "tenant_id", req.TenantID, "event_id", req.ID, "type", req.Type,
			"message_id", messageID, "attempt", c.Attempts)
		return m.finish(ctx, keys, req, c, stateSent, messageID, "")
	}
	if errors.As(err, &perm) {
		return m.finish(ctx, keys, req, c, stateFailed, "", perm.Reason)
	}
	if c.Attempts >= m.deliveries() {
		return m.finish(ctx, keys, req, c, stateFailed, "", fmt.Sprintf("gave up after %d deliveries: %v", c.Attempts, err))
	}
	return m.release(ctx, req, c, err)
}

// ReasonErased is the EMAIL_FAILED reason of a request whose contact was erased before the
// email was sent: nothing is sent to "[erased]".
const ReasonErased = "contact erased"

func (m *Mailer) compose(ctx context.Context, req *audit.Event) (Message, error) {
	if req.Contact != nil && req.Contact.Name == pii.Erased {
		return Message{}, permanent(ReasonErased)
	}
	for _, f := range audit.PersonalFields(req.Type) {
		if req.Data[f] == pii.Erased {
			return Message{}, permanent(ReasonErased)
		}
	}
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

func (m *Mailer) deliveries() int {
	if m.Deliveries > 0 {
		return m.Deliveries
	}
	return DefaultDeliveries
}
