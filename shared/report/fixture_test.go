package report

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/tenant"
)

// The fixture: two weeks of events of tenant "acme" (and some of "other", never counted),
// with events at the instants where day boundaries of UTC, Asia/Jakarta, Asia/Kolkata and
// America/New_York (across the DST change of 2026-03-08) fall, stored in every shape the
// archive can take: compacted days (some with a rollup, some without), days of overlapping
// parts (the same event in two parts), a compacted day with parts that arrived after it and
// a part it covers still present, and today in parts.

var (
	fixtureNow   = time.Date(2026, 3, 14, 20, 0, 0, 0, time.UTC)
	fixtureFirst = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	fixtureDays  = 14
)

var users = []audit.Actor{
	{Type: audit.ActorUser, ID: "u-1", Name: "Ana Lima"},
	{Type: audit.ActorUser, ID: "u-2", Name: "Bayu \"B\" Santoso"},
	{Type: audit.ActorUser, ID: "u-3", Name: "Dewi Ñandú 🌺"},
	{Type: audit.ActorService, ID: "svc-crm", Name: "crm"},
	{Type: audit.ActorSystem},
}

var contactNames = []string{"Budi", "Siti Rahayu", "O'Brien, Pat", "=SUM(A1)", "+62 812", "-minus", "@home", "\tTabbed", "line\nbreak", "Ñandú 🌺"}

// boundaryOffsets are times of day (UTC) where some zone's midnight falls, and the
// millisecond before: UTC, Jakarta (17:00), Kolkata (18:30), New York EST (05:00) and EDT (04:00).
var boundaryOffsets = func() []time.Duration {
	var out []time.Duration
	for _, b := range []time.Duration{0, 17 * time.Hour, 18*time.Hour + 30*time.Minute, 5 * time.Hour, 4 * time.Hour, 24 * time.Hour} {
		if b > 0 {
			out = append(out, b-time.Millisecond)
		}
		if b < 24*time.Hour {
			out = append(out, b)
		}
	}
	return out
}()

