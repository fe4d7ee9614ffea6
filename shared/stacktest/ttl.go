package stacktest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// WithoutTTL turns TTL deletion off on the named tables. A test whose clock is fixed in
// the past writes expiresAt values the wall clock has already passed (or soon will), and
// DynamoDB Local deletes such items within seconds, under the test's feet.
func WithoutTTL(t testing.TB, tables ...string) {
	t.Helper()
	db := DynamoDB(t)
	for _, name := range tables {
		_, err := db.UpdateTimeToLive(context.Background(), &dynamodb.UpdateTimeToLiveInput{
			TableName:               aws.String(name),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("expiresAt"), Enabled: aws.Bool(false)},
		})
		if err != nil {
			t.Fatalf("turn TTL off on %s: %v", name, err)
		}
	}
}
