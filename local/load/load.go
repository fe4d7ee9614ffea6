// Package load is `make load`: a sustained, mixed load on a whole local stack. Callers send,
// for a set time, contact actions (create, connect, comment, invite, message, share, archive,
// unarchive, delete, merge), audit event batches, co-browsing events and reads, and report
// reads (the overview, the four logs, the audit-log query) for many tenants, each request's
// tenant drawn from a Zipf distribution (one very hot tenant). It measures requests per
// second, p50/p99 latency per route family and errors by status; samples the archive's lag
// (the oldest acknowledged event not yet in the Parquet archive) every few seconds; then,
// once the load stops, the time until every acknowledged event is archived and the
// reconciliation (local/reconcile) agrees for every tenant.
package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/contrail/contrail/local/devauth"
	"github.com/contrail/contrail/local/devstack"
	"github.com/contrail/contrail/local/reconcile"
	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/tenant"
)

// Functions are the functions a run needs: the routes of the mix, the stream consumers that
// archive and mail, and the scheduled compactor and sequencer (on their template schedules).
var Functions = []string{
	"CreateContactFunction", "ConnectChannelFunction", "CommentContactFunction", "ArchiveContactFunction",
	"UnarchiveContactFunction", "DeleteContactFunction", "MergeContactsFunction",
	"InviteContactFunction", "MessageContactFunction", "ShareContactFunction",
	"IngestAuditEventsFunction", "IngestCobrowseEventsFunction", "CobrowseSessionFunction", "QueryAuditEventsFunction",
	"ContactOverviewFunction", "AddedLogFunction", "ConnectedLogFunction", "DeletedLogFunction", "MergedLogFunction",
	"ArchiverFunction", "MailerFunction", "CompactorFunction", "SequenceLogFunction",
}

// Config sizes a run.
type Config struct {
	Stack    *devstack.Stack
	Seed     uint64
	Duration time.Duration // how long the load runs
	Tenants  int
	Workers  int           // concurrent callers
	Skew     float64       // the Zipf exponent; 0 = 1.1
	Every    time.Duration // the lag's sampling period; 0 = 5 s
	Drain    time.Duration // how long the stack may take to drain; 0 = 5 minutes
	// Progress, when set, gets a line per lag sample and per drain step.
	Progress io.Writer
}

// tenantState is one tenant's callers and what the load knows of it.
type tenantState struct {
	id                    tenant.ID
	admin, agent, service string // tokens

	mu               sync.Mutex
	active, archived []string // contacts no caller is acting on now
	sessions         map[string]bool
	n                int
	ids              []string       // event ids the API acknowledged
	sent, ok         map[string]int // contact actions by event type: sent, acknowledged
	mails            int            // mail requests acknowledged
	requests         int
}

// Family is one route family's figures.
type Family struct {
	Latencies []time.Duration
	Hot       []time.Duration // of the hot tenant's requests
	Statuses  map[int]int
}

// Summary is what a run measured and found.
type Summary struct {
	Seed         uint64
	Tenants      []TenantResult // the hot tenant first
	Families     map[string]*Family
	Requests     int
	LoadTime     time.Duration
	Samples      []Sample // the archive's lag during the load and the drain
	LagAtEnd     Sample   // when the load stopped
	Acknowledged int      // event ids the API acknowledged
	// ArchivedAt is when, after the load stopped, every acknowledged event was archived;
	// the reconciliation then agreed in the pass that ran from PassFrom to DrainedAt (a pass
	// reads every tenant, so it brackets the moment the stack had drained).
	ArchivedAt, PassFrom, DrainedAt time.Duration
	Passes                          int // reconciliation passes in the drain
	Drained                         bool
	Errors                          []string // the first non-2xx answers, in full
	Lost, Duplicated, Diff          []string
}

// TenantResult is one tenant's share and its reconciliation at the end.
type TenantResult struct {
	ID                 tenant.ID
	Share              float64 // expected share of the traffic
	Requests           int
	Events, Archived   int // in DynamoDB, distinct in the archive
	Agrees             bool
	Differences, Notes int
}

// OK reports whether the run found nothing wrong: no 5xx, nothing lost or duplicated, the
// stack drained and the reconciliation agreed for every tenant.
func (s *Summary) OK() bool {
	return s.Count5xx() == 0 && len(s.Lost) == 0 && len(s.Duplicated) == 0 && len(s.Diff) == 0 && s.Drained
}

