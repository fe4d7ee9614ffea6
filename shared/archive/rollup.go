package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/tenant"
)

// ReportTypes are the event types the contact reports count in detail.
var ReportTypes = []string{"CONTACT_ADDED", "CONTACT_CONNECTED", "CONTACT_DELETED", "CONTACT_MERGED", "CONTACT_ARCHIVED", "CONTACT_UNARCHIVED"}

// SlotsPerDay is the number of 15-minute slots in a UTC day. Every time zone offset in use
// is a multiple of 15 minutes, so a report in any zone (Asia/Jakarta +7, Asia/Kolkata
// +5:30, Asia/Kathmandu +5:45) can split a UTC day between two local dates by slot.
const SlotsPerDay = 96

// SlotMinutes is the width of a slot.
const SlotMinutes = 15

// RollupColumns are the columns a rollup is computed from.
var RollupColumns = []string{"event_id", "occurred_at", "recorded_at", "type", "source", "channel", "actor_id", "actor_name"}

// Rollup holds the counts of one tenant-day, written by the compactor next to the
// compacted object at rollups/tenant=<t>/date=<d>/rollup.json.
//
// How reports use it: for each UTC date of the period call Reader.DayRollup, which returns
// the day's exact counts right now (the stored rollup when it matches the day's compacted
// object, plus the events archived since, each event once; or counts computed from the raw
// objects when there is no usable rollup). Sum the days. For a period in a local time zone,
// take whole UTC days where the local period covers them, and for the two edge UTC dates
// sum only the slots (BySlot) inside the period; totals by source, channel or actor on
// edge dates need the raw rows (Reader.Scan with the period as From/To), since they are not
// split by slot. MaxRecordedAt tells how fresh the archive of the day is (archivedThrough).
type Rollup struct {
	Version  int       `json:"version"`
	TenantID tenant.ID `json:"tenantId"`
	Date     string    `json:"date"`
	// EventCount is the number of distinct events of the day, every type.
	EventCount int64 `json:"eventCount"`
	// MaxRecordedAt is the newest recordedAt among them (audit.TimeLayout), "" when none.
	MaxRecordedAt string `json:"maxRecordedAt"`
	// Object is the compacted object the stored rollup was computed from.
	Object string `json:"object,omitempty"`
	// Objects are every object whose events are counted (Object, or the compacted object and
	// parts DayRollup read).
	Objects []string `json:"objects"`
	// Types has every report type (zero counts included) in full detail.
	Types map[string]*TypeCounts `json:"types"`
	// Others counts every other type.
	Others map[string]int64 `json:"others"`

	maxRecorded int64
}

// TypeCounts are the counts of one report type in a day.
type TypeCounts struct {
	Total     int64            `json:"total"`
	BySource  map[string]int64 `json:"bySource"`  // "" = no source
	ByChannel map[string]int64 `json:"byChannel"` // "" = no channel
	ByActor   []ActorCount     `json:"byActor"`   // sorted by id, then name
	// BySlot[i] counts events with occurred_at in [i*15 min, (i+1)*15 min) of the UTC day.
	BySlot []int64 `json:"bySlot"`

	actorIdx map[[2]string]int
}

// ActorCount is the count of one actor (id and the name it carried).
type ActorCount struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Count int64  `json:"count"`
}

// RollupVersion is the version of the rollup format written.
const RollupVersion = 1

// NewRollup returns an empty rollup of a tenant-day.
func NewRollup(tenant tenant.ID, date string) *Rollup {
	r := &Rollup{Version: RollupVersion, TenantID: tenant, Date: date, Objects: []string{}, Types: map[string]*TypeCounts{}, Others: map[string]int64{}}
	for _, t := range ReportTypes {
		r.Types[t] = newTypeCounts()
	}
	return r
}

func newTypeCounts() *TypeCounts {
	return &TypeCounts{BySource: map[string]int64{}, ByChannel: map[string]int64{}, ByActor: []ActorCount{}, BySlot: make([]int64, SlotsPerDay)}
}

