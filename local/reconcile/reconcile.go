// Package reconcile compares, for one tenant and period, what each place that holds events
// says: the audit table in DynamoDB (while the events are retained there), the distinct
// events of the Parquet archive, the leaves of the tenant's verifiable log (shared/vlog), and
// every count of the contact reports (the overview and the four logs, computed by
// shared/report from the archive). It lists each difference with the event ids behind it.
// `make reconcile` (local/cmd/reconcile) runs it.
package reconcile

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/report"
	"github.com/contrail/contrail/shared/tenant"
)

// Checker compares the sources of one deployment (or local stack).
type Checker struct {
	// DynamoDB is the reference: every other source is compared with it.
	DynamoDB *AuditTable
	// Archive is the Parquet archive; Reports reads the same archive.
	Archive *Archive
	// Sources are further sources compared with DynamoDB as the archive is (id by id, type
	// by type).
	Sources []Source
	// Log is the tenant's verifiable log, compared leaf by leaf with both stores; nil = not
	// compared.
	Log *VerifiableLog
	// Reports is the report engine over Archive.Store (with the keyring when contact names
	// are sealed: the logs open them).
	Reports *report.Engine
	// Retention is DynamoDB's hot retention per category: an archived event past it is
	// expected to be gone from DynamoDB.
	Retention audit.Retention
	// Now is the clock retention is judged by; nil = time.Now.
	Now func() time.Time
}

// Finding is one difference (or note), with the ids of the events behind it.
type Finding struct {
	Text string
	IDs  []string
}

// Result is what one reconciliation found.
type Result struct {
	Tenant   tenant.ID
	From, To time.Time
	Sources  []string                  // source names, DynamoDB first
	Counts   map[string]map[string]int // source name -> event type -> events
	Overview report.Totals
	Logs     map[report.Kind]int // rows per log
	// Log is what the verifiable log held (nil when it was not compared).
	Log *LogSummary
	// Differences are what make the sources disagree; Notes are explained and expected
	// (events past DynamoDB's retention, identical copies readers count once).
	Differences []Finding
	Notes       []Finding
}

// Agree reports whether every source and every report count agrees.
func (r *Result) Agree() bool { return len(r.Differences) == 0 }

// Settled reports whether all agree and no event is waiting for the sequencer: what a drain
// waits for.
func (r *Result) Settled() bool { return r.Agree() && (r.Log == nil || len(r.Log.Pending) == 0) }

// NotCovered says what reconciliation does not compare.
const NotCovered = "not compared: the log's tiles, proofs and checkpoint signatures (contrail-verify checks those); its leaves are, by the hashes its appends record"

// Run reconciles tenant t over [from, to).
func (c *Checker) Run(ctx context.Context, t tenant.ID, from, to time.Time) (*Result, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	res := &Result{Tenant: t, From: from, To: to, Counts: map[string]map[string]int{}, Logs: map[report.Kind]int{}}
	ddb, err := c.DynamoDB.Events(ctx, t, from, to)
	if err != nil {
		return nil, err
	}
	res.Sources = append(res.Sources, c.DynamoDB.Name())
	res.Counts[c.DynamoDB.Name()] = ddb.byType()

	// truth is what every source and report should hold: DynamoDB's events, plus archived
	// events that DynamoDB no longer holds because their hot retention is over.
	truth := Events{}
	for id, e := range ddb {
		truth[id] = e
	}
	arch, err := c.Archive.Events(ctx, t, from, to)
	if err != nil {
		return nil, err
	}
	var expired []string
	for id, e := range arch {
		if _, ok := ddb[id]; !ok && c.Retention.ExpiresAt(e.Category, e.OccurredAt) <= now().Unix() {
			truth[id] = e
			expired = append(expired, id)
		}
	}
	if len(expired) > 0 {
		sort.Strings(expired)
		res.note(fmt.Sprintf("archived, past DynamoDB's hot retention (expected to be gone from DynamoDB): %s", events(len(expired))), expired)
	}

	sources := append([]Source{c.Archive}, c.Sources...)
	for _, s := range sources {
		evs := arch
		if s != Source(c.Archive) {
			if evs, err = s.Events(ctx, t, from, to); err != nil {
				return nil, err
			}
		}
		res.Sources = append(res.Sources, s.Name())
		res.Counts[s.Name()] = evs.byType()
		res.compare(ddb, truth, s.Name(), evs)
	}

	if c.Log != nil {
		res.Log = &LogSummary{}
		if err := c.compareLog(ctx, res, t, from, to, now(), ddb, arch); err != nil {
			return nil, err
		}
	}

	copies, err := c.Archive.Copies(ctx, t, from, to)
	if err != nil {
		return nil, err
	}
	var same, differ []string
	for _, cp := range copies {
		if cp.Differs {
			differ = append(differ, cp.ID+" ("+strings.Join(cp.Keys, ", ")+")")
		} else {
			same = append(same, cp.ID+" ("+strings.Join(cp.Keys, ", ")+")")
		}
	}
	if len(same) > 0 {
		res.note(fmt.Sprintf("in more than one archive object, identical (readers count each once; the compactor removes the copies): %s", events(len(same))), same)
	}
	if len(differ) > 0 {
		res.diff(fmt.Sprintf("in more than one archive object, not identical (a report depends on which copy it reads): %s", events(len(differ))), differ)
	}

	if err := c.reports(ctx, res, t, from, to, arch, truth); err != nil {
		return nil, err
	}
	return res, nil
}

