package streams

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/contrail/contrail/shared/onfailure"
)

// Destinations receives the on-failure records of mappings that name an on-failure
// destination (a queue's logical id): what Lambda sends there for a batch that exhausted
// its retries. local/queues is the local one.
type Destinations interface {
	Send(ctx context.Context, destination string, body []byte) error
}

// newFailureRecord describes batch, which failed invokes times (the last with err; nil
// means it reported batch item failures), as Lambda's on-failure record does.
func newFailureRecord(function, streamARN, shardID string, batch []Record, invokes int, err error, now time.Time) ([]byte, error) {
	var f onfailure.Record
	var id [16]byte
	_, _ = rand.Read(id[:])
	f.RequestContext.RequestID = hex.EncodeToString(id[:])
	f.RequestContext.FunctionArn = "arn:aws:lambda:us-east-1:000000000000:function:" + function
	f.RequestContext.Condition = "RetryAttemptsExhausted"
	f.RequestContext.ApproximateInvokeCount = invokes
	f.ResponseContext.StatusCode = 200
	f.ResponseContext.ExecutedVersion = "$LATEST"
	if err != nil {
		f.ResponseContext.FunctionError = "Unhandled"
	}
	f.Version, f.Timestamp = "1.0", now.UTC().Format("2006-01-02T15:04:05.000Z")
	first, last := batch[0].DynamoDB, batch[len(batch)-1].DynamoDB
	arrival := func(sec int64) string { return time.Unix(sec, 0).UTC().Format(time.RFC3339) }
	f.DDBStreamBatchInfo = &onfailure.BatchInfo{
		ShardID: shardID, StartSequenceNumber: first.SequenceNumber, EndSequenceNumber: last.SequenceNumber,
		ApproximateArrivalOfFirstRecord: arrival(first.ApproximateCreationDateTime),
		ApproximateArrivalOfLastRecord:  arrival(last.ApproximateCreationDateTime),
		BatchSize:                       len(batch), StreamArn: streamARN,
	}
	b, mErr := json.Marshal(f)
	if mErr != nil {
		return nil, fmt.Errorf("encode on-failure record: %w", mErr)
	}
	return b, nil
}

// exhausted hands a batch that used up its retries to the mapping's on-failure destination,
// or drops it with an error line when there is none.
func (r *runner) exhausted(ctx context.Context, shardID string, batch []Record, invokes int, err error) {
	log := r.log.With("shard", shardID, "first_sequence_number", batch[0].DynamoDB.SequenceNumber,
		"last_sequence_number", batch[len(batch)-1].DynamoDB.SequenceNumber, "records", len(batch), "attempts", invokes, "error", errString(err))
	if r.m.OnFailure == "" || r.cfg.Destinations == nil {
		log.Error("stream records dropped after retries (no on-failure destination)")
		return
	}
	body, ferr := newFailureRecord(r.m.Function, r.arn, shardID, batch, invokes, err, time.Now())
	if ferr == nil {
		ferr = r.cfg.Destinations.Send(ctx, r.m.OnFailure, body)
	}
	if ferr != nil {
		log.Error("stream records dropped after retries: the on-failure destination failed", "destination", r.m.OnFailure, "destination_error", ferr.Error())
		return
	}
	log.Error("stream records sent to the on-failure destination after retries", "destination", r.m.OnFailure)
}
