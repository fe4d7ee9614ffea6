// Package isolation is the model-based isolation test of issue 14: a seeded random sequence of
// actions by random callers of several tenants and roles (and callers whose signed tokens carry
// odd or forged claims) through the HTTP routes of a running local stack; a model, in pure Go,
// of what each tenant holds and what each caller may see; and, once the actions have settled
// (mails sent, exports done, the archive caught up), every read route checked against the
// model: contacts (list, get, history), the audit log with its filters, co-browsing sessions,
// the four report logs and the overview, exports (their files too), schedules, settings,
// cursors replayed by another tenant, the verifiable log's checkpoint and inclusion proofs,
// and reconciliation of DynamoDB with the archive. Every response to a tenant's request is
// also scanned, raw, for any id or name of another tenant.
//
// Each action's status is predicted by the model; an answer other than the prediction, a read
// that differs from the model, or another tenant's data in an answer is a finding, printed
// with the seed and the action's number.
package isolation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/contrail/contrail/local/devauth"
	"github.com/contrail/contrail/local/devstack"
	"github.com/contrail/contrail/local/routefuzz"
	"github.com/contrail/contrail/local/template"
)

// Functions are the functions a run needs: every route's, and the consumers that settle what
// the routes record (the archiver, the mailer, the export worker) and the sequencer, which the
// run invokes itself once the archive has caught up.
func Functions(tpl *template.Template) []string {
	return append(routefuzz.RouteFunctions(tpl), "ArchiverFunction", "MailerFunction", "ExportWorkerFunction", "SequenceLogFunction")
}

// Config is one run.
type Config struct {
	Stack   *devstack.Stack // started with Functions, schedules off
	Key     []byte          // the stack's development signing key
	Seed    uint64
	Actions int
	// Progress, when set, gets a line per phase and every 100 actions.
	Progress io.Writer
}

// Summary is what a run did and found.
type Summary struct {
	Seed          uint64
	Actions       int
	ByOutcome     map[string]int // "create 201" -> n
	Reads         int            // read requests whose answer was checked against the model
	ForeignProbes int            // requests naming another tenant's id or cursor
	Responses     int            // responses scanned for other tenants' ids and names
	Leaks         int            // responses holding another tenant's id or name: must be 0
	Events        map[string]int // tenant -> events the model expects (and DynamoDB holds)
	Elapsed       time.Duration
	ActionTime    time.Duration
	Findings      []string
	FindingCount  int
}

// MaxFindings is how many findings a run keeps in full.
const MaxFindings = 60

type runner struct {
	c       Config
	rng     *rand.Rand
	http    *http.Client
	sum     *Summary
	tenants []*tenantModel // the four tenants, the odd one last
	callers map[string][]*caller
	refused []*caller // signed tokens the edge refuses: nothing they send may change anything
	action  int       // the current action's number, for findings
	phase   string
	start   time.Time
	// day and dayAfter bound every period read: the run's first UTC day to the day after now.
	day, dayAfter string
	// mails are the email requests whose outcome the mailer records.
	mails []mailed
	// sent holds, per tenant, the ids of other tenants its callers have sent (see scan).
	sent map[string]map[string]bool
	// names are the actors' names by id, as the report logs' User column shows them.
	names map[string]string
}

type mailed struct {
	t *tenantModel
	e *event
}

// caller is one token and what the API must make of it.
type caller struct {
	Label  string
	Tenant string   // the tenant it acts as; "" when the edge refuses the token
	Sub    string   // actor id
	Name   string   // actor name
	Roles  []string // roles the API grants it
	token  string
	tenant *tenantModel
}

func (c *caller) has(roles ...string) bool {
	for _, r := range roles {
		if slices.Contains(c.Roles, r) {
			return true
		}
	}
	return false
}

// Tenant ids: three ordinary tenants and one reached only through tokens with odd claims. The
// odd one differs from iso-a by case alone, so a key or a prefix folded to lower case somewhere
// would show as a leak.
var tenantIDs = []string{"iso-a", "iso-b", "iso-c", "ISO-A"}

// Run sets up the tenants and callers, runs the actions, settles and checks every read.
func Run(ctx context.Context, c Config) (*Summary, error) {
	if c.Stack == nil || len(c.Key) == 0 || c.Actions <= 0 {
		return nil, errors.New("isolation: a stack, its signing key and a number of actions are required")
	}
	r := &runner{c: c, rng: rand.New(rand.NewPCG(c.Seed, 0x69736f6c)), http: &http.Client{Timeout: time.Minute},
		sum: &Summary{Seed: c.Seed, ByOutcome: map[string]int{}, Events: map[string]int{}}, callers: map[string][]*caller{}, names: map[string]string{}, start: time.Now()}
	if err := r.setup(); err != nil {
		return nil, err
	}
	r.phase = "actions"
	for i := range c.Actions {
		if err := ctx.Err(); err != nil {
			return r.sum, err
		}
		r.action = i
		r.act()
		if c.Progress != nil && (i+1)%100 == 0 {
			fmt.Fprintf(c.Progress, "isolation: %d actions, %.0f s, %d findings\n", i+1, time.Since(r.start).Seconds(), r.sum.FindingCount)
		}
	}
	r.sum.Actions = c.Actions
	r.sum.ActionTime = time.Since(r.start)
	r.action = -1
	if err := r.check(ctx); err != nil {
		return r.sum, err
	}
	for _, t := range r.tenants {
		r.sum.Events[t.ID] = len(t.Events)
	}
	r.sum.Elapsed = time.Since(r.start)
	return r.sum, nil
}

