// Package source writes export files from the report engine and the archive: the Source
// the export worker runs in AWS and on the local stack.
package source

import (
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/export"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/ocsf"
	"github.com/contrail/contrail/shared/pii"
	"github.com/contrail/contrail/shared/report"
	"github.com/contrail/contrail/shared/tenant"
)

// Reports is the export worker's Source over the report engine and the archive:
//
//   - the four logs, filtered by the job's source, channel and user as the log routes filter
//     them: CSV is the engine's own (report.Engine.WriteCSV: the seed's column
//     titles, BOM, RFC 4180, formula injection neutralised), newest first; Parquet has the
//     same columns in snake_case, created_at a UTC millisecond timestamp and
//     merged_contact_ids a list.
//   - overview: one table of section, key, name and the counts (rows: total; source, channel
//     and user breakdowns; one per day), CSV or Parquet.
//   - audit: every archived event of the period, oldest first, each once; Parquet has the
//     archive's own columns (archive.Columns), CSV the same columns with data as JSON, OCSF
//     one event a line in the Open Cybersecurity Schema Framework (shared/ocsf), gzip.
//
// Personal fields sealed at write time (shared/pii) are opened on the way out: the logs'
// contact names by the engine (report.Engine.WithKeyring), the audit export's names and
// data fields by openRows; an erased contact's read "[erased]".
type Reports struct {
	Engine  *report.Engine
	Archive *archive.Reader
	Keys    *pii.Keyring // nil: a sealed value fails the export
	// Bundles writes the audit report's verifiable bundle (vlog.Exporter); nil: a bundle job fails.
	Bundles Bundler
}

// Bundler writes the verifiable bundle of a tenant's events that occurred in [from, to)
// (contrail-log-bundle/v1, uncompressed) and returns its entries: vlog.Exporter.
type Bundler interface {
	WriteBundle(ctx context.Context, w io.Writer, t tenant.ID, from, to time.Time) (int64, error)
}

// NewReports returns the source over the archive store, its engine asking the audit table
// what the archive does not hold yet, as the report routes' does, and opening personal
// fields with keys.
func NewReports(store archive.Store, db audit.QueryAPI, a audit.StoreConfig, keys *pii.Keyring) *Reports {
	return &Reports{Engine: report.NewArchiveEngine(store, db, a).WithKeyring(keys), Archive: &archive.Reader{Store: store}, Keys: keys}
}

// newCache returns the key cache of one export (nil without a keyring).
func (s *Reports) newCache() *pii.Cache {
	if s.Keys == nil {
		return nil
	}
	return s.Keys.NewCache()
}

// Export implements worker.Source.
func (s *Reports) Export(ctx context.Context, w io.Writer, j *export.Job) (int64, error) {
	from, to, loc, err := j.Period()
	if err != nil {
		return 0, fmt.Errorf("export %s: period: %w", j.ID, err)
	}
	p := httpapi.Period{From: from, To: to, TZ: loc}
	switch j.Report {
	case export.ReportOverview:
		ov, err := s.Engine.Overview(ctx, j.TenantID, p)
		if err != nil {
			return 0, err
		}
		return writeTable(w, j.Format, overviewTable(ov))
	case export.ReportAudit:
		if j.Format == export.FormatBundle {
			return s.bundle(ctx, w, j.TenantID, p)
		}
		if j.Format == export.FormatParquet {
			return s.auditParquet(ctx, w, j.TenantID, p)
		}
		if j.Format == export.FormatOCSF {
			return s.auditOCSF(ctx, w, j.TenantID, p)
		}
		return s.auditCSV(ctx, w, j.TenantID, p)
	default:
		k, err := report.ParseKind(j.Report)
		if err != nil {
			return 0, fmt.Errorf("export %s: %w", j.ID, err)
		}
		var f report.Filter
		if j.Filter != nil {
			f = *j.Filter
		}
		if j.Format == export.FormatCSV {
			n, err := s.Engine.WriteCSV(ctx, w, j.TenantID, k, p, f)
			return int64(n), err
		}
		return s.logParquet(ctx, w, j.TenantID, k, p, f)
	}
}

