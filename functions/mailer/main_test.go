package main

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/devauth"
	"github.com/contrail/contrail/local/devstack"
	"github.com/contrail/contrail/local/stacktest"
)

// TestEndToEnd runs the functions as the local stack runs them (built binaries behind the
// gateway, the stream poller reading the audit table with the template's mapping): a CSV
// import through the API, then an invite whose email the mailer sends from the stream and
// whose EMAIL_DELIVERED shows in the contact's history.
func TestEndToEnd(t *testing.T) {
	s := devstack.StartTest(t, devstack.Options{Functions: []string{
		"ImportContactsFunction", "InviteContactFunction", "ContactHistoryFunction", "MailerFunction",
	}})
	api := s.Client(t, devauth.Claims{Tenant: "acme", User: "u-agent", Name: "Ayu Agent", Roles: []string{"agent"}})
	call := func(method, path, contentType, body string) (int, map[string]any) {
		t.Helper()
		var m map[string]any
		return api.JSON(method, path, contentType, body, &m), m
	}

	status, body := call("POST", "/v1/contacts/import", "text/csv",
		"\ufeffname,email,phone\r\n\"Santoso, Budi\",budi@example.com,\r\nBroken,not-an-email,\r\n")
	if d := cmp.Diff([]any{200, map[string]any{"imported": 1.0, "failed": []any{
		map[string]any{"row": 2.0, "line": 3.0, "message": "email: must be one email address, like name@example.com"}}}},
		[]any{status, body}); d != "" {
		t.Fatalf("import (-want +got):\n%s", d)
	}

	// The imported contact's id, from the contacts table.
	var id string
	for _, it := range scanContacts(t, s) {
		id = it
	}
	to := stacktest.Address("e2e")
	if status, body := call("POST", "/v1/contacts/"+id+"/invite", "application/json", `{"email":"`+to+`"}`); status != 202 {
		t.Fatalf("invite: %d %v", status, body)
	}

	// The mailer runs asynchronously from the stream: wait for its outcome in the history.
	var types []string
	for range 120 {
		_, hist := call("GET", "/v1/contacts/"+id+"/history", "", "")
		types = types[:0]
		items, _ := hist["items"].([]any)
		for _, it := range items {
			types = append(types, it.(map[string]any)["type"].(string))
		}
		if len(types) > 0 && types[0] == "EMAIL_DELIVERED" {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if d := cmp.Diff([]string{"EMAIL_DELIVERED", "CONTACT_INVITED", "CONTACT_ADDED"}, types); d != "" {
		t.Fatalf("history (-want +got):\n%s", d)
	}
	mails := emailsTo(t, s.SESEndpoint, to)
	if d := cmp.Diff([]string{"You're invited by Ayu Agent"}, mails); d != "" {
		t.Errorf("emails (-want +got):\n%s", d)
	}
}

func scanContacts(t *testing.T, s *devstack.Stack) []string {
	t.Helper()
	out, err := s.DynamoDB().Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(s.Tables["ContactsTable"])})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, item := range out.Items {
		var c struct {
			ItemType string `dynamodbav:"itemType"`
			ID       string `dynamodbav:"id"`
		}
		if err := attributevalue.UnmarshalMap(item, &c); err != nil {
			t.Fatal(err)
		}
		if c.ItemType == "contact" {
			ids = append(ids, c.ID)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("contacts %v, want one", ids)
	}
	return ids
}

// emailsTo returns the subjects of the mails the SES emulator holds for addr.
func emailsTo(t *testing.T, endpoint, addr string) []string {
	t.Helper()
	resp, err := http.Get(endpoint + "/store")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var store struct {
		Emails []struct {
			Subject     string `json:"subject"`
			Destination struct {
				To []string `json:"to"`
			} `json:"destination"`
		} `json:"emails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&store); err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, e := range store.Emails {
		for _, a := range e.Destination.To {
			if a == addr {
				subjects = append(subjects, e.Subject)
			}
		}
	}
	return subjects
}
