// Package routefuzz attacks every route of template.yaml on a running local stack with
// generated and mutated requests and checks four invariants on every response:
//
//   - no 5xx;
//   - every 4xx has error.code (snake_case) and error.message;
//   - a 4xx changes nothing: the items of the contacts table and the audit table, counted
//     before and after (no stream consumer runs in the fuzzed stack, so nothing else writes);
//   - no response to tenant A's requests holds an id or a name of tenant B, seeded first.
//
// Requests are drawn from a seeded generator (gen.go): the route's method mostly, path
// parameters (tenant A's ids, B's ids, path characters, huge and non-UTF-8 values), query
// strings, headers (content types, idempotency keys, tokens with odd but validly signed
// claims) and bodies generated from the contract or mutated from the events/ samples and the
// Go fuzz corpora. A failing invariant prints the whole request to send again by hand.
package routefuzz

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/contrail/contrail/local/template"
)

// The two tenants: requests are A's; B's data must never show in them.
const (
	TenantA = "fuzz-a"
	TenantB = "fuzz-b"
)

// Config is one run.
type Config struct {
	URL    string // the stack's API
	Key    []byte // the stack's development signing key
	DB     *dynamodb.Client
	Tables map[string]string // template LogicalId -> table name (ContactsTable, AuditTable)
	Routes []template.Route  // every route of the template
	Corpus *Corpus
	Seed   uint64
	// N requests, or until Duration has passed when N is 0.
	N        int
	Duration time.Duration
	// Progress, when set, gets a line every 500 requests.
	Progress io.Writer
}

// Finding is one broken invariant, with the request that broke it.
type Finding struct {
	Invariant string
	Detail    string
	Index     int // the request's number in the run, from 0
	Seed      uint64
	Request   Request
	Status    int
	Response  string
}

// Summary is what a run did and found.
type Summary struct {
	Requests     int
	NotSent      int // requests the HTTP client refused to send (header values it rejects)
	ByStatus     map[int]int
	ByRoute      map[string]int
	Elapsed      time.Duration
	Findings     []Finding // the first MaxFindings
	FindingCount map[string]int
}

// MaxFindings is how many findings a run keeps in full.
const MaxFindings = 50

// RoutesOf returns every route of the template's functions.
func RoutesOf(tpl *template.Template) []template.Route {
	var out []template.Route
	for _, f := range tpl.Functions() {
		out = append(out, f.Routes...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Method+out[i].Path < out[j].Method+out[j].Path })
	return out
}

// RouteFunctions returns the LogicalIds of the functions serving a route: the stack a run needs
// (no stream, queue or schedule consumer, so a 4xx's "nothing changed" is exact).
func RouteFunctions(tpl *template.Template) []string {
	var out []string
	for _, f := range tpl.Functions() {
		if len(f.Routes) > 0 {
			out = append(out, f.LogicalID)
		}
	}
	return out
}

type runner struct {
	c       Config
	http    *http.Client
	secrets secrets
	sum     *Summary
	count   [2]int64 // contacts, audit items after the last request
}

