package replay_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/local/streams"
	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/archive/replay"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/onfailure"
	"github.com/contrail/contrail/shared/tenant"
)

func TestMain(m *testing.M) { stacktest.Main(m) }

// failureRecord is what Lambda puts in the on-failure queue for a stream batch.
func failureRecord(shard, start, end, streamArn string, size int) string {
	return fmt.Sprintf(`{"requestContext":{"requestId":"5d2f0b1e-0000-4000-8000-000000000001",`+
		`"functionArn":"arn:aws:lambda:us-east-1:000000000000:function:ArchiverFunction","condition":"RetryAttemptsExhausted","approximateInvokeCount":21},`+
		`"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},"version":"1.0","timestamp":"2026-11-30T01:30:00.000Z",`+
		`"DDBStreamBatchInfo":{"shardId":%q,"startSequenceNumber":%q,"endSequenceNumber":%q,`+
		`"approximateArrivalOfFirstRecord":"2026-11-30T01:20:00Z","approximateArrivalOfLastRecord":"2026-11-30T01:20:01Z","batchSize":%d,"streamArn":%q}}`,
		shard, start, end, size, streamArn)
}

func TestParse(t *testing.T) {
	arn := "arn:aws:dynamodb:us-east-1:000000000000:table/AuditTable/stream/2026-11-30T00:00:00.000"
	tests := []struct {
		name, body string
		want       onfailure.BatchInfo
		wantErr    string
	}{
		{"a stream batch", failureRecord("shardId-00000001795914000000-1a2b3c4d", "4421584500000000017450439091", "4421584500000000017450439200", arn, 12),
			onfailure.BatchInfo{ShardID: "shardId-00000001795914000000-1a2b3c4d", StartSequenceNumber: "4421584500000000017450439091",
				EndSequenceNumber: "4421584500000000017450439200", ApproximateArrivalOfFirstRecord: "2026-11-30T01:20:00Z",
				ApproximateArrivalOfLastRecord: "2026-11-30T01:20:01Z", BatchSize: 12, StreamArn: arn}, ""},
		{"not JSON", "archive failed", onfailure.BatchInfo{}, "read on-failure record: invalid character 'a' looking for beginning of value"},
		{"another source", `{"requestContext":{"condition":"RetryAttemptsExhausted"},"KinesisBatchInfo":{}}`, onfailure.BatchInfo{},
			"read on-failure record: no DDBStreamBatchInfo (not a DynamoDB stream failure)"},
		{"fields missing", `{"DDBStreamBatchInfo":{"shardId":"s","startSequenceNumber":"1"}}`, onfailure.BatchInfo{},
			"read on-failure record: DDBStreamBatchInfo lacks endSequenceNumber, streamArn"},
		{"range reversed", failureRecord("s", "20", "10", arn, 1), onfailure.BatchInfo{},
			"read on-failure record: sequence range 20..10 is not a range of decimal numbers"},
		{"not numbers", failureRecord("s", "1e3", "2000", arn, 1), onfailure.BatchInfo{},
			"read on-failure record: sequence range 1e3..2000 is not a range of decimal numbers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := onfailure.Parse(tt.body)
			if gotErr := fmt.Sprint(err); (tt.wantErr == "" && err != nil) || (tt.wantErr != "" && gotErr != tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("BatchInfo (-want +got):\n%s", diff)
			}
		})
	}
}

// failingPuts fails PutObject for keys under prefix.
type failingPuts struct {
	archive.S3API
	prefix string
}

func (f failingPuts) PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	if strings.HasPrefix(*in.Key, f.prefix) {
		return nil, errors.New("injected PutObject failure")
	}
	return f.S3API.PutObject(ctx, in, opts...)
}

func event(id string, tenant tenant.ID, at, typ string) audit.Event {
	return audit.Event{ID: id, TenantID: tenant, OccurredAt: at, RecordedAt: at, Type: typ, Category: audit.CategoryOf(typ),
		Actor: audit.Actor{Type: audit.ActorUser, ID: "u-1", Name: "Rina Admin"}, Source: audit.SourceUser,
		Data: map[string]any{"provider": "password", "note": "ünïcode, \"quoted\""}}
}

