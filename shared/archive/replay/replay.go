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
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/onfailure"
)

// Replayer replays on-failure records of the archiver's stream mapping.
type Replayer struct {
	Streams  onfailure.Streams
	Archiver *archive.Archiver
	Log      *slog.Logger
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
	return onfailure.HandleMessages(ctx, ev, r.log(), func(ctx context.Context, info onfailure.BatchInfo, log *slog.Logger) error {
		res, err := r.Replay(ctx, info)
		if err != nil {
			log.ErrorContext(ctx, "failed stream batch not replayed; the message stays in the queue", "error", err.Error())
			return err
		}
		log.InfoContext(ctx, "failed stream batch archived again", "records", res.Records, "events", res.Events, "parts", res.Parts)
		return nil
	}), nil
}

// Replay reads the batch's records back from the stream and archives its inserted audit
// events, every one it can: a record that cannot be converted does not hold back the
// others. An error means some were not archived; replaying again is safe.
func (r *Replayer) Replay(ctx context.Context, info onfailure.BatchInfo) (Result, error) {
	recs, err := onfailure.Read(ctx, r.Streams, info)
	if errors.Is(err, onfailure.ErrTrimmed) {
		return Result{}, fmt.Errorf("%w; the events are still in the audit table for their hot retention", err)
	}
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

func (r *Replayer) log() *slog.Logger {
	if r.Log == nil {
		return slog.Default()
	}
	return r.Log
}
