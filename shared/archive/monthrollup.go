package archive

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/contrail/contrail/shared/tenant"
)

// MonthRollup holds the settled days of one tenant and UTC month, so that a report over
// whole months reads one object a month instead of one rollup a day. It is written by the
// compactor at rollups/tenant=<t>/month=<YYYY-MM>/rollup.bin each time it writes a day
// rollup of the month (UpdateMonthRollup), in a binary form that decodes without reflection.
//
// It is derived data and never trusted blindly: each day it holds names the compacted
// object its counts were computed from (the day rollup's Object), and a reader lists the
// month's objects (one LIST) and uses a day only when the listing of that date is exactly
// that one compacted object, the very test the day rollups pass (Fresh). The month's Sum
// may stand for the whole month only when every date of the month passes (Whole).
type MonthRollup struct {
	TenantID tenant.ID
	Month    string // YYYY-MM, of the UTC dates
	// Days are the settled days counted, by date; a day without events has none.
	Days []MonthDay
	// Sum is the days' counts summed, for every report type; ByActor carries the newest
	// date each actor (id and name) was counted on.
	Sum    map[string]*MonthCounts
	Others map[string]int64
	// EventCount is the number of events of the days, every type.
	EventCount int64

	byDate map[string]int
	actors [][2]string // every (id, name) counted, sorted: the days and the sum name them by index
}

// MonthDay is one day of a MonthRollup: the day rollup it was made from, its totals and
// 15-minute slots decoded, the breakdowns decoded on demand (Rollup).
type MonthDay struct {
	Date          string
	Object        string // the compacted object the day rollup was computed from
	EventCount    int64
	MaxRecordedAt string
	// Totals[i] and Slots[i] are of ReportTypes[i]; Slots[i] is nil when Totals[i] is 0.
	Totals []int64
	Slots  [][]int64

	detail []byte      // the breakdowns (bySource, byChannel, byActor, others), encoded
	actors [][2]string // the month's actors, which detail names by index
}

// MonthCounts are the counts of one report type over a month's days.
type MonthCounts struct {
	Total     int64
	BySource  map[string]int64 // "" = no source
	ByChannel map[string]int64 // "" = no channel
	ByActor   []MonthActor     // sorted by id, then name
}

// MonthActor is the count of one actor (id and the name it carried) over a month's days,
// and the newest date it was counted on.
type MonthActor struct {
	ID       string
	Name     string
	Count    int64
	LastDate string
}

// MonthRollupVersion is the version of the month rollup format written.
const MonthRollupVersion = 1

var monthMagic = []byte("CTRL-MONTH-ROLLUP")

// MonthOf returns the month (YYYY-MM) of a date (YYYY-MM-DD).
func MonthOf(date string) string {
	if len(date) < len("2006-01") {
		return ""
	}
	return date[:len("2006-01")]
}

func checkMonth(t tenant.ID, month string) error {
	if !t.Valid() {
		return fmt.Errorf("%w: tenant id %q is not valid", ErrInvalidPartition, string(t))
	}
	if m, err := time.Parse("2006-01", month); err != nil || m.Format("2006-01") != month {
		return fmt.Errorf("%w: month %q is not YYYY-MM", ErrInvalidPartition, month)
	}
	return nil
}

// MonthRollupKey is the key of a tenant's month rollup.
func MonthRollupKey(t tenant.ID, month string) (string, error) {
	if err := checkMonth(t, month); err != nil {
		return "", err
	}
	return RollupsPrefix + "tenant=" + t.String() + "/month=" + month + "/rollup.bin", nil
}

// IsMonthRollup reports whether key is a month rollup's key.
func IsMonthRollup(key string) bool {
	return strings.HasPrefix(key, RollupsPrefix) && strings.Contains(key, "/month=") && strings.HasSuffix(key, "/rollup.bin")
}