// Run seeds tenants A and B, then sends the requests and checks every response.
func Run(ctx context.Context, c Config) (*Summary, error) {
	if len(c.Routes) == 0 || c.Corpus == nil || c.DB == nil || len(c.Key) == 0 {
		return nil, errors.New("routefuzz: routes, corpus, DynamoDB client and signing key are required")
	}
	r := &runner{c: c, http: &http.Client{Timeout: 2 * time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		sum: &Summary{ByStatus: map[int]int{}, ByRoute: map[string]int{}, FindingCount: map[string]int{}}}
	start := time.Now()
	p, sec, err := r.seed(ctx)
	if err != nil {
		return nil, fmt.Errorf("seed tenants: %w", err)
	}
	r.secrets = sec
	if r.count, err = r.items(ctx); err != nil {
		return nil, err
	}
	g := &generator{rng: rand.New(rand.NewPCG(c.Seed, 0x636f6e747261696c)), routes: c.Routes, corpus: c.Corpus, key: c.Key,
		tenant: TenantA, other: TenantB, p: p, now: time.Now}
	for i := 0; c.N == 0 || i < c.N; i++ {
		if c.N == 0 && time.Since(start) >= c.Duration {
			break
		}
		if err := ctx.Err(); err != nil {
			return r.sum, err
		}
		req := g.next()
		if err := r.one(ctx, i, req, p); err != nil {
			return r.sum, err
		}
		if c.Progress != nil && (i+1)%500 == 0 {
			fmt.Fprintf(c.Progress, "routefuzz: %d requests, %.0f s, %d findings\n", i+1, time.Since(start).Seconds(), len(r.sum.Findings))
		}
	}
	r.sum.Elapsed = time.Since(start)
	return r.sum, nil
}

// one sends a request, checks the invariants on its response and learns from it.
func (r *runner) one(ctx context.Context, i int, req Request, p *pools) error {
	hr, err := http.NewRequestWithContext(ctx, req.Method, r.c.URL+req.Path, bytes.NewReader(req.Body))
	if err != nil {
		r.sum.NotSent++
		return nil
	}
	for _, h := range req.Header {
		hr.Header.Add(h[0], h[1])
	}
	resp, err := r.http.Do(hr)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if strings.Contains(err.Error(), "invalid header") || strings.Contains(err.Error(), "invalid URL") {
			r.sum.NotSent++
			return nil
		}
		r.find(i, req, 0, "", "a response", "no response: "+err.Error())
		return nil
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	r.sum.Requests++
	r.sum.ByStatus[resp.StatusCode]++
	r.sum.ByRoute[req.Route]++

	st := resp.StatusCode
	if st >= 500 {
		r.find(i, req, st, string(body), "no 5xx", fmt.Sprintf("status %d", st))
	}
	if st >= 400 {
		if msg := errorShape(body); msg != "" {
			r.find(i, req, st, string(body), "every 4xx has error.code and a message", msg)
		}
	}
	after, err := r.items(ctx)
	if err != nil {
		return err
	}
	if st >= 400 && st < 500 && after != r.count {
		r.find(i, req, st, string(body), "a 4xx changes nothing",
			fmt.Sprintf("contacts table items %d -> %d, audit table items %d -> %d", r.count[0], after[0], r.count[1], after[1]))
	}
	r.count = after
	var hdrs strings.Builder
	for k, vs := range resp.Header {
		fmt.Fprintf(&hdrs, "%s: %s\n", k, strings.Join(vs, ","))
	}
	if leak := r.secrets.leaked(req, hdrs.String()+string(body)); leak != "" {
		r.find(i, req, st, string(body), "no response to tenant A holds tenant B's ids or names", "holds "+leak)
	}
	if st < 300 {
		learn(p, req, body)
	}
	return nil
}

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// errorShape says what is wrong with an error body ("" when it is right).
func errorShape(body []byte) string {
	var e struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return "body is not JSON: " + err.Error()
	}
	switch {
	case e.Error == nil:
		return "no error object"
	case !snakeCase.MatchString(e.Error.Code):
		return fmt.Sprintf("error.code %q is not snake_case", e.Error.Code)
	case strings.TrimSpace(e.Error.Message) == "":
		return "no error.message"
	}
	return ""
}

func (r *runner) find(i int, req Request, status int, body, invariant, detail string) {
	r.sum.FindingCount[invariant]++
	if len(r.sum.Findings) >= MaxFindings {
		return
	}
	if len(body) > 2048 {
		body = body[:2048] + "…"
	}
	r.sum.Findings = append(r.sum.Findings, Finding{Invariant: invariant, Detail: detail, Index: i, Seed: r.c.Seed, Request: req, Status: status, Response: body})
}

// items counts the contacts table's and the audit table's items (all tenants: with no stream
// consumer running, only a request writes).
func (r *runner) items(ctx context.Context) ([2]int64, error) {
	var out [2]int64
	for i, logical := range []string{"ContactsTable", "AuditTable"} {
		in := &dynamodb.ScanInput{TableName: aws.String(r.c.Tables[logical]), Select: types.SelectCount, ConsistentRead: aws.Bool(true)}
		for {
			page, err := r.c.DB.Scan(ctx, in)
			if err != nil {
				return out, fmt.Errorf("count the items of %s: %w", logical, err)
			}
			out[i] += int64(page.Count)
			if page.LastEvaluatedKey == nil {
				break
			}
			in.ExclusiveStartKey = page.LastEvaluatedKey
		}
	}
	return out, nil
}

// learn grows the pools from a successful response: new contacts, gone ones, cursors,
// exports, schedules, sessions and idempotency keys to reuse.
func learn(p *pools, req Request, body []byte) {
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	str := func(k string) string { s, _ := m[k].(string); return s }
	seg := strings.Split(strings.SplitN(req.Path, "?", 2)[0], "/")
	last := func(n int) string {
		if len(seg) > n {
			return seg[n]
		}
		return ""
	}
	addCapped := func(xs *[]string, v string) {
		if v != "" && !slices.Contains(*xs, v) && len(*xs) < 200 {
			*xs = append(*xs, v)
		}
	}
	switch {
	case req.Method == "POST" && req.Route == "POST /v1/contacts":
		addCapped(&p.aContacts, str("id"))
	case req.Method == "DELETE" && req.Route == "DELETE /v1/contacts/{id}", req.Route == "POST /v1/contacts/{id}/erase":
		addCapped(&p.aGone, last(3))
	case req.Route == "POST /v1/contacts/merge":
		var in struct {
			MergedIDs []string `json:"mergedIds"`
		}
		_ = json.Unmarshal(req.Body, &in)
		for _, id := range in.MergedIDs {
			addCapped(&p.aGone, id)
		}
	case req.Route == "POST /v1/exports":
		addCapped(&p.aExports, str("id"))
	case req.Method == "PUT" && req.Route == "PUT /v1/export-schedules/{name}":
		addCapped(&p.aSchedules, last(3))
	case req.Route == "POST /v1/cobrowse/sessions/{sessionId}/events":
		addCapped(&p.aSessions, last(4))
	}
	addCapped(&p.cursors, str("nextCursor"))
	if k := req.header("Idempotency-Key"); k != "" && len(p.idem) < 100 {
		p.idem = append(p.idem, idemUse{key: k, method: req.Method, path: req.Path, body: req.Body})
	}
}