// Add counts one event (read with at least RollupColumns).
func (r *Rollup) Add(row *Row) {
	r.EventCount++
	if r.MaxRecordedAt == "" || row.RecordedAt > r.maxRecordedMs() {
		r.maxRecorded = row.RecordedAt
		r.MaxRecordedAt = audit.FormatTime(time.UnixMilli(row.RecordedAt))
	}
	tc := r.Types[row.Type]
	if tc == nil {
		r.Others[row.Type]++
		return
	}
	tc.Total++
	tc.BySource[row.Source]++
	tc.ByChannel[row.Channel]++
	tc.addActor(row.ActorID, row.ActorName, 1)
	slot := int((row.OccurredAt % 86_400_000) / (SlotMinutes * 60_000))
	if slot < 0 {
		slot += SlotsPerDay
	}
	tc.BySlot[slot]++
}

func (r *Rollup) maxRecordedMs() int64 {
	if r.maxRecorded == 0 && r.MaxRecordedAt != "" {
		if t, err := audit.ParseTime(r.MaxRecordedAt); err == nil {
			r.maxRecorded = t.UnixMilli()
		}
	}
	return r.maxRecorded
}

func (tc *TypeCounts) addActor(id, name string, n int64) {
	if tc.actorIdx == nil {
		tc.actorIdx = make(map[[2]string]int, len(tc.ByActor))
		for i, a := range tc.ByActor {
			tc.actorIdx[[2]string{a.ID, a.Name}] = i
		}
	}
	k := [2]string{id, name}
	if i, ok := tc.actorIdx[k]; ok {
		tc.ByActor[i].Count += n
		return
	}
	tc.actorIdx[k] = len(tc.ByActor)
	tc.ByActor = append(tc.ByActor, ActorCount{ID: id, Name: name, Count: n})
}

// Merge adds the counts of o (another set of events, disjoint from r's) to r.
func (r *Rollup) Merge(o *Rollup) {
	r.EventCount += o.EventCount
	if o.MaxRecordedAt > r.MaxRecordedAt {
		r.MaxRecordedAt, r.maxRecorded = o.MaxRecordedAt, 0
	}
	for t, n := range o.Others {
		r.Others[t] += n
	}
	for t, oc := range o.Types {
		tc := r.Types[t]
		if tc == nil {
			tc = newTypeCounts()
			r.Types[t] = tc
		}
		tc.Total += oc.Total
		for k, n := range oc.BySource {
			tc.BySource[k] += n
		}
		for k, n := range oc.ByChannel {
			tc.ByChannel[k] += n
		}
		for _, a := range oc.ByActor {
			tc.addActor(a.ID, a.Name, a.Count)
		}
		for i, n := range oc.BySlot {
			if i < len(tc.BySlot) {
				tc.BySlot[i] += n
			}
		}
	}
	r.Objects = append(r.Objects, o.Objects...)
}

// finish sorts the rollup's lists so its JSON is deterministic.
func (r *Rollup) finish() {
	for _, tc := range r.Types {
		sort.Slice(tc.ByActor, func(i, j int) bool {
			a, b := tc.ByActor[i], tc.ByActor[j]
			if a.ID != b.ID {
				return a.ID < b.ID
			}
			return a.Name < b.Name
		})
		tc.actorIdx = nil
	}
	slices.Sort(r.Objects)
	r.Objects = slices.Compact(r.Objects)
}

// Encode returns the rollup's JSON.
func (r *Rollup) Encode() ([]byte, error) {
	r.finish()
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return nil, fmt.Errorf("encode rollup %s %s: %w", r.TenantID, r.Date, err)
	}
	return b, nil
}