// Count5xx counts the answers with a 5xx status or none at all (status 0).
func (s *Summary) Count5xx() int {
	n := 0
	for _, f := range s.Families {
		for st, c := range f.Statuses {
			if st >= 500 || st == 0 {
				n += c
			}
		}
	}
	return n
}

type worker struct {
	r   *runner
	rng *rand.Rand
}

type runner struct {
	c       Config
	client  *http.Client
	tenants []*tenantState
	zipf    Zipf
	start   time.Time

	mu  sync.Mutex
	sum *Summary
	lag *Lag
}

// Run loads c.Stack for c.Duration, then drains it and checks it.
func Run(ctx context.Context, c Config) (*Summary, error) {
	if c.Skew == 0 {
		c.Skew = 1.1
	}
	if c.Every == 0 {
		c.Every = 5 * time.Second
	}
	if c.Drain == 0 {
		c.Drain = 5 * time.Minute
	}
	c.Tenants, c.Workers = max(c.Tenants, 1), max(c.Workers, 1)
	r := &runner{c: c, zipf: NewZipf(c.Tenants, c.Skew), lag: NewLag(),
		client: &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: c.Workers}},
		sum:    &Summary{Seed: c.Seed, Families: map[string]*Family{}}}
	for _, f := range Families {
		r.sum.Families[f] = &Family{Statuses: map[int]int{}}
	}
	for i := range c.Tenants {
		id := tenant.ID(fmt.Sprintf("load-%d-t%02d", c.Seed%100000, i))
		if i == 0 {
			id = tenant.ID(fmt.Sprintf("load-%d-hot", c.Seed%100000))
		}
		t := &tenantState{id: id, sessions: map[string]bool{}, sent: map[string]int{}, ok: map[string]int{}}
		for _, role := range []string{"admin", "agent", "service"} {
			tok, err := c.Stack.Token(devauth.Claims{Tenant: id.String(), Roles: []string{role}, User: role + "-" + id.String(), Name: "Load " + role})
			if err != nil {
				return nil, fmt.Errorf("mint %s's %s token: %w", id, role, err)
			}
			switch role {
			case "admin":
				t.admin = tok
			case "agent":
				t.agent = tok
			default:
				t.service = tok
			}
		}
		r.tenants = append(r.tenants, t)
	}
	store := &archive.S3Store{Client: c.Stack.S3(), Bucket: c.Stack.Buckets["ArchiveBucket"]}
	watch := &watcher{store: store, seen: map[string]bool{}}
	day := time.Now().UTC().Truncate(24 * time.Hour)

	r.start = time.Now()
	loadCtx, stop := context.WithDeadline(ctx, r.start.Add(c.Duration))
	defer stop()
	var wg sync.WaitGroup
	total := totalWeight()
	for i := range c.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{r: r, rng: rand.New(rand.NewPCG(c.Seed, uint64(i)))}
			for loadCtx.Err() == nil {
				t := r.tenants[r.zipf.Pick(w.rng.Float64())]
				actions[pickAction(w.rng.IntN(total))].run(w, t)
			}
		}()
	}
	tick := time.NewTicker(c.Every)
	for loadCtx.Err() == nil {
		select {
		case <-loadCtx.Done():
		case <-tick.C:
			if err := r.sample(ctx, watch, "load"); err != nil {
				tick.Stop()
				stop()
				wg.Wait()
				return r.sum, err
			}
		}
	}
	tick.Stop()
	wg.Wait()
	r.sum.LoadTime = time.Since(r.start)
	if ctx.Err() != nil {
		return r.sum, ctx.Err()
	}
	if err := r.sample(ctx, watch, "load stopped"); err != nil {
		return r.sum, err
	}
	r.sum.LagAtEnd = r.sum.Samples[len(r.sum.Samples)-1]
	return r.sum, r.drain(ctx, watch, day)
}

// sample reads the archive's new objects and records the lag as it was when the archive was
// listed (reading the new objects takes a while under load).
func (r *runner) sample(ctx context.Context, w *watcher, phase string) error {
	listed, err := w.poll(ctx, r)
	if err != nil {
		return err
	}
	r.mu.Lock()
	lag, pending := r.lag.Oldest(listed)
	s := Sample{At: listed.Sub(r.start), Lag: lag, Pending: pending, Load1: loadAverage()}
	r.sum.Samples = append(r.sum.Samples, s)
	reqs := r.sum.Requests
	r.mu.Unlock()
	if r.c.Progress != nil {
		fmt.Fprintf(r.c.Progress, "load: %s, %4.0f s: %d requests, archive lag %.1f s (%d events pending), load average %.1f\n", phase, s.At.Seconds(), reqs, s.Lag.Seconds(), s.Pending, s.Load1)
	}
	return nil
}

