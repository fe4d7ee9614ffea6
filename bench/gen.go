package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/contrail/contrail/local/peakheap"
	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/tenant"
)

// genVersion changes whenever the generator's output changes; it keys the cached archive.
const genVersion = 1

// tenantSpec is one generated tenant: how many events over the whole period, how many
// users act, the time zone its business hours follow.
type tenantSpec struct {
	ID     tenant.ID
	Events int
	Users  int
	TZ     string
}

// scale is a generated data set.
type scale struct {
	Name    string
	Days    int // UTC days ending with the End date (the last one partial, left uncompacted)
	Tenants []tenantSpec
	// Compact is the tenant-day of the compaction case (its own data, see compactcase.go).
	Compact compactSpec
}

// compactSpec is one tenant-day as the archiver leaves it before compaction: Events
// events from Streams stream shards, each shard's batches in arrival order, a part per
// batch of about PartRows events (1 in 500 delivered again in the next batch).
type compactSpec struct {
	Events, PartRows, Streams int
}

var scales = map[string]scale{
	"full": {Name: "full", Days: 365, Tenants: []tenantSpec{
		{"busy", 10_000_000, 150, "Asia/Jakarta"},
		{"large", 1_000_000, 60, "Asia/Kolkata"},
		{"mid", 250_000, 25, "Europe/Berlin"},
		{"small", 40_000, 10, "America/Sao_Paulo"},
		{"tiny", 6_000, 4, "Asia/Jakarta"},
		{"micro", 1_500, 2, "UTC"},
	}, Compact: compactSpec{Events: 2_000_000, PartRows: 1_000, Streams: 20}},
	"genprof": {Name: "genprof", Days: 20, Tenants: []tenantSpec{{"busy", 300_000, 50, "Asia/Jakarta"}}},
	"smoke": {Name: "smoke", Days: 40, Tenants: []tenantSpec{
		{"busy", 30_000, 12, "Asia/Jakarta"},
		{"large", 4_000, 6, "Asia/Kolkata"},
		{"mid", 1_000, 4, "Europe/Berlin"},
		{"small", 300, 3, "America/Sao_Paulo"},
		{"tiny", 60, 2, "Asia/Jakarta"},
		{"micro", 15, 1, "UTC"},
	}, Compact: compactSpec{Events: 20_000, PartRows: 100, Streams: 4}},
}

// End is "now" in the generated world: the last day runs up to it and is not compacted.
var End = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// dataDir is the cache folder of a data set: a new generator version, seed, scale or
// archive layout (columns, rollup version) gets a new folder, so a stale archive is never read.
func dataDir(root string, sc scale, seed uint64) string { return cacheDir(root, "data", sc, seed) }

// cacheDir is the cache folder of one kind of generated data (see dataDir).
func cacheDir(root, kind string, sc scale, seed uint64) string {
	h := fnv.New32a()
	fmt.Fprint(h, archive.Columns, archive.HiveTypes, archive.RollupVersion, archive.MonthRollupVersion)
	return filepath.Join(root, ".local", "bench", fmt.Sprintf("%s-v%d-seed%d-%s-%08x", kind, genVersion, seed, sc.Name, h.Sum32()))
}

// manifest is written last: its presence means the folder is complete.
type manifest struct {
	Version  int            `json:"version"`
	Seed     uint64         `json:"seed"`
	Scale    string         `json:"scale"`
	Events   map[string]int `json:"events"` // per tenant, distinct
	Parts    int            `json:"parts"`
	Seconds  float64        `json:"seconds"`
	PeakHeap uint64         `json:"peakHeapBytes"`
}

func readManifest(dir string) (*manifest, bool) {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, false
	}
	var m manifest
	if json.Unmarshal(b, &m) != nil {
		return nil, false
	}
	return &m, true
}

// gen produces the events of one tenant-day deterministically from (seed, tenant, day).
type gen struct {
	seed uint64
	sc   scale
}

func (g gen) days() []time.Time {
	last := time.Date(End.Year(), End.Month(), End.Day(), 0, 0, 0, 0, time.UTC)
	out := make([]time.Time, g.sc.Days)
	for i := range out {
		out[i] = last.AddDate(0, 0, i-g.sc.Days+1)
	}
	return out
}

