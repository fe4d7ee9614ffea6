package streams

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// ShardRecords are the records read from one shard of a stream.
type ShardRecords struct {
	ShardID string
	Records []types.Record
}

// ReadAll reads every record a table's stream holds, shard by shard from the trim horizon,
// and returns them with the stream's ARN: for tests that look at what a stream carried (the
// poller follows streams instead).
func ReadAll(ctx context.Context, tables TablesAPI, st StreamsAPI, table string) (string, []ShardRecords, error) {
	desc, err := tables.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return "", nil, fmt.Errorf("describe table %s: %w", table, err)
	}
	arn := aws.ToString(desc.Table.LatestStreamArn)
	sd, err := st.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
	if err != nil {
		return "", nil, fmt.Errorf("describe the stream of %s: %w", table, err)
	}
	var out []ShardRecords
	for _, sh := range sd.StreamDescription.Shards {
		read := ShardRecords{ShardID: aws.ToString(sh.ShardId)}
		it, err := st.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
			StreamArn: aws.String(arn), ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			return "", nil, fmt.Errorf("read shard %s of %s: %w", read.ShardID, table, err)
		}
		for iter := it.ShardIterator; iter != nil; {
			recs, err := st.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				return "", nil, fmt.Errorf("read shard %s of %s: %w", read.ShardID, table, err)
			}
			if len(recs.Records) == 0 {
				break
			}
			read.Records = append(read.Records, recs.Records...)
			iter = recs.NextShardIterator
		}
		out = append(out, read)
	}
	return arn, out, nil
}

// LambdaEvent is the event Lambda hands a function for records of the stream streamARN, as
// the poller builds it.
func LambdaEvent(streamARN string, recs []types.Record) (events.DynamoDBEvent, error) {
	var ev Event
	for _, r := range recs {
		ev.Records = append(ev.Records, convert(r, streamARN))
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return events.DynamoDBEvent{}, fmt.Errorf("encode stream records: %w", err)
	}
	var out events.DynamoDBEvent
	if err := json.Unmarshal(b, &out); err != nil {
		return events.DynamoDBEvent{}, fmt.Errorf("decode stream records as Lambda's event: %w", err)
	}
	return out, nil
}
