package vlog

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"sort"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/ident"
)

// sampleRequest is a sample event of events/ (an admin of acme) with the query, path
// parameters and groups of a test case.
func sampleRequest(t *testing.T, name string, query map[string]string, path string, groups string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	ev := stacktest.Sample[events.APIGatewayV2HTTPRequest](t, name+".json")
	ev.QueryStringParameters = query
	v := url.Values{}
	for k, x := range query {
		v.Set(k, x)
	}
	ev.RawQueryString = v.Encode()
	if path != "" {
		ev.PathParameters = map[string]string{"path": path}
	}
	if groups != "" {
		ev.RequestContext.Authorizer.JWT.Claims["cognito:groups"] = groups
	}
	return ev
}

// TestAPI: the log routes over a sequenced log of acme (300 events) and globex (5): whole
// answers, proofs that verify with tlog, tenant isolation, hostile parameters, access events.
func TestAPI(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	acme := sampleRows("acme", "2026-12-01", 0, 300)
	globex := sampleRows("globex", "2026-12-01", 0, 5)
	h.archiveRows(acme, globex)
	l := h.newLog()
	previous, err := NewSigner("the secret's value before its rotation")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.PublishKey(ctx, previous.VerifierKey()); err != nil {
		t.Fatal(err)
	}
	if err := h.run(l); err != nil {
		t.Fatal(err)
	}
	head, _ := l.Head(ctx, "acme")
	root := hashOf(head.Root)
	svc := &Service{
		Log:    h.newLog(),
		Events: &audit.Writer{DB: h.db, Table: h.tables["AuditTable"], Keys: audit.Keys{Shards: 4}, Retention: audit.RetentionDays(400, 400, 400, 30)},
		IDs:    ident.NewGenerator(h.Now),
	}
	signed, _ := h.archive.Get(ctx, "log/tenant=acme/checkpoint")
	tile0, _ := h.archive.Get(ctx, "log/tenant=acme/tile/0/000")
	tile1, _ := h.archive.Get(ctx, "log/tenant=acme/tile/0/001.p/44")
	leaf := func(i int) string { e := entries(t, acme[i:i+1])[0]; return string(e.Leaf) }

	type check func(t *testing.T, body string)
	inclusion := func(index, size int64) check {
		return func(t *testing.T, body string) {
			var got InclusionResponse
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatal(err)
			}
			if got.EventID != acme[index].EventID || got.Index != index || got.Size != size || got.Leaf != leaf(int(index)) {
				t.Errorf("inclusion %+v, want leaf %d of %d", got, index, size)
			}
			proof := make(tlog.RecordProof, len(got.Proof))
			for i, p := range got.Proof {
				b, _ := base64.StdEncoding.DecodeString(p)
				copy(proof[i][:], b)
			}
			r, _ := base64.StdEncoding.DecodeString(got.RootHash)
			if err := tlog.CheckRecord(proof, size, hashOf(r), index, tlog.RecordHash([]byte(got.Leaf))); err != nil {
				t.Error(err)
			}
			if size == 300 && hashOf(r) != root {
				t.Errorf("root %s, the checkpoint's %s", got.RootHash, b64(root))
			}
		}
	}
	consistency := func(from, to int64) check {
		return func(t *testing.T, body string) {
			var got ConsistencyResponse
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatal(err)
			}
			proof := make(tlog.TreeProof, len(got.Proof))
			for i, p := range got.Proof {
				b, _ := base64.StdEncoding.DecodeString(p)
				copy(proof[i][:], b)
			}
			fr, _ := base64.StdEncoding.DecodeString(got.FromRoot)
			tr, _ := base64.StdEncoding.DecodeString(got.ToRoot)
			if got.From != from || got.To != to || hashOf(tr) != root {
				t.Errorf("consistency %+v, want %d to %d", got, from, to)
			}
			if err := tlog.CheckTree(proof, to, hashOf(tr), from, hashOf(fr)); err != nil {
				t.Error(err)
			}
		}
	}
	exact := func(want string) check {
		return func(t *testing.T, body string) {
			if d := cmp.Diff(want, body); d != "" {
				t.Errorf("body (-want +got):\n%s", d)
			}
		}
	}
	errCode := func(code string, fields ...string) check {
		return func(t *testing.T, body string) {
			var got struct {
				Error struct {
					Code   string            `json:"code"`
					Fields map[string]string `json:"fields"`
				} `json:"error"`
			}
			_ = json.Unmarshal([]byte(body), &got)
			var names []string
			for k := range got.Error.Fields {
				names = append(names, k)
			}
			sort.Strings(names)
			if got.Error.Code != code || !cmp.Equal(names, fields, cmpEmpty) {
				t.Errorf("error %s, want %s %v", body, code, fields)
			}
		}
	}
	cpJSON, _ := json.Marshal(CheckpointResponse{
		Origin: "contrail/acme", Size: 300, RootHash: b64(root), Time: "2026-12-01T10:00:01Z",
		Checkpoint: string(signed), VerifierKeys: []string{h.signer.VerifierKey(), previous.VerifierKey()},
	})
	const (
		cpEv  = "get-log-checkpoint-latest"
		incEv = "get-log-inclusion-proof-event"
		conEv = "get-log-consistency-proof-sizes"
		tilEv = "get-log-tile-partial"
	)
	q := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		handler httpapi.Handler
		event   string
		query   map[string]string
		path    string
		groups  string
		status  int
		check   check
		body    []byte // a tile's bytes
		viewed  map[string]any
	}{
		{name: "checkpoint", handler: svc.Checkpoint, event: cpEv, status: 200, check: exact(string(cpJSON)), viewed: map[string]any{"read": "checkpoint", "size": 300.0}},
		{name: "checkpoint, agent", handler: svc.Checkpoint, event: cpEv, groups: "[agent]", status: 403, check: errCode("forbidden")},
		{name: "checkpoint, a parameter", handler: svc.Checkpoint, event: cpEv, query: q("size", "1"), status: 400, check: errCode("invalid_request", "size")},
		{name: "inclusion, latest", handler: svc.Inclusion, event: incEv, query: q("eventId", acme[257].EventID), status: 200, check: inclusion(257, 300),
			viewed: map[string]any{"read": "inclusion", "eventId": acme[257].EventID, "size": 300.0}},
		{name: "inclusion in an older tree", handler: svc.Inclusion, event: incEv, query: q("eventId", acme[50].EventID, "size", "51"), status: 200, check: inclusion(50, 51)},
		{name: "inclusion, first leaf", handler: svc.Inclusion, event: incEv, query: q("eventId", acme[0].EventID, "size", "1"), status: 200, check: inclusion(0, 1)},
		{name: "inclusion, another tenant's event", handler: svc.Inclusion, event: incEv, query: q("eventId", globex[0].EventID), status: 404, check: errCode("not_found")},
		{name: "inclusion, unknown event", handler: svc.Inclusion, event: incEv, query: q("eventId", "01KBJ5N1ZR00000000000000ZZ"), status: 404, check: errCode("not_found")},
		{name: "inclusion, hostile id", handler: svc.Inclusion, event: incEv, query: q("eventId", "../T#globex"), status: 400, check: errCode("invalid_request", "eventId")},
		{name: "inclusion, no id", handler: svc.Inclusion, event: incEv, status: 400, check: errCode("invalid_request", "eventId")},
		{name: "inclusion, bad size", handler: svc.Inclusion, event: incEv, query: q("eventId", acme[1].EventID, "size", "-1"), status: 400, check: errCode("invalid_request", "size")},
		{name: "inclusion, size beyond the log", handler: svc.Inclusion, event: incEv, query: q("eventId", acme[1].EventID, "size", "301"), status: 400, check: errCode("invalid_request", "size")},
		{name: "inclusion, size before the event", handler: svc.Inclusion, event: incEv, query: q("eventId", acme[50].EventID, "size", "50"), status: 400, check: errCode("invalid_request", "size")},
		{name: "inclusion, unknown parameter", handler: svc.Inclusion, event: incEv, query: q("eventId", acme[1].EventID, "tenant", "globex"), status: 400, check: errCode("invalid_request", "tenant")},
		{name: "consistency", handler: svc.Consistency, event: conEv, query: q("from", "51"), status: 200, check: consistency(51, 300),
			viewed: map[string]any{"read": "consistency", "from": 51.0, "to": 300.0}},
		{name: "consistency, sizes", handler: svc.Consistency, event: conEv, query: q("from", "256", "to", "300"), status: 200, check: consistency(256, 300)},
		{name: "consistency, from after to", handler: svc.Consistency, event: conEv, query: q("from", "301"), status: 400, check: errCode("invalid_request", "from")},
		{name: "consistency, to beyond", handler: svc.Consistency, event: conEv, query: q("from", "1", "to", "1000"), status: 400, check: errCode("invalid_request", "to")},
		{name: "consistency, no from", handler: svc.Consistency, event: conEv, query: q("to", "3"), status: 400, check: errCode("invalid_request", "from")},
		{name: "consistency, from 0x1", handler: svc.Consistency, event: conEv, query: q("from", "0x1"), status: 400, check: errCode("invalid_request", "from")},
		{name: "full tile", handler: svc.Tile, event: tilEv, path: "0/000", status: 200, body: tile0, viewed: map[string]any{"read": "tile", "tile": "tile/0/000"}},
		{name: "partial tile", handler: svc.Tile, event: tilEv, path: "0/001.p/44", status: 200, body: tile1},
		{name: "partial tile never written", handler: svc.Tile, event: tilEv, path: "0/001.p/45", status: 404, check: errCode("not_found")},
		{name: "another tenant's tile", handler: svc.Tile, event: tilEv, path: "0/000.p/5", status: 404, check: errCode("not_found")},
		{name: "tile path up and out", handler: svc.Tile, event: tilEv, path: "../../tenant=globex/tile/0/000.p/5", status: 400, check: errCode("invalid_request", "path")},
		{name: "tile path with x/mod's height", handler: svc.Tile, event: tilEv, path: "8/0/000", status: 400, check: errCode("invalid_request", "path")},
		{name: "data tile", handler: svc.Tile, event: tilEv, path: "data/000", status: 400, check: errCode("invalid_request", "path")},
		{name: "tile, not canonical", handler: svc.Tile, event: tilEv, path: "0/0", status: 400, check: errCode("invalid_request", "path")},
		{name: "tile, a tenant in the path", handler: svc.Tile, event: tilEv, path: "0/000%2F..%2F", status: 400, check: errCode("invalid_request", "path")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := h.viewed(t)
			resp, err := httpapi.Route(httpapi.AdminRoles, tc.handler)(ctx, sampleRequest(t, tc.event, tc.query, tc.path, tc.groups))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, resp.Body)
			}
			if tc.body != nil {
				got, err := base64.StdEncoding.DecodeString(resp.Body)
				if err != nil || !resp.IsBase64Encoded || resp.Headers["content-type"] != "application/octet-stream" || !cmp.Equal(tc.body, got) {
					t.Errorf("tile: %d bytes, base64 %v, headers %v; want the %d bytes in S3", len(got), resp.IsBase64Encoded, resp.Headers, len(tc.body))
				}
			} else {
				tc.check(t, resp.Body)
			}
			after := h.viewed(t)
			switch {
			case tc.status != 200 && len(after) != len(before):
				t.Errorf("a refused read recorded %s", EventViewed)
			case tc.status == 200 && len(after) != len(before)+1:
				t.Errorf("%d %s recorded, want 1", len(after)-len(before), EventViewed)
			case tc.viewed != nil:
				if d := cmp.Diff(tc.viewed, after[len(after)-1]); d != "" {
					t.Errorf("%s data (-want +got):\n%s", EventViewed, d)
				}
			}
		})
	}
}

var cmpEmpty = cmp.Comparer(func(a, b []string) bool { return len(a) == len(b) && (len(a) == 0 || cmp.Equal(a, b)) })

// viewed returns the data of every LOG_PROOF_VIEWED in the audit table, oldest first.
func (h *harness) viewed(t *testing.T) []map[string]any {
	t.Helper()
	evs := stacktest.AuditEvents(t, h.db, h.tables["AuditTable"], EventViewed)
	data := make([]map[string]any, len(evs))
	for i, e := range evs {
		data[i] = e.Data
		if e.Actor.ID != "7c0e9a52-0000-4000-8000-00000000ad01" || e.TenantID != "acme" {
			t.Errorf("%s by %+v of %s", EventViewed, e.Actor, e.TenantID)
		}
	}
	return data
}
