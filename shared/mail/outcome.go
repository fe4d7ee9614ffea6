package mail

// Recording: the EMAIL_DELIVERED or EMAIL_FAILED event of a done claim, written once.

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/oklog/ulid/v2"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/ddb"
	"github.com/contrail/contrail/shared/pii"
)

// record writes the outcome event of a done claim: EMAIL_DELIVERED or EMAIL_FAILED, with an
// id and time derived from the request and the claim, put only if absent, so a repeat
// records nothing twice.
//
// It copies the request's contact ref (opened): its name, and EMAIL_FAILED's reason, are
// sealed again under the contact's data key, bound to the outcome's own id. When the contact
// was erased meanwhile, the ref reads "[erased]" and nothing is sealed.
func (m *Mailer) record(ctx context.Context, keys *pii.Cache, req *audit.Event, c claim) error {
	reason, err := openReason(ctx, keys, req, c)
	if err != nil {
		return err
	}
	ev, err := Outcome(req, c.State == stateSent, c.MessageID, reason, c.DoneAt, m.Clock())
	if err != nil {
		return err
	}
	if ev.Contact != nil {
		key, err := keys.DataKey(ctx, ev.TenantID, pii.ContactID(ev.Contact.ID))
		switch {
		case errors.Is(err, pii.ErrErased):
			ev.Contact = &audit.ContactRef{ID: ev.Contact.ID, Name: pii.Erased}
			if ev.Type == "EMAIL_FAILED" {
				ev.Data["reason"] = ReasonErased
			}
		case err != nil:
			return fmt.Errorf("record the outcome of %s: %w", req.ID, err)
		default:
			if err := key.SealEvent(&ev); err != nil {
				return fmt.Errorf("record the outcome of %s: %w", req.ID, err)
			}
		}
	}
	item, err := m.Keys.Item(&ev, m.Retention)
	if err != nil {
		return err
	}
	_, err = m.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(m.Config.Audit.Table),
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
