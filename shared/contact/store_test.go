package contact

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/contrail/contrail/local/ddbtest"
	"github.com/contrail/contrail/shared/fault"
)

// failingDB answers every call with err: DynamoDB Local cannot be made to throttle, so the
// store's translation of throttling and cancellation reasons is checked against the SDK's
// own error types here.
type failingDB struct{ err error }

func (f failingDB) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return nil, f.err
}
func (f failingDB) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return nil, f.err
}
func (f failingDB) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return nil, f.err
}

func TestTransactTranslatesErrors(t *testing.T) {
	taken := fault.New(fault.Conflict, "channel_identity_taken", "taken")
	items := []txItem{{onFail: errChanged}, {onFail: taken}, {onFail: errors.New("event exists")}, {onFail: errIdempotent}}
	for _, tc := range []struct {
		name     string
		err      error
		wantCode string // fault code, or "" for the sentinel/plain error below
		want     error
	}{
		{"version condition", ddbtest.Canceled("ConditionalCheckFailed", "None", "None", "None"), "contact_changed", nil},
		{"identity condition", ddbtest.Canceled("None", "ConditionalCheckFailed", "None", "None"), "channel_identity_taken", nil},
		{"idempotency record wins", ddbtest.Canceled("ConditionalCheckFailed", "None", "None", "ConditionalCheckFailed"), "", errIdempotent},
		{"transaction conflict", ddbtest.Canceled("None", "TransactionConflict", "None", "None"), "contact_changed", nil},
		{"throttled item", ddbtest.Canceled("None", "None", "ThrottlingError", "None"), "throttled", nil},
		{"throttled request", &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}, "throttled", nil},
		{"request limit", &smithy.GenericAPIError{Code: "RequestLimitExceeded", Message: "limit"}, "throttled", nil},
		{"throttling exception", &smithy.GenericAPIError{Code: "ThrottlingException", Message: "rate"}, "throttled", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Store{DB: failingDB{tc.err}, Table: "contacts"}
			err := s.transact(context.Background(), "test", items)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
				return
			}
			fe := fault.As(err)
			if fe == nil || fe.Code != tc.wantCode {
				t.Fatalf("got %v, want fault %s", err, tc.wantCode)
			}
			if tc.wantCode == "throttled" && fe.Kind != fault.Throttled {
				t.Fatalf("kind %v, want Throttled", fe.Kind)
			}
		})
	}
	t.Run("other errors are wrapped with what was done", func(t *testing.T) {
		s := &Store{DB: failingDB{errors.New("connection reset")}, Table: "contacts"}
		err := s.transact(context.Background(), "archive contact X", items)
		if err == nil || err.Error() != "archive contact X: connection reset" || fault.As(err) != nil {
			t.Fatalf("got %v", err)
		}
		_, _, err = s.Get(context.Background(), "acme", "X")
		if err == nil || err.Error() != "get contact X: connection reset" {
			t.Fatalf("get: %v", err)
		}
	})
	t.Run("too many writes", func(t *testing.T) {
		s := &Store{DB: failingDB{}, Table: "contacts"}
		err := s.transact(context.Background(), "merge", make([]txItem, MaxTransactItems+1))
		if err == nil || err.Error() != "merge: 101 writes exceed the transaction limit of 100" {
			t.Fatalf("got %v", err)
		}
	})
}
