// Package replay delivers again the mail requests the mailer's stream mapping gave up on.
// After its retries, Lambda records such a batch in the mailer's on-failure destination
// (MailerFailureQueue) as a shard and sequence range of the audit table's stream; the
// Replayer reads that range back (onfailure.Read, as the archive's replay does) and hands
// its requests to the mailer again (mail.Mailer.Redeliver). The mailer's claims keep the
// promise of one email per request: a claim still held under a live lease (a mailer killed
// mid-invocation holds it until its deadline and 5 s) leaves the message in the queue until
// a later receive, after the queue's visibility timeout; a request sent already is not sent
// again.
package replay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/mail"
	"github.com/contrail/contrail/shared/onfailure"
)

// Replayer replays on-failure records of the mailer's stream mapping.
type Replayer struct {
	Streams onfailure.Streams
	Mailer  *mail.Mailer
	Log     *slog.Logger
}

// NewService builds the replay of a function: the mailer as the mailer function builds it,
// and a DynamoDB Streams client.
func NewService(awsCfg aws.Config, cfg mail.Config) *Replayer {
	return &Replayer{
		Streams: dynamodbstreams.NewFromConfig(awsCfg),
		Mailer:  mail.NewService(awsCfg, cfg, mail.NewSender(awsCfg)),
		Log:     slog.Default(),
	}
}

// Result says what a replay did.
type Result struct {
	Records  int // stream records read in the range
	Requests int // mail requests among them, each now sent, failed for good, or done earlier
}

// Handle is the SQS handler of MailerFailureQueue: each message is replayed; one that
// cannot be (yet) is reported as a batch item failure, so SQS delivers it again after the
// queue's visibility timeout and, after its maxReceiveCount, moves it to the dead-letter
// queue. Nothing is dropped, and nothing is retried without end.
func (r *Replayer) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	return onfailure.HandleMessages(ctx, ev, r.log(), func(ctx context.Context, info onfailure.BatchInfo, log *slog.Logger) error {
		res, err := r.Replay(ctx, info)
		switch {
		case err == nil:
			log.InfoContext(ctx, "failed mail batch delivered again", "records", res.Records, "requests", res.Requests)
		case errors.Is(err, onfailure.ErrTrimmed):
			log.ErrorContext(ctx, "failed mail batch no longer on the stream: its emails are not sent; "+
				"the message goes to the dead-letter queue after its receives", "error", err.Error())
		case errors.Is(err, mail.ErrClaimHeld):
			log.WarnContext(ctx, "failed mail batch waits for a live lease (a mailer that died mid-invocation); "+
				"the message comes back after the queue's visibility timeout", "error", err.Error())
		default:
			log.ErrorContext(ctx, "failed mail batch not delivered again; the message stays in the queue", "error", err.Error())
		}
		return err
	}), nil
}

// Replay reads the batch's records back from the stream and hands its mail requests to the
// mailer again. A record that cannot be read as a request is logged and skipped, as the
// mailer skips it. An error means some request is to be delivered again later; replaying
// again is safe.
func (r *Replayer) Replay(ctx context.Context, info onfailure.BatchInfo) (Result, error) {
	recs, err := onfailure.Read(ctx, r.Streams, info)
	if err != nil {
		return Result{}, err
	}
	res := Result{Records: len(recs)}
	var reqs []audit.Event
	for _, rec := range recs {
		req, ok, err := request(rec)
		if err != nil {
			r.log().ErrorContext(ctx, "mail request unreadable; skipped", "sequence_number", aws.ToString(rec.Dynamodb.SequenceNumber), "error", err.Error())
			continue
		}
		if ok {
			reqs = append(reqs, req)
		}
	}
	res.Requests = len(reqs)
	if err := r.Mailer.Redeliver(ctx, reqs); err != nil {
		return res, fmt.Errorf("deliver %s..%s again: %w", info.StartSequenceNumber, info.EndSequenceNumber, err)
	}
	return res, nil
}

// request reads an inserted mail request; ok is false for what the mailer's stream filter
// leaves out (other changes, other events).
func request(rec types.Record) (req audit.Event, ok bool, err error) {
	if rec.EventName != types.OperationTypeInsert || rec.Dynamodb == nil {
		return req, false, nil
	}
	if typ, isS := rec.Dynamodb.NewImage["type"].(*types.AttributeValueMemberS); !isS || !mail.IsRequest(typ.Value) {
		return req, false, nil
	}
	item, err := attributevalue.FromDynamoDBStreamsMap(rec.Dynamodb.NewImage)
	if err != nil {
		return req, false, fmt.Errorf("stream record %s: %w", aws.ToString(rec.Dynamodb.SequenceNumber), err)
	}
	if req, err = audit.FromItem(item); err != nil {
		return req, false, fmt.Errorf("stream record %s: %w", aws.ToString(rec.Dynamodb.SequenceNumber), err)
	}
	return req, true, nil
}

func (r *Replayer) log() *slog.Logger {
	if r.Log == nil {
		return slog.Default()
	}
	return r.Log
}
