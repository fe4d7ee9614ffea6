// Package idempotency makes POST, PATCH and DELETE safe to retry: the first response to an
// Idempotency-Key is stored (in the contacts table, with a 24 h TTL) in the same transaction
// as the action it answers, and a retry with the same key, method, path and body gets that
// response back without acting again. A key names one request of the tenant: the same key
// with another body, method or path (another route, another contact) is 409
// idempotency_key_reused.
//
// A response about a contact (the contact routes) is stored sealed under the contact's data
// key (PutSealedTx), bound to its record: erasing the contact destroys the key, so the record
// holds nothing readable of the contact from then on, whatever TTL deletion's lag, and a
// replay of it is an ErasedError (the contact routes answer their 404 contact_not_found).
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/contrail/contrail/shared/ddb"
	"github.com/contrail/contrail/shared/fault"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/pii"
	"github.com/contrail/contrail/shared/tenant"
)

// Window is how long a key is remembered.
const Window = 24 * time.Hour

// DB is the part of the DynamoDB client the store uses.
type DB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

var _ DB = (*dynamodb.Client)(nil)

// Store keeps idempotency records in table (the contacts table).
type Store struct {
	DB    DB
	Table string
	Clock ident.Clock
	// Keyring opens the responses stored sealed for a contact (PutSealedTx) when they are
	// replayed; nil = replaying one is an error.
	Keyring *pii.Keyring
}

// BodyField is the field a sealed response body is bound to (with the record's key as the
// event id): pii.DataKey.Seal(pk, BodyField, body).
const BodyField = "idempotency.body"

// ErasedError is Replay's answer for a stored response about a contact that was erased
// since: the response is unreadable (its key is destroyed). The caller answers as it does
// for the erased contact.
type ErasedError struct{ Contact pii.ContactID }

func (e *ErasedError) Error() string {
	return fmt.Sprintf("the stored response is about contact %s, erased since", e.Contact)
}

// Call is one request that carries an Idempotency-Key.
type Call struct {
	PK   string // T#<tenant>#IDEM#<key>: one record per tenant and key, whatever the route
	Hash string // of method, path and body
}

type record struct {
	PK        string            `dynamodbav:"pk"`
	Hash      string            `dynamodbav:"hash"`
	Status    int               `dynamodbav:"status"`
	Body      string            `dynamodbav:"body"`
	Headers   map[string]string `dynamodbav:"headers,omitempty"`
	CreatedAt string            `dynamodbav:"createdAt"`
	ExpiresAt int64             `dynamodbav:"expiresAt"`
	// With a body sealed for a contact (PutSealedTx): the tenant and contact of its data key.
	Tenant  string `dynamodbav:"tenantId,omitempty"`
	Contact string `dynamodbav:"contactId,omitempty"`
}

// Begin reads the Idempotency-Key of r. It returns nil when the request has none, and a
// 400 when the key is not 1-128 characters.
func Begin(r *httpapi.Request, body []byte) (*Call, error) {
	key, present := r.LookupHeader("Idempotency-Key")
	if !present {
		return nil, nil
	}
	if len(key) < 1 || len(key) > 128 {
		return nil, fault.InvalidFields("invalid_idempotency_key", "Send an Idempotency-Key of 1 to 128 characters.",
			map[string]string{"Idempotency-Key": "must be 1 to 128 characters"})
	}
	h := sha256.New()
	for _, part := range [][]byte{[]byte(r.Event.RequestContext.HTTP.Method), []byte(r.Event.RawPath), body} {
		h.Write([]byte(strconv.Itoa(len(part))))
		h.Write([]byte{':'})
		h.Write(part)
	}
	return &Call{
		// Not per route: a key reused on another route must find the first request's
		// record, whose hash (method, path, body) then differs: 409, nothing done.
		PK:   "T#" + r.TenantID.String() + "#IDEM#" + key,
		Hash: hex.EncodeToString(h.Sum(nil)),
	}, nil
}

// Start reads the Idempotency-Key of r (Begin) and the stored answer to an earlier request
// with that key (Replay): replayed is that answer, nil for a new key or no key (call is then
// nil). The same key with a different request is a 409.
func (s *Store) Start(ctx context.Context, r *httpapi.Request, body []byte) (call *Call, replayed *events.APIGatewayV2HTTPResponse, err error) {
	if call, err = Begin(r, body); err != nil {
		return nil, nil, err
	}
	if replayed, err = s.Replay(ctx, call); err != nil {
		return nil, nil, err
	}
	return call, replayed, nil
}