// dayWeights spreads a tenant's events over the days: growth over the period, quieter
// weekends, the last day only up to End.
func (g gen) dayCounts(t tenantSpec) []int {
	days := g.days()
	w := make([]float64, len(days))
	sum := 0.0
	for i, d := range days {
		x := 0.6 + 0.8*float64(i)/float64(len(days))
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			x *= 0.45
		}
		x *= 1 + 0.15*math.Sin(float64(i)/7.3+float64(len(t.ID)))
		if i == len(days)-1 {
			x *= float64(End.Sub(d)) / float64(24*time.Hour)
		}
		w[i] = x
		sum += x
	}
	out := make([]int, len(days))
	acc, given := 0.0, 0
	for i := range w {
		acc += w[i] / sum * float64(t.Events)
		out[i] = int(acc+0.5) - given
		given += out[i]
	}
	return out
}

func (g gen) rng(parts ...string) *rand.Rand {
	h := fnv.New64a()
	for _, p := range parts {
		io.WriteString(h, p)
		h.Write([]byte{0})
	}
	return rand.New(rand.NewPCG(g.seed, h.Sum64()))
}

var (
	firstNames = []string{"Budi", "Siti", "Ayu", "Dewi", "Agus", "Rina", "Putu", "Wayan", "Ana", "João", "Priya", "Rahul", "Lena", "Jonas", "Chen", "Nguyen", "Maria", "O'Brien", "Zoë", "Ñandú"}
	lastNames  = []string{"Santoso", "Rahayu", "Lestari", "Wijaya", "Sharma", "Patel", "Müller", "Schmidt", "Silva", "Souza", "Tan", "Lim", "Kusuma", "Hartono", "Pratama", "Ng", "Smith, Jr.", "Nasution"}
	addSources = []string{audit.SourceManual, audit.SourceManual, audit.SourceManual, audit.SourceImport, audit.SourceImport, audit.SourceAPI, audit.SourceAPI, audit.SourceIncomingMessage, audit.SourceIncomingMessage}
	userAgents = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
		"contrail-crm-sync/2.3",
	}
	pages = []string{"/", "/pricing", "/checkout", "/account", "/support", "/products/42", "/cart"}
)

// mix is the share of each event type (per 1000); the rest of the registry is covered too.
var mix = []struct {
	typ string
	n   int
}{
	{"CONTACT_ADDED", 140}, {"CONTACT_CONNECTED", 70}, {"CONTACT_UPDATED", 60}, {"CONTACT_ARCHIVED", 15},
	{"CONTACT_UNARCHIVED", 5}, {"CONTACT_DELETED", 20}, {"CONTACT_MERGED", 12}, {"CONTACT_INVITED", 8},
	{"MESSAGE_SENT", 50}, {"CONTACT_SHARED", 5}, {"COMMENT_ADDED", 20}, {"EMAIL_DELIVERED", 55}, {"EMAIL_FAILED", 3},
	{"START_CALL", 25}, {"MESSENGER_SEND", 60}, {"LIVE_VIEW", 12}, {"LOGGED_IN", 25}, {"ONLINE_STATUS_ONLINE", 15},
	{"ONLINE_STATUS_OFFLINE", 15}, {"STATUS_CHANGE", 30}, {"ROLE_CHANGE", 1}, {"PERMISSION_CHANGE", 1},
	{"PLUGIN_CHANGE", 1}, {"SETTINGS_CHANGE", 2}, {"MEETING_CHANGE", 4}, {"CONFERENCE_AGENT", 6}, {"CONFERENCE_RECORDING", 3},
	{"CLICK", 90}, {"SCROLL", 80}, {"FORM", 15}, {"INPUT", 45}, {"PAGECHANGE", 35}, {"SELECTION", 8}, {"CUSTOM_EVENT", 6},
	{"AUDIT_LOG_VIEWED", 3}, {"REPORT_VIEWED", 4}, {"REPORT_EXPORTED", 1},
}

var mixTotal = func() int {
	n := 0
	for _, m := range mix {
		n += m.n
	}
	return n
}()

