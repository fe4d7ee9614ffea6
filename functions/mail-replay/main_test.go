package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/devauth"
	"github.com/contrail/contrail/local/devstack"
	"github.com/contrail/contrail/local/queues"
	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/local/streams"
	"github.com/contrail/contrail/shared/onfailure"
)

// TestEndToEnd runs the built function as the local stack runs it, with the template's
// environment: an invitation whose email no mailer sent (MailerFunction is not running) is
// sent once the function gets the MailerFailureQueue message naming its stream range, and
// the message delivered again sends nothing more.
func TestEndToEnd(t *testing.T) {
	s := devstack.StartTest(t, devstack.Options{Functions: []string{"CreateContactFunction", "InviteContactFunction", "MailReplayFunction"}})
	api := s.Client(t, devauth.Claims{Tenant: "acme", User: "u-agent", Name: "Ayu Agent", Roles: []string{"agent"}})
	var created map[string]any
	if status := api.JSON("POST", "/v1/contacts", "application/json", `{"name":"Hana"}`, &created); status != 201 {
		t.Fatalf("create: %d %v", status, created)
	}
	to := stacktest.Address("mail-replay-e2e")
	var invited map[string]any
	if status := api.JSON("POST", "/v1/contacts/"+created["id"].(string)+"/invite", "application/json", `{"email":"`+to+`"}`, &invited); status != 202 {
		t.Fatalf("invite: %d %v", status, invited)
	}

	st := dynamodbstreams.NewFromConfig(s.AWSConfig(), func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(s.DynamoDBEndpoint) })
	arn, shards, err := streams.ReadAll(t.Context(), s.DynamoDB(), st, s.Tables["AuditTable"])
	if err != nil {
		t.Fatal(err)
	}
	if len(shards) != 1 || len(shards[0].Records) != 2 {
		t.Fatalf("stream shards %+v, want one of 2 records (CONTACT_ADDED, CONTACT_INVITED)", shards)
	}
	recs := shards[0].Records
	requestID := stacktest.AuditEvents(t, s.DynamoDB(), s.Tables["AuditTable"], "CONTACT_INVITED")[0].ID
	body, err := json.Marshal(onfailure.Record{Version: "1.0", DDBStreamBatchInfo: &onfailure.BatchInfo{ShardID: shards[0].ShardID, StreamArn: arn, BatchSize: 2,
		StartSequenceNumber: aws.ToString(recs[0].Dynamodb.SequenceNumber), EndSequenceNumber: aws.ToString(recs[1].Dynamodb.SequenceNumber)}})
	if err != nil {
		t.Fatal(err)
	}
	for receive := 1; receive <= 2; receive++ {
		payload, err := json.Marshal(queues.Message("MailerFailureQueue", "m-1", string(body), receive, time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		out, err := s.Invoke(t.Context(), "MailReplayFunction", payload)
		if err != nil {
			t.Fatalf("receive %d: %v", receive, err)
		}
		if d := cmp.Diff(`{"batchItemFailures":null}`, string(out)); d != "" {
			t.Errorf("receive %d: answer (-want +got):\n%s", receive, d)
		}
		outcomes := stacktest.AuditEvents(t, s.DynamoDB(), s.Tables["AuditTable"], "EMAIL_DELIVERED")
		if len(outcomes) != 1 {
			t.Fatalf("receive %d: %d EMAIL_DELIVERED events, want 1", receive, len(outcomes))
		}
		stacktest.Diff(t, "requests of the outcomes", []any{requestID}, []any{outcomes[0].Data["requestEventId"]})
		var sent []string
		for _, e := range stacktest.EmailsAt(t, s.SESEndpoint) {
			if len(e.To) == 1 && e.To[0] == to {
				sent = append(sent, e.Subject)
			}
		}
		stacktest.Diff(t, "emails", []string{"You're invited by Ayu Agent"}, sent)
	}
}
