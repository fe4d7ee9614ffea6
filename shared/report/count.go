package report

import (
	"context"
	"strings"
	"time"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/tenant"
)

// overviewColumns are the only columns the overview reads from raw events.
var overviewColumns = []string{"event_id", "occurred_at", "recorded_at", "type", "source", "channel", "actor_id", "actor_name"}

// pair is a (type, value) key of a breakdown.
type pair struct{ typ, val string }

// userKey is a (type, actor id, actor name) key.
type userKey struct{ typ, id, name string }

// userSeen is how often an actor acted under one name, and when last.
type userSeen struct {
	n    int64
	last int64 // ms
}

// dayCounts is one UTC date's contribution to an overview, from its rollup or its raw events.
type dayCounts struct {
	types         map[string]int64
	bySource      map[pair]int64
	byChannel     map[pair]int64
	byUser        map[userKey]userSeen
	daily         map[string]*Counts // local date in the period's zone
	maxRecordedAt int64              // ms, 0 when the day holds nothing
	fromRollup    bool
}

func newDayCounts() *dayCounts {
	return &dayCounts{types: map[string]int64{}, bySource: map[pair]int64{}, byChannel: map[pair]int64{}, byUser: map[userKey]userSeen{}, daily: map[string]*Counts{}}
}

func (d *dayCounts) addDaily(date, typ string, n int64) {
	c := d.daily[date]
	if c == nil {
		c = &Counts{}
		d.daily[date] = c
	}
	c.add(typ, n)
}

// countRaw counts the overview's events of one UTC date within [from, to) from raw rows.
func (e *Engine) countRaw(ctx context.Context, tenant tenant.ID, date string, p Period) (*dayCounts, error) {
	d := newDayCounts()
	lo, hi := dayRange(date, p.From, p.To)
	if !lo.Before(hi) {
		return d, nil
	}
	tz := p.TZ
	if tz == nil {
		tz = time.UTC
	}
	var lastDay int64 = -1 << 62
	var lastDate string
	err := e.reader.Scan(ctx, archive.Query{Tenant: tenant, From: lo, To: hi, Columns: overviewColumns, Types: overviewTypes}, func(r *archive.Row) error {
		if r.RecordedAt > d.maxRecordedAt {
			d.maxRecordedAt = r.RecordedAt
		}
		typ := canonType(r.Type)
		if typ == "" {
			return nil
		}
		d.types[typ]++
		if !logged(typ) {
			return nil
		}
		src := r.Source
		if src == "" {
			src = UnknownSource
		}
		incPair(d.bySource, typ, src)
		if r.Channel != "" {
			incPair(d.byChannel, typ, r.Channel)
		}
		uk := userKey{typ, r.ActorID, r.ActorName}
		if _, ok := d.byUser[uk]; !ok {
			uk = userKey{typ, strings.Clone(r.ActorID), strings.Clone(r.ActorName)}
		}
		us := d.byUser[uk]
		us.n++
		us.last = max(us.last, r.OccurredAt)
		d.byUser[uk] = us
		// Rows come in time order: recompute the local date only when the minute changes.
		if m := r.OccurredAt / 60000; m != lastDay {
			lastDay = m
			lastDate = time.UnixMilli(r.OccurredAt).In(tz).Format(time.DateOnly)
		}
		d.addDaily(lastDate, typ, 1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// incPair counts one (typ, val), cloning val the first time: row strings share the
// reader's buffers and must not be kept.
func incPair(m map[pair]int64, typ, val string) {
	k := pair{typ, val}
	if _, ok := m[k]; !ok {
		k.val = strings.Clone(val)
	}
	m[k]++
}

// canonType returns the package constant equal to typ, "" for a type the overview ignores.
func canonType(typ string) string {
	for _, t := range overviewTypes {
		if t == typ {
			return t
		}
	}
	return ""
}