// makeEvents returns the unique events of a tenant on one UTC day, sorted by time.
func makeEvents(rng *rand.Rand, gen *ident.Generator, tenant tenant.ID, day time.Time, n int) []audit.Event {
	var times []time.Time
	for _, b := range boundaryOffsets {
		times = append(times, day.Add(b))
	}
	for i := 0; i < n; i++ {
		times = append(times, day.Add(time.Duration(rng.Int64N(int64(24*time.Hour)))/time.Millisecond*time.Millisecond))
	}
	sources := []string{audit.SourceManual, audit.SourceImport, audit.SourceAPI, audit.SourceIncomingMessage, ""}
	var out []audit.Event
	for i, at := range times {
		if !at.Before(fixtureNow) {
			continue // nothing is archived from the future
		}
		actor := users[rng.IntN(len(users))]
		c := &audit.ContactRef{ID: fmt.Sprintf("c-%04d", rng.IntN(3000)), Name: contactNames[rng.IntN(len(contactNames))]}
		e := audit.Event{
			ID: gen.At(at), TenantID: tenant,
			OccurredAt: audit.FormatTime(at), RecordedAt: audit.FormatTime(at.Add(time.Duration(rng.IntN(900)) * time.Millisecond)),
			Category: audit.CategoryContact, Actor: actor, Contact: c, Data: map[string]any{},
			Context: &audit.Context{IP: "203.0.113.9", RequestID: fmt.Sprintf("req-%d", i)},
		}
		switch rng.IntN(12) {
		case 0, 1, 2:
			e.Type, e.Source = TypeAdded, sources[rng.IntN(len(sources))]
			if e.Source == audit.SourceIncomingMessage {
				e.Channel = audit.Channels[rng.IntN(len(audit.Channels))]
			}
		case 3, 4:
			e.Type, e.Source = TypeConnected, []string{audit.SourceIncomingMessage, audit.SourceManual, audit.SourceAPI}[rng.IntN(3)]
			e.Channel = audit.Channels[rng.IntN(len(audit.Channels))]
			e.Data = map[string]any{"externalId": fmt.Sprintf("ext-%d", i)}
		case 5:
			e.Type, e.Source = TypeDeleted, audit.SourceUser
		case 6:
			e.Type, e.Source = TypeMerged, audit.SourceUser
			e.Data = map[string]any{"primaryContactId": c.ID, "mergedContactIds": []any{fmt.Sprintf("c-m%d", i), fmt.Sprintf("c-n%d", i)}}
		case 7:
			e.Type, e.Source = TypeArchived, audit.SourceUser
		case 8:
			e.Type, e.Source = TypeUnarchived, audit.SourceUser
		case 9:
			e.Type, e.Source = "CONTACT_UPDATED", audit.SourceUser
			e.Data = map[string]any{"changes": map[string]any{"name": map[string]any{"from": "a", "to": "b"}}}
		case 10:
			e.Type, e.Category, e.Contact = "LOGGED_IN", audit.CategoryPlatform, nil
		case 11:
			e.Type, e.Category, e.Contact = "REPORT_VIEWED", audit.CategoryAccess, nil
			e.Data = map[string]any{"report": "overview"}
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].OccurredAt != out[j].OccurredAt {
			return out[i].OccurredAt < out[j].OccurredAt
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// fixture is an archive and the unique events it holds.
type fixture struct {
	store  archive.Store
	events []audit.Event // every unique archived event, all tenants
	// rollupDates are the dates written with a rollup, rawDates those left to raw reads.
	layout map[string]string // date -> how it is stored
}

func rowsOf(t testing.TB, evs []audit.Event) []archive.Row {
	t.Helper()
	rows, err := archive.FromEvents(evs)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(rows, func(i, j int) bool { return archive.Less(&rows[i], &rows[j]) })
	return rows
}

// putPart stores evs as a part, as the archiver would.
func putPart(t testing.TB, st archive.Store, tenant tenant.ID, date string, evs []audit.Event) string {
	t.Helper()
	key, b, err := archive.EncodePart(tenant, date, rowsOf(t, evs))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(context.Background(), key, b); err != nil {
		t.Fatal(err)
	}
	return key
}

// putCompacted stores evs as a compacted object covering covers.
func putCompacted(t testing.TB, st archive.Store, tenant tenant.ID, date string, evs []audit.Event, covers []string) string {
	t.Helper()
	sort.Strings(covers)
	cj, _ := json.Marshal(covers)
	key := mustKey(archive.CompactedKey(tenant, date, covers))
	b, err := archive.Encode(rowsOf(t, evs), map[string]string{archive.CoversKey: string(cj)})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(context.Background(), key, b); err != nil {
		t.Fatal(err)
	}
	return key
}

// buildFixture writes the archive. perDay random events per tenant-day besides the
// boundary instants.
func buildFixture(t testing.TB, st archive.Store, perDay int) *fixture {
	t.Helper()
	rng := rand.New(rand.NewPCG(42, 6))
	gen := ident.NewGenerator(func() time.Time { return fixtureNow })
	f := &fixture{store: st, layout: map[string]string{}}
	for i := 0; i < fixtureDays; i++ {
		day := fixtureFirst.AddDate(0, 0, i)
		date := day.Format(time.DateOnly)
		for _, tenant := range []tenant.ID{"acme", "other"} {
			evs := makeEvents(rng, gen, tenant, day, perDay)
			f.events = append(f.events, evs...)
			if tenant == "other" {
				putPart(t, st, tenant, date, evs)
				continue
			}
			half := len(evs) / 2
			switch {
			case date == fixtureNow.Format(time.DateOnly):
				// today: overlapping parts, as a retried batch leaves them
				putPart(t, st, tenant, date, evs[:half+3])
				putPart(t, st, tenant, date, evs[half:])
				f.layout[date] = "parts"
			case i%4 == 0:
				// compacted, its covered part not yet deleted, and later parts (one repeating
				// an event of the compacted object)
				covered := putPart(t, st, tenant, date, evs[:half])
				putCompacted(t, st, tenant, date, evs[:len(evs)-2], []string{covered, mustKey(archive.PartKey(tenant, date, []string{"gone"}))})
				putPart(t, st, tenant, date, evs[len(evs)-3:])
				f.layout[date] = "compacted+parts"
			case i%4 == 1:
				putPart(t, st, tenant, date, evs[:half+1])
				putPart(t, st, tenant, date, evs[half-1:])
				putPart(t, st, tenant, date, evs[half-1:half+2])
				f.layout[date] = "parts"
			default:
				putCompacted(t, st, tenant, date, evs, []string{mustKey(archive.PartKey(tenant, date, []string{"p1"}))})
				f.layout[date] = "compacted"
			}
		}
	}
	return f
}

// ---- the straightforward counts the tests compare against

func (f *fixture) tenantEvents(tenant tenant.ID, from, to time.Time) []audit.Event {
	var out []audit.Event
	for _, e := range f.events {
		at := e.Occurred()
		if e.TenantID == tenant && !at.Before(from) && at.Before(to) {
			out = append(out, e)
		}
	}
	return out
}

func safe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// wantLog lists log k newest first as JSON items and as CSV records.
func (f *fixture) wantLog(tenant tenant.ID, k Kind, from, to time.Time) (items []any, records [][]string) {
	return f.wantLogWhere(tenant, k, from, to, nil)
}

// wantLogWhere is wantLog of the events keep keeps (nil keeps all).
func (f *fixture) wantLogWhere(tenant tenant.ID, k Kind, from, to time.Time, keep func(audit.Event) bool) (items []any, records [][]string) {
	var evs []audit.Event
	for _, e := range f.tenantEvents(tenant, from, to) {
		if keep == nil || keep(e) {
			evs = append(evs, e)
		}
	}
	sort.Slice(evs, func(i, j int) bool {
		if evs[i].OccurredAt != evs[j].OccurredAt {
			return evs[i].OccurredAt > evs[j].OccurredAt
		}
		return evs[i].ID > evs[j].ID
	})
	items = []any{}
	for _, e := range evs {
		if e.Type != k.EventType() {
			continue
		}
		switch k {
		case Added, Deleted:
			items = append(items, map[string]any{"createdAt": e.OccurredAt, "contactId": e.Contact.ID, "contactName": e.Contact.Name, "source": e.Source, "user": e.Actor.Name})
			records = append(records, []string{e.OccurredAt, e.Contact.ID, safe(e.Contact.Name), safe(e.Source), safe(e.Actor.Name)})
		case Connected:
			items = append(items, map[string]any{"createdAt": e.OccurredAt, "contactId": e.Contact.ID, "contactName": e.Contact.Name, "source": e.Source, "user": e.Actor.Name, "channel": e.Channel})
			records = append(records, []string{e.OccurredAt, e.Contact.ID, safe(e.Contact.Name), e.Source, safe(e.Actor.Name), e.Channel})
		case Merged:
			ids := []any{}
			var idStrs []string
			for _, id := range e.Data["mergedContactIds"].([]any) {
				ids = append(ids, id)
				idStrs = append(idStrs, id.(string))
			}
			items = append(items, map[string]any{"createdAt": e.OccurredAt, "primaryContactId": e.Data["primaryContactId"], "contactName": e.Contact.Name, "mergedContactIds": ids, "source": e.Source, "user": e.Actor.Name})
			records = append(records, []string{e.OccurredAt, e.Data["primaryContactId"].(string), safe(e.Contact.Name), strings.Join(idStrs, " "), e.Source, safe(e.Actor.Name)})
		}
	}
	return items, records
}

// wantOverview counts the overview of a period in one loop over the events.
func (f *fixture) wantOverview(tenant tenant.ID, from, to time.Time, tz *time.Location) Overview {
	ov := Overview{
		Period:    PeriodOut{From: audit.FormatTime(from), To: audit.FormatTime(to), TZ: tz.String()},
		BySource:  map[string]Counts{},
		ByChannel: map[string]Counts{},
		ByUser:    []UserCounts{},
		Daily:     []DayCounts{},
	}
	// every local date of [from, to)
	for d := from.In(tz); d.Before(to); d = d.Add(time.Hour) {
		date := d.Format(time.DateOnly)
		if len(ov.Daily) == 0 || ov.Daily[len(ov.Daily)-1].Date != date {
			ov.Daily = append(ov.Daily, DayCounts{Date: date})
		}
	}
	if last := to.Add(-time.Millisecond).In(tz).Format(time.DateOnly); ov.Daily[len(ov.Daily)-1].Date != last {
		ov.Daily = append(ov.Daily, DayCounts{Date: last})
	}
	inc := func(c *Counts, typ string) {
		switch typ {
		case TypeAdded:
			c.Added++
		case TypeConnected:
			c.Connected++
		case TypeDeleted:
			c.Deleted++
		case TypeMerged:
			c.Merged++
		}
	}
	userIdx := map[string]int{}
	nameAt := map[string]string{} // the name is the one of the actor's newest event
	for _, e := range f.tenantEvents(tenant, from, to) {
		switch e.Type {
		case TypeAdded:
			ov.Totals.Added++
		case TypeConnected:
			ov.Totals.Connected++
		case TypeDeleted:
			ov.Totals.Deleted++
		case TypeMerged:
			ov.Totals.Merged++
		case TypeArchived:
			ov.Totals.Archived++
		case TypeUnarchived:
			ov.Totals.Unarchived++
		}
		switch e.Type {
		case TypeAdded, TypeConnected, TypeDeleted, TypeMerged:
		default:
			continue
		}
		src := e.Source
		if src == "" {
			src = UnknownSource
		}
		c := ov.BySource[src]
		inc(&c, e.Type)
		ov.BySource[src] = c
		if e.Channel != "" {
			c := ov.ByChannel[e.Channel]
			inc(&c, e.Type)
			ov.ByChannel[e.Channel] = c
		}
		i, ok := userIdx[e.Actor.ID]
		if !ok {
			i = len(ov.ByUser)
			userIdx[e.Actor.ID] = i
			ov.ByUser = append(ov.ByUser, UserCounts{UserID: e.Actor.ID, UserName: e.Actor.Name})
		}
		inc(&ov.ByUser[i].Counts, e.Type)
		if e.OccurredAt > nameAt[e.Actor.ID] {
			nameAt[e.Actor.ID], ov.ByUser[i].UserName = e.OccurredAt, e.Actor.Name
		}
		date := e.Occurred().In(tz).Format(time.DateOnly)
		for j := range ov.Daily {
			if ov.Daily[j].Date == date {
				inc(&ov.Daily[j].Counts, e.Type)
			}
		}
	}
	sort.Slice(ov.ByUser, func(i, j int) bool {
		a, b := ov.ByUser[i], ov.ByUser[j]
		ta, tb := a.Added+a.Connected+a.Deleted+a.Merged, b.Added+b.Connected+b.Deleted+b.Merged
		if ta != tb {
			return ta > tb
		}
		if a.UserName != b.UserName {
			return a.UserName < b.UserName
		}
		return a.UserID < b.UserID
	})
	return ov
}

// writeRollups writes, with the archive's own rollup code, the rollup of the compacted
// days that get one (a compacted day without a rollup is counted from raw rows), and a
// stale rollup, computed from an older compacted object, that must not be used.
func writeRollups(t testing.TB, f *fixture) {
	t.Helper()
	ctx := context.Background()
	for date, how := range f.layout {
		if how != "compacted" && how != "compacted+parts" {
			continue
		}
		day, _ := time.Parse(time.DateOnly, date)
		listed, err := f.store.List(ctx, mustKey(archive.DayPrefix("acme", date)))
		if err != nil {
			t.Fatal(err)
		}
		var compacted string
		for _, o := range listed {
			if archive.IsCompacted(o.Key) {
				compacted = o.Key
			}
		}
		b, err := f.store.Get(ctx, compacted)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := archive.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		ru := archive.NewRollup("acme", date)
		for i := range rows {
			ru.Add(&rows[i])
		}
		ru.Object = compacted
		switch {
		case day.Day()%5 == 3:
			f.layout[date] += " (no rollup)"
			continue
		case day.Day()%5 == 4:
			ru.Object = mustKey(archive.CompactedKey("acme", date, []string{"older"}))
			ru.Types[TypeAdded].Total += 1000
			f.layout[date] += " (stale rollup)"
		default:
			f.layout[date] += " (rollup)"
		}
		enc, err := ru.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if err := f.store.Put(ctx, mustKey(archive.RollupKey("acme", date)), enc); err != nil {
			t.Fatal(err)
		}
	}
}

// mustKey returns an archive key built from values the test knows are valid.
func mustKey(key string, err error) string {
	if err != nil {
		panic(err)
	}
	return key
}
