package report

import (
	"sort"
	"time"

	"github.com/contrail/contrail/shared/audit"
)

// Overview is the Contact Overview of a period.
//
// What each part counts (every count is of events whose occurredAt lies in the period):
//   - totals: events of each type: CONTACT_ADDED, _CONNECTED, _DELETED, _MERGED (one per
//     merge, however many contacts it absorbed), _ARCHIVED and _UNARCHIVED.
//   - bySource[s]: the added, connected, deleted and merged events whose source is s
//     ("manual", "import", "api", "incoming_message", "user", ...). Events without a source
//     are under "unknown".
//   - byChannel[c]: the same four counts for events that carry a channel c (connections
//     always do; an added contact does when it came from a channel). Events without a
//     channel are not in byChannel.
//   - byUser: the same four counts per actor id, most active first (then by name, then id);
//     userName is the actor's name on the newest of their events in the period.
//     Actors without an id (the system) are under userId "".
//   - daily: one entry per date of the period in its time zone, oldest first, zero days included.
//   - archivedThrough: see Engine.Overview.
type Overview struct {
	Period          PeriodOut         `json:"period"`
	Totals          Totals            `json:"totals"`
	BySource        map[string]Counts `json:"bySource"`
	ByChannel       map[string]Counts `json:"byChannel"`
	ByUser          []UserCounts      `json:"byUser"`
	Daily           []DayCounts       `json:"daily"`
	ArchivedThrough *string           `json:"archivedThrough"`
}

// PeriodOut is the period as the overview echoes it.
type PeriodOut struct {
	From string `json:"from"`
	To   string `json:"to"`
	TZ   string `json:"tz"`
}

// Totals counts every report type: the four logged ones, then archived and unarchived.
type Totals struct {
	Counts
	Archived   int64 `json:"archived"`
	Unarchived int64 `json:"unarchived"`
}

// Counts counts the four logged types.
type Counts struct {
	Added     int64 `json:"added"`
	Connected int64 `json:"connected"`
	Deleted   int64 `json:"deleted"`
	Merged    int64 `json:"merged"`
}

// UserCounts is one actor's counts.
type UserCounts struct {
	UserID   string `json:"userId"`
	UserName string `json:"userName"`
	Counts
}

// DayCounts is one local date's counts.
type DayCounts struct {
	Date string `json:"date"`
	Counts
}

// UnknownSource is the bySource key of events recorded without a source.
const UnknownSource = "unknown"

func (c *Counts) add(typ string, n int64) {
	switch typ {
	case TypeAdded:
		c.Added += n
	case TypeConnected:
		c.Connected += n
	case TypeDeleted:
		c.Deleted += n
	case TypeMerged:
		c.Merged += n
	}
}

func (c Counts) total() int64 { return c.Added + c.Connected + c.Deleted + c.Merged }

func (t *Totals) add(typ string, n int64) {
	switch typ {
	case TypeArchived:
		t.Archived += n
	case TypeUnarchived:
		t.Unarchived += n
	default:
		t.Counts.add(typ, n)
	}
}

// logged reports whether typ is one of the four logged types.
func logged(typ string) bool {
	switch typ {
	case TypeAdded, TypeConnected, TypeDeleted, TypeMerged:
		return true
	}
	return false
}

// overviewTypes are the types the overview counts.
var overviewTypes = []string{TypeAdded, TypeConnected, TypeDeleted, TypeMerged, TypeArchived, TypeUnarchived}

// tally accumulates an overview from rollups and raw rows.
type tally struct {
	p        Period
	totals   Totals
	bySource map[string]*Counts
	byChan   map[string]*Counts
	byUser   map[string]*userTally
	daily    []DayCounts
	dayIndex map[string]int // local date -> index in daily
}

type userTally struct {
	name   string
	nameAt int64 // when name was seen (ms); a rollup day counts as its last millisecond
	Counts
}

func newTally(p Period) *tally {
	t := &tally{p: p, bySource: map[string]*Counts{}, byChan: map[string]*Counts{}, byUser: map[string]*userTally{}, dayIndex: map[string]int{}}
	tz := p.TZ
	if tz == nil {
		tz = time.UTC
	}
	from := p.From.In(tz)
	d := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, tz)
	for d.Before(p.To) {
		s := d.Format(time.DateOnly)
		t.dayIndex[s] = len(t.daily)
		t.daily = append(t.daily, DayCounts{Date: s})
		d = time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, tz)
	}
	return t
}

func (t *tally) source(typ, source string, n int64) {
	if !logged(typ) {
		return
	}
	if source == "" {
		source = UnknownSource
	}
	c := t.bySource[source]
	if c == nil {
		c = &Counts{}
		t.bySource[source] = c
	}
	c.add(typ, n)
}

func (t *tally) channel(typ, channel string, n int64) {
	if !logged(typ) || channel == "" {
		return
	}
	c := t.byChan[channel]
	if c == nil {
		c = &Counts{}
		t.byChan[channel] = c
	}
	c.add(typ, n)
}

func (t *tally) user(typ, id, name string, at int64, n int64) {
	if !logged(typ) {
		return
	}
	u := t.byUser[id]
	if u == nil {
		u = &userTally{name: name, nameAt: at}
		t.byUser[id] = u
	} else if at > u.nameAt || (at == u.nameAt && name > u.name) {
		u.name, u.nameAt = name, at
	}
	u.add(typ, n)
}

func (t *tally) overview(archivedThrough *string) Overview {
	tz := "UTC"
	if t.p.TZ != nil {
		tz = t.p.TZ.String()
	}
	ov := Overview{
		Period:          PeriodOut{From: audit.FormatTime(t.p.From), To: audit.FormatTime(t.p.To), TZ: tz},
		Totals:          t.totals,
		BySource:        make(map[string]Counts, len(t.bySource)),
		ByChannel:       make(map[string]Counts, len(t.byChan)),
		ByUser:          make([]UserCounts, 0, len(t.byUser)),
		Daily:           t.daily,
		ArchivedThrough: archivedThrough,
	}
	for k, c := range t.bySource {
		ov.BySource[k] = *c
	}
	for k, c := range t.byChan {
		ov.ByChannel[k] = *c
	}
	for id, u := range t.byUser {
		ov.ByUser = append(ov.ByUser, UserCounts{UserID: id, UserName: u.name, Counts: u.Counts})
	}
	SortUsers(ov.ByUser)
	if ov.Daily == nil {
		ov.Daily = []DayCounts{}
	}
	return ov
}

// SortUsers puts users in an overview's order: most counted events first, then by name,
// then by id.
func SortUsers(users []UserCounts) {
	sort.Slice(users, func(i, j int) bool {
		a, b := users[i], users[j]
		if a.total() != b.total() {
			return a.total() > b.total()
		}
		if a.UserName != b.UserName {
			return a.UserName < b.UserName
		}
		return a.UserID < b.UserID
	})
}

// merge adds one UTC date's counts.
func (t *tally) merge(d *dayCounts) {
	for typ, n := range d.types {
		t.totals.add(typ, n)
	}
	for k, n := range d.bySource {
		t.source(k.typ, k.val, n)
	}
	for k, n := range d.byChannel {
		t.channel(k.typ, k.val, n)
	}
	for k, us := range d.byUser {
		t.user(k.typ, k.id, k.name, us.last, us.n)
	}
	for date, c := range d.daily {
		if i, ok := t.dayIndex[date]; ok {
			dc := &t.daily[i].Counts
			dc.Added += c.Added
			dc.Connected += c.Connected
			dc.Deleted += c.Deleted
			dc.Merged += c.Merged
		}
	}
}
