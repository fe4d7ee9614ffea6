package report

import (
	"context"
	"time"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/tenant"
)

// dayRollup returns the exact counts of a tenant-day. The common case of a settled day —
// its listing is one compacted object and the stored rollup was computed from exactly that
// object — costs one LIST and one small GET, without opening the Parquet object;
// anything else goes to archive.Reader.DayRollup (stored rollup plus parts archived since,
// or counts from the raw objects).
func (e *Engine) dayRollup(ctx context.Context, tenant tenant.ID, date string) (*archive.Rollup, error) {
	prefix, err := archive.DayPrefix(tenant, date)
	if err != nil {
		return nil, err
	}
	listed, err := e.store.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	var objects []string
	for _, o := range listed {
		if archive.IsCompacted(o.Key) || archive.IsPart(o.Key) {
			objects = append(objects, o.Key)
		}
	}
	if len(objects) == 0 {
		return archive.NewRollup(tenant, date), nil
	}
	if len(objects) == 1 && archive.IsCompacted(objects[0]) {
		ru, err := archive.ReadRollup(ctx, e.store, tenant, date)
		if err != nil {
			return nil, err
		}
		if ru != nil && ru.Object == objects[0] {
			return ru, nil
		}
	}
	return e.reader.DayRollup(ctx, tenant, date)
}

// countRollup turns a whole UTC date's rollup into overview counts; its 15-minute slots
// place the daily series on local dates (every zone offset in use is a multiple of 15 min).
func countRollup(ru *archive.Rollup, date string, tz *time.Location) *dayCounts {
	d := newDayCounts()
	d.fromRollup = true
	day, _ := time.Parse(time.DateOnly, date)
	last := day.AddDate(0, 0, 1).UnixMilli() - 1 // names seen "at the end of the day"
	slots := newSlotDates(day, tz)
	for _, typ := range overviewTypes {
		tc := ru.Types[typ]
		if tc == nil || !d.addType(typ, tc.Total, tc.BySource, tc.ByChannel) {
			continue
		}
		for _, a := range tc.ByActor {
			d.addUser(typ, a.ID, a.Name, a.Count, last)
		}
		slots.add(d, typ, tc.BySlot)
	}
	return d
}

// countMonthSum turns a month rollup that holds every date of its month (MonthRollup.Whole)
// into overview counts: the same counts as countRollup of each of its days, summed (an
// actor's name counts as seen at the end of the newest day it was counted on).
func countMonthSum(m *archive.MonthRollup, tz *time.Location) *dayCounts {
	d := newDayCounts()
	d.fromRollup = true
	for _, typ := range overviewTypes {
		mc := m.Sum[typ]
		if mc == nil || !d.addType(typ, mc.Total, mc.BySource, mc.ByChannel) {
			continue
		}
		for _, a := range mc.ByActor {
			day, _ := time.Parse(time.DateOnly, a.LastDate)
			d.addUser(typ, a.ID, a.Name, a.Count, day.AddDate(0, 0, 1).UnixMilli()-1)
		}
	}
	for _, md := range m.Days {
		day, _ := time.Parse(time.DateOnly, md.Date)
		slots := newSlotDates(day, tz)
		for ti, typ := range archive.ReportTypes {
			if md.Totals[ti] != 0 && logged(typ) {
				slots.add(d, typ, md.Slots[ti])
			}
		}
	}
	return d
}

// addType counts a rollup's total of one type and, for a logged type, its events by source
// and channel; it reports whether the type is logged and has events, so its users and slots
// count too.
func (d *dayCounts) addType(typ string, total int64, bySource, byChannel map[string]int64) bool {
	if total == 0 {
		return false
	}
	d.types[typ] += total
	if !logged(typ) {
		return false
	}
	for src, n := range bySource {
		if src == "" {
			src = UnknownSource
		}
		d.bySource[pair{typ, src}] += n
	}
	for ch, n := range byChannel {
		if ch != "" {
			d.byChannel[pair{typ, ch}] += n
		}
	}
	return true
}

// addUser counts n events of one actor under one name, seen last at last (ms).
func (d *dayCounts) addUser(typ, id, name string, n, last int64) {
	k := userKey{typ, id, name}
	us := d.byUser[k]
	us.n += n
	us.last = max(us.last, last)
	d.byUser[k] = us
}

// slotDates places the 15-minute slots of one UTC day on local dates.
type slotDates struct {
	day  time.Time
	tz   *time.Location
	date [archive.SlotsPerDay]string // local date of each slot, filled on first use
}

func newSlotDates(day time.Time, tz *time.Location) *slotDates {
	if tz == nil {
		tz = time.UTC
	}
	return &slotDates{day: day, tz: tz}
}

// add counts a type's slots on the daily series.
func (s *slotDates) add(d *dayCounts, typ string, bySlot []int64) {
	for i, n := range bySlot {
		if n == 0 || i >= archive.SlotsPerDay {
			continue
		}
		if s.date[i] == "" {
			s.date[i] = s.day.Add(time.Duration(i) * archive.SlotMinutes * time.Minute).In(s.tz).Format(time.DateOnly)
		}
		d.addDaily(s.date[i], typ, n)
	}
}
