package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/devauth"
	"github.com/contrail/contrail/local/devstack"
	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/report"
)

func TestMain(m *testing.M) { stacktest.Main(m) }

// freshness is the local stack's bound: an event recorded through the API is counted by
// the overview within 15 seconds.
const freshness = 15 * time.Second

// TestEndToEnd runs the report functions as `make run` does (built binaries behind the
// gateway, the archiver fed by the stream poller): contact actions through the API appear in
// the overview and the logs within the freshness bound, and archivedThrough never claims an
// event the counts miss.
func TestEndToEnd(t *testing.T) {
	s := devstack.StartTest(t, devstack.Options{Functions: []string{
		"CreateContactFunction", "DeleteContactFunction", "MergeContactsFunction", "ArchiverFunction",
		"ContactOverviewFunction", "AddedLogFunction", "DeletedLogFunction", "MergedLogFunction",
	}})
	api := s.Client(t, devauth.Claims{Tenant: "acme", User: "u-admin", Name: "Rina Admin", Roles: []string{"admin"}})
	call := func(method, path, body string, out any) int {
		t.Helper()
		return api.JSON(method, path, "application/json", body, out)
	}
	type contact struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		CreatedAt string `json:"createdAt"`
	}
	start := time.Now().UTC()
	var created []contact
	for _, body := range []string{
		`{"name":"Budi","source":"manual"}`,
		`{"name":"=Siti","source":"api"}`,
		`{"name":"Pat","source":"incoming_message","channel":"whatsapp"}`,
	} {
		var c contact
		if st := call("POST", "/v1/contacts", body, &c); st != http.StatusCreated {
			t.Fatalf("POST /v1/contacts %s: %d", body, st)
		}
		created = append(created, c)
	}
	if st := call("DELETE", "/v1/contacts/"+created[2].ID, "", nil); st != http.StatusNoContent {
		t.Fatalf("DELETE: %d", st)
	}
	if st := call("POST", "/v1/contacts/merge", `{"primaryId":"`+created[0].ID+`","mergedIds":["`+created[1].ID+`"]}`, &contact{}); st != http.StatusOK {
		t.Fatalf("merge: %d", st)
	}
	last := time.Now().UTC() // every action's event is recorded by now

	// Poll the overview of today (UTC) until it counts everything; at every poll,
	// archivedThrough at or after the last action must come with complete counts.
	today := start.Format(time.DateOnly)
	tomorrow := start.AddDate(0, 0, 1).Format(time.DateOnly)
	period := "?from=" + today + "&to=" + tomorrow
	want := report.Totals{Counts: report.Counts{Added: 3, Deleted: 1, Merged: 1}}
	var ov report.Overview
	for {
		ov = report.Overview{}
		if st := call("GET", "/v1/reports/contacts/overview"+period, "", &ov); st != http.StatusOK {
			t.Fatalf("overview: %d", st)
		}
		if ov.ArchivedThrough == nil {
			t.Fatal("archivedThrough is null")
		}
		through, err := audit.ParseTime(*ov.ArchivedThrough)
		if err != nil {
			t.Fatal(err)
		}
		complete := ov.Totals == want
		if !through.Before(last) && !complete {
			t.Fatalf("archivedThrough %s is after the last action (%s) but the totals are %+v", *ov.ArchivedThrough, audit.FormatTime(last), ov.Totals)
		}
		if complete && !through.Before(last) {
			break
		}
		if time.Since(last) > freshness {
			t.Fatalf("after %s the overview has totals %+v, archivedThrough %s; want %+v through %s", freshness, ov.Totals, *ov.ArchivedThrough, want, audit.FormatTime(last))
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("counted and vouched for %s after the last action", time.Since(last).Round(10*time.Millisecond))
	wantBySource := map[string]report.Counts{"manual": {Added: 1}, "api": {Added: 1}, "incoming_message": {Added: 1}, "user": {Deleted: 1, Merged: 1}}
	if d := cmp.Diff(wantBySource, ov.BySource); d != "" {
		t.Errorf("bySource (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]report.Counts{"whatsapp": {Added: 1}}, ov.ByChannel); d != "" {
		t.Errorf("byChannel (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]report.UserCounts{{UserID: "u-admin", UserName: "Rina Admin", Counts: report.Counts{Added: 3, Deleted: 1, Merged: 1}}}, ov.ByUser); d != "" {
		t.Errorf("byUser (-want +got):\n%s", d)
	}

	// The logs, newest first.
	var added struct {
		Items      []report.AddedItem `json:"items"`
		NextCursor *string            `json:"nextCursor"`
	}
	call("GET", "/v1/reports/contacts/added"+period, "", &added)
	wantAdded := []report.AddedItem{}
	for i := len(created) - 1; i >= 0; i-- {
		src := []string{"manual", "api", "incoming_message"}[i]
		wantAdded = append(wantAdded, report.AddedItem{CreatedAt: created[i].CreatedAt, ContactID: created[i].ID, ContactName: created[i].Name, Source: src, User: "Rina Admin"})
	}
	if d := cmp.Diff(wantAdded, added.Items); d != "" || added.NextCursor != nil {
		t.Errorf("added log (-want +got):\n%s\nnextCursor %v", d, added.NextCursor)
	}
	var deleted struct {
		Items []report.AddedItem `json:"items"`
	}
	call("GET", "/v1/reports/contacts/deleted"+period, "", &deleted)
	var merged struct {
		Items []report.MergedItem `json:"items"`
	}
	call("GET", "/v1/reports/contacts/merged"+period, "", &merged)
	inRange := func(ts string) bool {
		at, err := audit.ParseTime(ts)
		return err == nil && !at.Before(start.Truncate(time.Millisecond)) && !at.After(last)
	}
	for i := range deleted.Items {
		if !inRange(deleted.Items[i].CreatedAt) {
			t.Errorf("deleted createdAt %s outside the test's actions", deleted.Items[i].CreatedAt)
		}
		deleted.Items[i].CreatedAt = ""
	}
	for i := range merged.Items {
		if !inRange(merged.Items[i].CreatedAt) {
			t.Errorf("merged createdAt %s outside the test's actions", merged.Items[i].CreatedAt)
		}
		merged.Items[i].CreatedAt = ""
	}
	if d := cmp.Diff([]report.AddedItem{{ContactID: created[2].ID, ContactName: "Pat", Source: "user", User: "Rina Admin"}}, deleted.Items); d != "" {
		t.Errorf("deleted log (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]report.MergedItem{{PrimaryContactID: created[0].ID, ContactName: "Budi", MergedContactIDs: []string{created[1].ID}, Source: "user", User: "Rina Admin"}}, merged.Items); d != "" {
		t.Errorf("merged log (-want +got):\n%s", d)
	}
}