// MonthObjects lists the Parquet objects of a tenant's month (one LIST): date -> the keys of
// its parts and compacted objects, sorted. ok is false when the month holds a part or
// compacted object that names no date of it (a key written by hand): no day can be vouched for then.
func MonthObjects(ctx context.Context, st Store, t tenant.ID, month string) (days map[string][]string, ok bool, err error) {
	if err := checkMonth(t, month); err != nil {
		return nil, false, err
	}
	prefix := EventsPrefix + "tenant=" + t.String() + "/date=" + month + "-"
	listed, err := st.List(ctx, prefix)
	if err != nil {
		return nil, false, fmt.Errorf("list month %s of %s: %w", month, t, err)
	}
	days, ok = map[string][]string{}, true
	for _, o := range listed {
		if !IsPart(o.Key) && !IsCompacted(o.Key) {
			continue
		}
		kt, date, good := ParseTenantDay(o.Key)
		if !good || kt != t || MonthOf(date) != month {
			ok = false
			continue
		}
		days[date] = append(days[date], o.Key)
	}
	return days, ok, nil
}

// settled returns the dates of a listing that are one compacted object, and that object.
func settled(days map[string][]string) map[string]string {
	out := map[string]string{}
	for date, objs := range days {
		if len(objs) == 1 && IsCompacted(objs[0]) {
			out[date] = objs[0]
		}
	}
	return out
}

// Day returns the month's day of a date, nil when it holds none.
func (m *MonthRollup) Day(date string) *MonthDay {
	if i, ok := m.byDate[date]; ok {
		return &m.Days[i]
	}
	return nil
}

// Fresh reports whether the month answers date exactly, given the date's objects as listed
// now (MonthObjects): the date holds nothing and the month has no day of it, or the date
// is exactly the one compacted object the month's day was computed from. day is that day
// (nil for a date without events).
func (m *MonthRollup) Fresh(date string, objects []string) (day *MonthDay, ok bool) {
	d := m.Day(date)
	switch {
	case d == nil:
		return nil, len(objects) == 0
	case len(objects) == 1 && objects[0] == d.Object && IsCompacted(d.Object):
		return d, true
	}
	return nil, false
}

// Whole reports whether Sum is exactly the month right now: every date of the month is
// Fresh in the listing (MonthObjects, with its ok).
func (m *MonthRollup) Whole(days map[string][]string, listedOK bool) bool {
	if !listedOK {
		return false
	}
	first, err := time.Parse("2006-01", m.Month)
	if err != nil {
		return false
	}
	for d := first; d.Month() == first.Month(); d = d.AddDate(0, 0, 1) {
		date := d.Format(time.DateOnly)
		if _, ok := m.Fresh(date, days[date]); !ok {
			return false
		}
	}
	return true
}

