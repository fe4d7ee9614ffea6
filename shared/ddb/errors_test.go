package ddb

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/contrail/contrail/local/ddbtest"
	"github.com/contrail/contrail/shared/fault"
)

func TestTranslate(t *testing.T) {
	exists := fault.New(fault.Conflict, "thing_exists", "A thing with this id exists already.")
	changed := errors.New("changed meanwhile")
	conflicted := fault.New(fault.Conflict, "thing_changed", "The thing changed; reload it.")
	reset := errors.New("connection reset")
	// want: a fault code, or a sentinel (errors.Is), or "op: cause" text for an internal error.
	for _, tc := range []struct {
		name     string
		err      error
		m        Meaning
		wantCode string
		wantKind fault.Kind
		wantIs   error
		wantText string
	}{
		{name: "nil", err: nil, m: Meaning{Failed: exists}},
		{name: "condition, fault meaning", err: &types.ConditionalCheckFailedException{Message: aws.String("cond")}, m: Meaning{Failed: exists}, wantCode: "thing_exists", wantKind: fault.Conflict},
		{name: "condition, sentinel meaning", err: &types.ConditionalCheckFailedException{Message: aws.String("cond")}, m: Meaning{Failed: changed}, wantIs: changed, wantText: "put thing: changed meanwhile"},
		{name: "condition, no meaning", err: &types.ConditionalCheckFailedException{Message: aws.String("cond")}, wantText: "put thing: ConditionalCheckFailedException: cond"},
		{name: "condition by API code", err: &smithy.GenericAPIError{Code: "ConditionalCheckFailedException"}, m: Meaning{Failed: exists}, wantCode: "thing_exists", wantKind: fault.Conflict},
		{name: "wrapped condition", err: fmt.Errorf("deeper: %w", &types.ConditionalCheckFailedException{}), m: Meaning{Failed: exists}, wantCode: "thing_exists", wantKind: fault.Conflict},
		{name: "cancelled: condition", err: ddbtest.Canceled("None", "ConditionalCheckFailed"), m: Meaning{Failed: exists}, wantCode: "thing_exists", wantKind: fault.Conflict},
		{name: "cancelled: condition wins over conflict and throttling", err: ddbtest.Canceled("ThrottlingError", "TransactionConflict", "ConditionalCheckFailed"), m: Meaning{Failed: exists}, wantCode: "thing_exists", wantKind: fault.Conflict},
		{name: "cancelled: conflict, no meaning", err: ddbtest.Canceled("None", "TransactionConflict"), m: Meaning{Failed: exists}, wantCode: ThrottledCode, wantKind: fault.Throttled},
		{name: "cancelled: conflict, meaning", err: ddbtest.Canceled("TransactionConflict", "None"), m: Meaning{Failed: exists, Conflict: conflicted}, wantCode: "thing_changed", wantKind: fault.Conflict},
		{name: "cancelled: conflict wins over throttling", err: ddbtest.Canceled("ThrottlingError", "TransactionConflict"), m: Meaning{Conflict: conflicted}, wantCode: "thing_changed", wantKind: fault.Conflict},
		{name: "cancelled: throttling error", err: ddbtest.Canceled("None", "ThrottlingError"), wantCode: ThrottledCode, wantKind: fault.Throttled},
		{name: "cancelled: provisioned throughput", err: ddbtest.Canceled("ProvisionedThroughputExceeded"), wantCode: ThrottledCode, wantKind: fault.Throttled},
		{name: "cancelled: request limit", err: ddbtest.Canceled("RequestLimitExceeded", "None"), wantCode: ThrottledCode, wantKind: fault.Throttled},
		{name: "cancelled: validation", err: ddbtest.Canceled("ValidationError", "None"), m: Meaning{Failed: exists}, wantText: "put thing: TransactionCanceledException: canceled"},
		{name: "cancelled: no reasons", err: ddbtest.Canceled(), m: Meaning{Failed: exists}, wantText: "put thing: TransactionCanceledException: canceled"},
		{name: "provisioned throughput exceeded", err: &types.ProvisionedThroughputExceededException{Message: aws.String("slow")}, wantCode: ThrottledCode, wantKind: fault.Throttled},
		{name: "request limit exceeded", err: &types.RequestLimitExceeded{Message: aws.String("limit")}, wantCode: ThrottledCode, wantKind: fault.Throttled},
		{name: "throttling exception", err: &smithy.GenericAPIError{Code: "ThrottlingException", Message: "rate"}, wantCode: ThrottledCode, wantKind: fault.Throttled},
		{name: "transaction in progress", err: &types.TransactionInProgressException{Message: aws.String("busy")}, wantCode: ThrottledCode, wantKind: fault.Throttled},
		{name: "wrapped throttling", err: fmt.Errorf("operation error DynamoDB: %w", &types.ProvisionedThroughputExceededException{}), wantCode: ThrottledCode, wantKind: fault.Throttled},
		{name: "transaction conflict exception", err: &types.TransactionConflictException{Message: aws.String("tx")}, m: Meaning{Conflict: conflicted}, wantCode: "thing_changed", wantKind: fault.Conflict},
		{name: "transaction conflict exception, no meaning", err: &types.TransactionConflictException{Message: aws.String("tx")}, wantCode: ThrottledCode, wantKind: fault.Throttled},
		{name: "resource not found", err: &types.ResourceNotFoundException{Message: aws.String("no table")}, m: Meaning{Failed: exists}, wantText: "put thing: ResourceNotFoundException: no table"},
		{name: "plain error", err: reset, m: Meaning{Failed: exists}, wantIs: reset, wantText: "put thing: connection reset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Translate("put thing", tc.err, tc.m)
			if tc.err == nil {
				if got != nil {
					t.Fatalf("got %v, want nil", got)
				}
				return
			}
			if got == nil {
				t.Fatal("got nil")
			}
			fe := fault.As(got)
			if tc.wantCode != "" {
				if fe == nil || fe.Code != tc.wantCode || fe.Kind != tc.wantKind {
					t.Fatalf("got %v, want fault %s of kind %v", got, tc.wantCode, tc.wantKind)
				}
				if !errors.Is(got, tc.err) {
					t.Fatalf("%v does not wrap its cause %v", got, tc.err)
				}
				return
			}
			if fe != nil {
				t.Fatalf("got fault %v, want an internal error", got)
			}
			if tc.wantIs != nil && !errors.Is(got, tc.wantIs) {
				t.Fatalf("got %v, want it to wrap %v", got, tc.wantIs)
			}
			if got.Error() != tc.wantText {
				t.Fatalf("got %q, want %q", got.Error(), tc.wantText)
			}
		})
	}
}