// TestReplayFromTheStream writes audit events to the audit table of DynamoDB Local, reads
// its stream as Lambda would have delivered it, and replays a range of it as the on-failure
// record names it: every inserted event of the range lands in the archive once (however
// often it is replayed), nothing outside the range does, and changes that are not inserted
// events are left out.
func TestReplayFromTheStream(t *testing.T) {
	ctx := context.Background()
	db, tables := stacktest.DynamoDB(t), stacktest.Tables(t)
	table := tables["AuditTable"]
	keys, retention := audit.Keys{Shards: 2}, audit.RetentionDays(400, 400, 400, 30)
	evs := []audit.Event{
		event("01KB0000000000000000000001", "acme", "2026-11-29T08:00:00.000Z", "USER_LOGGED_IN"), // before the range
		event("01KB0000000000000000000002", "acme", "2026-11-29T09:00:00.000Z", "USER_LOGGED_IN"),
		event("01KB0000000000000000000003", "acme", "2026-11-30T01:00:00.000Z", "USER_LOGGED_OUT"),
		event("01KB0000000000000000000004", "globex", "2026-11-30T01:05:00.000Z", "USER_LOGGED_IN"),
		event("01KB0000000000000000000005", "acme", "2026-11-30T01:10:00.000Z", "USER_LOGGED_IN"), // after the range
	}
	for i := range evs {
		item, err := keys.Item(&evs[i], retention)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
			t.Fatal(err)
		}
		if i == 2 { // a change and a removal inside the range: not inserted events
			k := keys.KeysOf(&evs[1])
			if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: k,
				UpdateExpression:          aws.String("SET expiresAt = :e"),
				ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":e": &ddbtypes.AttributeValueMemberN{Value: "1800000000"}}}); err != nil {
				t.Fatal(err)
			}
			if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: k}); err != nil {
				t.Fatal(err)
			}
		}
	}

	streams := stacktest.DynamoDBStreams(t)
	arn, shard, recs := readStream(t, db, streams, table)
	var names []string
	for _, r := range recs {
		names = append(names, string(r.EventName))
	}
	if diff := cmp.Diff([]string{"INSERT", "INSERT", "INSERT", "MODIFY", "REMOVE", "INSERT", "INSERT"}, names); diff != "" {
		t.Fatalf("stream records (-want +got):\n%s", diff)
	}
	seq := func(i int) string { return aws.ToString(recs[i].Dynamodb.SequenceNumber) }
	// The failed batch: from event 2's INSERT to event 4's INSERT.
	msg := events.SQSMessage{MessageId: "m-1", Body: failureRecord(shard, seq(1), seq(5), arn, 5)}

	s3c, bucket := stacktest.S3(t), stacktest.Bucket(t)
	store := &archive.S3Store{Client: s3c, Bucket: bucket}
	reader := &archive.Reader{Store: store}
	archived := func() []archive.Row {
		t.Helper()
		var rows []archive.Row
		for _, td := range [][2]string{{"acme", "2026-11-29"}, {"acme", "2026-11-30"}, {"globex", "2026-11-30"}} {
			if err := reader.ScanDay(ctx, tenant.ID(td[0]), td[1], nil, func(r *archive.Row) error { rows = append(rows, *r); return nil }); err != nil {
				t.Fatal(err)
			}
		}
		return rows
	}
	want, err := archive.FromEvents(evs[1:4])
	if err != nil {
		t.Fatal(err)
	}

	// S3 fails for globex: the message stays (batch item failure); acme's days are written.
	failing := &replay.Replayer{Streams: streams, Archiver: &archive.Archiver{Store: &archive.S3Store{
		Client: failingPuts{s3c, "events/tenant=globex/"}, Bucket: bucket}}}
	resp, err := failing.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{msg}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: "m-1"}}}, resp); diff != "" {
		t.Errorf("response with S3 failing for globex (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want[:2], archived()); diff != "" {
		t.Errorf("archive after the failed replay (-want +got):\n%s", diff)
	}

	// Delivered again, twice: every event of the range once.
	rp := &replay.Replayer{Streams: streams, Archiver: &archive.Archiver{Store: store}}
	for i := 0; i < 2; i++ {
		resp, err := rp.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{msg}})
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("replay %d: %+v, %v", i+1, resp, err)
		}
		if diff := cmp.Diff(want, archived()); diff != "" {
			t.Errorf("archive after replay %d (-want +got):\n%s", i+1, diff)
		}
	}
	res, err := rp.Replay(ctx, onfailure.BatchInfo{ShardID: shard, StartSequenceNumber: seq(1), EndSequenceNumber: seq(5), StreamArn: arn})
	if err != nil || res != (replay.Result{Records: 5, Events: 3, Parts: 3}) {
		t.Errorf("Replay = %+v, %v; want 5 records, 3 events, 3 parts", res, err)
	}

	// What cannot be replayed stays in the queue, with the others in the same batch.
	bad := []events.SQSMessage{
		{MessageId: "m-bad-body", Body: "not a failure record"},
		{MessageId: "m-bad-shard", Body: failureRecord("shardId-00000000000000000000-00000000", seq(1), seq(5), arn, 5)},
		{MessageId: "m-past-end", Body: failureRecord(shard, seq(1), seq(6)+"0", arn, 5)},
		msg,
	}
	resp, err = rp.Handle(ctx, events.SQSEvent{Records: bad})
	if err != nil {
		t.Fatal(err)
	}
	wantResp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{
		{ItemIdentifier: "m-bad-body"}, {ItemIdentifier: "m-bad-shard"}, {ItemIdentifier: "m-past-end"}}}
	if diff := cmp.Diff(wantResp, resp); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
}