// bundle writes the period's verifiable bundle, gzip-compressed: the events in stored form
// (personal fields sealed, as the log hashed them: nothing is opened here).
func (s *Reports) bundle(ctx context.Context, w io.Writer, t tenant.ID, p httpapi.Period) (int64, error) {
	if s.Bundles == nil {
		return 0, fmt.Errorf("export the log of %s: this worker has no bundle writer", t)
	}
	return gzipped(w, "the log of "+t.String(), func(gz io.Writer) (int64, error) {
		return s.Bundles.WriteBundle(ctx, gz, t, p.From, p.To)
	})
}

// gzipped runs write on a gzip stream into w and closes the stream: the bundle's and OCSF's
// files. what names the export in an error.
func gzipped(w io.Writer, what string, write func(io.Writer) (int64, error)) (int64, error) {
	gz := gzip.NewWriter(w)
	n, err := write(gz)
	if err != nil {
		return n, err
	}
	if err := gz.Close(); err != nil {
		return n, fmt.Errorf("export %s: gzip: %w", what, err)
	}
	return n, nil
}

// ---------------------------------------------------------------- tables (overview)

// table is a small in-memory table: the overview has at most a few thousand lines.
type table struct {
	columns []string  // snake_case names; CSV titles are derived
	titles  []string  // CSV header
	ints    []bool    // column holds counts
	rows    [][]value // one per line
}

type value struct {
	s     string
	n     int64
	valid bool
}

func str(s string) value { return value{s: s, valid: true} }
func num(n int64) value  { return value{n: n, valid: true} }

func overviewTable(ov report.Overview) *table {
	t := &table{
		columns: []string{"section", "key", "name", "added", "connected", "deleted", "merged", "archived", "unarchived"},
		titles:  []string{"Section", "Key", "Name", "Added", "Connected", "Deleted", "Merged", "Archived", "Unarchived"},
		ints:    []bool{false, false, false, true, true, true, true, true, true},
	}
	counts := func(c report.Counts) []value {
		return []value{num(c.Added), num(c.Connected), num(c.Deleted), num(c.Merged), {}, {}}
	}
	tt := ov.Totals
	t.rows = append(t.rows, []value{str("total"), str(ov.Period.From + "/" + ov.Period.To), str(ov.Period.TZ),
		num(tt.Added), num(tt.Connected), num(tt.Deleted), num(tt.Merged), num(tt.Archived), num(tt.Unarchived)})
	for _, k := range slices.Sorted(maps.Keys(ov.BySource)) {
		t.rows = append(t.rows, append([]value{str("source"), str(k), {}}, counts(ov.BySource[k])...))
	}
	for _, k := range slices.Sorted(maps.Keys(ov.ByChannel)) {
		t.rows = append(t.rows, append([]value{str("channel"), str(k), {}}, counts(ov.ByChannel[k])...))
	}
	for _, u := range ov.ByUser {
		t.rows = append(t.rows, append([]value{str("user"), str(u.UserID), str(u.UserName)}, counts(u.Counts)...))
	}
	for _, d := range ov.Daily {
		t.rows = append(t.rows, append([]value{str("day"), str(d.Date), {}}, counts(d.Counts)...))
	}
	if ov.ArchivedThrough != nil {
		t.rows = append(t.rows, []value{str("archived_through"), str(*ov.ArchivedThrough), {}, {}, {}, {}, {}, {}, {}})
	}
	return t
}

func writeTable(w io.Writer, format string, t *table) (int64, error) {
	if format == export.FormatParquet {
		cols := make([]archive.TableColumn, len(t.columns))
		for i, c := range t.columns {
			cols[i] = archive.TableColumn{Name: c, Type: archive.StringColumn}
			if t.ints[i] {
				cols[i].Type = archive.Int64Column
			}
		}
		pw, err := newParquet(w, cols)
		if err != nil {
			return 0, err
		}
		for _, row := range t.rows {
			for i, v := range row {
				switch {
				case !v.valid:
					pw.Null(i)
				case t.ints[i]:
					pw.Int64(i, v.n)
				default:
					pw.String(i, v.s)
				}
			}
			if err := pw.EndRow(); err != nil {
				pw.Close()
				return pw.Rows(), err
			}
		}
		return closeParquet(pw)
	}
	cw, err := newCSV(w, t.titles)
	if err != nil {
		return 0, err
	}
	rec := make([]string, len(t.columns))
	for _, row := range t.rows {
		for i, v := range row {
			switch {
			case !v.valid:
				rec[i] = ""
			case t.ints[i]:
				rec[i] = strconv.FormatInt(v.n, 10)
			default:
				rec[i] = v.s
			}
		}
		if err := cw.write(rec); err != nil {
			return cw.rows, err
		}
	}
	return cw.close()
}