// getOptional returns an object, nil (and no error) when there is none.
func getOptional(ctx context.Context, st Store, key string) ([]byte, error) {
	b, err := st.Get(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

// ReadRollup returns the stored rollup of a tenant-day, or nil when there is none.
func ReadRollup(ctx context.Context, st Store, tenant tenant.ID, date string) (*Rollup, error) {
	key, err := RollupKey(tenant, date)
	if err != nil {
		return nil, err
	}
	b, err := getOptional(ctx, st, key)
	if b == nil || err != nil {
		return nil, err
	}
	r := NewRollup(tenant, date)
	if err := json.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("read rollup %s %s: %w", tenant, date, err)
	}
	for _, t := range ReportTypes {
		if r.Types[t] == nil {
			r.Types[t] = newTypeCounts()
		}
	}
	for _, tc := range r.Types {
		if tc.BySource == nil {
			tc.BySource = map[string]int64{}
		}
		if tc.ByChannel == nil {
			tc.ByChannel = map[string]int64{}
		}
		if len(tc.BySlot) != SlotsPerDay {
			tc.BySlot = append(tc.BySlot, make([]int64, SlotsPerDay-min(len(tc.BySlot), SlotsPerDay))...)[:SlotsPerDay]
		}
	}
	if r.Others == nil {
		r.Others = map[string]int64{}
	}
	return r, nil
}

// ReadRollup returns the stored rollup of a tenant-day, or nil when there is none. It may
// be behind the archive (parts written since); DayRollup is exact.
func (r *Reader) ReadRollup(ctx context.Context, tenant tenant.ID, date string) (*Rollup, error) {
	return ReadRollup(ctx, r.Store, tenant, date)
}

// DayRollup returns the exact counts of a tenant-day as the archive holds it right now:
// the stored rollup when it was computed from the day's one compacted object, plus the
// events of the parts archived since (those already in the compacted object dropped, by
// reading only its event ids in the row groups overlapping the parts' times); otherwise
// counts computed from the day's objects.
func (r *Reader) DayRollup(ctx context.Context, tenant tenant.ID, date string) (*Rollup, error) {
	for attempt := 0; ; attempt++ {
		ru, err := r.dayRollup(ctx, tenant, date)
		if err == nil {
			ru.finish()
			return ru, nil
		}
		if !errors.Is(err, ErrNotFound) || attempt >= 4 {
			return nil, fmt.Errorf("rollup of %s %s: %w", tenant, date, err)
		}
	}
}

func (r *Reader) dayRollup(ctx context.Context, tenant tenant.ID, date string) (*Rollup, error) {
	p, err := r.plan(ctx, tenant, date)
	if err != nil {
		return nil, err
	}
	defer p.close()
	cols, _ := columnIndexes(RollupColumns)
	if len(p.compacted) == 1 {
		stored, err := r.ReadRollup(ctx, tenant, date)
		if err != nil {
			return nil, err
		}
		if stored != nil && stored.Object == p.compacted[0].key {
			if len(p.parts) == 0 {
				return stored, nil
			}
			return stored, r.addParts(ctx, stored, p, cols)
		}
	}
	ru := NewRollup(tenant, date)
	for _, o := range append(append([]ObjectInfo(nil), p.Compacted...), p.Parts...) {
		ru.Objects = append(ru.Objects, o.Key)
	}
	err = r.mergePlan(ctx, p, cols, 0, 0, nil, false, func(row *Row, _ bool) error {
		ru.Add(row)
		return nil
	})
	return ru, err
}

// addParts counts into ru the events of p's parts that p's compacted object does not hold.
func (r *Reader) addParts(ctx context.Context, ru *Rollup, p *dayPlan, cols []int) error {
	var lo, hi int64
	known := true
	for _, f := range p.parts {
		for g := 0; g < f.pf.NumRowGroups(); g++ {
			a, b, ok := f.rowGroupRange(g)
			if !ok {
				known = false
				continue
			}
			if lo == 0 || a < lo {
				lo = a
			}
			if b > hi {
				hi = b
			}
		}
	}
	if !known {
		lo, hi = 0, -1
	}
	cf := p.compacted[0]
	idCols, _ := columnIndexes([]string{"event_id", "occurred_at"})
	c, err := newCursor(ctx, cf, idCols, cf.rowGroups(lo, hi+1, nil))
	if err != nil {
		return err
	}
	srcs := []source{{c: c, exclude: true}}
	defer func() {
		for _, s := range srcs {
			s.c.close()
		}
	}()
	for _, f := range p.parts {
		pc, err := newCursor(ctx, f, cols, f.rowGroups(0, 0, nil))
		if err != nil {
			return err
		}
		srcs = append(srcs, source{c: pc})
		ru.Objects = append(ru.Objects, f.key)
	}
	return merge(srcs, false, func(row *Row, excluded bool) error {
		if !excluded {
			ru.Add(row)
		}
		return nil
	})
}
