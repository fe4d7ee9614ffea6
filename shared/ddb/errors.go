// Package ddb translates DynamoDB's errors into outcomes, once: a failed condition becomes
// what the caller's condition meant ("already exists", "changed meanwhile"), throttling
// becomes the one Throttled fault (code throttled: try again), anything else is wrapped
// with the operation that failed. Stores call it; nothing else looks at AWS error types.
package ddb

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/contrail/contrail/shared/fault"
)

// ThrottledCode is the one code of a throttled request (503).
const ThrottledCode = "throttled"

// Cancellation reason codes of a cancelled transaction's items.
const (
	ReasonNone            = "None"
	ReasonConditionFailed = "ConditionalCheckFailed"
	ReasonConflict        = "TransactionConflict"
)

// Meaning is what a caller's conditions mean when DynamoDB refuses a write.
type Meaning struct {
	// Failed is what a failed condition means (ConditionalCheckFailedException, or a
	// transaction cancelled by one): "exists already", "changed meanwhile". Nil: the
	// failure is unexpected and is wrapped like any other error.
	Failed error
	// Conflict is what a transaction conflict means (another transaction was writing the
	// same items). Nil: try again, as for throttling.
	Conflict error
}

type outcome int

const (
	other outcome = iota
	conditionFailed
	conflict
	throttling
)

// Throttled returns the one answer to throttling, caused by err.
func Throttled(err error) *fault.Error {
	return &fault.Error{Kind: fault.Throttled, Code: ThrottledCode, Message: "The service is busy; retry in a moment.", Err: err}
}

// Translate returns err, the error of DynamoDB operation op, as one outcome:
//   - nil stays nil;
//   - a failed condition becomes m.Failed;
//   - a transaction conflict becomes m.Conflict, or Throttled when that is nil;
//   - throttling (ProvisionedThroughputExceeded, RequestLimitExceeded, ThrottlingException,
//     TransactionInProgress, or a transaction cancelled for one of them) becomes Throttled;
//   - anything else is wrapped as "op: err" (an internal error).
//
// A *fault.Error meaning is returned as a copy caused by err; any other meaning is wrapped
// as "op: meaning", so errors.Is finds it. A transaction cancelled for several reasons is a
// failed condition first, then a conflict, then throttling.
func Translate(op string, err error, m Meaning) error {
	switch classify(err) {
	case conditionFailed:
		if m.Failed != nil {
			return mean(op, m.Failed, err)
		}
	case conflict:
		if m.Conflict != nil {
			return mean(op, m.Conflict, err)
		}
		return Throttled(err)
	case throttling:
		return Throttled(err)
	}
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, err)
}

func mean(op string, meaning, cause error) error {
	if fe, ok := meaning.(*fault.Error); ok {
		c := *fe
		if c.Err == nil {
			c.Err = cause
		}
		return &c
	}
	return fmt.Errorf("%s: %w", op, meaning)
}

// ConditionFailed reports whether err is a failed condition: a ConditionalCheckFailedException
// or a transaction cancelled by one of its items' conditions.
func ConditionFailed(err error) bool { return classify(err) == conditionFailed }

// ConditionFailedAt reports whether err is a transaction cancelled by the condition of its
// item i.
func ConditionFailedAt(err error, i int) bool {
	r := Reasons(err)
	return i >= 0 && i < len(r) && r[i] == ReasonConditionFailed
}

// Reasons returns the cancellation reason code of each item of a cancelled transaction
// (ReasonNone, or "", for an item that did not fail), or nil when err is not one.
func Reasons(err error) []string {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil
	}
	codes := make([]string, len(tce.CancellationReasons))
	for i, r := range tce.CancellationReasons {
		codes[i] = aws.ToString(r.Code)
	}
	return codes
}

// Transient reports whether an item cancelled for reason may succeed when sent again: it
// did not fail (it was cancelled for another item), was throttled or met a conflicting
// transaction.
func Transient(reason string) bool {
	switch reason {
	case "", ReasonNone, ReasonConflict:
		return true
	}
	return isThrottlingReason(reason)
}

func isThrottlingReason(reason string) bool {
	switch reason {
	case "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
		return true
	}
	return false
}

func classify(err error) outcome {
	if err == nil {
		return other
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return conditionFailed
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		out := other
		for _, r := range tce.CancellationReasons {
			switch code := aws.ToString(r.Code); {
			case code == ReasonConditionFailed:
				return conditionFailed
			case code == ReasonConflict:
				out = conflict
			case isThrottlingReason(code) && out == other:
				out = throttling
			}
		}
		return out
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ConditionalCheckFailedException":
			return conditionFailed
		case "TransactionConflictException":
			return conflict
		case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
			"TransactionInProgressException":
			return throttling
		}
	}
	return other
}
