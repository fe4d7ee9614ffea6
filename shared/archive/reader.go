package archive

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/contrail/contrail/shared/tenant"
)

// Reader reads the archive the way every consumer must: for each tenant-day it reads the
// objects that hold the day right now (the compacted object and the parts it does not
// cover), merges them in (occurred_at, event_id) order and drops duplicate event ids.
//
// Why this is exact while the archiver and the compactor run: a part is deleted only after
// a compacted object listing it in its covers has been written, and a compacted object only
// after a newer one covering it has been written. So at every moment each archived event is
// in some listed object; an object listed as covered by another listed object can be
// skipped. An object deleted between the listing and the read (ErrNotFound) makes the reader
// list the day again and resume after the last row it emitted.
type Reader struct {
	Store Store
	// Parallel is how many objects are fetched at once; 0 means 16.
	Parallel int
}

// Day is what a reader must read for one tenant-day right now.
type Day struct {
	Tenant tenant.ID
	Date   string
	// Compacted are the compacted objects no other listed compacted object covers:
	// normally none or one; two only while racing compactions settle.
	Compacted []ObjectInfo
	// Parts are the parts no listed compacted object covers (archived since the last compaction).
	Parts []ObjectInfo
	// Listed is every Parquet object of the day at listing time.
	Listed []ObjectInfo
}

// Query selects rows.
type Query struct {
	Tenant tenant.ID
	// From and To bound occurred_at to [From, To); both are required. The UTC dates they
	// span are the partitions read (a local-time day can span two UTC dates).
	From, To time.Time
	// Columns to read (names from Columns); event_id and occurred_at are always read.
	// Empty reads every column.
	Columns []string
	// Types keeps only events of these types (and skips row groups by the type statistics).
	Types []string
	// Descending returns rows newest first (by occurred_at, then event_id).
	Descending bool
}

func (r *Reader) parallel() int {
	if r.Parallel > 0 {
		return r.Parallel
	}
	return 16
}

// Dates returns the UTC dates (YYYY-MM-DD) that [from, to) touches, ascending.
func Dates(from, to time.Time) []string {
	if !to.After(from) {
		return nil
	}
	var out []string
	d := from.UTC().Truncate(24 * time.Hour)
	last := to.UTC().Add(-time.Millisecond)
	for !d.After(last) {
		out = append(out, d.Format(time.DateOnly))
		d = d.Add(24 * time.Hour)
	}
	return out
}

// Scan calls fn for every event matching q, each event once, in occurred_at order (or
// reverse with Descending). The *Row is reused after fn returns; copy what you keep.
// Returning an error from fn stops the scan with that error.
func (r *Reader) Scan(ctx context.Context, q Query, fn func(*Row) error) error {
	if q.Tenant == "" || q.From.IsZero() || q.To.IsZero() {
		return errors.New("archive scan: tenant, from and to are required")
	}
	cols, err := columnIndexes(q.Columns)
	if err != nil {
		return err
	}
	if !slices.Contains(q.Columns, "type") && len(q.Types) > 0 && len(q.Columns) > 0 {
		cols = append(cols, ColType)
		slices.Sort(cols)
	}
	dates := Dates(q.From, q.To)
	if q.Descending {
		slices.Reverse(dates)
	}
	from, to := q.From.UnixMilli(), q.To.UnixMilli()
	for _, date := range dates {
		if err := r.scanDay(ctx, q.Tenant, date, cols, from, to, q.Types, q.Descending, fn); err != nil {
			return err
		}
	}
	return nil
}

// ScanDay is Scan over one UTC date, every row of it.
func (r *Reader) ScanDay(ctx context.Context, tenant tenant.ID, date string, columns []string, fn func(*Row) error) error {
	cols, err := columnIndexes(columns)
	if err != nil {
		return err
	}
	return r.scanDay(ctx, tenant, date, cols, 0, 0, nil, false, fn)
}