func pickType(r *rand.Rand) string {
	x := r.IntN(mixTotal)
	for _, m := range mix {
		if x < m.n {
			return m.typ
		}
		x -= m.n
	}
	return mix[0].typ
}

// user returns a tenant user; user 0 is renamed at a UTC midnight in the middle of the
// period (so "the name on the newest event" is decided by the day, as a rollup can tell).
func (g gen) user(t tenantSpec, i int, day time.Time) audit.Actor {
	name := firstNames[(i*7+len(t.ID))%len(firstNames)] + " " + lastNames[(i*5+3)%len(lastNames)]
	if i == 0 && !day.Before(g.days()[len(g.days())/2]) {
		name += " (Team Lead)"
	}
	return audit.Actor{Type: audit.ActorUser, ID: fmt.Sprintf("u-%s-%03d", t.ID, i), Name: name}
}

// contactName is stable for a contact number.
func contactName(n int) string {
	return firstNames[n%len(firstNames)] + " " + lastNames[(n/len(firstNames))%len(lastNames)]
}

// dayEvents returns the events of tenant t on UTC day d (index di), unsorted.
func (g gen) dayEvents(t tenantSpec, di int, d time.Time, n int, contactsBefore int) []audit.Event {
	r := g.rng(t.ID.String(), d.Format(time.DateOnly))
	loc, err := time.LoadLocation(t.TZ)
	if err != nil {
		panic(err)
	}
	_, off := d.In(loc).Zone()
	span := int64(24 * time.Hour / time.Millisecond)
	if d.Add(24 * time.Hour).After(End) {
		span = End.Sub(d).Milliseconds()
	}
	entropy := ulidEntropy{r}
	nextContact := contactsBefore
	out := make([]audit.Event, 0, n)
	for len(out) < n {
		// 70% in local business hours (08:00-18:00), the rest at any time.
		var ms int64
		if r.IntN(10) < 7 {
			h := int64(8 + r.IntN(10))
			ms = ((h*3600-int64(off))*1000 + r.Int64N(3600_000) + 2*86_400_000) % 86_400_000
		} else {
			ms = r.Int64N(span)
		}
		if ms >= span {
			continue
		}
		at := d.Add(time.Duration(ms) * time.Millisecond)
		typ := pickType(r)
		ui := r.IntN(r.IntN(t.Users) + 1) // a few users do most of the work
		e := audit.Event{
			ID:         ulid.MustNew(ulid.Timestamp(at), entropy).String(),
			TenantID:   tenant.ID(t.ID),
			OccurredAt: audit.FormatTime(at),
			RecordedAt: audit.FormatTime(at.Add(time.Duration(20+r.IntN(400)) * time.Millisecond)),
			Type:       typ,
			Category:   audit.CategoryOf(typ),
			Actor:      g.user(t, ui, d),
			Context: &audit.Context{
				IP:        "203.0." + strconv.Itoa(r.IntN(8)) + "." + strconv.Itoa(1+r.IntN(254)),
				UserAgent: userAgents[r.IntN(len(userAgents))],
				RequestID: fmt.Sprintf("%08x-%04x-4%03x", r.Uint32(), r.IntN(1<<16), r.IntN(1<<12)),
			},
			Data: map[string]any{},
		}
		known := max(nextContact, 1)
		cn := r.IntN(known)
		ref := func(n int) *audit.ContactRef {
			return &audit.ContactRef{ID: fmt.Sprintf("c-%s-%07d", t.ID, n), Name: contactName(n)}
		}
		customer := fmt.Sprintf("cust-%06d", r.IntN(known*3+10))
		session := fmt.Sprintf("s-%s-%d-%03d", t.ID, di, r.IntN(40))
		switch typ {
		case "CONTACT_ADDED":
			e.Contact = ref(nextContact)
			nextContact++
			e.Source = addSources[r.IntN(len(addSources))]
			if e.Source == audit.SourceIncomingMessage {
				e.Actor, e.Context = audit.Actor{Type: audit.ActorSystem}, nil
				e.Channel = audit.Channels[r.IntN(len(audit.Channels))]
			} else if r.IntN(10) == 0 {
				e.Channel = audit.Channels[r.IntN(len(audit.Channels))]
			}
			if r.IntN(3) > 0 {
				e.Data["email"] = fmt.Sprintf("contact%d@example.com", nextContact)
			}
			if r.IntN(2) == 0 {
				e.Data["phone"] = fmt.Sprintf("+62 812-%04d-%04d", r.IntN(10000), r.IntN(10000))
			}
		case "CONTACT_CONNECTED":
			e.Contact = ref(cn)
			e.Source = []string{audit.SourceUser, audit.SourceManual, audit.SourceIncomingMessage}[r.IntN(3)]
			e.Channel = audit.Channels[r.IntN(len(audit.Channels))]
			e.Data["externalId"] = fmt.Sprintf("+628%09d", r.IntN(1_000_000_000))
		case "CONTACT_ARCHIVED", "CONTACT_UNARCHIVED", "CONTACT_DELETED":
			e.Contact = ref(cn)
			e.Source = []string{audit.SourceManual, audit.SourceManual, audit.SourceAPI}[r.IntN(3)]
		case "CONTACT_MERGED":
			e.Contact, e.Source = ref(cn), audit.SourceManual
			ids := []any{}
			for k := 0; k < 1+r.IntN(3); k++ {
				ids = append(ids, fmt.Sprintf("c-%s-%07d", t.ID, r.IntN(known)))
			}
			e.Data["primaryContactId"], e.Data["mergedContactIds"] = e.Contact.ID, ids
		case "CONTACT_UPDATED":
			e.Contact, e.Source = ref(cn), audit.SourceManual
			e.Data["changes"] = map[string]any{"email": map[string]any{"from": nil, "to": fmt.Sprintf("c%d@example.org", cn)}}
		case "CONTACT_INVITED", "CONTACT_SHARED":
			e.Contact, e.Source = ref(cn), audit.SourceManual
			e.Data["email"] = fmt.Sprintf("c%d@example.org", cn)
			if typ == "CONTACT_SHARED" && r.IntN(2) == 0 {
				e.Data["note"] = "FYI: follow up on Monday"
			}
		case "MESSAGE_SENT":
			e.Contact, e.Source, e.Channel = ref(cn), audit.SourceManual, "email"
			e.Data["text"], e.Data["to"] = "Hello, your order #"+strconv.Itoa(r.IntN(99999))+" has shipped.", fmt.Sprintf("c%d@example.org", cn)
		case "COMMENT_ADDED":
			e.Contact, e.Source = ref(cn), audit.SourceManual
			e.Data["text"] = "Called back, prefers WhatsApp after 5pm."
		case "EMAIL_DELIVERED", "EMAIL_FAILED":
			e.Contact, e.Source, e.Channel = ref(cn), audit.SourceSystem, "email"
			e.Actor, e.Context = audit.Actor{Type: audit.ActorSystem}, nil
			e.Data["requestEventId"] = ulid.MustNew(ulid.Timestamp(at.Add(-time.Second)), entropy).String()
			if typ == "EMAIL_DELIVERED" {
				e.Data["messageId"] = fmt.Sprintf("0100019%09x-ses", r.Uint64()>>28)
			} else {
				e.Data["reason"] = "MessageRejected: Email address is not verified."
			}
		case "START_CALL", "CONFERENCE_AGENT":
			e.Data["callId"], e.Data["customerId"] = fmt.Sprintf("call-%08x", r.Uint32()), customer
		case "CONFERENCE_RECORDING":
			e.Data["callId"], e.Data["customerId"] = fmt.Sprintf("call-%08x", r.Uint32()), customer
			e.Data["joinedAgents"], e.Data["tags"] = []any{e.Actor.ID}, []any{"sales", "priority"}
		case "MESSENGER_SEND":
			e.Data["customerId"] = customer
		case "LIVE_VIEW":
			e.Data["sessionId"], e.SessionID = session, session
		case "STATUS_CHANGE":
			e.Data["customerId"], e.Data["status"], e.Data["messageId"] = customer, []string{"open", "pending", "resolved"}[r.IntN(3)], fmt.Sprintf("m-%08x", r.Uint32())
		case "ROLE_CHANGE":
			e.Data["roleName"], e.Data["tenantUser"] = "supervisor", g.user(t, r.IntN(t.Users), d).ID
		case "PERMISSION_CHANGE":
			e.Data["roleName"], e.Data["permissions"] = "agent", []any{"contacts:read", "contacts:write"}
		case "PLUGIN_CHANGE", "SETTINGS_CHANGE":
			e.Data["configuration"] = map[string]any{"maskInputs": r.IntN(2) == 0, "retentionDays": float64(30 + r.IntN(300))}
		case "MEETING_CHANGE":
			e.Data["operation"] = []string{"CREATE_OR_UPDATE", "DELETE"}[r.IntN(2)]
			e.Data["conference"] = map[string]any{"id": fmt.Sprintf("conf-%d", r.IntN(500)), "title": "Weekly sync"}
		case "CLICK", "SCROLL", "FORM", "INPUT", "PAGECHANGE", "SELECTION", "CUSTOM_EVENT":
			e.SessionID = session
			agent := r.IntN(3) == 0
			e.IsAgent = &agent
			if !agent {
				e.Actor, e.Context = audit.Actor{Type: audit.ActorCustomer, ID: customer}, nil
			}
			switch typ {
			case "CLICK":
				e.Data["element"] = "#btn-" + strconv.Itoa(r.IntN(30))
			case "SCROLL":
				e.Data["position"] = float64(r.IntN(8000)) / 2
				e.Data["element"] = "#main"
			case "FORM":
				e.Data["form"] = "checkout"
			case "INPUT":
				e.Data["element"], e.Data["text"] = "#email", "****"
			case "PAGECHANGE":
				e.Data["page"] = pages[r.IntN(len(pages))]
			case "SELECTION":
				e.Data["selection"] = "order number"
			case "CUSTOM_EVENT":
				e.Data["eventType"], e.Data["value"] = "cart_value", float64(r.IntN(100000))/100
			}
		case "AUDIT_LOG_VIEWED":
			e.Data["filters"] = map[string]any{"category": "platform"}
		case "REPORT_VIEWED", "REPORT_EXPORTED":
			e.Data["report"] = "overview"
			e.Data["filters"] = map[string]any{"from": "2026-11-01", "to": "2026-11-30", "tz": t.TZ}
			if typ == "REPORT_EXPORTED" {
				e.Data["exportId"], e.Data["rows"] = fmt.Sprintf("x-%d", r.IntN(1000)), float64(r.IntN(50000))
			}
		}
		out = append(out, e)
	}
	return out
}

