// Package source writes export files from the report engine and the archive: the Source
// the export worker runs in AWS and on the local stack.
package source

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/export"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/report"
)

// Reports is the export worker's Source over the report engine and the archive:
//
//   - the four logs: CSV is the engine's own (report.Engine.WriteCSV: the seed's column
//     titles, BOM, RFC 4180, formula injection neutralised), newest first; Parquet has the
//     same columns in snake_case, created_at a UTC millisecond timestamp and
//     merged_contact_ids a list.
//   - overview: one table of section, key, name and the counts (rows: total; source, channel
//     and user breakdowns; one per day), CSV or Parquet.
//   - audit: every archived event of the period, oldest first, each once; Parquet has the
//     archive's own columns (archive.Schema), CSV the same columns with data as JSON.
type Reports struct {
	Engine  *report.Engine
	Archive *archive.Reader
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
		if j.Format == export.FormatParquet {
			return s.auditParquet(ctx, w, j.TenantID, p)
		}
		return s.auditCSV(ctx, w, j.TenantID, p)
	default:
		k, err := report.ParseKind(j.Report)
		if err != nil {
			return 0, fmt.Errorf("export %s: %w", j.ID, err)
		}
		if j.Format == export.FormatCSV {
			n, err := s.Engine.WriteCSV(ctx, w, j.TenantID, k, p)
			return int64(n), err
		}
		return s.logParquet(ctx, w, j.TenantID, k, p)
	}
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
	for _, k := range sortedKeys(ov.BySource) {
		t.rows = append(t.rows, append([]value{str("source"), str(k), {}}, counts(ov.BySource[k])...))
	}
	for _, k := range sortedKeys(ov.ByChannel) {
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

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func writeTable(w io.Writer, format string, t *table) (int64, error) {
	if format == export.FormatParquet {
		fields := make([]arrow.Field, len(t.columns))
		for i, c := range t.columns {
			typ := arrow.DataType(arrow.BinaryTypes.String)
			if t.ints[i] {
				typ = arrow.PrimitiveTypes.Int64
			}
			fields[i] = arrow.Field{Name: c, Type: typ, Nullable: true}
		}
		pw, err := newParquet(w, arrow.NewSchema(fields, nil))
		if err != nil {
			return 0, err
		}
		for _, row := range t.rows {
			for i, v := range row {
				switch b := pw.b.Field(i).(type) {
				case *array.Int64Builder:
					if v.valid {
						b.Append(v.n)
					} else {
						b.AppendNull()
					}
				case *array.StringBuilder:
					if v.valid {
						b.Append(v.s)
					} else {
						b.AppendNull()
					}
				}
			}
			if err := pw.row(); err != nil {
				return 0, err
			}
		}
		return pw.close()
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

type parquetOut struct {
	fw      *pqarrow.FileWriter
	b       *array.RecordBuilder
	pending int
	rows    int64
}

func newParquet(w io.Writer, sch *arrow.Schema) (*parquetOut, error) {
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd), parquet.WithStats(true),
		parquet.WithCreatedBy("contrail export"))
	fw, err := pqarrow.NewFileWriter(sch, w, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return nil, fmt.Errorf("start parquet writer: %w", err)
	}
	return &parquetOut{fw: fw, b: array.NewRecordBuilder(memory.DefaultAllocator, sch)}, nil
}

// row counts the row just appended to the builder and writes a row group when full.
func (p *parquetOut) row() error {
	p.pending++
	p.rows++
	if p.pending >= batchRows {
		return p.flush()
	}
	return nil
}

func (p *parquetOut) flush() error {
	if p.pending == 0 {
		return nil
	}
	rec := p.b.NewRecord()
	defer rec.Release()
	p.pending = 0
	if err := p.fw.Write(rec); err != nil {
		return fmt.Errorf("write parquet row group: %w", err)
	}
	return nil
}

func (p *parquetOut) close() (int64, error) {
	defer p.b.Release()
	if err := p.flush(); err != nil {
		p.fw.Close()
		return p.rows, err
	}
	if err := p.fw.Close(); err != nil {
		return p.rows, fmt.Errorf("finish parquet file: %w", err)
	}
	return p.rows, nil
}

var tsUTC = &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}

// logSchema is the Parquet schema of log k: the seed's columns in snake_case.
func logSchema(k report.Kind) *arrow.Schema {
	f := func(name string, t arrow.DataType) arrow.Field {
		return arrow.Field{Name: name, Type: t, Nullable: true}
	}
	s := arrow.BinaryTypes.String
	at := arrow.Field{Name: "created_at", Type: tsUTC}
	switch k {
	case report.Connected:
		return arrow.NewSchema([]arrow.Field{at, f("contact_id", s), f("contact_name", s), f("source", s), f("user", s), f("channel", s)}, nil)
	case report.Merged:
		return arrow.NewSchema([]arrow.Field{at, f("primary_contact_id", s), f("contact_name", s),
			f("merged_contact_ids", arrow.ListOf(s)), f("source", s), f("user", s)}, nil)
	default:
		return arrow.NewSchema([]arrow.Field{at, f("contact_id", s), f("contact_name", s), f("source", s), f("user", s)}, nil)
	}
}

func (s *Reports) logParquet(ctx context.Context, w io.Writer, tenant string, k report.Kind, p httpapi.Period) (int64, error) {
	pw, err := newParquet(w, logSchema(k))
	if err != nil {
		return 0, err
	}
	b := pw.b
	strAt := func(i int, v string) { b.Field(i).(*array.StringBuilder).Append(v) }
	err = s.Engine.Each(ctx, tenant, k, p, func(r report.Row) error {
		b.Field(0).(*array.TimestampBuilder).Append(arrow.Timestamp(r.OccurredAt.UnixMilli()))
		switch k {
		case report.Merged:
			strAt(1, r.PrimaryContactID)
			strAt(2, r.ContactName)
			lb := b.Field(3).(*array.ListBuilder)
			lb.Append(true)
			for _, id := range r.MergedContactIDs {
				lb.ValueBuilder().(*array.StringBuilder).Append(id)
			}
			strAt(4, r.Source)
			strAt(5, r.UserName)
		default:
			strAt(1, r.ContactID)
			strAt(2, r.ContactName)
			strAt(3, r.Source)
			strAt(4, r.UserName)
			if k == report.Connected {
				strAt(5, r.Channel)
			}
		}
		return pw.row()
	})
	if err != nil {
		pw.b.Release()
		return pw.rows, err
	}
	return pw.close()
}

// ---------------------------------------------------------------- audit events

func (s *Reports) auditCSV(ctx context.Context, w io.Writer, tenant string, p httpapi.Period) (int64, error) {
	cw, err := newCSV(w, archive.Columns)
	if err != nil {
		return 0, err
	}
	rec := make([]string, len(archive.Columns))
	err = s.Archive.Scan(ctx, archive.Query{Tenant: tenant, From: p.From, To: p.To}, func(r *archive.Row) error {
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
	if err != nil {
		return cw.rows, err
	}
	return cw.close()
}

// auditParquet copies the period's archived rows into one file of the archive's own
// schema, RowGroupRows at a time.
func (s *Reports) auditParquet(ctx context.Context, w io.Writer, tenant string, p httpapi.Period) (int64, error) {
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
	err = s.Archive.Scan(ctx, archive.Query{Tenant: tenant, From: p.From, To: p.To}, func(r *archive.Row) error {
		batch = append(batch, cloneRow(r))
		rows++
		if len(batch) == cap(batch) {
			return flush()
		}
		return nil
	})
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
