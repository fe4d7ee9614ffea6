package devstack

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/contrail/contrail/local/emulator"
	"github.com/contrail/contrail/local/stacktest"
)

// TestDynamoDBErrorsWithoutChecksumWarnings: the functions of make run keep the SDK's
// response checksum validation on; DynamoDB Local's error responses must not make it warn.
func TestDynamoDBErrorsWithoutChecksumWarnings(t *testing.T) {
	front, err := startDynamoDBFront(stacktest.DynamoDBEndpoint(t), "127.0.0.1", 0, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer front.Close()
	table := stacktest.Tables(t)["ContactsTable"]
	sdk := &emulator.SDKLog{}
	cfg := emulator.Config(front.Endpoint)
	cfg.Logger = sdk
	db := dynamodb.NewFromConfig(cfg) // validation on, as in a function
	ctx := context.Background()

	item := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "c1"}}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatal(err)
	}
	_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Errorf("conditional put of an existing item = %v, want ConditionalCheckFailedException", err)
	}
	_, err = db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("no-such-table"), Key: item})
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Errorf("get from a missing table = %v, want ResourceNotFoundException", err)
	}
	if _, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: item}); err != nil {
		t.Fatal(err)
	}
	if l := sdk.String(); l != "" {
		t.Errorf("the SDK logged:\n%s", l)
	}
}
