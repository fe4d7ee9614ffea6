package stacktest

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestMain(m *testing.M) { Main(m) }

func TestTables(t *testing.T) {
	ctx := context.Background()
	db := DynamoDB(t)
	names := Tables(t)

	var ids []string
	for _, tb := range Template(t).Tables() {
		ids = append(ids, tb.LogicalID)
		name := names[tb.LogicalID]
		if !strings.HasSuffix(name, "-"+tb.LogicalID) {
			t.Errorf("table name %q does not end in -%s", name, tb.LogicalID)
		}
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		var indexes []string
		for _, g := range out.Table.GlobalSecondaryIndexes {
			indexes = append(indexes, aws.ToString(g.IndexName))
		}
		if d := cmp.Diff(tb.Indexes(), indexes, cmpopts.SortSlices(func(a, b string) bool { return a < b })); d != "" {
			t.Errorf("%s indexes (-want +got):\n%s", name, d)
		}
		got := "" // a table without a stream (ContactsTable) has no StreamSpecification
		if ss := out.Table.StreamSpecification; ss != nil && aws.ToBool(ss.StreamEnabled) {
			got = string(ss.StreamViewType)
		}
		if got != tb.StreamViewType {
			t.Errorf("%s stream view type = %q, want %q", name, got, tb.StreamViewType)
		}
		ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if got := ttl.TimeToLiveDescription.TimeToLiveStatus; got != types.TimeToLiveStatusDisabled {
			t.Errorf("%s TTL status = %q, want DISABLED (fixed test clocks must not meet DynamoDB Local's TTL sweeper)", name, got)
		}
	}
	if len(names) != len(ids) {
		t.Errorf("Tables returned %v for template tables %v", names, ids)
	}

	// A round trip through the audit table and its index, and the record on its stream.
	item := map[string]string{"pk": "T#t1#D#2026-01-02#0", "sk": "2026-01-02T03:04:05Z#01J", "contactKey": "T#t1#C#c1", "note": "hello"}
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(names["AuditTable"]), Item: av}); err != nil {
		t.Fatal(err)
	}
	q, err := db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(names["AuditTable"]),
		IndexName:                 aws.String("ByContact"),
		KeyConditionExpression:    aws.String("contactKey = :c"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": &types.AttributeValueMemberS{Value: "T#t1#C#c1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]string
	if err := attributevalue.UnmarshalListOfMaps(q.Items, &got); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]map[string]string{item}, got); d != "" {
		t.Errorf("query ByContact (-want +got):\n%s", d)
	}

	streams := DynamoDBStreams(t)
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(names["AuditTable"])})
	if err != nil {
		t.Fatal(err)
	}
	st, err := streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: desc.Table.LatestStreamArn})
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, sh := range st.StreamDescription.Shards {
		it, err := streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
			StreamArn: desc.Table.LatestStreamArn, ShardId: sh.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			t.Fatal(err)
		}
		recs, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs.Records {
			note := r.Dynamodb.NewImage["note"].(*streamtypes.AttributeValueMemberS).Value
			events = append(events, string(r.EventName)+" "+note)
		}
	}
	if d := cmp.Diff([]string{"INSERT hello"}, events); d != "" {
		t.Errorf("stream records (-want +got):\n%s", d)
	}
}

func TestTablesAreFresh(t *testing.T) {
	a, b := Tables(t), Tables(t)
	for id := range a {
		if a[id] == b[id] {
			t.Errorf("two Tables calls gave %s the same name %s", id, a[id])
		}
	}
}

func TestBucket(t *testing.T) {
	ctx := context.Background()
	client := S3(t)
	bucket := Bucket(t)
	if other := Bucket(t); other == bucket {
		t.Fatalf("two Bucket calls gave the same name %s", bucket)
	}
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String("events/a.txt"), Body: strings.NewReader("0123456789"),
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, rng, want string
	}{
		{"whole", "", "0123456789"},
		{"range", "bytes=2-4", "234"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("events/a.txt")}
			if tt.rng != "" {
				in.Range = aws.String(tt.rng)
			}
			out, err := client.GetObject(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Body.Close()
			b, err := io.ReadAll(out.Body)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got %q, want %q", b, tt.want)
			}
		})
	}
}

func TestEmails(t *testing.T) {
	to := Address("TestEmails")
	out, err := SES(t).SendEmail(context.Background(), &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("no-reply@contrail.example.com"),
		Destination:      &sestypes.Destination{ToAddresses: []string{to}, CcAddresses: []string{"cc@example.com"}},
		Content: &sestypes.EmailContent{Simple: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String("Your export")},
			Body: &sestypes.Body{
				Text: &sestypes.Content{Data: aws.String("plain")},
				Html: &sestypes.Content{Data: aws.String("<p>html</p>")},
			},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []Email{{
		From: "no-reply@contrail.example.com", To: []string{to}, Cc: []string{"cc@example.com"},
		Subject: "Your export", Text: "plain", HTML: "<p>html</p>", MessageID: aws.ToString(out.MessageId),
	}}
	if d := cmp.Diff(want, EmailsTo(t, to)); d != "" {
		t.Errorf("EmailsTo (-want +got):\n%s", d)
	}
	if got := EmailsTo(t, Address("nobody")); got != nil {
		t.Errorf("EmailsTo(unknown) = %v, want nil", got)
	}
	var found int
	for _, e := range Emails(t) {
		if e.MessageID == aws.ToString(out.MessageId) {
			found++
		}
	}
	if found != 1 {
		t.Errorf("Emails has the sent mail %d times, want once", found)
	}
}
