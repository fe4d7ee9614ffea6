package streams

// Finding a stream's shards, keeping one iterator open on each (a child only once its
// parent is read to its end), and reading records into per-shard batches.

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

type shard struct {
	id, parent string
	iter       *string // nil once the shard is closed and read to its end
	lastRead   string  // sequence number of the last record read
	buf        []Record
	bufSince   time.Time
}

func (r *runner) start(ctx context.Context) error {
	out, err := r.cfg.Tables.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(r.m.Table)})
	if err != nil {
		return fmt.Errorf("describe table: %w", err)
	}
	r.arn = aws.ToString(out.Table.LatestStreamArn)
	if r.arn == "" {
		return errors.New("the table has no stream")
	}
	r.shards = map[string]*shard{}
	r.ckpt = r.loadCheckpoint()
	r.first = r.ckpt.StreamARN != r.arn
	if r.first {
		r.ckpt = checkpoint{StreamARN: r.arn, Shards: map[string]string{}}
	}
	return nil
}

// refresh lists the stream's shards and opens an iterator on each new one whose parent is done.
func (r *runner) refresh(ctx context.Context) error {
	var all []types.Shard
	var start *string
	for {
		out, err := r.cfg.Streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(r.arn), ExclusiveStartShardId: start})
		if err != nil {
			return err
		}
		all = append(all, out.StreamDescription.Shards...)
		if start = out.StreamDescription.LastEvaluatedShardId; start == nil {
			break
		}
	}
	known := map[string]bool{}
	for _, s := range all {
		known[aws.ToString(s.ShardId)] = true
	}
	for _, s := range all {
		id, parent := aws.ToString(s.ShardId), aws.ToString(s.ParentShardId)
		if r.shards[id] != nil || r.isDone(id) {
			continue
		}
		if parent != "" && known[parent] && !r.isDone(parent) {
			continue // a child waits for its parent, as Lambda keeps order per key
		}
		in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(r.arn), ShardId: aws.String(id)}
		switch seq := r.ckpt.Shards[id]; {
		case seq != "":
			in.ShardIteratorType, in.SequenceNumber = types.ShardIteratorTypeAfterSequenceNumber, aws.String(seq)
		case r.first:
			in.ShardIteratorType = types.ShardIteratorType(r.m.StartingPosition)
		default:
			in.ShardIteratorType = types.ShardIteratorTypeTrimHorizon
		}
		out, err := r.cfg.Streams.GetShardIterator(ctx, in)
		if err != nil {
			return fmt.Errorf("shard iterator %s: %w", id, err)
		}
		r.shards[id] = &shard{id: id, parent: parent, iter: out.ShardIterator, lastRead: r.ckpt.Shards[id]}
	}
	if r.first {
		// Shards seen from now on started after the mapping did: read them from their start.
		r.first = false
		r.saveCheckpoint()
	}
	return nil
}

func (r *runner) isDone(id string) bool {
	for _, d := range r.ckpt.Done {
		if d == id {
			return true
		}
	}
	return false
}

// order returns the open shards in a stable order (a child opens only once its parent is done).
func (r *runner) order() []string {
	ids := make([]string, 0, len(r.shards))
	for id := range r.shards {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func (r *runner) poll(ctx context.Context, s *shard) {
	if s.iter != nil && len(s.buf) < r.m.BatchSize {
		out, err := r.cfg.Streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: s.iter, Limit: aws.Int32(1000)})
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			r.recover(ctx, s, err)
			return
		}
		for _, rec := range out.Records {
			lr := convert(rec, r.arn)
			s.lastRead = lr.DynamoDB.SequenceNumber
			if !r.matches(lr) {
				continue
			}
			if len(s.buf) == 0 {
				s.bufSince = time.Now()
			}
			s.buf = append(s.buf, lr)
		}
		s.iter = out.NextShardIterator
		if len(s.buf) == 0 && s.lastRead != "" && s.lastRead != r.ckpt.Shards[s.id] {
			r.checkpoint(s.id, s.lastRead) // everything read was filtered out
		}
	}
	for len(s.buf) > 0 && ctx.Err() == nil &&
		(len(s.buf) >= r.m.BatchSize || time.Since(s.bufSince) >= r.m.MaxBatchingWindow || s.iter == nil) {
		n := min(len(s.buf), r.m.BatchSize)
		batch := s.buf[:n]
		r.process(ctx, s.id, batch)
		if ctx.Err() != nil {
			return // not handled: the next start reads it again
		}
		s.buf = s.buf[n:]
		seq := batch[n-1].DynamoDB.SequenceNumber
		if len(s.buf) == 0 {
			seq = s.lastRead
			s.buf = nil
		} else {
			s.bufSince = time.Now()
		}
		r.checkpoint(s.id, seq)
	}
	if s.iter == nil && len(s.buf) == 0 {
		delete(r.shards, s.id)
		r.ckpt.Done = append(r.ckpt.Done, s.id)
		delete(r.ckpt.Shards, s.id)
		r.saveCheckpoint()
	}
}

// recover re-opens a shard's iterator after an error (an expired iterator, trimmed data).
func (r *runner) recover(ctx context.Context, s *shard, err error) {
	var trimmed *types.TrimmedDataAccessException
	var gone *types.ResourceNotFoundException
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(r.arn), ShardId: aws.String(s.id)}
	switch {
	case errors.As(err, &gone):
		r.log.Warn("shard is gone", "shard", s.id)
		delete(r.shards, s.id)
		return
	case errors.As(err, &trimmed) || s.lastRead == "":
		in.ShardIteratorType = types.ShardIteratorTypeTrimHorizon
	default:
		in.ShardIteratorType, in.SequenceNumber = types.ShardIteratorTypeAfterSequenceNumber, aws.String(s.lastRead)
	}
	r.log.Debug("reopening shard iterator", "shard", s.id, "error", err.Error())
	out, ierr := r.cfg.Streams.GetShardIterator(ctx, in)
	if ierr != nil {
		if ctx.Err() == nil {
			r.log.Warn("get records", "shard", s.id, "error", err.Error(), "reopen_error", ierr.Error())
		}
		return
	}
	s.iter = out.ShardIterator
}

func (r *runner) matches(rec Record) bool {
	if len(r.filters) == 0 {
		return true
	}
	g := rec.generic()
	for _, f := range r.filters {
		if f.Match(g) {
			return true
		}
	}
	return false
}
