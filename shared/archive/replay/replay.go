// Package replay archives again the audit stream records the archiver gave up on. After
// its retries, Lambda records such a batch in the archiver's on-failure destination
// (ArchiveFailureQueue) as a shard and sequence range of the audit table's stream; the
// Replayer reads that range back from the stream (which keeps records 24 hours) and writes
// its events through archive.Archiver.Write. Parts are keyed by their event ids and readers
// drop duplicate event ids, so replaying records that were archived already, or replaying
// twice, leaves each event once as readers see it.
package replay

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
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/onfailure"
)

// Streams is the part of the DynamoDB Streams API a replay reads with.
type Streams interface {
	GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

// Replayer replays on-failure records of the archiver's stream mapping.
type Replayer struct {
	Streams  Streams
	Archiver *archive.Archiver
	Log      *slog.Logger
}

// Parse reads the on-failure record Lambda sends to the destination queue.
func Parse(body string) (onfailure.BatchInfo, error) {
	var rec onfailure.Record
	if err := json.Unmarshal([]byte(body), &rec); err != nil {
		return onfailure.BatchInfo{}, fmt.Errorf("read on-failure record: %w", err)
	}
	if rec.DDBStreamBatchInfo == nil {
		return onfailure.BatchInfo{}, errors.New("read on-failure record: no DDBStreamBatchInfo (not a DynamoDB stream failure)")
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
		return onfailure.BatchInfo{}, fmt.Errorf("read on-failure record: DDBStreamBatchInfo lacks %s", strings.Join(missing, ", "))
	}
	start, ok1 := seqNumber(info.StartSequenceNumber)
	end, ok2 := seqNumber(info.EndSequenceNumber)
	if !ok1 || !ok2 || start.Cmp(end) > 0 {
		return onfailure.BatchInfo{}, fmt.Errorf("read on-failure record: sequence range %s..%s is not a range of decimal numbers", info.StartSequenceNumber, info.EndSequenceNumber)
	}
	return info, nil
}

// Result says what a replay did.
type Result struct {
	Records int // stream records read in the range
	Events  int // inserted audit events among them, archived again
	Parts   int // archive parts written
}

// Handle is the SQS handler of the destination queue: each message is replayed; a message
// that cannot be (yet) is reported as a batch item failure, so SQS delivers it again and,
// after the queue's maxReceiveCount, moves it to the dead-letter queue. Nothing is dropped.
func (r *Replayer) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, msg := range ev.Records {
		log := r.log().With("message_id", msg.MessageId)
		info, err := Parse(msg.Body)
		if err == nil {
			var res Result
			res, err = r.Replay(ctx, info)
			log = log.With("shard_id", info.ShardID, "start_sequence_number", info.StartSequenceNumber, "end_sequence_number", info.EndSequenceNumber)
			if err == nil {
				log.InfoContext(ctx, "failed stream batch archived again", "records", res.Records, "events", res.Events, "parts", res.Parts)
				continue
			}
		}
		log.ErrorContext(ctx, "failed stream batch not replayed; the message stays in the queue", "error", err.Error())
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: msg.MessageId})
	}
	return resp, nil
}

// Replay reads the batch's records back from the stream and archives its inserted audit
// events, every one it can: a record that cannot be converted does not hold back the
// others. An error means some were not archived; replaying again is safe.
func (r *Replayer) Replay(ctx context.Context, info onfailure.BatchInfo) (Result, error) {
	recs, err := r.read(ctx, info)
	if err != nil {
		return Result{}, err
	}
	res := Result{Records: len(recs)}
	rows := make([]archive.Row, 0, len(recs))
	ids := make([]string, 0, len(recs))
	var unreadable []error // records that cannot become rows: the others are archived anyway
	for _, rec := range recs {
		row, ok, err := eventRow(rec)
		if err != nil {
			unreadable = append(unreadable, err)
			continue
		}
		if ok {
			rows = append(rows, row)
			ids = append(ids, aws.ToString(rec.Dynamodb.SequenceNumber))
		}
	}
	res.Events = len(rows)
	var failed []string
	res.Parts, failed = r.Archiver.Write(ctx, rows, ids)
	var errs []error
	if len(failed) > 0 {
		errs = append(errs, fmt.Errorf("%d of %d events not archived (their tenant-days could not be written)", len(failed), len(rows)))
	}
	if len(unreadable) > 0 {
		errs = append(errs, fmt.Errorf("%d records cannot be archived: %w", len(unreadable), errors.Join(unreadable...)))
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("replay %s..%s: %w", info.StartSequenceNumber, info.EndSequenceNumber, errors.Join(errs...))
	}
	return res, nil
}

// eventRow converts an inserted audit event record to its archive row; ok is false for
// what the archiver's stream filter leaves out (other changes, other items).
func eventRow(rec types.Record) (row archive.Row, ok bool, err error) {
	if rec.EventName != types.OperationTypeInsert || rec.Dynamodb == nil {
		return row, false, nil
	}
	seq := aws.ToString(rec.Dynamodb.SequenceNumber)
	if it, isS := rec.Dynamodb.NewImage["itemType"].(*types.AttributeValueMemberS); !isS || it.Value != audit.ItemType {
		return row, false, nil
	}
	item, err := attributevalue.FromDynamoDBStreamsMap(rec.Dynamodb.NewImage)
	if err != nil {
		return row, false, fmt.Errorf("stream record %s: %w", seq, err)
	}
	ev, err := audit.FromItem(item)
	if err != nil {
		return row, false, fmt.Errorf("stream record %s: %w", seq, err)
	}
	if row, err = archive.FromEvent(&ev); err != nil {
		return row, false, fmt.Errorf("stream record %s: %w", seq, err)
	}
	return row, true, nil
}

// maxEmptyReads bounds the empty pages read before the end of the range turns up: an open
// shard answers an empty page when it has nothing newer, and the end record is older.
const maxEmptyReads = 10

// read returns the records of the shard from the start to the end sequence number.
func (r *Replayer) read(ctx context.Context, info onfailure.BatchInfo) ([]types.Record, error) {
	start, _ := seqNumber(info.StartSequenceNumber)
	end, _ := seqNumber(info.EndSequenceNumber)
	where := fmt.Sprintf("shard %s of %s, %s..%s", info.ShardID, info.StreamArn, info.StartSequenceNumber, info.EndSequenceNumber)
	it, err := r.Streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
		StreamArn: aws.String(info.StreamArn), ShardId: aws.String(info.ShardID),
		ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, SequenceNumber: aws.String(info.StartSequenceNumber),
	})
	var trimmed *types.TrimmedDataAccessException
	if errors.As(err, &trimmed) {
		return nil, fmt.Errorf("read %s: the stream no longer holds these records (it keeps 24 hours); "+
			"the events are still in the audit table for their hot retention: %w", where, err)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", where, err)
	}
	var recs []types.Record
	iter, empty := it.ShardIterator, 0
	for iter != nil {
		out, err := r.Streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(1000)})
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

func (r *Replayer) log() *slog.Logger {
	if r.Log == nil {
		return slog.Default()
	}
	return r.Log
}