// readStream returns the audit table's stream, its shard and every record in it (the test
// table's writes fit in one shard).
func readStream(t *testing.T, db *dynamodb.Client, st *dynamodbstreams.Client, table string) (string, string, []types.Record) {
	t.Helper()
	arn, shards, err := streams.ReadAll(context.Background(), db, st, table)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(shards); n != 1 {
		t.Fatalf("the stream has %d shards, want 1", n)
	}
	return arn, shards[0].ShardID, shards[0].Records
}

// TestSampleEvent reads events/archive-replay-batch-exhausted.json (an ArchiveFailureQueue
// message as Lambda hands it to the function) the way Handle does.
func TestSampleEvent(t *testing.T) {
	ev := stacktest.Sample[events.SQSEvent](t, "archive-replay-batch-exhausted.json")
	if len(ev.Records) != 1 {
		t.Fatalf("%d messages, want 1", len(ev.Records))
	}
	got, err := onfailure.Parse(ev.Records[0].Body)
	if err != nil {
		t.Fatal(err)
	}
	want := onfailure.BatchInfo{ShardID: "shardId-00000001795914000000-1a2b3c4d", StartSequenceNumber: "4421584500000000017450439091",
		EndSequenceNumber: "4421584500000000017450439200", ApproximateArrivalOfFirstRecord: "2026-11-30T01:20:00Z",
		ApproximateArrivalOfLastRecord: "2026-11-30T01:20:01Z", BatchSize: 12,
		StreamArn: "arn:aws:dynamodb:us-east-1:123456789012:table/contrail-AuditTable-1ABCDEF2GHIJ/stream/2026-11-01T00:00:00.000"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("BatchInfo (-want +got):\n%s", diff)
	}
}

