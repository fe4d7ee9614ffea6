package onfailure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// Streams is the part of the DynamoDB Streams API a replay reads with.
type Streams interface {
	GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

var _ Streams = (*dynamodbstreams.Client)(nil)

// ErrTrimmed says the stream no longer holds the range (it keeps records 24 hours): reading
// it again will never succeed.
var ErrTrimmed = errors.New("the stream no longer holds these records (it keeps 24 hours)")

// Parse reads the on-failure record Lambda sends to the destination queue.
func Parse(body string) (BatchInfo, error) {
	var rec Record
	if err := json.Unmarshal([]byte(body), &rec); err != nil {
		return BatchInfo{}, fmt.Errorf("read on-failure record: %w", err)
	}
	if rec.DDBStreamBatchInfo == nil {
		return BatchInfo{}, errors.New("read on-failure record: no DDBStreamBatchInfo (not a DynamoDB stream failure)")
	}
	info := *rec.DDBStreamBatchInfo
	var missing []string
	for name, v := range map[string]string{"shardId": info.ShardID, "startSequenceNumber": info.StartSequenceNumber,
		"endSequenceNumber": info.EndSequenceNumber, "streamArn": info.StreamArn} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return BatchInfo{}, fmt.Errorf("read on-failure record: DDBStreamBatchInfo lacks %s", strings.Join(missing, ", "))
	}
	start, ok1 := seqNumber(info.StartSequenceNumber)
	end, ok2 := seqNumber(info.EndSequenceNumber)
	if !ok1 || !ok2 || start.Cmp(end) > 0 {
		return BatchInfo{}, fmt.Errorf("read on-failure record: sequence range %s..%s is not a range of decimal numbers", info.StartSequenceNumber, info.EndSequenceNumber)
	}
	return info, nil
}

// maxEmptyReads bounds the empty pages read before the end of the range turns up: an open
// shard answers an empty page when it has nothing newer, and the end record is older.
const maxEmptyReads = 10

// Read returns the records of the batch's shard from its start to its end sequence number
// (info as Parse returned it). A range the stream has trimmed is an error wrapping ErrTrimmed.
func Read(ctx context.Context, st Streams, info BatchInfo) ([]types.Record, error) {
	start, _ := seqNumber(info.StartSequenceNumber)
	end, _ := seqNumber(info.EndSequenceNumber)
	where := fmt.Sprintf("shard %s of %s, %s..%s", info.ShardID, info.StreamArn, info.StartSequenceNumber, info.EndSequenceNumber)
	it, err := st.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
		StreamArn: aws.String(info.StreamArn), ShardId: aws.String(info.ShardID),
		ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, SequenceNumber: aws.String(info.StartSequenceNumber),
	})
	var trimmed *types.TrimmedDataAccessException
	if errors.As(err, &trimmed) {
		return nil, fmt.Errorf("read %s: %w: %w", where, ErrTrimmed, err)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", where, err)
	}
	var recs []types.Record
	iter, empty := it.ShardIterator, 0
	for iter != nil {
		out, err := st.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(1000)})
		if errors.As(err, &trimmed) {
			return nil, fmt.Errorf("read %s: %w: %w", where, ErrTrimmed, err)
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", where, err)
		}
		for _, rec := range out.Records {
			if rec.Dynamodb == nil {
				continue
			}
			seq, ok := seqNumber(aws.ToString(rec.Dynamodb.SequenceNumber))
			if !ok || seq.Cmp(start) < 0 {
				continue
			}
			if seq.Cmp(end) > 0 {
				return recs, nil
			}
			recs = append(recs, rec)
			if seq.Cmp(end) == 0 {
				return recs, nil
			}
		}
		if len(out.Records) == 0 {
			if empty++; empty > maxEmptyReads {
				break
			}
		}
		iter = out.NextShardIterator
	}
	return nil, fmt.Errorf("read %s: the end of the range is not in the shard (read %d records)", where, len(recs))
}

func seqNumber(s string) (*big.Int, bool) {
	if s == "" {
		return nil, false
	}
	return new(big.Int).SetString(s, 10)
}

// HandleMessages is the SQS handler of an on-failure queue's consumer: each message is parsed
// (Parse) and handed to replay with a logger naming the message, its receive and its range.
// A message that cannot be parsed, or that replay fails (it logs why), is reported as a batch
// item failure, so SQS delivers it again after the queue's visibility timeout and, after its
// maxReceiveCount, moves it to the dead-letter queue: nothing is dropped, nothing retried
// without end.
func HandleMessages(ctx context.Context, ev events.SQSEvent, log *slog.Logger,
	replay func(ctx context.Context, info BatchInfo, log *slog.Logger) error) events.SQSEventResponse {
	var resp events.SQSEventResponse
	for _, msg := range ev.Records {
		mlog := log.With("message_id", msg.MessageId, "receive_count", msg.Attributes["ApproximateReceiveCount"])
		info, err := Parse(msg.Body)
		if err != nil {
			mlog.ErrorContext(ctx, "not an on-failure record of a stream; the message goes to the dead-letter queue after its receives", "error", err.Error())
		} else if err = replay(ctx, info, mlog.With("shard_id", info.ShardID, "start_sequence_number", info.StartSequenceNumber,
			"end_sequence_number", info.EndSequenceNumber)); err == nil {
			continue
		}
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: msg.MessageId})
	}
	return resp
}