// ulidEntropy feeds ULIDs from the day's seeded generator.
type ulidEntropy struct{ r *rand.Rand }

func (u ulidEntropy) Read(p []byte) (int, error) {
	var b [8]byte
	for i := 0; i < len(p); i += 8 {
		binary.LittleEndian.PutUint64(b[:], u.r.Uint64())
		copy(p[i:], b[:])
	}
	return len(p), nil
}

// generate writes the archive of the data set into dir the way production does: the
// archiver's parts (a part per stream batch per tenant-day, about 1 in 500 events delivered
// twice), then the compactor on every day but the last, which stays in parts.
func generate(ctx context.Context, dir string, sc scale, seed uint64, log func(string, ...any)) (*manifest, error) {
	start := time.Now()
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return nil, err
	}
	st := &archive.DirStore{Dir: tmp}
	g := gen{seed: seed, sc: sc}
	days := g.days()
	comp := &archive.Compactor{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Clock: func() time.Time { return End }}

	type job struct {
		t     tenantSpec
		di    int
		n     int
		cbase int
	}
	var jobs []job
	for _, t := range sc.Tenants {
		counts := g.dayCounts(t)
		cum := 0.0
		for di := range days {
			// Contacts known before the day: the expected adds so far (14% of events).
			jobs = append(jobs, job{t, di, counts[di], int(cum)})
			cum += float64(counts[di]) * 0.14
		}
	}
	m := &manifest{Version: genVersion, Seed: seed, Scale: sc.Name, Events: map[string]int{}}
	var mu sync.Mutex
	peak := peakheap.Start(10 * time.Millisecond)
	work := make(chan job)
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	done := 0
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				if j.n == 0 {
					continue
				}
				parts, distinct, err := g.writeDay(ctx, st, comp, j.t, j.di, days[j.di], j.n, j.cbase, j.di == len(days)-1)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				m.Parts += parts
				m.Events[j.t.ID.String()] += distinct
				done++
				if done%200 == 0 {
					log("generated %d/%d tenant-days (%s)", done, len(jobs), time.Since(start).Round(time.Second))
				}
				mu.Unlock()
			}
		}()
	}
	var ferr error
