// Package idempotency makes POST, PATCH and DELETE safe to retry: the first response to an
// Idempotency-Key is stored (in the contacts table, with a 24 h TTL) in the same transaction
// as the action it answers, and a retry with the same key, method, path and body gets that
// response back without acting again. A key names one request of the tenant: the same key
// with another body, method or path (another route, another contact) is 409
// idempotency_key_reused.
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	resp := events.APIGatewayV2HTTPResponse{StatusCode: rec.Status, Body: rec.Body, Headers: rec.Headers}
	if resp.Headers == nil {
		resp.Headers = map[string]string{}
	}
	resp.Headers["idempotent-replayed"] = "true"
	return &resp, nil
}

// PutTx returns the transaction item that stores resp as the answer to c. It fails the
// transaction when a live record for the key exists (a concurrent twin won): the caller then
// calls Replay to answer with the twin's response.
func (s *Store) PutTx(c *Call, resp events.APIGatewayV2HTTPResponse) (types.TransactWriteItem, error) {
	put, err := s.put(c, resp)
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
	put, err := s.put(c, resp)
	if err != nil {
		return err
	}
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: put.TableName, Item: put.Item, ConditionExpression: put.ConditionExpression,
		ExpressionAttributeValues: put.ExpressionAttributeValues,
	})
	return ddb.Translate("store idempotency record", err, ddb.Meaning{Failed: errKeyInUse})
}

func (s *Store) put(c *Call, resp events.APIGatewayV2HTTPResponse) (*types.Put, error) {
	now := s.Clock()
	item, err := attributevalue.MarshalMap(record{
		PK: c.PK, Hash: c.Hash, Status: resp.StatusCode, Body: resp.Body, Headers: resp.Headers,
		CreatedAt: now.UTC().Format(time.RFC3339Nano), ExpiresAt: now.Add(Window).Unix(),
	})
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