// scanDay merges a day, restarting after a listed object vanished (a compaction finished).
func (r *Reader) scanDay(ctx context.Context, tenant tenant.ID, date string, cols []int, from, to int64, types []string, desc bool, fn func(*Row) error) error {
	var last Row
	emitted := false
	for attempt := 0; ; attempt++ {
		plan, err := r.plan(ctx, tenant, date)
		if err == nil {
			err = r.mergePlan(ctx, plan, cols, from, to, types, desc, func(row *Row, _ bool) error {
				if emitted && !beyond(row, &last, desc) {
					return nil // already emitted before a restart
				}
				last.OccurredAt, last.EventID = row.OccurredAt, row.EventID
				emitted = true
				return fn(row)
			})
			plan.close()
		}
		if err == nil || !errors.Is(err, ErrNotFound) || attempt >= 4 {
			if err != nil {
				return fmt.Errorf("read archive %s %s: %w", tenant, date, err)
			}
			return nil
		}
	}
}

func beyond(row, last *Row, desc bool) bool {
	if desc {
		return Less(row, last)
	}
	return Less(last, row)
}

// dayPlan is a Day with its objects fetched and opened.
type dayPlan struct {
	Day
	compacted []*objectFile
	parts     []*objectFile
}

func (p *dayPlan) close() {
	for _, f := range p.compacted {
		f.close()
	}
	for _, f := range p.parts {
		f.close()
	}
}

// Day lists a tenant-day and tells which objects hold it right now.
func (r *Reader) Day(ctx context.Context, tenant tenant.ID, date string) (Day, error) {
	p, err := r.plan(ctx, tenant, date)
	if err != nil {
		return Day{}, err
	}
	p.close()
	return p.Day, nil
}

func (r *Reader) plan(ctx context.Context, tenant tenant.ID, date string) (*dayPlan, error) {
	return r.planWith(ctx, tenant, date, nil)
}

