package routefuzz

import (
	"strings"
	"testing"
)

// The invariants' own checks: what counts as a well-formed error and as a leak.
func TestErrorShape(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"well formed", `{"error":{"code":"contact_not_found","message":"No contact 01J."}}`, ""},
		{"with fields", `{"error":{"code":"invalid_request","message":"Fix it.","fields":{"name":"required"}}}`, ""},
		{"not JSON", `Internal Server Error`, "body is not JSON: invalid character 'I' looking for beginning of value"},
		{"no error object", `{"message":"nope"}`, "no error object"},
		{"camel case code", `{"error":{"code":"contactNotFound","message":"x"}}`, `error.code "contactNotFound" is not snake_case`},
		{"empty code", `{"error":{"code":"","message":"x"}}`, `error.code "" is not snake_case`},
		{"blank message", `{"error":{"code":"bad","message":"  "}}`, "no error.message"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := errorShape([]byte(tc.body)); got != tc.want {
				t.Errorf("errorShape(%s) = %q, want %q", tc.body, got, tc.want)
			}
		})
	}
}

func TestLeaked(t *testing.T) {
	get := func(path string) Request { return Request{Method: "GET", Path: path} }
	tests := []struct {
		name string
		reqs []Request // sent in order; the last one's answer is resp
		resp string
		want string
	}{
		{"nothing of B", []Request{get("/v1/contacts")}, `{"items":[{"id":"01A","name":"Ana"}]}`, ""},
		{"B's name, any case", []Request{get("/v1/contacts")}, `{"items":[{"name":"Bee QZB12345678 0"}]}`, "tenant B's marker qzb12345678 (in B's names, emails and texts)"},
		{"B's id never sent", []Request{get("/v1/contacts")}, `{"items":[{"id":"01BCONTACT"}]}`, "tenant B's id 01BCONTACT"},
		{"B's id echoed from this request", []Request{get("/v1/contacts/01BCONTACT")}, `{"error":{"code":"contact_not_found","message":"No contact 01BCONTACT."}}`, ""},
		{"B's id sent earlier, stored by A", []Request{{Method: "PUT", Path: "/v1/export-schedules/01BCONTACT"}, get("/v1/export-schedules")}, `{"items":[{"name":"01BCONTACT"}]}`, ""},
		{"B's id sent in a body", []Request{{Method: "POST", Path: "/v1/contacts/merge", Body: []byte(`{"mergedIds":["01BCONTACT"]}`)}}, `{"error":{"code":"contact_not_found","message":"01BCONTACT"}}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &secrets{marker: "qzb12345678", ids: []string{"01BCONTACT", "sess-1"}}
			var got string
			for i, r := range tc.reqs {
				resp := ""
				if i == len(tc.reqs)-1 {
					resp = tc.resp
				}
				got = s.leaked(r, resp)
			}
			if got != tc.want {
				t.Errorf("leaked = %q, want %q", got, tc.want)
			}
		})
	}
}

// A finding prints a request that can be sent again as it was: path, headers, claims, body.
func TestCasePrintsTheRequest(t *testing.T) {
	f := Finding{Invariant: "no 5xx", Detail: "status 500", Index: 41, Seed: 7, Status: 500, Response: `{"error":{}}`,
		Request: Request{Route: "POST /v1/contacts", Method: "POST", Path: "/v1/contacts?x=%FF",
			Header: [][2]string{{"Content-Type", "application/json"}, {"Idempotency-Key", "it's"}}, Body: []byte("{\"name\":\"\xff\"}"),
			Claims: map[string]any{"custom:tenant_id": "fuzz-a"}}}
	got := f.Case("http://127.0.0.1:3000")
	for _, want := range []string{
		"FAILED no 5xx: status 500",
		"seed 7, request 41 (make fuzz-routes SEED=7 N=42",
		"route   POST /v1/contacts\n",
		"request POST /v1/contacts?x=%FF\n",
		"header  Idempotency-Key: it's\n",
		`claims  {"custom:tenant_id":"fuzz-a"}`,
		`body    "{\"name\":\"\xff\"}"`,
		`curl    curl -sS -X POST 'http://127.0.0.1:3000/v1/contacts?x=%FF' -H 'Content-Type: application/json' -H 'Idempotency-Key: it'\''s' --data-binary '{"name":"` + "\xff" + `"}'`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("case lacks %q:\n%s", want, got)
		}
	}
}