// A record that cannot be archived (here an event item whose occurredAt is not a time) keeps
// the message in the queue, but does not hold back the other events of the batch.
func TestReplayArchivesWhatItCan(t *testing.T) {
	ctx := context.Background()
	db, tables := stacktest.DynamoDB(t), stacktest.Tables(t)
	table := tables["AuditTable"]
	keys := audit.Keys{Shards: 2}
	good := event("01KB0000000000000000000011", "acme", "2026-11-30T01:00:00.000Z", "LOGGED_IN")
	bad := event("01KB0000000000000000000012", "acme", "2026-11-30T01:01:00.000Z", "LOGGED_IN")
	for _, e := range []*audit.Event{&good, &bad} {
		item, err := keys.Item(e, audit.RetentionDays(400, 400, 400, 30))
		if err != nil {
			t.Fatal(err)
		}
		if e == &bad {
			item["occurredAt"] = &ddbtypes.AttributeValueMemberS{Value: "yesterday"}
		}
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	streams := stacktest.DynamoDBStreams(t)
	arn, shard, recs := readStream(t, db, streams, table)
	if len(recs) != 2 {
		t.Fatalf("%d stream records, want 2", len(recs))
	}
	s3c, bucket := stacktest.S3(t), stacktest.Bucket(t)
	store := &archive.S3Store{Client: s3c, Bucket: bucket}
	rp := &replay.Replayer{Streams: streams, Archiver: &archive.Archiver{Store: store}}
	info := onfailure.BatchInfo{ShardID: shard, StreamArn: arn,
		StartSequenceNumber: aws.ToString(recs[0].Dynamodb.SequenceNumber), EndSequenceNumber: aws.ToString(recs[1].Dynamodb.SequenceNumber)}
	res, err := rp.Replay(ctx, info)
	wantErr := fmt.Sprintf("replay %s..%s: 1 records cannot be archived: stream record %s: archive event %s: occurredAt: ",
		info.StartSequenceNumber, info.EndSequenceNumber, info.EndSequenceNumber, bad.ID)
	if err == nil || !strings.HasPrefix(err.Error(), wantErr) {
		t.Fatalf("Replay error = %v, want it to start with %q", err, wantErr)
	}
	if res != (replay.Result{Records: 2, Events: 1, Parts: 1}) {
		t.Errorf("Replay = %+v, want 2 records, 1 event, 1 part", res)
	}
	want, err := archive.FromEvent(&good)
	if err != nil {
		t.Fatal(err)
	}
	var got []archive.Row
	if err := (&archive.Reader{Store: store}).ScanDay(ctx, "acme", "2026-11-30", nil, func(r *archive.Row) error { got = append(got, *r); return nil }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]archive.Row{want}, got); diff != "" {
		t.Errorf("archive (-want +got):\n%s", diff)
	}
}

// A range the stream no longer holds is not replayed, and the error says where the events
// still are.
func TestTrimmedRange(t *testing.T) {
	info := onfailure.BatchInfo{ShardID: "shardId-00000001795914000000-1a2b3c4d", StartSequenceNumber: "4421584500000000017450439091",
		EndSequenceNumber: "4421584500000000017450439200", StreamArn: "arn:aws:dynamodb:us-east-1:000000000000:table/AuditTable/stream/2026-11-30T00:00:00.000"}
	rp := &replay.Replayer{Streams: stacktest.TrimmedStreams{Client: stacktest.DynamoDBStreams(t)}, Archiver: &archive.Archiver{Store: &archive.S3Store{Client: stacktest.S3(t), Bucket: stacktest.Bucket(t)}}}
	res, err := rp.Replay(context.Background(), info)
	want := fmt.Sprintf("read shard %s of %s, %s..%s: the stream no longer holds these records (it keeps 24 hours): %s; "+
		"the events are still in the audit table for their hot retention", info.ShardID, info.StreamArn, info.StartSequenceNumber, info.EndSequenceNumber, stacktest.ErrTrimmed.Error())
	if fmt.Sprint(err) != want || !errors.Is(err, onfailure.ErrTrimmed) || res != (replay.Result{}) {
		t.Errorf("Replay = %+v, %v; want nothing and %q", res, err, want)
	}
}