// Replay returns the stored response for c, or nil when the key is new (or expired).
// The same key with a different request is a 409.
func (s *Store) Replay(ctx context.Context, c *Call) (*events.APIGatewayV2HTTPResponse, error) {
	if c == nil {
		return nil, nil
	}
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.Table),
		Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: c.PK}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("read idempotency record: %w", err)
	}
	if out.Item == nil {
		return nil, nil
	}
	var rec record
	if err := attributevalue.UnmarshalMap(out.Item, &rec); err != nil {
		return nil, fmt.Errorf("decode idempotency record: %w", err)
	}
	if rec.ExpiresAt <= s.Clock().Unix() {
		return nil, nil
	}
	if rec.Hash != c.Hash {
		return nil, fault.New(fault.Conflict, "idempotency_key_reused",
			"This Idempotency-Key was used for a different request in the last 24 hours; use a new key.")
	}
	body, err := s.open(ctx, c, &rec)
	if err != nil {
		return nil, err
	}
	resp := events.APIGatewayV2HTTPResponse{StatusCode: rec.Status, Body: body, Headers: rec.Headers}
	if resp.Headers == nil {
		resp.Headers = map[string]string{}
	}
	resp.Headers["idempotent-replayed"] = "true"
	return &resp, nil
}

// open returns the body of rec: as stored, or opened when it is sealed for a contact; an
// ErasedError when that contact was erased.
func (s *Store) open(ctx context.Context, c *Call, rec *record) (string, error) {
	if rec.Contact == "" {
		return rec.Body, nil
	}
	if s.Keyring == nil {
		return "", errors.New("replay a response sealed for a contact: no personal-data keyring configured")
	}
	v := []pii.Value{{Tenant: tenant.ID(rec.Tenant), ContactID: rec.Contact, EventID: c.PK, Field: BodyField, V: rec.Body}}
	if err := s.Keyring.NewCache().OpenValues(ctx, v); err != nil {
		return "", fmt.Errorf("replay the stored response: %w", err)
	}
	body, ok := v[0].V.(string)
	switch {
	case !ok || pii.IsSealed(body):
		return "", fmt.Errorf("replay the stored response: it did not open to a body (%T)", v[0].V)
	case body == pii.Erased:
		return "", &ErasedError{Contact: pii.ContactID(rec.Contact)}
	}
	return body, nil
}

// PutTx returns the transaction item that stores resp as the answer to c. It fails the
// transaction when a live record for the key exists (a concurrent twin won): the caller then
// calls Replay to answer with the twin's response.
func (s *Store) PutTx(c *Call, resp events.APIGatewayV2HTTPResponse) (types.TransactWriteItem, error) {
	put, err := s.put(c, resp, pii.DataKey{})
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: put}, nil
}

// PutSealedTx is PutTx for a response about one contact: its body is stored sealed under
// key, the contact's data key, bound to the record (tenant, contact, record key, BodyField).
// Erasing the contact leaves the record unreadable; Replay then answers an ErasedError.
func (s *Store) PutSealedTx(c *Call, resp events.APIGatewayV2HTTPResponse, key pii.DataKey) (types.TransactWriteItem, error) {
	if key.Contact == "" {
		return types.TransactWriteItem{}, errors.New("store idempotency record: no data key to seal it under")
	}
	put, err := s.put(c, resp, key)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: put}, nil
}

// errKeyInUse is what a failed condition on Save means: a live record exists already.
var errKeyInUse = fault.New(fault.Conflict, "idempotency_key_in_use", "A request with this Idempotency-Key is being processed; retry in a moment.")

// Save stores resp for c outside a transaction (for writers that cannot use one). It
// returns a Conflict fault when a live record exists already.
func (s *Store) Save(ctx context.Context, c *Call, resp events.APIGatewayV2HTTPResponse) error {
	put, err := s.put(c, resp, pii.DataKey{})
	if err != nil {
		return err
	}
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: put.TableName, Item: put.Item, ConditionExpression: put.ConditionExpression,
		ExpressionAttributeValues: put.ExpressionAttributeValues,
	})
	return ddb.Translate("store idempotency record", err, ddb.Meaning{Failed: errKeyInUse})
}

// put is the conditional Put of c's record; with a data key (not the zero one) its body is
// sealed under it.
func (s *Store) put(c *Call, resp events.APIGatewayV2HTTPResponse, key pii.DataKey) (*types.Put, error) {
	now := s.Clock()
	rec := record{
		PK: c.PK, Hash: c.Hash, Status: resp.StatusCode, Body: resp.Body, Headers: resp.Headers,
		CreatedAt: now.UTC().Format(time.RFC3339Nano), ExpiresAt: now.Add(Window).Unix(),
	}
	if key.Contact != "" {
		sealed, err := key.Seal(c.PK, BodyField, resp.Body)
		if err != nil {
			return nil, fmt.Errorf("store idempotency record: %w", err)
		}
		rec.Body, rec.Tenant, rec.Contact = sealed, string(key.Tenant), string(key.Contact)
	}
	item, err := attributevalue.MarshalMap(rec)
	if err != nil {
		return nil, fmt.Errorf("encode idempotency record: %w", err)
	}
	return &types.Put{
		TableName:           aws.String(s.Table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk) OR expiresAt <= :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)},
		},
	}, nil
}
