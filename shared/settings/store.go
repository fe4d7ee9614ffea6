package settings

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/contrail/contrail/shared/ddb"
	"github.com/contrail/contrail/shared/tenant"
)

// DB is the part of the DynamoDB client the store uses.
type DB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ DB = (*dynamodb.Client)(nil)

// Store reads and writes the settings items of the contacts table.
type Store struct {
	DB    DB
	Table string
}

func key(tenant tenant.ID) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: PK(tenant)}}
}

// Get returns the tenant's settings: the stored item with defaults for what it lacks, or, when
// the tenant never saved any, the defaults at version 0. The read is strongly consistent, so a
// change is in force for the next request.
func (st *Store) Get(ctx context.Context, tenant tenant.ID) (*Stored, error) {
	out, err := st.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(st.Table), Key: key(tenant), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, ddb.Translate("read settings", err, ddb.Meaning{})
	}
	s := &Stored{PK: PK(tenant), ItemType: itemSettings, TenantID: tenant}
	if out.Item != nil {
		if err := attributevalue.UnmarshalMap(out.Item, s); err != nil {
			return nil, fmt.Errorf("decode settings of %s: %w", tenant, err)
		}
	}
	s.Settings = s.Settings.withDefaults()
	return s, nil
}

// PutTx returns the transaction item that writes next if the stored settings are still at
// version prev (0: none stored yet). Its condition fails when another change was saved since.
func (st *Store) PutTx(next *Stored, prev int64) (types.TransactWriteItem, error) {
	next.PK, next.ItemType = PK(next.TenantID), itemSettings
	item, err := attributevalue.MarshalMap(next)
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("encode settings of %s: %w", next.TenantID, err)
	}
	put := &types.Put{TableName: aws.String(st.Table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}
	if prev > 0 {
		put.ConditionExpression = aws.String("version = :prev")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": &types.AttributeValueMemberN{Value: strconv.FormatInt(prev, 10)}}
	}
	return types.TransactWriteItem{Put: put}, nil
}