loop:
	for _, j := range jobs {
		select {
		case work <- j:
		case ferr = <-errs:
			break loop
		}
	}
	close(work)
	wg.Wait()
	if ferr == nil {
		select {
		case ferr = <-errs:
		default:
		}
	}
	m.PeakHeap = peak.Stop()
	if ferr != nil {
		return nil, ferr
	}
	m.Seconds = time.Since(start).Seconds()
	return m, publishCache(tmp, dir, m)
}

// writeDay writes one tenant-day: parts of about partRows events each in arrival order,
// some events twice, then (unless last) compacts the day with the compactor.
func (g gen) writeDay(ctx context.Context, st archive.Store, comp *archive.Compactor, t tenantSpec, di int, d time.Time, n, cbase int, last bool) (parts, distinct int, err error) {
	evs := g.dayEvents(t, di, d, n, cbase)
	sort.Slice(evs, func(i, j int) bool { return evs[i].RecordedAt < evs[j].RecordedAt })
	rows, err := archive.FromEvents(evs)
	if err != nil {
		return 0, 0, err
	}
	r := g.rng("dup", t.ID.String(), d.Format(time.DateOnly))
	date := d.Format(time.DateOnly)
	parts, _, err = writeParts(ctx, st, t.ID, date, rows, 4000, func(n int) int { return n / 500 }, r)
	if err != nil {
		return 0, 0, err
	}
	if !last {
		// The compactor updates the day's month rollup, which starts again when another
		// day of the month settles meanwhile, at most a few times: two workers compacting
		// a small tenant's days one after the other on a loaded machine used up those
		// attempts and failed the generation. One compaction per tenant-month at a time.
		mu, _ := monthLocks.LoadOrStore(t.ID.String()+"/"+archive.MonthOf(date), &sync.Mutex{})
		mu.(*sync.Mutex).Lock()
		_, err := comp.CompactDay(ctx, t.ID, date)
		mu.(*sync.Mutex).Unlock()
		if err != nil {
			return 0, 0, err
		}
	}
	return parts, len(rows), nil
}