// secrets are tenant B's strings: a marker in every name, text and email B was seeded with,
// and the ids the API gave B's contacts, events, exports and sessions.
type secrets struct {
	marker string
	ids    []string
	// sent are B's ids tenant A has sent (cross-tenant probes): A may have stored one as a
	// value of its own (a schedule named like B's export id) or see it echoed in an error
	// message, so from then on it proves nothing. B's marker is never sent.
	sent map[string]bool
}

// leaked returns what of B's a response to req holds ("" when nothing).
func (s *secrets) leaked(req Request, resp string) string {
	if s.sent == nil {
		s.sent = map[string]bool{}
	}
	out := string(req.Body) + req.Path
	for _, h := range req.Header {
		out += h[1]
	}
	for _, id := range s.ids {
		if strings.Contains(out, id) || strings.Contains(out, url.PathEscape(id)) {
			s.sent[id] = true
		}
	}
	if strings.Contains(strings.ToLower(resp), s.marker) {
		return "tenant B's marker " + s.marker + " (in B's names, emails and texts)"
	}
	for _, id := range s.ids {
		if !s.sent[id] && strings.Contains(resp, id) {
			return "tenant B's id " + id
		}
	}
	return ""
}

// Report prints a run's figures and every finding as a case to send again.
func (s *Summary) Report(w io.Writer, seed uint64, url string) {
	fmt.Fprintf(w, "routefuzz: seed %d, %d requests (%d not sendable by the HTTP client) in %.1f s, %.0f requests/s, %d routes\n",
		seed, s.Requests, s.NotSent, s.Elapsed.Seconds(), float64(s.Requests)/max(s.Elapsed.Seconds(), 0.001), len(s.ByRoute))
	var codes []int
	for c := range s.ByStatus {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var parts []string
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d: %d", c, s.ByStatus[c]))
	}
	fmt.Fprintf(w, "routefuzz: statuses %s\n", strings.Join(parts, ", "))
	if len(s.FindingCount) == 0 {
		fmt.Fprintln(w, "routefuzz: every invariant held")
		return
	}
	for inv, n := range s.FindingCount {
		fmt.Fprintf(w, "routefuzz: %d broke %q\n", n, inv)
	}
	for _, f := range s.Findings {
		fmt.Fprintln(w, f.Case(url))
	}
}

// Case prints a finding as a reproducible case: the seed and index, then the exact request.
func (f Finding) Case(url string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nFAILED %s: %s\n", f.Invariant, f.Detail)
	fmt.Fprintf(&b, "  seed %d, request %d (make fuzz-routes SEED=%d N=%d reaches it; ids the API makes differ from run to run)\n", f.Seed, f.Index, f.Seed, f.Index+1)
	fmt.Fprintf(&b, "  route   %s\n  request %s %s\n", f.Request.Route, f.Request.Method, f.Request.Path)
	for _, h := range f.Request.Header {
		fmt.Fprintf(&b, "  header  %s: %s\n", h[0], h[1])
	}
	if f.Request.Claims != nil {
		c, _ := json.Marshal(f.Request.Claims)
		fmt.Fprintf(&b, "  claims  %s\n", c)
	}
	body := f.Request.Body
	note := ""
	if len(body) > 4096 {
		sum := sha256.Sum256(body)
		note = fmt.Sprintf(" … (%d bytes, sha256 %s)", len(body), hex.EncodeToString(sum[:8]))
		body = body[:4096]
	}
	fmt.Fprintf(&b, "  body    %s%s\n", strconv.Quote(string(body)), note)
	fmt.Fprintf(&b, "  answer  %d %s\n", f.Status, f.Response)
	var curl strings.Builder
	fmt.Fprintf(&curl, "curl -sS -X %s %s", f.Request.Method, shellQuote(url+f.Request.Path))
	for _, h := range f.Request.Header {
		fmt.Fprintf(&curl, " -H %s", shellQuote(h[0]+": "+h[1]))
	}
	if len(f.Request.Body) > 0 && len(f.Request.Body) <= 4096 {
		fmt.Fprintf(&curl, " --data-binary %s", shellQuote(string(f.Request.Body)))
	}
	fmt.Fprintf(&b, "  curl    %s\n", curl.String())
	return b.String()
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
