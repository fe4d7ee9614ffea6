package report

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/httpapi"
)

// TestSampleEvents runs each sample in events/ through its route (over the fixture, which
// holds nothing in November 2026) and compares the whole response.
func TestSampleEvents(t *testing.T) {
	s := newStack(t)
	empty := `{"items":[],"nextCursor":null}`
	csvHead := func(k Kind, name string) events.APIGatewayV2HTTPResponse {
		head := map[Kind]string{
			Added:  "Created At,Contact ID,Contact Name,Source,User\r\n",
			Merged: "Created At,Primary Contact ID,Contact Name,Merged Contact IDs,Source,User\r\n",
		}[k]
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "\ufeff" + head, Headers: map[string]string{
			"content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="` + name + `"`}}
	}
	jsonOK := func(body string) events.APIGatewayV2HTTPResponse {
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"content-type": "application/json"}, Body: body}
	}
	p := mustPeriod(t, "2026-11-01", "2026-12-01", "Asia/Jakarta")
	ov := s.fx.wantOverview("acme", p.From, p.To, p.TZ)
	through := audit.FormatTime(fixtureNow.Add(-commitSlack))
	ov.ArchivedThrough = &through
	ovBody, _ := json.Marshal(ov)
	overview := httpapi.Route(httpapi.AdminRoles, s.svc.Overview)
	log := func(k Kind) httpapi.LambdaHandler { return httpapi.Route(httpapi.AdminRoles, s.svc.Log(k)) }
	for _, c := range []struct {
		file string
		h    httpapi.LambdaHandler
		want events.APIGatewayV2HTTPResponse
	}{
		{"contact-overview-jakarta-month.json", overview, jsonOK(string(ovBody))},
		{"contact-overview-agent-forbidden.json", overview, events.APIGatewayV2HTTPResponse{StatusCode: 403, Headers: map[string]string{"content-type": "application/json"},
			Body: `{"error":{"code":"forbidden","message":"This route needs one of the roles admin."}}`}},
		{"added-log-first-page.json", log(Added), jsonOK(empty)},
		{"added-log-csv.json", log(Added), csvHead(Added, "contact-added-2026-11-01-2026-12-01.csv")},
		{"added-log-filtered.json", log(Added), jsonOK(empty)},
		{"connected-log-first-page.json", log(Connected), jsonOK(empty)},
		{"deleted-log-first-page.json", log(Deleted), jsonOK(empty)},
		{"merged-log-csv.json", log(Merged), csvHead(Merged, "contact-merged-2026-10-01-2026-11-30.csv")},
	} {
		t.Run(c.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "..", "events", c.file))
			if err != nil {
				t.Fatal(err)
			}
			var ev events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(b, &ev); err != nil {
				t.Fatal(err)
			}
			got, err := c.h(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(c.want, got); d != "" {
				t.Errorf("response (-want +got):\n%s", d)
			}
		})
	}
}