// compare lists how source name's events evs differ from DynamoDB's.
func (r *Result) compare(ddb, truth Events, name string, evs Events) {
	var missing, extra, retyped []string
	for _, id := range ddb.ids() {
		e, ok := evs[id]
		if !ok {
			missing = append(missing, id)
		} else if e.Type != ddb[id].Type {
			retyped = append(retyped, fmt.Sprintf("%s (%s in DynamoDB, %s in %s)", id, ddb[id].Type, e.Type, name))
		}
	}
	for _, id := range evs.ids() {
		if _, ok := truth[id]; !ok {
			extra = append(extra, id)
		}
	}
	not := "not in " + name
	if name == "the archive" {
		not = "not archived"
	}
	if len(missing) > 0 {
		r.diff(fmt.Sprintf("in DynamoDB, %s: %s", not, events(len(missing))), missing)
	}
	if len(extra) > 0 {
		r.diff(fmt.Sprintf("in %s, not in DynamoDB: %s", name, events(len(extra))), extra)
	}
	if len(retyped) > 0 {
		r.diff(fmt.Sprintf("of another type in %s: %s", name, events(len(retyped))), retyped)
	}
}

// reportTypes are the overview's totals, by event type.
var reportTypes = []struct {
	name, typ string
	kind      report.Kind // "" when no log lists the type
	total     func(report.Totals) int64
}{
	{"added", report.TypeAdded, report.Added, func(t report.Totals) int64 { return t.Added }},
	{"connected", report.TypeConnected, report.Connected, func(t report.Totals) int64 { return t.Connected }},
	{"deleted", report.TypeDeleted, report.Deleted, func(t report.Totals) int64 { return t.Deleted }},
	{"merged", report.TypeMerged, report.Merged, func(t report.Totals) int64 { return t.Merged }},
	{"archived", report.TypeArchived, "", func(t report.Totals) int64 { return t.Archived }},
	{"unarchived", report.TypeUnarchived, "", func(t report.Totals) int64 { return t.Unarchived }},
}

// reports checks the overview's totals and the four logs against DynamoDB's events (truth)
// and against each other; the ids come from the archive (what the reports read).
func (c *Checker) reports(ctx context.Context, res *Result, t tenant.ID, from, to time.Time, arch, truth Events) error {
	p := report.Period{From: from, To: to, TZ: time.UTC}
	ov, err := c.Reports.Overview(ctx, t, p)
	if err != nil {
		return fmt.Errorf("overview of tenant %s: %w", t, err)
	}
	res.Overview = ov.Totals
	for _, rt := range reportTypes {
		want := truth.ofType(rt.typ)
		got := rt.total(ov.Totals)
		if got != int64(len(want)) {
			missing, extra := setDiff(want, arch.ofType(rt.typ))
			res.diff(fmt.Sprintf("overview.%s = %d but DynamoDB has %d %s events%s", rt.name, got, len(want), rt.typ, explain(missing, extra, "not archived", "not in DynamoDB")), append(missing, extra...))
		}
		if rt.kind == "" {
			continue
		}
		var rows []string
		err := c.Reports.Each(ctx, t, rt.kind, p, report.Filter{}, func(r report.Row) error {
			rows = append(rows, r.EventID)
			return nil
		})
		if err != nil {
			return fmt.Errorf("%s log of tenant %s: %w", rt.kind, t, err)
		}
		res.Logs[rt.kind] = len(rows)
		sort.Strings(rows)
		if twice := repeated(rows); len(twice) > 0 {
			res.diff(fmt.Sprintf("the %s log lists %s more than once", logName(rt.kind), events(len(twice))), twice)
		}
		rows = slices.Compact(rows)
		if int64(len(rows)) != got {
			missing, extra := setDiff(arch.ofType(rt.typ), rows)
			res.diff(fmt.Sprintf("overview.%s = %d but the %s log has %d%s", rt.name, got, logName(rt.kind), len(rows), explain(missing, extra, "missing", "extra")), append(missing, extra...))
		}
		if missing, extra := setDiff(want, rows); len(missing)+len(extra) > 0 {
			res.diff(fmt.Sprintf("the %s log has %d rows but DynamoDB has %d %s events%s", logName(rt.kind), len(rows), len(want), rt.typ, explain(missing, extra, "missing", "not in DynamoDB")), append(missing, extra...))
		}
	}
	return nil
}