// NewMonthRollup sums day rollups (each of a different date of month, each computed from its
// day's one compacted object) into a month rollup.
func NewMonthRollup(t tenant.ID, month string, days []*Rollup) (*MonthRollup, error) {
	if err := checkMonth(t, month); err != nil {
		return nil, err
	}
	days = slices.Clone(days)
	slices.SortFunc(days, func(a, b *Rollup) int { return strings.Compare(a.Date, b.Date) })
	m := &MonthRollup{TenantID: t, Month: month, Sum: map[string]*MonthCounts{}, Others: map[string]int64{}, byDate: map[string]int{}}
	for _, typ := range ReportTypes {
		m.Sum[typ] = &MonthCounts{BySource: map[string]int64{}, ByChannel: map[string]int64{}, ByActor: []MonthActor{}}
	}
	actors := map[string]map[[2]string]*MonthActor{}
	for i, ru := range days {
		if ru.TenantID != t || MonthOf(ru.Date) != month || ru.Object == "" {
			return nil, fmt.Errorf("month rollup %s %s: day %s %s (object %q) does not belong to it", t, month, ru.TenantID, ru.Date, ru.Object)
		}
		if i > 0 && days[i-1].Date == ru.Date {
			return nil, fmt.Errorf("month rollup %s %s: day %s twice", t, month, ru.Date)
		}
		md := MonthDay{Date: ru.Date, Object: ru.Object, EventCount: ru.EventCount, MaxRecordedAt: ru.MaxRecordedAt,
			Totals: make([]int64, len(ReportTypes)), Slots: make([][]int64, len(ReportTypes))}
		for ti, typ := range ReportTypes {
			tc := ru.Types[typ]
			if tc == nil {
				continue
			}
			md.Totals[ti] = tc.Total
			if tc.Total != 0 {
				md.Slots[ti] = slotsOf(tc.BySlot)
			}
			sc := m.Sum[typ]
			sc.Total += tc.Total
			for k, n := range tc.BySource {
				sc.BySource[k] += n
			}
			for k, n := range tc.ByChannel {
				sc.ByChannel[k] += n
			}
			if actors[typ] == nil {
				actors[typ] = map[[2]string]*MonthActor{}
			}
			for _, a := range tc.ByActor {
				k := [2]string{a.ID, a.Name}
				ma := actors[typ][k]
				if ma == nil {
					ma = &MonthActor{ID: a.ID, Name: a.Name}
					actors[typ][k] = ma
				}
				ma.Count += a.Count
				ma.LastDate = ru.Date // days are in date order
			}
		}
		for k, n := range ru.Others {
			m.Others[k] += n
		}
		m.EventCount += ru.EventCount
		m.byDate[md.Date] = len(m.Days)
		m.Days = append(m.Days, md)
	}
	seen := map[[2]string]bool{}
	for _, as := range actors {
		for k := range as {
			if !seen[k] {
				seen[k] = true
				m.actors = append(m.actors, k)
			}
		}
	}
	slices.SortFunc(m.actors, compareActors)
	idx := m.actorIndex()
	for i, ru := range days {
		m.Days[i].actors = m.actors
		m.Days[i].detail = encodeDayDetail(nil, ru, idx)
	}
	for typ, as := range actors {
		sc := m.Sum[typ]
		for _, a := range as {
			sc.ByActor = append(sc.ByActor, *a)
		}
		slices.SortFunc(sc.ByActor, func(a, b MonthActor) int {
			if c := strings.Compare(a.ID, b.ID); c != 0 {
				return c
			}
			return strings.Compare(a.Name, b.Name)
		})
	}
	return m, nil
}

func slotsOf(bySlot []int64) []int64 {
	s := make([]int64, SlotsPerDay)
	copy(s, bySlot)
	return s
}

func compareActors(a, b [2]string) int {
	if c := strings.Compare(a[0], b[0]); c != 0 {
		return c
	}
	return strings.Compare(a[1], b[1])
}

// actorIndex maps each actor of the month to its index.
func (m *MonthRollup) actorIndex() map[[2]string]int {
	idx := make(map[[2]string]int, len(m.actors))
	for i, a := range m.actors {
		idx[a] = i
	}
	return idx
}

// Rollup returns the day as the day rollup it was made from (the same counts ReadRollup gives).
func (d *MonthDay) Rollup(t tenant.ID) (*Rollup, error) {
	ru := NewRollup(t, d.Date)
	ru.Object, ru.Objects = d.Object, []string{d.Object}
	ru.EventCount, ru.MaxRecordedAt = d.EventCount, d.MaxRecordedAt
	for ti, typ := range ReportTypes {
		tc := ru.Types[typ]
		tc.Total = d.Totals[ti]
		if d.Slots[ti] != nil {
			copy(tc.BySlot, d.Slots[ti])
		}
	}
	dec := decoder{b: d.detail}
	for _, typ := range ReportTypes {
		tc := ru.Types[typ]
		dec.counts(tc.BySource)
		dec.counts(tc.ByChannel)
		n := dec.length()
		for i := 0; i < n && dec.err == nil; i++ {
			a := dec.actor(d.actors)
			tc.ByActor = append(tc.ByActor, ActorCount{ID: a[0], Name: a[1], Count: dec.int()})
		}
	}
	dec.counts(ru.Others)
	if err := dec.end(); err != nil {
		return nil, fmt.Errorf("month rollup day %s %s: %w", t, d.Date, err)
	}
	return ru, nil
}