// monthLocks holds a *sync.Mutex per tenant-month being generated (see writeDay).
var monthLocks sync.Map

// writeParts writes rows (in arrival order) as the archiver's parts of partRows each, with
// the day's compaction marker; each batch but the first also holds dups(its size) events
// of the previous one again (at-least-once delivery: a retried batch re-delivers a few).
// It returns the parts and their bytes.
func writeParts(ctx context.Context, st archive.Store, t tenant.ID, date string, rows []archive.Row, partRows int, dups func(int) int, r *rand.Rand) (parts int, size int64, err error) {
	mark, err := archive.PendingKey(t, date)
	if err != nil {
		return 0, 0, err
	}
	for lo := 0; lo < len(rows); lo += partRows {
		hi := min(lo+partRows, len(rows))
		part := append([]archive.Row(nil), rows[lo:hi]...)
		if lo > 0 {
			for k := 0; k < dups(hi-lo); k++ {
				part = append(part, rows[lo-1-r.IntN(min(lo, 200))])
			}
		}
		key, body, err := archive.EncodePart(t, date, archive.SortUnique(part))
		if err != nil {
			return 0, 0, err
		}
		if err := st.Put(ctx, key, body); err != nil {
			return 0, 0, err
		}
		if err := st.Put(ctx, mark, nil); err != nil {
			return 0, 0, err
		}
		parts++
		size += int64(len(body))
	}
	return parts, size, nil
}

// publishCache writes the manifest m into tmp (last: its presence means the folder is
// complete) and puts tmp in place of dir.
func publishCache(tmp, dir string, m any) error {
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "manifest.json"), b, 0o644); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}
