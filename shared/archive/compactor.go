package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/contrail/contrail/shared/tenant"
)

// Compactor merges each tenant-day's objects into one sorted, de-duplicated compacted
// object, writes the day's rollup, then deletes what the new object covers, and then brings
// the month's rollup up to date (UpdateMonthRollup).
//
// Safe against readers: the new object lists every object it covers (CoversKey) and is
// written before any of them is deleted, so a reader listing in between skips the covered
// ones; a reader that listed before finds a deleted object missing and lists again.
// Safe against a racing compaction: keys come from content (a digest of the covered keys),
// each compaction deletes only what its own output covers, and each output holds every
// event of what it covers; two outputs left side by side are read with dedupe and merged
// by the next run (the day is marked again when anything but one object remains).
type Compactor struct {
	Store Store
	Log   *slog.Logger
	Clock func() time.Time
	// MaxDays bounds the tenant-days compacted in one run; 0 means 200.
	MaxDays int
	// Reserve is the time left before the context deadline under which no new day is started;
	// 0 means 30 s.
	Reserve time.Duration

	keepParts int64 // keepPartsBytes unless set (tests: -1 makes every day lazy)
}

// RunResult says what one run did.
type RunResult struct {
	Pending   int `json:"pending"`   // tenant-days marked for compaction
	Compacted int `json:"compacted"` // tenant-days compacted
	Failed    int `json:"failed"`    // tenant-days that failed (marked again)
	Left      int `json:"left"`      // tenant-days left for the next run
}

// DayResult says what compacting one tenant-day did.
type DayResult struct {
	Key     string   // the compacted object ("" when there was nothing to do)
	Covers  []string // the objects it replaced
	Events  int64
	Skipped bool // the day was already one compacted object with its rollup
}

func (c *Compactor) log() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.Default()
}

// HandleSchedule is the function's handler: a scheduled event runs one compaction;
// {"detail": {"sweep": true}} (an operator's invoke) first marks every unsettled day by
// listing the whole archive (Sweep).
func (c *Compactor) HandleSchedule(ctx context.Context, ev events.EventBridgeEvent) (RunResult, error) {
	var d struct{ Sweep bool }
	if json.Unmarshal(ev.Detail, &d) == nil && d.Sweep {
		if _, err := c.Sweep(ctx); err != nil {
			return RunResult{}, err
		}
	}
	return c.Run(ctx)
}