// encodeDayDetail appends a day rollup's breakdowns, naming actors by their index in idx.
func encodeDayDetail(b []byte, ru *Rollup, idx map[[2]string]int) []byte {
	for _, typ := range ReportTypes {
		tc := ru.Types[typ]
		if tc == nil {
			tc = newTypeCounts()
		}
		b = appendCounts(b, tc.BySource)
		b = appendCounts(b, tc.ByChannel)
		actors := slices.Clone(tc.ByActor)
		slices.SortFunc(actors, func(a, b ActorCount) int {
			if c := strings.Compare(a.ID, b.ID); c != 0 {
				return c
			}
			return strings.Compare(a.Name, b.Name)
		})
		b = binary.AppendUvarint(b, uint64(len(actors)))
		for _, a := range actors {
			b = binary.AppendUvarint(b, uint64(idx[[2]string{a.ID, a.Name}]))
			b = binary.AppendVarint(b, a.Count)
		}
	}
	return appendCounts(b, ru.Others)
}

// Encode returns the month rollup's bytes (the same rollup always gives the same bytes).
//
// Format (version 1): the magic and a version byte; tenant, month, event count; the actors
// (id, name) sorted, which the rest names by index; the number of days; each day: date, object, event count, newest recordedAt, per report type its total
// and its non-zero slots as (slot, count) pairs, then the length of its breakdowns and the
// breakdowns (per report type: by source, by channel, by actor; then the other types); then
// the sum: per report type its total, by source, by channel, by actor with the actor's
// newest day of the month; then the other types. Integers are varints, strings length-prefixed,
// maps sorted by key.
func (m *MonthRollup) Encode() []byte {
	b := append([]byte(nil), monthMagic...)
	b = append(b, MonthRollupVersion)
	b = appendStr(b, m.TenantID.String())
	b = appendStr(b, m.Month)
	b = binary.AppendVarint(b, m.EventCount)
	b = binary.AppendUvarint(b, uint64(len(m.actors)))
	for _, a := range m.actors {
		b = appendStr(b, a[0])
		b = appendStr(b, a[1])
	}
	idx := m.actorIndex()
	b = binary.AppendUvarint(b, uint64(len(m.Days)))
	for _, d := range m.Days {
		b = appendStr(b, d.Date)
		b = appendStr(b, d.Object)
		b = binary.AppendVarint(b, d.EventCount)
		b = appendStr(b, d.MaxRecordedAt)
		for ti := range ReportTypes {
			b = binary.AppendVarint(b, d.Totals[ti])
			nz := 0
			for _, n := range d.Slots[ti] {
				if n != 0 {
					nz++
				}
			}
			b = binary.AppendUvarint(b, uint64(nz))
			for i, n := range d.Slots[ti] {
				if n != 0 {
					b = binary.AppendUvarint(b, uint64(i))
					b = binary.AppendVarint(b, n)
				}
			}
		}
		b = binary.AppendUvarint(b, uint64(len(d.detail)))
		b = append(b, d.detail...)
	}
	for _, typ := range ReportTypes {
		sc := m.Sum[typ]
		if sc == nil {
			sc = &MonthCounts{}
		}
		b = binary.AppendVarint(b, sc.Total)
		b = appendCounts(b, sc.BySource)
		b = appendCounts(b, sc.ByChannel)
		b = binary.AppendUvarint(b, uint64(len(sc.ByActor)))
		for _, a := range sc.ByActor {
			b = binary.AppendUvarint(b, uint64(idx[[2]string{a.ID, a.Name}]))
			b = binary.AppendVarint(b, a.Count)
			day, _ := strconv.Atoi(strings.TrimPrefix(a.LastDate, m.Month+"-"))
			b = binary.AppendUvarint(b, uint64(day))
		}
	}
	return appendCounts(b, m.Others)
}