func (r *runner) progress(format string, args ...any) {
	if r.c.Progress != nil {
		fmt.Fprintf(r.c.Progress, "isolation: "+format+"\n", args...)
	}
}

// fail records a finding.
func (r *runner) fail(format string, args ...any) {
	r.sum.FindingCount++
	if len(r.sum.Findings) >= MaxFindings {
		return
	}
	where := r.phase
	if r.action >= 0 && r.phase == "actions" {
		where = fmt.Sprintf("action %d", r.action)
	}
	r.sum.Findings = append(r.sum.Findings, fmt.Sprintf("[seed %d, %s] %s", r.c.Seed, where, fmt.Sprintf(format, args...)))
}

func (r *runner) setup() error {
	now := time.Now()
	for i, id := range tenantIDs {
		// Markers are distinct and none is inside another: a marker found in an answer names
		// exactly one tenant.
		t := newTenant(id, fmt.Sprintf("qz%c%07x", 'a'+i, r.rng.Uint32()>>4))
		t.Session = fmt.Sprintf("%c%07x", 'a'+i, r.rng.Uint32()>>4)
		r.tenants = append(r.tenants, t)
	}
	mint := func(claims jwt.MapClaims) (string, error) {
		claims["iss"], claims["aud"], claims["token_use"] = devauth.Issuer, devauth.Audience, "id"
		claims["iat"], claims["exp"] = now.Unix(), now.Add(6*time.Hour).Unix()
		return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(r.c.Key)
	}
	add := func(t *tenantModel, c *caller, extra jwt.MapClaims, groups []any) error {
		claims := jwt.MapClaims{"sub": c.Sub, "name": c.Name, "custom:tenant_id": t.ID, "cognito:groups": groups}
		for k, v := range extra {
			claims[k] = v
		}
		tok, err := mint(claims)
		if err != nil {
			return err
		}
		c.token, c.Tenant, c.tenant = tok, t.ID, t
		r.names[c.Sub] = c.Name
		r.callers[t.ID] = append(r.callers[t.ID], c)
		return nil
	}
	for _, t := range r.tenants[:3] {
		for _, role := range []string{"admin", "agent", "service"} {
			c := &caller{Label: role + "@" + t.ID, Sub: t.ID + "-" + role, Name: strings.ToUpper(role[:1]) + role[1:] + " " + t.Marker, Roles: []string{role}}
			if err := add(t, c, nil, []any{role}); err != nil {
				return err
			}
		}
	}
	// The odd tenant's callers: signed tokens whose other claims name iso-b or iso-c (near-miss
	// claim names, a nested claim) and whose groups hold near-miss roles. The tenant is the
	// custom:tenant_id claim and nothing else; "Admin" and "root" are no roles.
	odd := r.tenants[3]
	forged := jwt.MapClaims{"tenant_id": "iso-b", "custom:tenant_id ": "iso-b", "custom:tenantId": "iso-a", "extra": map[string]any{"custom:tenant_id": "iso-c"}}
	for _, o := range []struct {
		role   string
		groups []any
	}{{"admin", []any{"admin", "Admin"}}, {"agent", []any{"agent", "Admin", "root"}}, {"service", []any{"service", "Service", "ADMIN"}}} {
		c := &caller{Label: "odd " + o.role + "@" + odd.ID, Sub: "odd-" + o.role, Name: "Odd " + o.role + " " + odd.Marker, Roles: []string{o.role}}
		if err := add(odd, c, forged, o.groups); err != nil {
			return err
		}
	}
	// Tokens the edge must refuse (401 or 403), all validly signed.
	for _, claims := range []jwt.MapClaims{
		{"sub": "x", "name": "Near miss", "custom:tenant_id": " iso-a", "cognito:groups": []any{"admin", "agent", "service"}},
		{"sub": "x", "name": "Key separator", "custom:tenant_id": "iso-b#C#x", "cognito:groups": []any{"admin", "agent", "service"}},
		{"sub": "x", "name": "Two tenants", "custom:tenant_id": []any{"iso-a", "iso-b"}, "cognito:groups": []any{"admin", "agent", "service"}},
		{"sub": "x", "name": "No tenant", "cognito:groups": []any{"admin", "agent", "service"}},
		{"sub": "x#T#iso-b", "name": "Key in sub", "custom:tenant_id": "iso-c", "cognito:groups": []any{"admin", "agent", "service"}},
		{"sub": "x", "name": "Nul\u0000name", "custom:tenant_id": "iso-c", "cognito:groups": []any{"admin", "agent", "service"}},
	} {
		tok, err := mint(claims)
		if err != nil {
			return err
		}
		r.refused = append(r.refused, &caller{Label: "refused (" + fmt.Sprint(claims["name"]) + ")", token: tok, Roles: []string{"admin", "agent", "service"}})
	}
	return nil
}