func TestTranslateKeepsMeaningUnchanged(t *testing.T) {
	exists := fault.New(fault.Conflict, "thing_exists", "exists")
	_ = Translate("op", &types.ConditionalCheckFailedException{}, Meaning{Failed: exists})
	if exists.Err != nil {
		t.Fatalf("the shared meaning was changed: %v", exists.Err)
	}
}

func TestConditionFailed(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
		at   []int // items whose condition failed
	}{
		{"nil", nil, false, nil},
		{"exception", &types.ConditionalCheckFailedException{}, true, nil},
		{"wrapped exception", fmt.Errorf("x: %w", &types.ConditionalCheckFailedException{}), true, nil},
		{"cancelled by item 1", ddbtest.Canceled("None", "ConditionalCheckFailed", "None"), true, []int{1}},
		{"cancelled by items 0 and 2", ddbtest.Canceled("ConditionalCheckFailed", "None", "ConditionalCheckFailed"), true, []int{0, 2}},
		{"cancelled by throttling", ddbtest.Canceled("None", "ThrottlingError"), false, nil},
		{"throttled", &types.ProvisionedThroughputExceededException{}, false, nil},
		{"other", errors.New("boom"), false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ConditionFailed(tc.err); got != tc.want {
				t.Fatalf("ConditionFailed = %v, want %v", got, tc.want)
			}
			for i := -1; i < 4; i++ {
				want := false
				for _, j := range tc.at {
					want = want || i == j
				}
				if got := ConditionFailedAt(tc.err, i); got != want {
					t.Fatalf("ConditionFailedAt(%d) = %v, want %v", i, got, want)
				}
			}
		})
	}
}

func TestReasonsAndTransient(t *testing.T) {
	if r := Reasons(errors.New("x")); r != nil {
		t.Fatalf("Reasons of a plain error = %v", r)
	}
	r := Reasons(fmt.Errorf("w: %w", ddbtest.Canceled("None", "ConditionalCheckFailed", "ThrottlingError", "TransactionConflict", "ProvisionedThroughputExceeded", "RequestLimitExceeded", "ValidationError", "ItemCollectionSizeLimitExceeded", "")))
	want := []bool{true, false, true, true, true, true, false, false, true}
	if len(r) != len(want) {
		t.Fatalf("Reasons = %v", r)
	}
	for i, code := range r {
		if Transient(code) != want[i] {
			t.Errorf("Transient(%q) = %v, want %v", code, !want[i], want[i])
		}
	}
}