// DecodeMonthRollup reads a month rollup's bytes. The days' breakdowns are decoded by
// MonthDay.Rollup, when asked for.
func DecodeMonthRollup(b []byte) (*MonthRollup, error) {
	if !bytes.HasPrefix(b, monthMagic) || len(b) <= len(monthMagic) {
		return nil, errors.New("decode month rollup: not a month rollup")
	}
	if v := b[len(monthMagic)]; v != MonthRollupVersion {
		return nil, fmt.Errorf("decode month rollup: version %d, want %d", v, MonthRollupVersion)
	}
	dec := decoder{b: b[len(monthMagic)+1:]}
	m := &MonthRollup{TenantID: tenant.ID(dec.str()), Month: dec.str(), EventCount: dec.int(), Sum: map[string]*MonthCounts{}, Others: map[string]int64{}}
	na := dec.length()
	m.actors = make([][2]string, 0, na)
	for i := 0; i < na && dec.err == nil; i++ {
		m.actors = append(m.actors, [2]string{dec.str(), dec.str()})
	}
	nd := dec.length()
	m.Days = make([]MonthDay, 0, nd)
	m.byDate = make(map[string]int, nd)
	for i := 0; i < nd && dec.err == nil; i++ {
		d := MonthDay{Date: dec.str(), Object: dec.str(), EventCount: dec.int(), MaxRecordedAt: dec.str(),
			Totals: make([]int64, len(ReportTypes)), Slots: make([][]int64, len(ReportTypes)), actors: m.actors}
		for ti := range ReportTypes {
			d.Totals[ti] = dec.int()
			nz := dec.length()
			if nz > 0 {
				d.Slots[ti] = make([]int64, SlotsPerDay)
			}
			for j := 0; j < nz && dec.err == nil; j++ {
				slot := dec.uvarint()
				if slot >= SlotsPerDay {
					dec.fail("slot %d out of range", slot)
					break
				}
				d.Slots[ti][slot] = dec.int()
			}
			if d.Totals[ti] != 0 && d.Slots[ti] == nil {
				d.Slots[ti] = make([]int64, SlotsPerDay)
			}
		}
		d.detail = dec.bytes(dec.length())
		m.byDate[d.Date] = len(m.Days)
		m.Days = append(m.Days, d)
	}
	for _, typ := range ReportTypes {
		sc := &MonthCounts{Total: dec.int(), BySource: map[string]int64{}, ByChannel: map[string]int64{}}
		dec.counts(sc.BySource)
		dec.counts(sc.ByChannel)
		na := dec.length()
		sc.ByActor = make([]MonthActor, 0, na)
		for i := 0; i < na && dec.err == nil; i++ {
			a := dec.actor(m.actors)
			ma := MonthActor{ID: a[0], Name: a[1], Count: dec.int()}
			if day := dec.uvarint(); day >= 1 && day <= 31 {
				ma.LastDate = fmt.Sprintf("%s-%02d", m.Month, day)
			} else {
				dec.fail("day %d of the month", day)
			}
			sc.ByActor = append(sc.ByActor, ma)
		}
		m.Sum[typ] = sc
	}
	dec.counts(m.Others)
	if err := dec.end(); err != nil {
		return nil, fmt.Errorf("decode month rollup %s %s: %w", m.TenantID, m.Month, err)
	}
	if err := checkMonth(m.TenantID, m.Month); err != nil {
		return nil, fmt.Errorf("decode month rollup: %w", err)
	}
	return m, nil
}

// ReadMonthRollup returns a tenant's stored month rollup, nil when there is none.
func ReadMonthRollup(ctx context.Context, st Store, t tenant.ID, month string) (*MonthRollup, error) {
	key, err := MonthRollupKey(t, month)
	if err != nil {
		return nil, err
	}
	b, err := getOptional(ctx, st, key)
	if b == nil || err != nil {
		return nil, err
	}
	m, err := DecodeMonthRollup(b)
	if err != nil {
		return nil, err
	}
	if m.TenantID != t || m.Month != month {
		return nil, fmt.Errorf("read month rollup %s: it holds %s %s", key, m.TenantID, m.Month)
	}
	return m, nil
}