// role returns the tenant's caller of a role.
func (r *runner) role(t *tenantModel, role string) *caller {
	for _, c := range r.callers[t.ID] {
		if c.Roles[0] == role {
			return c
		}
	}
	panic("no " + role + " caller for " + t.ID)
}

func (r *runner) pick(n int) int { return r.rng.IntN(n) }

func (r *runner) chance(p float64) bool { return r.rng.Float64() < p }

func pickOf[T any](r *runner, xs []T) T { return xs[r.pick(len(xs))] }

// do sends one request as c and returns the status and body. Every answer is scanned for the
// ids and names of every tenant but c's own, leaving out what the request itself sent (an id
// probed from another tenant may be echoed in its 404).
func (r *runner) do(c *caller, method, path string, body any) (int, []byte) {
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	default:
		raw, _ = json.Marshal(b)
	}
	return r.send(c, method, path, raw, nil)
}

func (r *runner) send(c *caller, method, path string, raw []byte, header map[string]string) (int, []byte) {
	req, err := http.NewRequest(method, r.c.Stack.URL+path, bytes.NewReader(raw))
	if err != nil {
		r.fail("%s %s: %v", method, path, err)
		return 0, nil
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := r.http.Do(req)
	if err != nil {
		r.fail("%s %s as %s: no answer: %v", method, path, c.Label, err)
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 500 {
		r.fail("%s %s as %s: %d %s", method, path, c.Label, resp.StatusCode, clip(b))
	}
	var hdrs strings.Builder
	for k, vs := range resp.Header {
		fmt.Fprintf(&hdrs, "%s: %s\n", k, strings.Join(vs, ","))
	}
	r.scan(c, method+" "+path, string(raw)+path, hdrs.String()+string(b))
	return resp.StatusCode, b
}

// scan reports another tenant's id or name in an answer to c. An id of another tenant that
// c's tenant has sent itself (a probe) proves nothing from then on: the tenant's own audit log
// keeps it as the filter of its read (AUDIT_LOG_VIEWED's data.filters), and an error may echo
// it. No tenant ever sends another's marker, so names, emails and texts are always checked.
func (r *runner) scan(c *caller, what, sent, answer string) {
	r.sum.Responses++
	if r.sent == nil {
		r.sent = map[string]map[string]bool{}
	}
	if r.sent[c.Tenant] == nil {
		r.sent[c.Tenant] = map[string]bool{}
	}
	mine := r.sent[c.Tenant]
	for _, t := range r.tenants {
		if t.ID == c.Tenant {
			continue
		}
		for _, s := range r.secrets(t) {
			if strings.Contains(sent, s) || strings.Contains(sent, url.QueryEscape(s)) {
				mine[s] = true
			}
		}
	}
	for _, t := range r.tenants {
		if t.ID == c.Tenant {
			continue
		}
		for _, s := range r.secrets(t) {
			if strings.Contains(answer, s) && !mine[s] {
				r.sum.Leaks++
				r.fail("LEAK: the answer to %s as %s holds tenant %s's %q: %s", what, c.Label, t.ID, s, clip([]byte(answer)))
				return
			}
		}
	}
}

// secrets are what of t no other tenant's answer may hold: its marker (in every name, email,
// text and schedule name), its contact, event, export and session ids, and its tenant id where
// an answer would name it.
func (r *runner) secrets(t *tenantModel) []string {
	out := []string{t.Marker, `"tenantId":"` + t.ID + `"`, "contrail/" + t.ID + "\n", "tenant=" + t.ID + "/"}
	out = append(out, t.Order...)
	for _, e := range t.Events {
		if e.ID != "" {
			out = append(out, e.ID)
		}
	}
	for _, x := range t.Exports {
		out = append(out, x.ID)
	}
	for s := range t.Sessions {
		out = append(out, s)
	}
	return out
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

// errCode reads error.code from an error body.
func errCode(b []byte) string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(b, &e)
	return e.Error.Code
}

// expect compares an answer with the model's outcome and counts it; it reports whether the
// action succeeded as the model said it would.
func (r *runner) expect(name string, c *caller, want outcome, status int, body []byte) bool {
	got := outcome{Status: status}
	if status >= 400 {
		got.Code = errCode(body)
	}
	r.sum.ByOutcome[fmt.Sprintf("%s %d", name, status)]++
	if want.Status == 0 { // refused at the edge: 401 or 403, whatever the route
		if status != 401 && status != 403 {
			r.fail("%s as %s: %d %s, want 401 or 403 (a token the edge refuses)", name, c.Label, status, clip(body))
		}
		return false
	}
	if got.Status != want.Status || (want.Code != "" && got.Code != want.Code) {
		r.fail("%s as %s: got %s, the model says %s: %s", name, c.Label, got, want, clip(body))
		return false
	}
	return status < 300
}

// sortedCopy returns xs sorted.
func sortedCopy(xs []string) []string {
	out := slices.Clone(xs)
	sort.Strings(out)
	return out
}