// Run compacts the marked tenant-days: days other than today first (the oldest first, up
// to half the budget), then today's (so reports of today read few objects), then the rest.
func (c *Compactor) Run(ctx context.Context) (RunResult, error) {
	var res RunResult
	marks, err := c.Store.List(ctx, PendingPrefix)
	if err != nil {
		return res, err
	}
	type td struct {
		tenant tenant.ID
		date   string
	}
	var older, today []td
	now := time.Now
	if c.Clock != nil {
		now = c.Clock
	}
	todayDate := now().UTC().Format(time.DateOnly)
	var stray []string
	for _, m := range marks {
		t, d, ok := ParseTenantDay(m.Key)
		if !ok {
			stray = append(stray, m.Key)
			continue
		}
		if d == todayDate {
			today = append(today, td{t, d})
		} else {
			older = append(older, td{t, d})
		}
	}
	if len(stray) > 0 {
		// No archiver writes such a marker (PendingKey refuses to): it names no tenant-day that
		// could be compacted, so it is removed once rather than failing every run.
		c.log().WarnContext(ctx, "compaction markers that name no valid tenant-day removed", "keys", stray)
		if err := c.Store.Delete(ctx, stray); err != nil {
			return res, err
		}
	}
	sort.SliceStable(older, func(i, j int) bool { return older[i].date < older[j].date })
	maxDays := c.MaxDays
	if maxDays <= 0 {
		maxDays = 200
	}
	reserve := c.Reserve
	if reserve <= 0 {
		reserve = 30 * time.Second
	}
	k := min(len(older), maxDays/2)
	order := append(append(append([]td(nil), older[:k]...), today...), older[k:]...)
	res.Pending = len(order)
	for i, d := range order {
		if i >= maxDays || ctx.Err() != nil {
			res.Left = len(order) - i
			break
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < reserve {
			res.Left = len(order) - i
			break
		}
		dr, err := c.CompactDay(ctx, d.tenant, d.date)
		if err != nil {
			res.Failed++
			c.log().ErrorContext(ctx, "compaction failed; the day stays marked", "tenant_id", d.tenant, "date", d.date, "error", err.Error())
			if perr := c.mark(context.WithoutCancel(ctx), d.tenant, d.date); perr != nil {
				c.log().ErrorContext(ctx, "compaction mark not restored", "tenant_id", d.tenant, "date", d.date, "error", perr.Error())
			}
			continue
		}
		if !dr.Skipped {
			res.Compacted++
			c.log().InfoContext(ctx, "tenant-day compacted", "tenant_id", d.tenant, "date", d.date, "key", dr.Key, "covers", len(dr.Covers), "events", dr.Events)
		}
	}
	return res, nil
}

// CompactDay compacts one tenant-day now (whether or not it is marked).
func (c *Compactor) CompactDay(ctx context.Context, tenant tenant.ID, date string) (DayResult, error) {
	// Unmark first: a part written after the listing below re-marks the day.
	mark, err := PendingKey(tenant, date)
	if err != nil {
		return DayResult{}, err
	}
	if err := c.Store.Delete(ctx, []string{mark}); err != nil {
		return DayResult{}, err
	}
	r := &Reader{Store: c.Store}
	p, lazy, err := c.plan(ctx, r, tenant, date)
	if err != nil {
		return DayResult{}, err
	}
	defer p.close()
	if len(p.Listed) == 0 {
		return DayResult{Skipped: true}, nil
	}
	if len(p.Listed) == 1 && len(p.compacted) == 1 {
		return c.ensureRollup(ctx, r, p)
	}

	covers := make([]string, len(p.Listed))
	for i, o := range p.Listed {
		covers[i] = o.Key
	}
	sort.Strings(covers)
	key, err := CompactedKey(tenant, date, covers)
	if err != nil {
		return DayResult{}, err
	}
	ru, err := c.write(ctx, p, lazy, key, covers)
	if err != nil {
		return DayResult{}, fmt.Errorf("compact %s %s: %w", tenant, date, err)
	}
	if err := c.putRollup(ctx, ru); err != nil {
		return DayResult{}, err
	}
	// Only now, with the new object in place, remove what it covers.
	if err := c.Store.Delete(ctx, covers); err != nil {
		return DayResult{}, err
	}
	if err := c.remarkIfUnsettled(ctx, tenant, date, key); err != nil {
		return DayResult{}, err
	}
	if err := UpdateMonthRollup(ctx, c.Store, tenant, date); err != nil {
		return DayResult{}, err
	}
	return DayResult{Key: key, Covers: covers, Events: ru.EventCount}, nil
}

// write merges the day into the compacted object key as a stream: row groups are written
// (and uploaded, on a StreamStore) as the merge produces them, and the rollup is counted on
// the way, so neither the day's rows nor the object are ever held whole.
func (c *Compactor) write(ctx context.Context, p *dayPlan, lazy []lazySource, key string, covers []string) (*Rollup, error) {
	coversJSON, err := json.Marshal(covers)
	if err != nil {
		return nil, err
	}
	out, err := createObject(ctx, c.Store, key)
	if err != nil {
		return nil, err
	}
	ru, err := c.merge(ctx, p, lazy, out, key, string(coversJSON))
	if err != nil {
		if aerr := out.Abort(); aerr != nil {
			err = errors.Join(err, aerr)
		}
		return nil, err
	}
	if err := out.Close(); err != nil {
		return nil, err
	}
	return ru, nil
}

func (c *Compactor) merge(ctx context.Context, p *dayPlan, lazy []lazySource, out io.Writer, key, coversJSON string) (*Rollup, error) {
	w, err := NewWriter(out, map[string]string{CoversKey: coversJSON})
	if err != nil {
		return nil, err
	}
	ru := NewRollup(p.Tenant, p.Date)
	ru.Object, ru.Objects = key, []string{key}
	cols, _ := columnIndexes(nil)
	var srcs []source
	for _, f := range p.compacted { // the parts are lazy sources: see plan
		cur, err := newCursor(ctx, f, cols, f.rowGroups(0, 0, nil))
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, source{c: cur})
	}
	chunk := make([]Row, 0, RowGroupRows)
	err = mergeLazy(srcs, lazy, false, func(row *Row, _ bool) error {
		ru.Add(row)
		chunk = append(chunk, *row)
		if len(chunk) == RowGroupRows {
			err := w.Write(chunk)
			clear(chunk) // the rows point into their objects' pages: let them go
			chunk = chunk[:0]
			return err
		}
		return nil
	})
	if err == nil {
		err = w.Write(chunk)
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return ru, err
}

// keepPartsBytes is how much of a day's parts a compaction holds at once: up to it, every
// part is fetched once and held through the merge; beyond it (a busy day of thousands of
// parts), each part's footer is read first and the part is fetched again when the merge
// reaches its first row, and let go when merged.
const keepPartsBytes = 32 << 20

// plan is Reader.plan for a compaction: the compacted objects opened, and the parts as
// lazy sources in the order of their first rows, held (p.parts) when together at most
// what the compactor keeps, fetched as the merge reaches them otherwise.
func (c *Compactor) plan(ctx context.Context, r *Reader, tenant tenant.ID, date string) (*dayPlan, []lazySource, error) {
	keep := c.keepParts
	if keep == 0 {
		keep = keepPartsBytes
	}
	p, err := r.planWith(ctx, tenant, date, func(parts []ObjectInfo) bool {
		var n int64
		for _, o := range parts {
			n += o.Size
		}
		return n <= keep
	})
	if err != nil || len(p.Parts) == 0 {
		return p, nil, err
	}
	lazy, err := r.lazyParts(ctx, p.Parts, p.parts)
	if err != nil {
		p.close()
		return nil, nil, err
	}
	return p, lazy, nil
}

// ensureRollup writes the rollup of a day that is one compacted object when it is missing
// or was computed from another object.
func (c *Compactor) ensureRollup(ctx context.Context, r *Reader, p *dayPlan) (DayResult, error) {
	key := p.compacted[0].key
	stored, err := r.ReadRollup(ctx, p.Tenant, p.Date)
	if err != nil {
		return DayResult{}, err
	}
	if stored != nil && stored.Object == key {
		// The day is settled; its month rollup may still lack it (a compaction that failed
		// after writing the day, or a racing one that wrote the month last).
		m, err := ReadMonthRollup(ctx, c.Store, p.Tenant, MonthOf(p.Date))
		if err != nil || m == nil || m.Day(p.Date) == nil || m.Day(p.Date).Object != key {
			if err := UpdateMonthRollup(ctx, c.Store, p.Tenant, p.Date); err != nil {
				return DayResult{}, err
			}
		}
		return DayResult{Key: key, Skipped: true, Events: stored.EventCount}, nil
	}
	ru := NewRollup(p.Tenant, p.Date)
	ru.Object, ru.Objects = key, []string{key}
	cols, _ := columnIndexes(RollupColumns)
	if err := r.mergePlan(ctx, p, cols, 0, 0, nil, false, func(row *Row, _ bool) error {
		ru.Add(row)
		return nil
	}); err != nil {
		return DayResult{}, err
	}
	if err := c.putRollup(ctx, ru); err != nil {
		return DayResult{}, err
	}
	if err := UpdateMonthRollup(ctx, c.Store, p.Tenant, p.Date); err != nil {
		return DayResult{}, err
	}
	return DayResult{Key: key, Events: ru.EventCount}, nil
}

func (c *Compactor) putRollup(ctx context.Context, ru *Rollup) error {
	b, err := ru.Encode()
	if err != nil {
		return err
	}
	key, err := RollupKey(ru.TenantID, ru.Date)
	if err != nil {
		return err
	}
	return c.Store.Put(ctx, key, b)
}

// remarkIfUnsettled marks the day again when anything but key is left in it (a racing
// compaction's output, or parts archived meanwhile).
func (c *Compactor) remarkIfUnsettled(ctx context.Context, tenant tenant.ID, date, key string) error {
	prefix, err := DayPrefix(tenant, date)
	if err != nil {
		return err
	}
	left, err := c.Store.List(ctx, prefix)
	if err != nil {
		return err
	}
	for _, o := range left {
		if o.Key != key && (IsPart(o.Key) || IsCompacted(o.Key)) {
			return c.mark(ctx, tenant, date)
		}
	}
	return nil
}

// mark marks a tenant-day for compaction.
func (c *Compactor) mark(ctx context.Context, t tenant.ID, date string) error {
	key, err := PendingKey(t, date)
	if err != nil {
		return err
	}
	return c.Store.Put(ctx, key, nil)
}

// Sweep marks every tenant-day that holds anything but one compacted object, by listing all
// of events/ (slow on a large archive: a recovery tool, e.g. after restoring objects or for
// parts written before markers existed). It returns the number of days marked.
func (c *Compactor) Sweep(ctx context.Context) (int, error) {
	objs, err := c.Store.List(ctx, EventsPrefix)
	if err != nil {
		return 0, err
	}
	type td struct {
		tenant tenant.ID
		date   string
	}
	count := map[td]int{}
	parts := map[td]bool{}
	for _, o := range objs {
		t, d, ok := ParseTenantDay(o.Key)
		if !ok {
			continue
		}
		k := td{t, d}
		if IsPart(o.Key) {
			parts[k] = true
		}
		if IsPart(o.Key) || IsCompacted(o.Key) {
			count[k]++
		}
	}
	marked := 0
	for k, n := range count {
		if n > 1 || parts[k] {
			if err := c.mark(ctx, k.tenant, k.date); err != nil {
				return marked, err
			}
			marked++
		}
	}
	return marked, nil
}