// drain samples the lag until every acknowledged event is archived, then reconciles every
// tenant until all agree (and every mail request has its outcome), or until c.Drain.
func (r *runner) drain(ctx context.Context, w *watcher, day time.Time) error {
	stopped := time.Now()
	deadline := stopped.Add(r.c.Drain)
	checker, closeChecker, err := reconcile.Open(ctx, reconcile.Config{
		DynamoDBEndpoint: r.c.Stack.DynamoDBEndpoint, S3Endpoint: r.c.Stack.S3Endpoint, StateDir: r.c.Stack.StateDir,
		Table: r.c.Stack.Tables["AuditTable"], KeysTable: r.c.Stack.Tables["KeysTable"], LogTable: r.c.Stack.Tables["LogTable"], Bucket: r.c.Stack.Buckets["ArchiveBucket"],
	})
	if err != nil {
		return fmt.Errorf("open the reconciliation: %w", err)
	}
	defer closeChecker()
	for {
		if err := r.sample(ctx, w, "drain"); err != nil {
			return err
		}
		last := r.sum.Samples[len(r.sum.Samples)-1]
		if last.Pending == 0 {
			if r.sum.ArchivedAt == 0 {
				r.sum.ArchivedAt = time.Since(stopped)
			}
			from := time.Since(stopped)
			settled, err := r.check(ctx, checker, day, day.AddDate(0, 0, 2))
			if err != nil {
				return err
			}
			r.sum.Passes++
			if settled {
				r.sum.Drained, r.sum.PassFrom, r.sum.DrainedAt = true, from, time.Since(stopped)
				return nil
			}
		}
		if time.Now().After(deadline) {
			_, err := r.check(ctx, checker, day, day.AddDate(0, 0, 2))
			r.mu.Lock()
			for _, id := range r.lag.Pending() {
				r.sum.Lost = append(r.sum.Lost, fmt.Sprintf("acknowledged event %s is not archived after the drain's %s", id, r.c.Drain))
			}
			r.mu.Unlock()
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// check reconciles every tenant over [from, to) and compares DynamoDB with what the load was
// told. settled: every tenant agrees, has every mail outcome, and nothing moved meanwhile.
func (r *runner) check(ctx context.Context, checker *reconcile.Checker, from, to time.Time) (bool, error) {
	settled := true
	var results []TenantResult
	var lost, dup, diff []string
	for i, t := range r.tenants {
		res, err := checker.Run(ctx, t.id, from, to)
		if err != nil {
			return false, fmt.Errorf("reconcile %s: %w", t.id, err)
		}
		ddb, err := checker.DynamoDB.Events(ctx, t.id, from, to)
		if err != nil {
			return false, fmt.Errorf("read %s's events: %w", t.id, err)
		}
		tr := TenantResult{ID: t.id, Share: r.zipf.Share(i), Agrees: res.Agree(), Differences: len(res.Differences), Notes: len(res.Notes)}
		for _, n := range res.Counts[checker.DynamoDB.Name()] {
			tr.Events += n
		}
		for _, n := range res.Counts[checker.Archive.Name()] {
			tr.Archived += n
		}
		if len(ddb) != tr.Events {
			settled = false // written between the two reads
		}
		for _, d := range res.Differences {
			diff = append(diff, fmt.Sprintf("%s: %s", t.id, d.Text))
		}
		byType := map[string]int{}
		for _, e := range ddb {
			byType[e.Type]++
		}
		t.mu.Lock()
		tr.Requests = t.requests
		for _, id := range t.ids {
			if _, ok := ddb[id]; !ok {
				lost = append(lost, fmt.Sprintf("%s: acknowledged event %s is not in DynamoDB", t.id, id))
			}
		}
		for typ, acked := range t.ok {
			if got := byType[typ]; got < acked {
				lost = append(lost, fmt.Sprintf("%s: %d %s events for %d acknowledged requests", t.id, got, typ, acked))
			}
		}
		for typ, sent := range t.sent {
			if got := byType[typ]; got > sent {
				dup = append(dup, fmt.Sprintf("%s: %d %s events for %d requests", t.id, got, typ, sent))
			}
		}
		outcomes := byType["EMAIL_DELIVERED"] + byType["EMAIL_FAILED"]
		if outcomes > t.mails {
			dup = append(dup, fmt.Sprintf("%s: %d email outcomes for %d mail requests", t.id, outcomes, t.mails))
		}
		if outcomes < t.mails {
			settled = false
		}
		t.mu.Unlock()
		if !res.Settled() { // differs, or events wait for the sequencer
			settled = false
		}
		results = append(results, tr)
	}
	r.sum.Tenants, r.sum.Lost, r.sum.Duplicated, r.sum.Diff = results, lost, dup, diff
	if r.c.Progress != nil {
		agree := 0
		for _, tr := range results {
			if tr.Agrees {
				agree++
			}
		}
		fmt.Fprintf(r.c.Progress, "load: drain: reconciliation agrees for %d of %d tenants\n", agree, len(results))
		for i, d := range diff {
			if i == 5 {
				fmt.Fprintf(r.c.Progress, "  ... %d more differences\n", len(diff)-5)
				break
			}
			fmt.Fprintf(r.c.Progress, "  not yet: %s\n", clip([]byte(d), 200))
		}
	}
	return settled, nil
}

// send sends one request as token for tenant t and records it under family; status 0 is no
// answer at all.
func (w *worker) send(t *tenantState, family, action, token, method, path string, body any) (int, []byte) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	status, resp, took := 0, []byte(nil), time.Duration(0)
	req, err := http.NewRequest(method, w.r.c.Stack.URL+path, rd)
	if err == nil {
		req.Header.Set("Authorization", "Bearer "+token)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		began := time.Now()
		var res *http.Response
		if res, err = w.r.client.Do(req); err == nil {
			resp, err = io.ReadAll(res.Body)
			res.Body.Close()
			status = res.StatusCode
		}
		took = time.Since(began)
	}
	if err != nil {
		resp = []byte(err.Error())
	}
	typ := eventOf[action]
	t.mu.Lock()
	t.requests++
	if typ != "" {
		t.sent[typ]++
		if status/100 == 2 {
			t.ok[typ]++
		}
	}
	t.mu.Unlock()
	r := w.r
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sum.Requests++
	f := r.sum.Families[family]
	f.Statuses[status]++
	f.Latencies = append(f.Latencies, took)
	if t == r.tenants[0] {
		f.Hot = append(f.Hot, took)
	}
	if status/100 != 2 && len(r.sum.Errors) < 20 {
		r.sum.Errors = append(r.sum.Errors, fmt.Sprintf("%s %s (%s, %s): %d %s", method, path, action, t.id, status, clip(resp, 300)))
	}
	return status, resp
}

// acked records event ids the API acknowledged for t.
func (w *worker) acked(t *tenantState, ids ...string) {
	ids = slices.DeleteFunc(ids, func(id string) bool { return id == "" })
	now := time.Now()
	t.mu.Lock()
	t.ids = append(t.ids, ids...)
	t.mu.Unlock()
	w.r.mu.Lock()
	w.r.lag.Acked(now, ids...)
	w.r.sum.Acknowledged = w.r.lag.Acknowledged()
	w.r.mu.Unlock()
}

func clip(b []byte, n int) string {
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// watcher reads each Parquet object of the archive once (a part's key names its events, so
// it never changes; a compacted object is read when it appears) and tells the lag which
// events it holds.
type watcher struct {
	store archive.Store
	seen  map[string]bool
}

// poll reads the objects not read yet and returns when the listing began.
func (w *watcher) poll(ctx context.Context, r *runner) (time.Time, error) {
	listed := time.Now()
	objs, err := w.store.List(ctx, archive.EventsPrefix)
	if err != nil {
		return listed, fmt.Errorf("list the archive: %w", err)
	}
	for _, o := range objs {
		if w.seen[o.Key] || !(archive.IsPart(o.Key) || archive.IsCompacted(o.Key)) {
			continue
		}
		b, err := w.store.Get(ctx, o.Key)
		if err != nil {
			continue // compacted away since the listing: the compacted object holds its events
		}
		rows, err := archive.Decode(b)
		if err != nil {
			return listed, fmt.Errorf("decode %s: %w", o.Key, err)
		}
		w.seen[o.Key] = true
		r.mu.Lock()
		for _, row := range rows {
			r.lag.Archived(row.EventID)
		}
		r.mu.Unlock()
	}
	return listed, nil
}

// loadAverage is the machine's 1-minute load average (Linux's /proc/loadavg); 0 elsewhere.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _, _ := strings.Cut(string(b), " ")
	v, _ := strconv.ParseFloat(f, 64)
	return v
}
