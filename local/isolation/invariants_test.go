package isolation

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// newTestRunner is a runner with the four tenants' models and no stack: enough for the checks
// that judge answers.
func newTestRunner() *runner {
	r := &runner{sum: &Summary{ByOutcome: map[string]int{}}, callers: map[string][]*caller{}, names: map[string]string{}, action: -1, phase: "test"}
	for i, id := range tenantIDs {
		r.tenants = append(r.tenants, newTenant(id, "qz"+string(rune('a'+i))+"0000001"))
	}
	return r
}

// What the leak scan counts as another tenant's data in an answer, and what not.
func TestScan(t *testing.T) {
	a := &caller{Label: "agent@iso-a", Tenant: "iso-a"}
	refused := &caller{Label: "refused"}
	for _, tc := range []struct {
		name   string
		by     *caller
		sent   string
		answer string
		leak   bool
	}{
		{"own marker", a, "", `{"name":"Ana qza0000001 1"}`, false},
		{"another tenant's marker", a, "", `{"name":"Bee qzb0000001 1"}`, true},
		{"another tenant's contact id", a, "", `{"items":[{"id":"01KB00000000000000000000B1"}]}`, true},
		{"another tenant's contact id the request sent (a 404 echoing it)", a, "/v1/contacts/01KB00000000000000000000B1", `{"error":{"code":"contact_not_found","message":"There is no contact 01KB00000000000000000000B1"}}`, false},
		{"another tenant's event id", a, "", `{"eventId":"01KB0000000000000000000EV1"}`, true},
		{"another tenant's tenant id", a, "", `{"tenantId":"iso-b"}`, true},
		{"the odd tenant, which differs by case only", a, "", `{"tenantId":"ISO-A"}`, true},
		{"a log origin of another tenant", a, "", "contrail/iso-c\n42\n", true},
		{"anything of iso-a to a refused token", refused, "", `{"name":"Ana qza0000001 1"}`, true},
		{"nothing", a, "", `{"items":[]}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestRunner()
			r.tenants[1].Order = []string{"01KB00000000000000000000B1"}
			r.tenants[1].record(event{ID: "01KB0000000000000000000EV1", Type: "LOGGED_IN"})
			r.scan(tc.by, "GET /x", tc.sent, tc.answer)
			if got := r.sum.Leaks > 0; got != tc.leak {
				t.Errorf("leak = %v, want %v (findings %v)", got, tc.leak, r.sum.Findings)
			}
		})
	}
}

// What compareEvents reports: every difference from the model is a finding.
func TestCompareEvents(t *testing.T) {
	model := func() *tenantModel {
		m := newTenant("iso-a", "qza0000001")
		m.Contacts["C1"] = &mcontact{ID: "C1", Name: "Ana", Status: active}
		m.Names["C1"] = "Ana"
		m.record(event{Type: "CONTACT_ADDED", Contact: "C1", Actor: "iso-a-agent"})
		m.record(event{ID: "E2", Type: "COMMENT_ADDED", Contact: "C1", Actor: "iso-a-agent"})
		return m
	}
	items := func() []item {
		it := func(id, at, typ string) item {
			var x item
			x.ID, x.TenantID, x.OccurredAt, x.Type, x.Category = id, "iso-a", at, typ, "contact"
			x.Actor.ID = "iso-a-agent"
			x.Contact = &struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			}{"C1", "Ana"}
			return x
		}
		return []item{it("E2", "2026-12-07T10:00:01.000Z", "COMMENT_ADDED"), it("E1", "2026-12-07T10:00:00.000Z", "CONTACT_ADDED")}
	}
	for _, tc := range []struct {
		name   string
		change func(m *tenantModel, got []item) []item
		want   []string // substrings of the findings, in order
	}{
		{"as the model says", func(_ *tenantModel, got []item) []item { return got }, nil},
		{"an event missing", func(_ *tenantModel, got []item) []item { return got[1:] }, []string{"event E2 missing", "1 events, the model says 2"}},
		{"an event too many", func(_ *tenantModel, got []item) []item { return append(got, got[1]) }, []string{"out of order", "3 events, the model says 2"}},
		{"another tenant's event", func(_ *tenantModel, got []item) []item { got[1].TenantID = "iso-b"; return got }, []string{`has tenantId "iso-b"`}},
		{"oldest first", func(_ *tenantModel, got []item) []item { return []item{got[1], got[0]} }, []string{"out of order"}},
		{"an erased contact's name in clear", func(m *tenantModel, got []item) []item { m.erase(m.Contacts["C1"]); return got },
			[]string{`names contact C1 "Ana", the model says "[erased]"`, `names contact C1 "Ana", the model says "[erased]"`}},
		{"a known id of another type", func(_ *tenantModel, got []item) []item { got[0].Type = "CONTACT_ARCHIVED"; return got },
			[]string{"event E2 is CONTACT_ARCHIVED", "2 events, the model says 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestRunner()
			m := model()
			got := tc.change(m, items())
			r.compareEvents("read", m, m.Events, got, true)
			if len(r.sum.Findings) != len(tc.want) {
				t.Fatalf("%d findings, want %d:\n%s", len(r.sum.Findings), len(tc.want), strings.Join(r.sum.Findings, "\n"))
			}
			for i, w := range tc.want {
				if !strings.Contains(r.sum.Findings[i], w) {
					t.Errorf("finding %d = %q, want it to say %q", i, r.sum.Findings[i], w)
				}
			}
		})
	}
}

// The model's merge and erase rules: what a merged contact's history holds, where its chain
// ends, and what an erasure of the primary reaches.
func TestModelMergeErase(t *testing.T) {
	m := newTenant("iso-a", "qza0000001")
	for _, id := range []string{"X", "P", "Q"} {
		m.Contacts[id] = &mcontact{ID: id, Name: id, Status: active, Channels: []channel{}}
		m.Names[id] = id
		m.Order = append(m.Order, id)
		m.record(event{Type: "CONTACT_ADDED", Contact: id})
	}
	// X into P, then P into Q.
	m.Contacts["X"].Status, m.Contacts["X"].MergedInto, m.Contacts["P"].MergedFrom = merged, "P", []string{"X"}
	m.Contacts["P"].Status, m.Contacts["P"].MergedInto, m.Contacts["Q"].MergedFrom = merged, "Q", []string{"P", "X"}
	if got := m.mergedInto(m.Contacts["X"]); got != "Q" {
		t.Errorf("X's chain ends at %s, want Q", got)
	}
	if _, o := m.load("X"); o != (outcome{404, "contact_merged"}) {
		t.Errorf("load X = %v", o)
	}
	if got := len(m.history("Q")); got != 3 {
		t.Errorf("Q's history holds %d events, want 3", got)
	}
	m.erase(m.Contacts["Q"])
	var erased []string
	for _, id := range m.Order {
		if m.Contacts[id].Erased {
			erased = append(erased, id)
		}
	}
	if d := cmp.Diff([]string{"X", "P", "Q"}, erased); d != "" {
		t.Errorf("erased (-want +got):\n%s", d)
	}
	if _, o := m.load("X"); o != notFound {
		t.Errorf("load erased X = %v, want %v", o, notFound)
	}
	if got := m.nameOf("P"); got != erasedName {
		t.Errorf("P's events name it %q", got)
	}
}
