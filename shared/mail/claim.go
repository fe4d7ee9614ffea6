package mail

// The claim that makes one request's email go out once: taken before sending, given back
// after a transient failure, marked sent or failed when done.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/ddb"
	"github.com/contrail/contrail/shared/pii"
	"github.com/contrail/contrail/shared/tenant"
)

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

// ErrClaimHeld says another delivery of the same request holds its claim under a live lease
// (possibly a dead invocation's, until its deadline and a margin): deliver again later.
var ErrClaimHeld = errors.New("another delivery holds the claim")

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
	leaseUntil := now.Add(lease).UnixMilli()
	out, err := m.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(m.Config.ContactsTable),
		Key:       map[string]dbtypes.AttributeValue{"pk": s(pk)},
		UpdateExpression: aws.String("SET #state = :sending, attempts = if_not_exists(attempts, :zero) + :one, " +
			"leaseUntil = :lease, itemType = :it, tenantId = :t, requestEventId = :r, expiresAt = if_not_exists(expiresAt, :exp)"),
		ConditionExpression:      aws.String("attribute_not_exists(pk) OR (#state = :sending AND leaseUntil <= :now)"),
		ExpressionAttributeNames: map[string]string{"#state": "state"},
		ExpressionAttributeValues: map[string]dbtypes.AttributeValue{
			":sending": s(stateSending), ":zero": n(0), ":one": n(1),
			":lease": n(leaseUntil), ":now": n(now.UnixMilli()),
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
		// Our own claim, taken by an earlier try of this same call whose answer was lost
		// (a 500 or a reset after DynamoDB wrote it; the SDK then tried again and met its own
		// write): still sending, under the very lease this call set. Another delivery's lease
		// differs (it starts later and ends with its own invocation), so this is not a
		// takeover. Without this, the claim looked held by someone else until the lease ran
		// out, and the stream gave up on the record first: no email, no EMAIL_FAILED
		// (found by fault injection, local/chaos).
		if c.State == stateSending && c.LeaseUntil == leaseUntil {
			return c, true, nil
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
func (m *Mailer) finish(ctx context.Context, keys *pii.Cache, req *audit.Event, c claim, state, messageID, reason string) error {
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
		stored, err := m.sealReason(ctx, keys, req, c.PK, reason)
		if err != nil {
			return fmt.Errorf("mark mail claim %s %s: %w", c.PK, state, err)
		}
		set += ", reason = :why"
		vals[":why"] = s(stored)
	}
	_, err := m.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(m.Config.ContactsTable),
		Key:                       map[string]dbtypes.AttributeValue{"pk": s(c.PK)},
		UpdateExpression:          aws.String(set),
		ConditionExpression:       aws.String("#state = :sending AND attempts = :a"),
		ExpressionAttributeNames:  map[string]string{"#state": "state"},
		ExpressionAttributeValues: vals,
	})
	if ddb.ConditionFailed(err) && m.marked(ctx, c) {
		// An earlier try of this call marked it (its answer was lost, the SDK tried again).
		err = nil
	}
	if err != nil {
		// The email may be out: redelivery finds the claim still sending under a live
		// lease and waits for it rather than sending again.
		return fmt.Errorf("mark mail claim %s %s: %w", c.PK, state, err)
	}
	if state == stateFailed {
		slog.WarnContext(ctx, "email failed", "tenant_id", req.TenantID, "event_id", req.ID, "type", req.Type,
			"attempt", c.Attempts, "reason", reason)
	}
	return m.record(ctx, keys, req, c)
}

// marked reports whether the stored claim is c as finish marks it: the same delivery
// (attempts), state, message id and time.
func (m *Mailer) marked(ctx context.Context, c claim) bool {
	got, err := m.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(m.Config.ContactsTable), ConsistentRead: aws.Bool(true),
		Key: map[string]dbtypes.AttributeValue{"pk": s(c.PK)},
	})
	if err != nil {
		return false
	}
	var stored claim
	if err := attributevalue.UnmarshalMap(got.Item, &stored); err != nil {
		return false
	}
	return stored.State == c.State && stored.Attempts == c.Attempts && stored.MessageID == c.MessageID && stored.DoneAt == c.DoneAt
}

// ReasonField is the field a claim's reason is sealed for (with the claim's pk as the event
// id): an SES refusal may quote the recipient's address, and the claim outlives an erasure
// (ClaimRetention, and TTL deletion's lag).
const ReasonField = "mail.reason"

// sealReason returns reason as the claim stores it: sealed under the data key of req's
// contact, bound to the claim; ReasonErased when the contact was erased; as it is when req
// names no contact.
func (m *Mailer) sealReason(ctx context.Context, keys *pii.Cache, req *audit.Event, pk, reason string) (string, error) {
	if req.Contact == nil || !pii.ContactID(req.Contact.ID).Valid() {
		return reason, nil
	}
	key, err := keys.DataKey(ctx, req.TenantID, pii.ContactID(req.Contact.ID))
	if errors.Is(err, pii.ErrErased) {
		return ReasonErased, nil
	}
	if err != nil {
		return "", fmt.Errorf("seal the reason: %w", err)
	}
	return key.Seal(pk, ReasonField, reason)
}

// openReason returns a claim's reason as sealReason stored it: opened, or ReasonErased once
// the contact was erased.
func openReason(ctx context.Context, keys *pii.Cache, req *audit.Event, c claim) (string, error) {
	if !pii.IsSealed(c.Reason) || req.Contact == nil {
		return c.Reason, nil
	}
	v := []pii.Value{{Tenant: req.TenantID, ContactID: req.Contact.ID, EventID: c.PK, Field: ReasonField, V: c.Reason}}
	if err := keys.OpenValues(ctx, v); err != nil {
		return "", fmt.Errorf("open the reason of mail claim %s: %w", c.PK, err)
	}
	switch r, _ := v[0].V.(string); r {
	case pii.Erased:
		return ReasonErased, nil
	default:
		return r, nil
	}
}

func s(v string) dbtypes.AttributeValue { return &dbtypes.AttributeValueMemberS{Value: v} }
func n(v int64) dbtypes.AttributeValue {
	return &dbtypes.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}
