package routefuzz

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/contrail/contrail/local/devauth"
)

// seed gives tenant B contacts, a channel, a comment, audit and co-browsing events, an export
// and a schedule, every name, email and text of them holding one marker; and tenant A
// contacts (one deleted, one merged, one archived), a session, an export and a schedule, the
// ids the generator starts from.
func (r *runner) seed(ctx context.Context) (*pools, secrets, error) {
	rng := rand.New(rand.NewPCG(r.c.Seed, 1))
	marker := fmt.Sprintf("qzb%08x", rng.Uint32())
	sec := secrets{marker: marker}
	p := &pools{}
	tok := func(tenant string, roles ...string) (string, error) {
		return devauth.Mint(r.c.Key, devauth.Claims{Tenant: tenant, Roles: roles}, time.Now(), time.Hour)
	}
	var err error
	call := func(tok, method, path string, body any, want int) map[string]any {
		if err != nil {
			return nil
		}
		var b []byte
		if body != nil {
			b, _ = json.Marshal(body)
		}
		req, e := http.NewRequestWithContext(ctx, method, r.c.URL+path, bytes.NewReader(b))
		if e != nil {
			err = e
			return nil
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, e := r.http.Do(req)
		if e != nil {
			err = e
			return nil
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			err = fmt.Errorf("%s %s: %d %s (want %d)", method, path, resp.StatusCode, raw, want)
			return nil
		}
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		return m
	}
	id := func(m map[string]any) string { s, _ := m["id"].(string); return s }
	ids := func(m map[string]any) []string {
		var out []string
		list, _ := m["ids"].([]any)
		for _, v := range list {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}

	bAdmin, e1 := tok(TenantB, "admin", "agent")
	bService, e2 := tok(TenantB, "service")
	aAdmin, e3 := tok(TenantA, "admin", "agent")
	aService, e4 := tok(TenantA, "service")
	for _, e := range []error{e1, e2, e3, e4} {
		if e != nil {
			return nil, sec, e
		}
	}

	// Tenant B.
	var bContacts []string
	for i := range 3 {
		c := call(bAdmin, "POST", "/v1/contacts", map[string]any{"name": fmt.Sprintf("Bee %s %d", marker, i), "email": fmt.Sprintf("%s-%d@example.com", marker, i), "phone": fmt.Sprintf("+62 811 %d%07d", i, rng.IntN(1e7))}, 201)
		bContacts = append(bContacts, id(c))
	}
	if err != nil {
		return nil, sec, err
	}
	ext := fmt.Sprintf("+62899%09d", rng.IntN(1e9))
	call(bAdmin, "POST", "/v1/contacts/"+bContacts[0]+"/channels", map[string]any{"channel": "whatsapp", "externalId": ext}, 201)
	call(bAdmin, "POST", "/v1/contacts/"+bContacts[1]+"/comments", map[string]any{"text": "note " + marker}, 201)
	evs := call(bService, "POST", "/v1/audit-events", map[string]any{"events": []any{
		map[string]any{"type": "LOGGED_IN", "actor": map[string]any{"type": "user", "id": marker + "-actor", "name": "Actor " + marker}, "data": map[string]any{}},
	}}, 202)
	// Not the marker: the generator sends B's session id as a cross-tenant probe, and A may
	// then store it as a value of its own (a schedule's name).
	session := fmt.Sprintf("sess-%08x", rng.Uint32())
	cob := call(bService, "POST", "/v1/cobrowse/sessions/"+session+"/events", map[string]any{"events": []any{
		map[string]any{"type": "PAGECHANGE", "occurredAt": time.Now().UTC().Format(time.RFC3339), "isAgent": false, "data": map[string]any{"page": "https://" + marker + ".example.com/"}},
	}}, 202)
	call(bAdmin, "PUT", "/v1/export-schedules/"+marker+"-sched", map[string]any{"report": "added", "frequency": "weekly", "format": "csv", "recipients": []string{marker + "-r@example.com"}}, 200)
	exp := call(bAdmin, "POST", "/v1/exports", map[string]any{"report": "added", "format": "csv"}, 202)
	page := call(bAdmin, "GET", "/v1/contacts?limit=1", nil, 200)
	if err != nil {
		return nil, sec, err
	}
	sec.ids = append(append(append(append(bContacts, ext, id(exp)), ids(evs)...), ids(cob)...), session)
	p.bIDs = append(append([]string{}, bContacts...), id(exp), session)
	if c, ok := page["nextCursor"].(string); ok {
		p.cursors = append(p.cursors, c) // B's cursor: A sending it is a cross-tenant probe
	}

	// Tenant A.
	for i := range 7 {
		c := call(aAdmin, "POST", "/v1/contacts", map[string]any{"name": fmt.Sprintf("Ana %d", i), "email": fmt.Sprintf("ana%d@example.com", i)}, 201)
		p.aContacts = append(p.aContacts, id(c))
	}
	if err != nil {
		return nil, sec, err
	}
	call(aAdmin, "DELETE", "/v1/contacts/"+p.aContacts[6], nil, 204)
	call(aAdmin, "POST", "/v1/contacts/merge", map[string]any{"primaryId": p.aContacts[0], "mergedIds": []string{p.aContacts[5]}}, 200)
	call(aAdmin, "POST", "/v1/contacts/"+p.aContacts[4]+"/archive", nil, 200)
	call(aAdmin, "POST", "/v1/contacts/"+p.aContacts[1]+"/channels", map[string]any{"channel": "telegram", "externalId": "@ana1"}, 201)
	call(aService, "POST", "/v1/cobrowse/sessions/fuzz-a-session/events", map[string]any{"events": []any{
		map[string]any{"type": "PAGECHANGE", "occurredAt": time.Now().UTC().Format(time.RFC3339), "isAgent": true, "data": map[string]any{"page": "https://a.example.com/"}},
	}}, 202)
	call(aAdmin, "PUT", "/v1/export-schedules/weekly-a", map[string]any{"report": "merged", "frequency": "weekly", "format": "csv", "recipients": []string{"ops@example.com"}}, 200)
	aexp := call(aAdmin, "POST", "/v1/exports", map[string]any{"report": "overview", "format": "csv"}, 202)
	if err != nil {
		return nil, sec, err
	}
	p.aGone = append(p.aGone, p.aContacts[6], p.aContacts[5])
	p.aContacts = p.aContacts[:5]
	p.aSessions = []string{"fuzz-a-session"}
	p.aSchedules = []string{"weekly-a"}
	p.aExports = []string{id(aexp)}
	return p, sec, nil
}