// planWith is plan, opening the parts only when open (nil: always) says so; otherwise
// p.Parts lists them and p.parts is nil.
func (r *Reader) planWith(ctx context.Context, tenant tenant.ID, date string, open func([]ObjectInfo) bool) (*dayPlan, error) {
	prefix, err := DayPrefix(tenant, date)
	if err != nil {
		return nil, err
	}
	listed, err := r.Store.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	p := &dayPlan{Day: Day{Tenant: tenant, Date: date}}
	var compacted, parts []ObjectInfo
	for _, o := range listed {
		switch {
		case IsCompacted(o.Key):
			compacted = append(compacted, o)
		case IsPart(o.Key):
			parts = append(parts, o)
		default:
			continue
		}
		p.Listed = append(p.Listed, o)
	}
	files, err := r.open(ctx, compacted)
	if err != nil {
		return nil, err
	}
	covered := map[string]bool{}
	for _, f := range files {
		keys, err := f.covers()
		if err != nil {
			closeAll(files)
			return nil, err
		}
		for _, k := range keys {
			covered[k] = true
		}
	}
	for i, f := range files {
		if covered[f.key] {
			f.close()
			continue
		}
		p.Compacted = append(p.Compacted, compacted[i])
		p.compacted = append(p.compacted, f)
	}
	for _, o := range parts {
		if !covered[o.Key] {
			p.Parts = append(p.Parts, o)
		}
	}
	if open != nil && !open(p.Parts) {
		return p, nil
	}
	if p.parts, err = r.open(ctx, p.Parts); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func closeAll(files []*objectFile) {
	for _, f := range files {
		if f != nil {
			f.close()
		}
	}
}

// open fetches and opens objects, r.parallel() at a time, in the order given.
func (r *Reader) open(ctx context.Context, objs []ObjectInfo) ([]*objectFile, error) {
	files := make([]*objectFile, len(objs))
	if err := r.each(ctx, objs, func(i int, f *objectFile) bool { files[i] = f; return true }); err != nil {
		closeAll(files)
		return nil, err
	}
	return files, nil
}

// each fetches and opens objs, r.parallel() at a time, and calls fn with each: fn keeps
// the file (true) or it is closed at once.
func (r *Reader) each(ctx context.Context, objs []ObjectInfo, fn func(i int, f *objectFile) bool) error {
	errs := make([]error, len(objs))
	sem := make(chan struct{}, r.parallel())
	var wg sync.WaitGroup
	for i, o := range objs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f, err := r.fetch(ctx, o)
			if errs[i] = err; err == nil && !fn(i, f) {
				f.close()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// fetch fetches and opens one object.
func (r *Reader) fetch(ctx context.Context, o ObjectInfo) (*objectFile, error) {
	obj, err := openObject(ctx, r.Store, o)
	if err != nil {
		return nil, err
	}
	return openFile(o.Key, obj)
}

// lazyParts returns parts as lazy sources of every column, in the order of their first
// rows, so that only the parts overlapping the rows being merged have open column readers
// (each holds buffers per column). held are the parts already fetched and opened, in the
// order of objs; nil means fetch each part's footer first (r.parallel() at a time, each
// let go at once) and the part again when the merge reaches it, the next r.parallel()
// ahead, so S3's latency is paid in parallel, not once per part.
func (r *Reader) lazyParts(ctx context.Context, objs []ObjectInfo, held []*objectFile) ([]lazySource, error) {
	mins := make([]int64, len(objs))
	firstRow := func(i int, f *objectFile) bool {
		mins[i] = math.MaxInt64
		for _, g := range f.rowGroups(0, 0, nil) {
			lo, _, ok := f.rowGroupRange(g)
			if !ok {
				lo = math.MinInt64
			}
			mins[i] = min(mins[i], lo)
		}
		return false
	}
	if held != nil {
		for i, f := range held {
			firstRow(i, f)
		}
	} else if err := r.each(ctx, objs, firstRow); err != nil {
		return nil, err
	}
	order := make([]int, len(objs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(mins[a], mins[b]) })
	ordered := make([]ObjectInfo, len(objs))
	for k, i := range order {
		ordered[k] = objs[i]
	}
	pf := &prefetcher{ctx: ctx, r: r, objs: ordered, res: make([]chan fetched, len(ordered))}
	cols, _ := columnIndexes(nil)
	// Small batches: a part is one of many open at once (one or two per stream shard).
	newCursor := func(ctx context.Context, f *objectFile, cols, groups []int) (*cursor, error) {
		c, err := newCursor(ctx, f, cols, groups)
		if c != nil {
			c.batch = lazyBatchRows
		}
		return c, err
	}
	lazy := make([]lazySource, len(order))
	for k, i := range order {
		lazy[k] = lazySource{min: mins[i], open: func() (rowCursor, error) {
			if held != nil { // the plan closes held files
				return newCursor(ctx, held[i], cols, held[i].rowGroups(0, 0, nil))
			}
			f, err := pf.get(k)
			if err != nil {
				return nil, err
			}
			c, err := newCursor(ctx, f, cols, f.rowGroups(0, 0, nil))
			if err != nil {
				f.close()
				return nil, err
			}
			return &ownedCursor{cursor: c, f: f}, nil
		}}
	}
	return lazy, nil
}

// prefetcher fetches objects in the order they will be asked for, a window ahead.
type prefetcher struct {
	ctx     context.Context
	r       *Reader
	objs    []ObjectInfo
	res     []chan fetched
	started int
}

type fetched struct {
	f   *objectFile
	err error
}

// get returns object k opened; k must be asked for in order, each once.
func (p *prefetcher) get(k int) (*objectFile, error) {
	for ; p.started < len(p.objs) && p.started <= k+p.r.parallel(); p.started++ {
		o, ch := p.objs[p.started], make(chan fetched, 1)
		p.res[p.started] = ch
		go func() {
			f, err := p.r.fetch(p.ctx, o)
			ch <- fetched{f, err}
		}()
	}
	x := <-p.res[k]
	p.res[k] = nil
	return x.f, x.err
}

// lazyBatchRows is how many rows a lazy source decodes at a time.
const lazyBatchRows = 256

// ownedCursor is a cursor that owns its object: closing it lets the object go.
type ownedCursor struct {
	*cursor
	f *objectFile
}

func (o *ownedCursor) close() {
	if o.f != nil {
		o.f.close()
		o.f, o.cursor = nil, nil
	}
}

// source is one object's rows in merge order.
type source struct {
	c       rowCursor
	exclude bool // rows only used to drop duplicates, never emitted
}

type rowCursor interface {
	peek() (*Row, error)
	advance()
	close()
}

// mergePlan merges the plan's objects and calls emit once per distinct event, in order.
func (r *Reader) mergePlan(ctx context.Context, p *dayPlan, cols []int, from, to int64, types []string, desc bool, emit func(*Row, bool) error) error {
	var srcs []source
	defer func() {
		for _, s := range srcs {
			s.c.close()
		}
	}()
	for _, f := range append(append([]*objectFile(nil), p.compacted...), p.parts...) {
		c, err := newRowCursor(ctx, f, cols, f.rowGroups(from, to, types), desc)
		if err != nil {
			return err
		}
		srcs = append(srcs, source{c: c})
	}
	return merge(srcs, desc, func(row *Row, excluded bool) error {
		if excluded {
			return nil
		}
		if (from != 0 && row.OccurredAt < from) || (to != 0 && row.OccurredAt >= to) {
			return nil
		}
		if len(types) > 0 && !slices.Contains(types, row.Type) {
			return nil
		}
		return emit(row, false)
	})
}

func newRowCursor(ctx context.Context, f *objectFile, cols, rowGroups []int, desc bool) (rowCursor, error) {
	if desc {
		return &descCursor{ctx: ctx, f: f, cols: cols, groups: rowGroups, pos: -1}, nil
	}
	return newCursor(ctx, f, cols, rowGroups)
}

// descCursor reads row groups last to first, each whole, rows from the end. A row group is
// decoded in one batch straight into the cursor's buffer, which comes from a pool: a year
// newest first opens a cursor per object per day, and growing a fresh buffer of 32k rows
// row by row for each was most of a year's CSV export.
type descCursor struct {
	ctx    context.Context
	f      *objectFile
	cols   []int
	groups []int
	buf    *[]Row
	pos    int
}

var descBufs = sync.Pool{New: func() any { return new([]Row) }}

func (c *descCursor) peek() (*Row, error) {
	for c.pos < 0 {
		if len(c.groups) == 0 {
			return nil, nil
		}
		g := c.groups[len(c.groups)-1]
		c.groups = c.groups[:len(c.groups)-1]
		fc, err := newCursor(c.ctx, c.f, c.cols, []int{g})
		if err != nil {
			return nil, err
		}
		if c.buf == nil {
			c.buf = descBufs.Get().(*[]Row)
		}
		fc.buf, fc.batch = (*c.buf)[:0], int(max(1, c.f.pf.MetaData().RowGroup(g).NumRows()))
		row, err := fc.peek() // the whole row group
		*c.buf = fc.buf
		fc.close()
		if err != nil {
			return nil, err
		}
		if row == nil {
			continue
		}
		c.pos = len(*c.buf) - 1
	}
	return &(*c.buf)[c.pos], nil
}

func (c *descCursor) advance() { c.pos-- }

func (c *descCursor) close() {
	if c.buf != nil {
		clear(*c.buf) // the rows point into the object's pages: let them go
		*c.buf = (*c.buf)[:0]
		descBufs.Put(c.buf)
		c.buf = nil
	}
}

// mergeHeap orders sources by their current rows.
type mergeHeap struct {
	items []heapItem
	desc  bool
}

type heapItem struct {
	row *Row
	src int
}

func (h *mergeHeap) Len() int { return len(h.items) }

// topKeyRepeats reports whether another item has the top item's key (occurred_at, event
// id): if one has, so has a child of the top, since keys do not decrease (in the heap's
// order) from the top down.
func (h *mergeHeap) topKeyRepeats() bool {
	top := h.items[0].row
	same := func(i int) bool {
		return i < len(h.items) && h.items[i].row.OccurredAt == top.OccurredAt && h.items[i].row.EventID == top.EventID
	}
	return same(1) || same(2)
}
func (h *mergeHeap) Less(i, j int) bool {
	a, b := h.items[i].row, h.items[j].row
	if h.desc {
		return Less(b, a)
	}
	return Less(a, b)
}
func (h *mergeHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *mergeHeap) Push(x any)    { h.items = append(h.items, x.(heapItem)) }
func (h *mergeHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}

// merge calls emit once per distinct (occurred_at, event_id), in order, with the row from
// the first non-excluded source holding it; excluded is true when any excluded source
// holds it (emit then gets that source's row). Sources must each be sorted.
func merge(srcs []source, desc bool, emit func(*Row, bool) error) error {
	return mergeLazy(srcs, nil, desc, emit)
}

// lazySource is an ascending source opened only when the merge reaches its first row, and
// closed as soon as it is exhausted: a day of thousands of parts, each covering minutes,
// holds only the few that overlap the rows being merged.
type lazySource struct {
	min  int64 // no row of the source is older (occurred_at)
	open func() (rowCursor, error)
}

// mergeLazy is merge over srcs and lazy (ascending only, lazy sorted by min). A lazy
// source is opened before any row at or after its min is emitted, so rows equal to the
// current one are always in the heap.
func mergeLazy(srcs []source, lazy []lazySource, desc bool, emit func(*Row, bool) error) error {
	if desc && len(lazy) > 0 {
		return errors.New("archive merge: lazy sources are ascending only")
	}
	fixed := len(srcs)
	srcs = slices.Clip(srcs)
	defer func() { // lazy sources still open after an error
		for _, s := range srcs[fixed:] {
			if s.c != nil {
				s.c.close()
			}
		}
	}()
	h := &mergeHeap{desc: desc}
	for i, s := range srcs {
		row, err := s.c.peek()
		if err != nil {
			return err
		}
		if row != nil {
			h.items = append(h.items, heapItem{row, i})
		}
	}
	heap.Init(h)
	// next moves the top item's source on: its next row takes its place in the heap, or
	// the source leaves it (a lazy one is closed, its object let go).
	next := func(it heapItem) error {
		srcs[it.src].c.advance()
		row, err := srcs[it.src].c.peek()
		if err != nil {
			return err
		}
		if row == nil {
			heap.Pop(h)
			if it.src >= fixed {
				srcs[it.src].c.close()
				srcs[it.src].c = nil
			}
		} else {
			h.items[0].row = row
			heap.Fix(h, 0)
		}
		return nil
	}
	var cur Row
	for {
		for len(lazy) > 0 && (h.Len() == 0 || lazy[0].min <= h.items[0].row.OccurredAt) {
			c, err := lazy[0].open()
			if err != nil {
				return err
			}
			lazy = lazy[1:]
			srcs = append(srcs, source{c: c})
			row, err := c.peek()
			if err != nil {
				return err
			}
			if row == nil { // nothing in it: let its object go now
				c.close()
				srcs[len(srcs)-1].c = nil
				continue
			}
			heap.Push(h, heapItem{row, len(srcs) - 1})
		}
		if h.Len() == 0 {
			return nil
		}
		top := h.items[0]
		if !h.topKeyRepeats() {
			// One source holds the key (every key but a duplicate's): emit its row where it
			// lies, before its cursor moves on, rather than copying the whole Row.
			if err := emit(top.row, srcs[top.src].exclude); err != nil {
				return err
			}
			if err := next(top); err != nil {
				return err
			}
			continue
		}
		// Collect the group of equal keys; keep a copy of one row, preferring a non-excluded source.
		cur = *top.row
		haveEmit := !srcs[top.src].exclude
		excluded := srcs[top.src].exclude
		for h.Len() > 0 && h.items[0].row.OccurredAt == cur.OccurredAt && h.items[0].row.EventID == cur.EventID {
			it := h.items[0]
			if srcs[it.src].exclude {
				excluded = true
			} else if !haveEmit {
				cur = *it.row
				haveEmit = true
			}
			if err := next(it); err != nil {
				return err
			}
		}
		if err := emit(&cur, excluded); err != nil {
			return err
		}
	}
}
