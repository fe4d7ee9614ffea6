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
	if tz == nil {
		tz = time.UTC
	}
	last := day.AddDate(0, 0, 1).UnixMilli() - 1 // names seen "at the end of the day"
	var slotDate [archive.SlotsPerDay]string     // local date of each slot, filled on first use
	for _, typ := range overviewTypes {
		tc := ru.Types[typ]
		if tc == nil || tc.Total == 0 {
			continue
		}
		d.types[typ] += tc.Total
		if !logged(typ) {
			continue
		}
		for src, n := range tc.BySource {
			if src == "" {
				src = UnknownSource
			}
			d.bySource[pair{typ, src}] += n
		}
		for ch, n := range tc.ByChannel {
			if ch != "" {
				d.byChannel[pair{typ, ch}] += n
			}
		}
		for _, a := range tc.ByActor {
			k := userKey{typ, a.ID, a.Name}
			us := d.byUser[k]
			us.n += a.Count
			us.last = last
			d.byUser[k] = us
		}
		for i, n := range tc.BySlot {
			if n == 0 || i >= archive.SlotsPerDay {
				continue
			}
			if slotDate[i] == "" {
				slotDate[i] = day.Add(time.Duration(i) * archive.SlotMinutes * time.Minute).In(tz).Format(time.DateOnly)
			}
			d.addDaily(slotDate[i], typ, n)
		}
	}
	return d
}
