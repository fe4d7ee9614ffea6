package contact

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/contrail/contrail/shared/ddb"
	"github.com/contrail/contrail/shared/fault"
	"github.com/contrail/contrail/shared/tenant"
)

// DB is the part of the DynamoDB client the contact store uses.
type DB interface {
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

var _ DB = (*dynamodb.Client)(nil)

// MaxTransactItems is DynamoDB's limit on the items of one TransactWriteItems.
const MaxTransactItems = 100

// Store reads and writes contacts and channel identities in the contacts table. It is the
// one place that says what its DynamoDB errors mean (ddb.Translate turns them into faults).
type Store struct {
	DB    DB
	Table string
}

// errChanged is what a failed version condition on a contact means.
var errChanged = fault.New(fault.Conflict, "contact_changed",
	"The contact changed while you were acting on it; reload it and retry.")

// errIdempotent marks the idempotency record's slot in a transaction: a conditional failure
// there means a twin request with the same key got there first.
var errIdempotent = errors.New("idempotency record exists")

// txItem is one write of a transaction with what a failed condition on it means.
type txItem struct {
	write  types.TransactWriteItem
	onFail error
}

// Get reads a contact with a consistent read; ok is false when there is none.
func (s *Store) Get(ctx context.Context, tenant tenant.ID, id ID) (*Contact, bool, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.Table),
		Key:            key(ContactPK(tenant, id)),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, false, ddb.Translate("get contact "+string(id), err, ddb.Meaning{Conflict: errChanged})
	}
	if out.Item == nil {
		return nil, false, nil
	}
	var c Contact
	if err := attributevalue.UnmarshalMap(out.Item, &c); err != nil {
		return nil, false, fmt.Errorf("decode contact %s: %w", id, err)
	}
	if c.ItemType != itemContact || c.TenantID != tenant {
		return nil, false, nil
	}
	return &c, true, nil
}

// errContactExists is what a failed creation condition on a contact (or its data key) means.
var errContactExists = fault.New(fault.Conflict, "contact_exists", "A contact with this id exists already; retry.")

// putNew writes a new contact; it fails if the id exists.
func (s *Store) putNew(c *Contact) (txItem, error) {
	return s.putIf("contact "+string(c.ID), c, absent, errContactExists)
}

// putChanged writes c over the stored contact whose version was prev: the optimistic lock
// that makes a concurrent change a 409 contact_changed instead of a lost update.
func (s *Store) putChanged(c *Contact, prev int64) (txItem, error) {
	return s.putIf("contact "+string(c.ID), c, condition{
		expr:   "#v = :v",
		names:  map[string]string{"#v": "version"},
		values: map[string]types.AttributeValue{":v": num(prev)},
	}, errChanged)
}

// claimIdentity writes the uniqueness item of a channel identity for a contact; it fails
// when any contact of the tenant holds it.
func (s *Store) claimIdentity(id *Identity) (txItem, error) {
	return s.putIf("channel identity", id, absent, fault.New(fault.Conflict, "channel_identity_taken",
		"Another contact is connected to this channel identity; merge the two contacts instead."))
}

// moveIdentity re-points a uniqueness item from contact `from` to id.ContactID (merge).
func (s *Store) moveIdentity(id *Identity, from ID) (txItem, error) {
	return s.putIf("channel identity", id, condition{
		expr:   "contactId = :from",
		values: map[string]types.AttributeValue{":from": str(string(from))},
	}, errChanged)
}

// condition is the ConditionExpression of a write, with its names and values.
type condition struct {
	expr   string
	names  map[string]string
	values map[string]types.AttributeValue
}

// absent is the condition of a put that creates its item.
var absent = condition{expr: "attribute_not_exists(pk)"}

// putIf returns the transaction item that writes v (what names it in errors) when cond
// holds; onFail is what a failed condition means.
func (s *Store) putIf(what string, v any, cond condition, onFail error) (txItem, error) {
	item, err := attributevalue.MarshalMap(v)
	if err != nil {
		return txItem{}, fmt.Errorf("encode %s: %w", what, err)
	}
	return txItem{write: types.TransactWriteItem{Put: &types.Put{
		TableName:                 aws.String(s.Table),
		Item:                      item,
		ConditionExpression:       aws.String(cond.expr),
		ExpressionAttributeNames:  cond.names,
		ExpressionAttributeValues: cond.values,
	}}, onFail: onFail}, nil
}

// releaseIdentity deletes the uniqueness item held by contactID (delete), so the identity
// can be connected to another contact afterwards.
func (s *Store) releaseIdentity(tenant tenant.ID, ch Channel, contactID ID) txItem {
	return txItem{write: types.TransactWriteItem{Delete: &types.Delete{
		TableName:                 aws.String(s.Table),
		Key:                       key(IdentityPK(tenant, ch.Channel, ch.ExternalID)),
		ConditionExpression:       aws.String("contactId = :c"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": str(string(contactID))},
	}}, onFail: errChanged}
}

// transact writes items in one transaction. A failed condition becomes the onFail error of
// the first item that failed (errIdempotent wins over the others, so a twin's retry is
// answered with the twin's response); a transaction conflict is contact_changed; throttling
// is fault.Throttled.
func (s *Store) transact(ctx context.Context, what string, items []txItem) error {
	if len(items) > MaxTransactItems {
		return fmt.Errorf("%s: %d writes exceed the transaction limit of %d", what, len(items), MaxTransactItems)
	}
	in := &dynamodb.TransactWriteItemsInput{TransactItems: make([]types.TransactWriteItem, len(items))}
	for i, it := range items {
		in.TransactItems[i] = it.write
	}
	_, err := s.DB.TransactWriteItems(ctx, in)
	if err == nil {
		return nil
	}
	// The first item whose condition failed says what the failure means; the idempotency
	// record's slot wins.
	var first error
	for i, code := range ddb.Reasons(err) {
		if i >= len(items) || code != ddb.ReasonConditionFailed {
			continue
		}
		if items[i].onFail == errIdempotent {
			return errIdempotent
		}
		if first == nil {
			first = items[i].onFail
		}
	}
	return ddb.Translate(what, err, ddb.Meaning{Failed: first, Conflict: errChanged})
}

// ListByStatus reads one page of a tenant's contacts in status, newest first.
func (s *Store) ListByStatus(ctx context.Context, tenant tenant.ID, status string, limit int, start map[string]types.AttributeValue) ([]Contact, map[string]types.AttributeValue, error) {
	out, err := s.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		IndexName:                 aws.String(IndexByStatus),
		KeyConditionExpression:    aws.String("statusKey = :k"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":k": str(StatusKey(tenant, status))},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit)),
		ExclusiveStartKey:         start,
	})
	if err != nil {
		return nil, nil, ddb.Translate(fmt.Sprintf("list %s contacts", status), err, ddb.Meaning{Conflict: errChanged})
	}
	cs := make([]Contact, 0, len(out.Items))
	for _, item := range out.Items {
		var c Contact
		if err := attributevalue.UnmarshalMap(item, &c); err != nil {
			return nil, nil, fmt.Errorf("decode contact: %w", err)
		}
		cs = append(cs, c)
	}
	return cs, out.LastEvaluatedKey, nil
}

func key(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str(pk)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