// ---------------------------------------------------------------- CSV

// csvOut writes CSV the way report.CSVWriter does (BOM, CRLF, cells neutralised by
// report.SafeCell) for tables the report engine does not write itself.
type csvOut struct {
	w    *csv.Writer
	rows int64
}

func newCSV(w io.Writer, header []string) (*csvOut, error) {
	if _, err := io.WriteString(w, report.BOM); err != nil {
		return nil, fmt.Errorf("write csv: %w", err)
	}
	c := &csvOut{w: csv.NewWriter(w)}
	c.w.UseCRLF = true
	if err := c.w.Write(header); err != nil {
		return nil, fmt.Errorf("write csv header: %w", err)
	}
	return c, nil
}

func (c *csvOut) write(rec []string) error {
	for i := range rec {
		rec[i] = report.SafeCell(rec[i])
	}
	if err := c.w.Write(rec); err != nil {
		return fmt.Errorf("write csv row: %w", err)
	}
	c.rows++
	return nil
}

func (c *csvOut) close() (int64, error) {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return c.rows, fmt.Errorf("write csv: %w", err)
	}
	return c.rows, nil
}

// ---------------------------------------------------------------- Parquet

// batchRows is the rows per row group of an export's Parquet file: a bounded buffer.
const batchRows = 16 * 1024

// newParquet starts an export's Parquet file (written with archive.TableWriter, the
// low-level Parquet writer that keeps arrow's compute and flight packages out of the worker).
func newParquet(w io.Writer, cols []archive.TableColumn) (*archive.TableWriter, error) {
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd), parquet.WithStats(true),
		parquet.WithCreatedBy("contrail export"))
	return archive.NewTableWriter(w, cols, props, nil, batchRows)
}

func closeParquet(pw *archive.TableWriter) (int64, error) {
	if err := pw.Close(); err != nil {
		return pw.Rows(), err
	}
	return pw.Rows(), nil
}

// logSchema is the Parquet schema of log k: the seed's columns in snake_case, created_at a
// UTC millisecond timestamp.
func logSchema(k report.Kind) []archive.TableColumn {
	s := func(name string) archive.TableColumn {
		return archive.TableColumn{Name: name, Type: archive.StringColumn}
	}
	at := archive.TableColumn{Name: "created_at", Type: archive.TimestampColumn, Required: true}
	switch k {
	case report.Connected:
		return []archive.TableColumn{at, s("contact_id"), s("contact_name"), s("source"), s("user"), s("channel")}
	case report.Merged:
		return []archive.TableColumn{at, s("primary_contact_id"), s("contact_name"),
			{Name: "merged_contact_ids", Type: archive.StringListColumn}, s("source"), s("user")}
	default:
		return []archive.TableColumn{at, s("contact_id"), s("contact_name"), s("source"), s("user")}
	}
}

func (s *Reports) logParquet(ctx context.Context, w io.Writer, tenant tenant.ID, k report.Kind, p httpapi.Period, f report.Filter) (int64, error) {
	pw, err := newParquet(w, logSchema(k))
	if err != nil {
		return 0, err
	}
	err = s.Engine.Each(ctx, tenant, k, p, f, func(r report.Row) error {
		pw.Timestamp(0, r.OccurredAt.UnixMilli())
		switch k {
		case report.Merged:
			pw.String(1, r.PrimaryContactID)
			pw.String(2, r.ContactName)
			ids := r.MergedContactIDs
			if ids == nil {
				ids = []string{} // an empty list, not null
			}
			pw.Strings(3, ids)
			pw.String(4, r.Source)
			pw.String(5, r.UserName)
		default:
			pw.String(1, r.ContactID)
			pw.String(2, r.ContactName)
			pw.String(3, r.Source)
			pw.String(4, r.UserName)
			if k == report.Connected {
				pw.String(5, r.Channel)
			}
		}
		return pw.EndRow()
	})
	if err != nil {
		pw.Close()
		return pw.Rows(), err
	}
	return closeParquet(pw)
}

