package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/report"
)

// reportTZ is the time zone of the report periods (the busiest tenant's).
const reportTZ = "Asia/Jakarta"

// yearPeriod is the last year in tz: from local midnight Days-1 days before the last
// date to the end of the last date (the archive ends at End, inside that day).
func yearPeriod(sc scale, days int) (report.Period, error) {
	loc, err := time.LoadLocation(reportTZ)
	if err != nil {
		return report.Period{}, err
	}
	last := End.In(loc)
	to := time.Date(last.Year(), last.Month(), last.Day()+1, 0, 0, 0, 0, loc)
	from := to.AddDate(0, 0, -days)
	return httpapi.ParsePeriod(from.Format(time.DateOnly), to.Format(time.DateOnly), reportTZ, End, report.MaxOverviewDays)
}

// eventsGlob is the tenant's Parquet objects, for read_parquet with hive partitioning.
func eventsGlob(data, tenant string) string {
	return sqlString(filepath.Join(data, "events", "tenant="+tenant, "*", "*.parquet"))
}

// partitionFilter limits the hive date partitions to the UTC dates of [from, to), so DuckDB
// opens the same objects Contrail does.
func partitionFilter(from, to time.Time) string {
	return fmt.Sprintf("date BETWEEN DATE %s AND DATE %s", sqlString(from.UTC().Format(time.DateOnly)), sqlString(to.UTC().Add(-time.Millisecond).Format(time.DateOnly)))
}

func tsLiteral(t time.Time) string {
	return "CAST(" + sqlString(t.UTC().Format("2006-01-02 15:04:05.000")+"+00") + " AS TIMESTAMPTZ)"
}

// contactsAddedSQL selects the period's distinct CONTACT_ADDED events with the columns the
// log and its export show: what both read, before their order and their form.
func contactsAddedSQL(data, tenant string, p report.Period) string {
	return `SELECT DISTINCT event_id, occurred_at, contact_id, contact_name, source, actor_name
  FROM read_parquet(` + eventsGlob(data, tenant) + `, hive_partitioning = true)
  WHERE ` + partitionFilter(p.From, p.To) + `
    AND occurred_at >= ` + tsLiteral(p.From) + ` AND occurred_at < ` + tsLiteral(p.To) + `
    AND type = 'CONTACT_ADDED'`
}

func caseOverview(ctx context.Context, b *bencher, duck *sql.DB, data string) error {
	p, err := yearPeriod(b.o.scale, min(365, b.o.scale.Days))
	if err != nil {
		return err
	}
	eng := report.NewEngine(&archive.DirStore{Dir: data}, func() time.Time { return End })
	contrail := func() (report.Overview, error) { return eng.Overview(ctx, "busy", p) }
	peer := func() (report.Overview, error) { return duckOverview(duck, data, "busy", p) }
	want, got, err := answers(contrail, peer)
	if err != nil {
		return err
	}
	if d := cmp.Diff(want, got); d != "" {
		return fmt.Errorf("the overviews differ (-contrail +duckdb):\n%s", d)
	}
	logf("overview: %d added, %d connected, %d deleted, %d merged; %d users, %d days: same answer", want.Totals.Added, want.Totals.Connected, want.Totals.Deleted, want.Totals.Merged, len(want.ByUser), len(want.Daily))
	c, d, err := b.pair("overview", b.o.runs, func() error { _, err := contrail(); return err }, func() error { _, err := peer(); return err })
	if err != nil {
		return err
	}
	// Issue 15: a year's overview should read a handful of objects, not one per day.
	b.ratioRow(fmt.Sprintf("2. Contact Overview, busiest tenant, %d days, %s", len(want.Daily), reportTZ), c, d, 0.03)
	return nil
}