// setDiff returns the ids of want not in got and of got not in want (both sorted).
func setDiff(want, got []string) (missing, extra []string) {
	in := func(s []string, id string) bool { _, ok := slices.BinarySearch(s, id); return ok }
	for _, id := range want {
		if !in(got, id) {
			missing = append(missing, id)
		}
	}
	for _, id := range got {
		if !in(want, id) {
			extra = append(extra, id)
		}
	}
	return missing, extra
}

func repeated(sorted []string) []string {
	var out []string
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] && (len(out) == 0 || out[len(out)-1] != sorted[i]) {
			out = append(out, sorted[i])
		}
	}
	return out
}

func explain(missing, extra []string, missingWord, extraWord string) string {
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, missingWord+" "+strings.Join(missing, ", "))
	}
	if len(extra) > 0 {
		parts = append(parts, extraWord+" "+strings.Join(extra, ", "))
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, "; ")
}

func logName(k report.Kind) string { return strings.ToUpper(string(k[:1])) + string(k[1:]) }

func events(n int) string {
	if n == 1 {
		return "1 event"
	}
	return fmt.Sprintf("%d events", n)
}

func (r *Result) diff(text string, ids []string) {
	r.Differences = append(r.Differences, Finding{Text: text, IDs: ids})
}

func (r *Result) note(text string, ids []string) {
	r.Notes = append(r.Notes, Finding{Text: text, IDs: ids})
}

// MaxIDs is how many ids a printed finding lists before "and n more".
const MaxIDs = 100

// Write prints the result: the counts side by side, then each difference and note with its
// ids, then the verdict.
func (r *Result) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "reconcile tenant %s, %s to %s (UTC)\n", r.Tenant, audit.FormatTime(r.From), audit.FormatTime(r.To))
	fmt.Fprintf(&b, "%s\n\n", NotCovered)
	var typs []string
	for _, counts := range r.Counts {
		for typ := range counts {
			if !slices.Contains(typs, typ) {
				typs = append(typs, typ)
			}
		}
	}
	sort.Strings(typs)
	fmt.Fprintf(&b, "%-26s", "events by type")
	for _, s := range r.Sources {
		fmt.Fprintf(&b, " %12s", s)
	}
	b.WriteString("\n")
	for _, typ := range typs {
		fmt.Fprintf(&b, "%-26s", typ)
		mark := ""
		for _, s := range r.Sources {
			n := r.Counts[s][typ]
			fmt.Fprintf(&b, " %12d", n)
			if n != r.Counts[r.Sources[0]][typ] {
				mark = "  differs"
			}
		}
		b.WriteString(mark + "\n")
	}
	fmt.Fprintf(&b, "\n%-26s %12s %12s\n", "reports", "overview", "log rows")
	for _, rt := range reportTypes {
		log := "-"
		if rt.kind != "" {
			log = fmt.Sprint(r.Logs[rt.kind])
		}
		fmt.Fprintf(&b, "%-26s %12d %12s\n", rt.name, rt.total(r.Overview), log)
	}
	if l := r.Log; l != nil {
		cp := "no signed checkpoint"
		if !l.CheckpointAt.IsZero() {
			cp = fmt.Sprintf("last checkpoint size %d signed %s", l.CheckpointSize, l.CheckpointAt.Format(time.RFC3339))
		}
		fmt.Fprintf(&b, "\n%-26s %d leaves of the period; size %d, %s\n", LogName, l.Leaves, l.Size, cp)
	}
	b.WriteString("\n")
	for _, f := range r.Differences {
		fmt.Fprintf(&b, "DIFFERENT  %s%s\n", f.Text, idList(f))
	}
	for _, f := range r.Notes {
		fmt.Fprintf(&b, "note       %s%s\n", f.Text, idList(f))
	}
	if r.Agree() {
		b.WriteString("all agree\n")
	} else {
		fmt.Fprintf(&b, "%d differences\n", len(r.Differences))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// idList prints a finding's ids unless its text already names them.
func idList(f Finding) string {
	if len(f.IDs) == 0 || strings.Contains(f.Text, f.IDs[0]) {
		return ""
	}
	ids := f.IDs
	more := ""
	if len(ids) > MaxIDs {
		more = fmt.Sprintf(" and %d more", len(ids)-MaxIDs)
		ids = ids[:MaxIDs]
	}
	return ": " + strings.Join(ids, ", ") + more
}
