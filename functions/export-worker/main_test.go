package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/devauth"
	"github.com/contrail/contrail/local/devstack"
	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/export"
)

// TestEndToEnd runs the export functions as `make run` runs them (built binaries behind the
// gateway, the stream poller reading the jobs table with the template's mapping, the
// scheduler function invoked as EventBridge would): an export asked through the API ends as
// a file behind a presigned link and one email; a due schedule run twice makes one more.
func TestEndToEnd(t *testing.T) {
	s := devstack.StartTest(t, devstack.Options{Functions: []string{
		"CreateExportFunction", "GetExportFunction", "PutExportScheduleFunction", "ExportWorkerFunction", "ExportSchedulerFunction",
	}})
	api := s.Client(t, devauth.Claims{Tenant: "acme", User: "u-admin", Name: "Rina Admin", Roles: []string{"admin"}})
	call := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		var m map[string]any
		return api.JSON(method, path, "application/json", body, &m), m
	}

	// Two contacts added yesterday (UTC), archived as the archiver would.
	day := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	evs := []audit.Event{
		added("01KA0000000000000000000001", day.Add(9*time.Hour), "c-1", "Budi"),
		added("01KA0000000000000000000002", day.Add(15*time.Hour), "c-2", "+62 812"),
	}
	putPart(t, s.S3(), s.Buckets["ArchiveBucket"], day, evs)
	from, to := day.Format(time.DateOnly), day.AddDate(0, 0, 1).Format(time.DateOnly)
	wantCSV := "\ufeffCreated At,Contact ID,Contact Name,Source,User\r\n" +
		evs[1].OccurredAt + ",c-2,'+62 812,manual,Rina Admin\r\n" +
		evs[0].OccurredAt + ",c-1,Budi,manual,Rina Admin\r\n"

	addr := stacktest.Address("export")
	status, created := call("POST", "/v1/exports", `{"report":"added","from":"`+from+`","to":"`+to+`","format":"csv","email":"`+addr+`"}`)
	if status != http.StatusAccepted {
		t.Fatalf("POST /v1/exports: %d %v", status, created)
	}
	id := created["id"].(string)
	var got map[string]any
	for range 240 {
		_, got = call("GET", "/v1/exports/"+id, "")
		if got["status"] == "done" || got["status"] == "failed" {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if got["status"] != "done" || got["rows"] != 2.0 {
		t.Fatalf("GET /v1/exports/%s = %v, want done with 2 rows", id, got)
	}
	if d := cmp.Diff(wantCSV, string(stacktest.Download(t, got["url"].(string)))); d != "" {
		t.Errorf("file (-want +got):\n%s", d)
	}
	mails := waitMails(t, s.SESEndpoint, addr, 1)
	if d := cmp.Diff(wantCSV, string(stacktest.Download(t, regexp.MustCompile(`https?://\S+`).FindString(mails[0].Text)))); d != "" {
		t.Errorf("the mailed link's file (-want +got):\n%s", d)
	}

	// A daily schedule whose period (yesterday) is due: run the scheduler twice.
	sched := stacktest.Address("schedule")
	if status, body := call("PUT", "/v1/export-schedules/daily", `{"report":"added","frequency":"daily","format":"csv","recipients":["`+sched+`"]}`); status != http.StatusOK {
		t.Fatalf("PUT schedule: %d %v", status, body)
	}
	makeDue(t, s.DynamoDB(), s.Tables["JobsTable"], day.AddDate(0, 0, 1))
	tick := []byte(`{"version":"0","id":"e2e","detail-type":"Scheduled Event","source":"aws.events","time":"` + time.Now().UTC().Format(time.RFC3339) + `","detail":{}}`)
	var results []string
	for range 2 {
		out, err := s.Invoke(context.Background(), "ExportSchedulerFunction", tick)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, string(out))
	}
	if d := cmp.Diff([]string{`{"due":1,"created":1,"skipped":0,"abandoned":0}`, `{"due":0,"created":0,"skipped":0,"abandoned":0}`}, results); d != "" {
		t.Errorf("scheduler runs (-want +got):\n%s", d)
	}
	mails = waitMails(t, s.SESEndpoint, sched, 1)
	if d := cmp.Diff(wantCSV, string(stacktest.Download(t, regexp.MustCompile(`https?://\S+`).FindString(mails[0].Text)))); d != "" {
		t.Errorf("the scheduled export's file (-want +got):\n%s", d)
	}
	time.Sleep(2 * time.Second) // a second mail, if any, would have come by now
	if n := len(waitMails(t, s.SESEndpoint, sched, 1)); n != 1 {
		t.Errorf("%d mails for the scheduled period, want 1", n)
	}
}

func added(id string, at time.Time, contactID, name string) audit.Event {
	ts := audit.FormatTime(at)
	return audit.Event{ID: id, TenantID: "acme", OccurredAt: ts, RecordedAt: ts, Type: "CONTACT_ADDED", Category: "contact",
		Actor: audit.Actor{Type: "user", ID: "u-admin", Name: "Rina Admin"}, Contact: &audit.ContactRef{ID: contactID, Name: name},
		Source: "manual", Data: map[string]any{}}
}

func putPart(t *testing.T, client *s3.Client, bucket string, day time.Time, evs []audit.Event) {
	t.Helper()
	rows, err := archive.FromEvents(evs)
	if err != nil {
		t.Fatal(err)
	}
	key, b, err := archive.EncodePart("acme", day.Format(time.DateOnly), rows)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(b)}); err != nil {
		t.Fatal(err)
	}
}

// makeDue moves the schedule's nextRunAt back to end, as if the scheduler had not run since.
func makeDue(t *testing.T, db *dynamodb.Client, table string, end time.Time) {
	t.Helper()
	_, err := db.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName: aws.String(table),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: export.SchedulePK("acme")}, "sk": &types.AttributeValueMemberS{Value: "daily"},
		},
		UpdateExpression:          aws.String("SET nextRunAt = :end"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":end": &types.AttributeValueMemberS{Value: audit.FormatTime(end)}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

type mail struct{ Text string }

// waitMails waits until the SES emulator holds at least n mails to addr and returns them.
func waitMails(t *testing.T, endpoint, addr string, n int) []mail {
	t.Helper()
	for range 120 {
		var out []mail
		resp, err := http.Get(endpoint + "/store")
		if err != nil {
			t.Fatal(err)
		}
		var store struct {
			Emails []struct {
				Destination struct {
					To []string `json:"to"`
				} `json:"destination"`
				Body struct {
					Text string `json:"text"`
				} `json:"body"`
			} `json:"emails"`
		}
		err = json.NewDecoder(resp.Body).Decode(&store)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range store.Emails {
			for _, a := range e.Destination.To {
				if a == addr {
					out = append(out, mail{Text: e.Body.Text})
				}
			}
		}
		if len(out) >= n {
			return out
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("no mail to %s after 60 s", addr)
	return nil
}