// duckOverview answers the overview with one SQL query over the raw events: the distinct
// events of the period (duplicates of at-least-once delivery removed), grouped five ways.
//
// This DuckDB build has no ICU extension (it cannot download it here), so the local date
// is computed with the zone's fixed offset; the period must not cross an offset change.
func duckOverview(db *sql.DB, data, tenant string, p report.Period) (report.Overview, error) {
	off, err := fixedOffset(p)
	if err != nil {
		return report.Overview{}, err
	}
	q := `
WITH ev AS (
  SELECT DISTINCT event_id, occurred_at, type, source, channel, actor_id, actor_name
  FROM read_parquet(` + eventsGlob(data, tenant) + `, hive_partitioning = true)
  WHERE ` + partitionFilter(p.From, p.To) + `
    AND occurred_at >= ` + tsLiteral(p.From) + ` AND occurred_at < ` + tsLiteral(p.To) + `
    AND type IN ('CONTACT_ADDED','CONTACT_CONNECTED','CONTACT_DELETED','CONTACT_MERGED','CONTACT_ARCHIVED','CONTACT_UNARCHIVED')
)
SELECT GROUPING(type, src, ch, uid, day) AS g, type, src, ch, uid, day, count(*) AS n,
       arg_max(coalesce(actor_name, ''), occurred_at) FILTER (WHERE type NOT IN ('CONTACT_ARCHIVED','CONTACT_UNARCHIVED')) AS uname
FROM (SELECT *, coalesce(source, 'unknown') AS src, channel AS ch, coalesce(actor_id, '') AS uid,
             strftime(occurred_at::TIMESTAMP + INTERVAL (` + fmt.Sprint(off) + `) SECOND, '%Y-%m-%d') AS day FROM ev)
GROUP BY GROUPING SETS ((type), (type, src), (type, ch), (type, uid), (type, day), (uid))`
	rows, err := db.Query(q)
	if err != nil {
		return report.Overview{}, fmt.Errorf("duckdb overview: %w", err)
	}
	defer rows.Close()
	ov := report.Overview{
		Period:    report.PeriodOut{From: fmtTime(p.From), To: fmtTime(p.To), TZ: p.TZ.String()},
		BySource:  map[string]report.Counts{},
		ByChannel: map[string]report.Counts{},
	}
	users := map[string]*report.UserCounts{}
	daily := map[string]*report.Counts{}
	for rows.Next() {
		var g int
		var typ sql.NullString
		var src, ch, uid, day, uname sql.NullString
		var n int64
		if err := rows.Scan(&g, &typ, &src, &ch, &uid, &day, &n, &uname); err != nil {
			return report.Overview{}, err
		}
		logged := typ.String != "CONTACT_ARCHIVED" && typ.String != "CONTACT_UNARCHIVED"
		user := func() *report.UserCounts {
			u := users[uid.String]
			if u == nil {
				u = &report.UserCounts{UserID: uid.String}
				users[uid.String] = u
			}
			return u
		}
		switch g {
		case 0b01111: // (type)
			addTotal(&ov.Totals, typ.String, n)
		case 0b00111: // (type, src)
			if logged {
				c := ov.BySource[src.String]
				addCount(&c, typ.String, n)
				ov.BySource[src.String] = c
			}
		case 0b01011: // (type, ch)
			if logged && ch.Valid {
				c := ov.ByChannel[ch.String]
				addCount(&c, typ.String, n)
				ov.ByChannel[ch.String] = c
			}
		case 0b01101: // (type, uid)
			if logged {
				addCount(&user().Counts, typ.String, n)
			}
		case 0b11101: // (uid): the name on the actor's newest logged event
			if uname.Valid {
				user().UserName = uname.String
			}
		case 0b01110: // (type, day)
			if logged {
				c := daily[day.String]
				if c == nil {
					c = &report.Counts{}
					daily[day.String] = c
				}
				addCount(c, typ.String, n)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return report.Overview{}, err
	}
	ov.ByUser = make([]report.UserCounts, 0, len(users))
	for _, u := range users {
		if u.Added+u.Connected+u.Deleted+u.Merged > 0 {
			ov.ByUser = append(ov.ByUser, *u)
		}
	}
	report.SortUsers(ov.ByUser)
	for d := time.Date(p.From.In(p.TZ).Year(), p.From.In(p.TZ).Month(), p.From.In(p.TZ).Day(), 0, 0, 0, 0, p.TZ); d.Before(p.To); d = d.AddDate(0, 0, 1) {
		dc := report.DayCounts{Date: d.Format(time.DateOnly)}
		if c := daily[dc.Date]; c != nil {
			dc.Counts = *c
		}
		ov.Daily = append(ov.Daily, dc)
	}
	return ov, nil
}

// countedTypes are the types an overview counts, in the order of report.Totals' fields;
// report.Counts has the first four.
var countedTypes = []string{"CONTACT_ADDED", "CONTACT_CONNECTED", "CONTACT_DELETED", "CONTACT_MERGED", "CONTACT_ARCHIVED", "CONTACT_UNARCHIVED"}

func addTotal(t *report.Totals, typ string, n int64) {
	add(typ, n, &t.Added, &t.Connected, &t.Deleted, &t.Merged, &t.Archived, &t.Unarchived)
}

func addCount(c *report.Counts, typ string, n int64) {
	add(typ, n, &c.Added, &c.Connected, &c.Deleted, &c.Merged)
}

// add adds n to the field that counts typ: fields are in the order of countedTypes, and a
// type past the last one given is not counted.
func add(typ string, n int64, fields ...*int64) {
	if i := slices.Index(countedTypes, typ); i >= 0 && i < len(fields) {
		*fields[i] += n
	}
}

// answers runs Contrail's side and its peer once each and returns both answers, to compare
// before they are timed.
func answers[T any](contrail, peer func() (T, error)) (want, got T, err error) {
	if want, err = contrail(); err != nil {
		return want, got, err
	}
	got, err = peer()
	return want, got, err
}

// runOnce runs each side once, in order, untimed: the run whose output a case compares
// before it times the sides (answers, for sides that return their answer).
func runOnce(sides ...func() error) error {
	for _, side := range sides {
		if err := side(); err != nil {
			return err
		}
	}
	return nil
}

func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// fixedOffset returns the UTC offset (seconds) of the period's zone, the same throughout.
func fixedOffset(p report.Period) (int, error) {
	_, off := p.From.In(p.TZ).Zone()
	for t := p.From; t.Before(p.To); t = t.Add(time.Hour) {
		if _, o := t.In(p.TZ).Zone(); o != off {
			return 0, fmt.Errorf("zone %s changes its offset within the period; the DuckDB side needs ICU for that", p.TZ)
		}
	}
	return off, nil
}

// logRow is one Contact Added log row as both engines return it.
type logRow struct {
	EventID, ContactID, ContactName, Source, UserName string
	At                                                int64
}

func caseLog(ctx context.Context, b *bencher, duck *sql.DB, data string) error {
	eng := report.NewEngine(&archive.DirStore{Dir: data}, func() time.Time { return End })
	for _, days := range []int{30, min(365, b.o.scale.Days)} {
		p, err := yearPeriod(b.o.scale, days)
		if err != nil {
			return err
		}
		contrail := func() ([]logRow, error) {
			rows, _, err := eng.Log(ctx, "busy", report.Added, p, report.Filter{}, nil, 50)
			out := make([]logRow, len(rows))
			for i, r := range rows {
				out[i] = logRow{EventID: r.EventID, At: r.OccurredAt.UnixMilli(), ContactID: r.ContactID, ContactName: r.ContactName, Source: r.Source, UserName: r.UserName}
			}
			return out, err
		}
		peer := func() ([]logRow, error) { return duckLog(duck, data, "busy", p) }
		want, got, err := answers(contrail, peer)
		if err != nil {
			return err
		}
		if len(want) != 50 {
			return fmt.Errorf("the first page of %d days holds %d rows, want 50", days, len(want))
		}
		if d := cmp.Diff(want, got); d != "" {
			return fmt.Errorf("the first log pages of %d days differ (-contrail +duckdb):\n%s", days, d)
		}
		name := fmt.Sprintf("3. Added log, first 50 rows, %d days", days)
		c, d, err := b.pair(name, b.o.runs, func() error { _, err := contrail(); return err }, func() error { _, err := peer(); return err })
		if err != nil {
			return err
		}
		b.ratioRow(name, c, d, 1.0)
	}
	return nil
}

// duckLog is the first page: the period's distinct CONTACT_ADDED events, newest first.
func duckLog(db *sql.DB, data, tenant string, p report.Period) ([]logRow, error) {
	q := `
SELECT event_id, epoch_ms(occurred_at), coalesce(contact_id, ''), coalesce(contact_name, ''), coalesce(source, ''),
       coalesce(actor_name, '')
FROM (` + contactsAddedSQL(data, tenant, p) + `)
ORDER BY occurred_at DESC, event_id DESC
LIMIT 50`
	rows, err := db.Query(q)
	if err != nil {
		return nil, fmt.Errorf("duckdb log page: %w", err)
	}
	defer rows.Close()
	var out []logRow
	for rows.Next() {
		var r logRow
		if err := rows.Scan(&r.EventID, &r.At, &r.ContactID, &r.ContactName, &r.Source, &r.UserName); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
