// Package ddbtest makes the DynamoDB errors DynamoDB Local cannot be made to return on
// demand (a transaction cancelled for given reasons), for tests of the code that
// translates them (shared/ddb and the stores).
package ddbtest

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Canceled is DynamoDB's answer to a transaction cancelled with one reason code per item,
// in the order of the items ("None" for an item that did not fail).
func Canceled(codes ...string) error {
	reasons := make([]types.CancellationReason, len(codes))
	for i, c := range codes {
		reasons[i] = types.CancellationReason{Code: aws.String(c)}
	}
	return &types.TransactionCanceledException{Message: aws.String("canceled"), CancellationReasons: reasons}
}