// ---------------------------------------------------------------- audit events

func (s *Reports) auditCSV(ctx context.Context, w io.Writer, tenant tenant.ID, p httpapi.Period) (int64, error) {
	cw, err := newCSV(w, archive.Columns)
	if err != nil {
		return 0, err
	}
	rec := make([]string, len(archive.Columns))
	out := newOpenedRows(ctx, s.newCache(), func(r *archive.Row) error {
		isAgent := ""
		if r.IsAgent != nil {
			isAgent = strconv.FormatBool(*r.IsAgent)
		}
		copy(rec, []string{
			r.EventID, r.TenantID, audit.FormatTime(time.UnixMilli(r.OccurredAt)), audit.FormatTime(time.UnixMilli(r.RecordedAt)),
			r.Type, r.Category, r.ActorType, r.ActorID, r.ActorName, r.ContactID, r.ContactName,
			r.PrimaryContactID, strings.Join(r.MergedContactIDs, " "), r.Source, r.Channel, r.SessionID,
			isAgent, r.Data, r.IP, r.UserAgent, r.RequestID,
		})
		return cw.write(rec)
	})
	err = s.Archive.Scan(ctx, archive.Query{Tenant: tenant, From: p.From, To: p.To}, out.add)
	if err == nil {
		err = out.flush()
	}
	if err != nil {
		return cw.rows, err
	}
	return cw.close()
}

// auditOCSF writes the period's archived events as OCSF JSON Lines, gzip-compressed.
func (s *Reports) auditOCSF(ctx context.Context, w io.Writer, tenant tenant.ID, p httpapi.Period) (int64, error) {
	return gzipped(w, "the audit events of "+tenant.String()+" in OCSF", func(gz io.Writer) (int64, error) {
		ow := ocsf.NewWriter(gz)
		out := newOpenedRows(ctx, s.newCache(), ow.Write)
		err := s.Archive.Scan(ctx, archive.Query{Tenant: tenant, From: p.From, To: p.To}, out.add)
		if err == nil {
			err = out.flush()
		}
		n, cerr := ow.Close()
		return n, errors.Join(err, cerr)
	})
}

// auditParquet copies the period's archived rows into one file of the archive's own
// schema, RowGroupRows at a time.
func (s *Reports) auditParquet(ctx context.Context, w io.Writer, tenant tenant.ID, p httpapi.Period) (int64, error) {
	aw, err := archive.NewWriter(w, map[string]string{"contrail.export": "audit"})
	if err != nil {
		return 0, err
	}
	batch := make([]archive.Row, 0, batchRows)
	var rows int64
	flush := func() error {
		err := aw.Write(batch)
		batch = batch[:0]
		return err
	}
	out := newOpenedRows(ctx, s.newCache(), func(r *archive.Row) error {
		batch = append(batch, *r) // opened rows are copies already
		rows++
		if len(batch) == cap(batch) {
			return flush()
		}
		return nil
	})
	err = s.Archive.Scan(ctx, archive.Query{Tenant: tenant, From: p.From, To: p.To}, out.add)
	if err == nil {
		err = out.flush()
	}
	if err == nil {
		err = flush()
	}
	if err != nil {
		aw.Close()
		return rows, err
	}
	return rows, aw.Close()
}

// cloneRow copies a row the reader will reuse (its strings may share decoded buffers).
func cloneRow(r *archive.Row) archive.Row {
	c := *r
	for _, p := range []*string{&c.EventID, &c.TenantID, &c.Type, &c.Category, &c.ActorType, &c.ActorID, &c.ActorName,
		&c.ContactID, &c.ContactName, &c.PrimaryContactID, &c.Source, &c.Channel, &c.SessionID, &c.Data, &c.IP, &c.UserAgent, &c.RequestID} {
		*p = strings.Clone(*p)
	}
	if r.MergedContactIDs != nil {
		c.MergedContactIDs = make([]string, len(r.MergedContactIDs))
		for i, id := range r.MergedContactIDs {
			c.MergedContactIDs[i] = strings.Clone(id)
		}
	}
	if r.IsAgent != nil {
		b := *r.IsAgent
		c.IsAgent = &b
	}
	return c
}