// monthAttempts bounds how often UpdateMonthRollup rebuilds a month that changed under it.
const monthAttempts = 3

// UpdateMonthRollup brings the month rollup of the month of date up to date with the
// month's settled days: it lists the month, keeps the days the stored month rollup has
// right, reads the day rollup of each other settled day (used only when computed from the
// day's one compacted object), and writes the month when it changed. A day compacted by a
// racing compaction while it worked makes it start again (at most monthAttempts times),
// so the month written last holds every day settled before it listed.
func UpdateMonthRollup(ctx context.Context, st Store, t tenant.ID, date string) error {
	month := MonthOf(date)
	key, err := MonthRollupKey(t, month)
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		listed, _, err := MonthObjects(ctx, st, t, month)
		if err != nil {
			return err
		}
		before := settled(listed)
		oldBytes, err := getOptional(ctx, st, key)
		if err != nil {
			return fmt.Errorf("update month rollup %s %s: %w", t, month, err)
		}
		var old *MonthRollup
		if oldBytes != nil {
			old, _ = DecodeMonthRollup(oldBytes) // an unreadable one is rebuilt
		}
		var days []*Rollup
		for _, date := range slices.Sorted(maps.Keys(before)) {
			obj := before[date]
			if old != nil {
				if d := old.Day(date); d != nil && d.Object == obj {
					ru, err := d.Rollup(t)
					if err == nil {
						days = append(days, ru)
						continue
					}
				}
			}
			ru, err := ReadRollup(ctx, st, t, date)
			if err != nil {
				return fmt.Errorf("update month rollup %s %s: %w", t, month, err)
			}
			if ru != nil && ru.Object == obj {
				days = append(days, ru)
			}
		}
		m, err := NewMonthRollup(t, month, days)
		if err != nil {
			return err
		}
		b := m.Encode()
		if !bytes.Equal(b, oldBytes) {
			if err := st.Put(ctx, key, b); err != nil {
				return fmt.Errorf("update month rollup %s %s: %w", t, month, err)
			}
		}
		again, _, err := MonthObjects(ctx, st, t, month)
		if err != nil {
			return err
		}
		changed := false
		for date, obj := range settled(again) {
			if before[date] != obj {
				changed = true
			}
		}
		if !changed {
			return nil
		}
		if attempt >= monthAttempts {
			return fmt.Errorf("update month rollup %s %s: its days kept changing (%d attempts)", t, month, attempt)
		}
	}
}

// ---- the binary helpers

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendCounts(b []byte, m map[string]int64) []byte {
	b = binary.AppendUvarint(b, uint64(len(m)))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		b = appendStr(b, k)
		b = binary.AppendVarint(b, m[k])
	}
	return b
}

// decoder reads what the append helpers wrote; its first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("truncated or malformed number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int() int64 {
	u := d.uvarint() // zig-zag, as binary.AppendVarint writes it
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

// length reads a count or length, which must fit in what is left (every element takes a byte at least).
func (d *decoder) length() int {
	v := d.uvarint()
	if v > uint64(len(d.b)) {
		d.fail("length %d beyond the %d bytes left", v, len(d.b))
		return 0
	}
	return int(v)
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.b) {
		d.fail("truncated")
		return nil
	}
	out := d.b[:n:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) str() string { return string(d.bytes(d.length())) }

// actor reads an index into actors.
func (d *decoder) actor(actors [][2]string) [2]string {
	i := d.uvarint()
	if i >= uint64(len(actors)) {
		d.fail("actor %d of %d", i, len(actors))
		return [2]string{}
	}
	return actors[i]
}

func (d *decoder) counts(m map[string]int64) {
	n := d.length()
	for i := 0; i < n && d.err == nil; i++ {
		k := d.str()
		m[k] += d.int()
	}
}

func (d *decoder) end() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d bytes left over", len(d.b))
	}
	return d.err
}
