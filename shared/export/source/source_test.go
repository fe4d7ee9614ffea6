package source_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/export"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/ocsf"
	"github.com/contrail/contrail/shared/report"
)

func job(report, format string) *export.Job {
	return &export.Job{TenantID: "acme", ID: "01KB0C9Q2X8V6M3N4P5R7S8T9W", Report: report, Format: format,
		From: "2026-11-02T00:00:00.000Z", To: "2026-11-04T00:00:00.000Z", TZ: "UTC"}
}

func TestReportsFormats(t *testing.T) {
	st := newStack(t, false)
	ov, err := st.engine.Overview(context.Background(), "acme", mustPeriod(t))
	if err != nil {
		t.Fatal(err)
	}
	overviewCSV := "\ufeffSection,Key,Name,Added,Connected,Deleted,Merged,Archived,Unarchived\r\n" +
		"total,2026-11-02T00:00:00.000Z/2026-11-04T00:00:00.000Z,UTC,4,1,1,1,0,0\r\n" +
		"source,api,,1,0,0,0,,\r\n" +
		"source,import,,1,0,0,0,,\r\n" +
		"source,incoming_message,,1,1,0,0,,\r\n" +
		"source,manual,,1,0,0,0,,\r\n" +
		"source,user,,0,0,1,1,,\r\n" +
		"channel,telegram,,0,1,0,0,,\r\n" +
		"channel,whatsapp,,1,0,0,0,,\r\n" +
		"user,u-1,Rina Admin,2,1,1,1,,\r\n" +
		"user,u-2,Adi,2,0,0,0,,\r\n" +
		"day,2026-11-02,,3,0,0,0,,\r\n" +
		"day,2026-11-03,,1,1,1,1,,\r\n"
	overviewRows := int64(12)
	if ov.ArchivedThrough != nil {
		overviewCSV += "archived_through," + *ov.ArchivedThrough + ",,,,,,,\r\n"
		overviewRows++
	}

	wantRows, err := archive.FromEvents(archived)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, report, format string
		wantRows             int64
		check                func(t *testing.T, file []byte)
	}{
		{"overview as CSV", export.ReportOverview, export.FormatCSV, overviewRows, func(t *testing.T, file []byte) {
			if diff := cmp.Diff(overviewCSV, string(file)); diff != "" {
				t.Errorf("file (-want +got):\n%s", diff)
			}
		}},
		{"overview as Parquet", export.ReportOverview, export.FormatParquet, overviewRows, func(t *testing.T, file []byte) {
			got := readParquet(t, file)
			if diff := cmp.Diff([]string{"section", "key", "name", "added", "connected", "deleted", "merged", "archived", "unarchived"}, got.names); diff != "" {
				t.Errorf("columns (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"user", "u-1", "Rina Admin", "2", "1", "1", "1", "(null)", "(null)"}, got.rows[8]); diff != "" {
				t.Errorf("user row (-want +got):\n%s", diff)
			}
		}},
		{"merged log as Parquet", export.ReportMerged, export.FormatParquet, 1, func(t *testing.T, file []byte) {
			got := readParquet(t, file)
			want := parquetTable{
				names: []string{"created_at", "primary_contact_id", "contact_name", "merged_contact_ids", "source", "user"},
				rows:  [][]string{{"2026-11-03 10:00:00Z", "c-1", "Budi", `["c-3"]`, "user", "Rina Admin"}},
			}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(parquetTable{})); diff != "" {
				t.Errorf("file (-want +got):\n%s", diff)
			}
		}},
		{"audit events as Parquet: the archive's own columns, each event once", export.ReportAudit, export.FormatParquet, 7, func(t *testing.T, file []byte) {
			got, err := archive.Decode(file)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantRows, got); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		}},
		{"audit events as CSV", export.ReportAudit, export.FormatCSV, 7, func(t *testing.T, file []byte) {
			lines := strings.Split(strings.TrimSuffix(string(file), "\r\n"), "\r\n")
			want := []string{
				"\ufeff" + strings.Join(archive.Columns, ","),
				`01KA0000000000000000000002,acme,2026-11-02T16:59:59.999Z,2026-11-02T16:59:59.999Z,CONTACT_ADDED,contact,user,u-2,Adi,c-2,"'=HYPERLINK(""x"")",,,import,,,,{},,,`,
				`01KA0000000000000000000006,acme,2026-11-03T10:00:00.000Z,2026-11-03T10:00:00.000Z,CONTACT_MERGED,contact,user,u-1,Rina Admin,c-1,Budi,c-1,c-3,user,,,,"{""mergedContactIds"":[""c-3""],""primaryContactId"":""c-1""}",,,`,
			}
			if got := []string{lines[0], lines[2], lines[6]}; len(lines) != 8 || cmp.Diff(want, got) != "" {
				t.Errorf("%d lines; header and rows 2 and 6 (-want +got):\n%s", len(lines), cmp.Diff(want, got))
			}
		}},
		{"audit events as OCSF: gzip, one event a line, oldest first, each once", export.ReportAudit, export.FormatOCSF, 7, func(t *testing.T, file []byte) {
			var want bytes.Buffer
			w := ocsf.NewWriter(&want)
			for i := range wantRows {
				if err := w.Write(&wantRows[i]); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want.String(), gunzip(t, file)); diff != "" {
				t.Errorf("file (-want +got):\n%s", diff)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			n, err := st.src.Export(context.Background(), &buf, job(tt.report, tt.format))
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.wantRows {
				t.Errorf("rows = %d, want %d", n, tt.wantRows)
			}
			tt.check(t, buf.Bytes())
		})
	}
}

// gunzip returns the text of a gzip file.
func gunzip(t *testing.T, file []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustPeriod(t *testing.T) httpapi.Period {
	t.Helper()
	p, err := httpapi.ParsePeriod("2026-11-02", "2026-11-04", "UTC", time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// parquetTable is a Parquet file read back as column names and rows of printed values.
type parquetTable struct {
	names []string
	rows  [][]string
}

func readParquet(t *testing.T, b []byte) parquetTable {
	t.Helper()
	tbl, err := pqarrow.ReadTable(context.Background(), bytes.NewReader(b), nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	var out parquetTable
	for _, f := range tbl.Schema().Fields() {
		out.names = append(out.names, f.Name)
	}
	out.rows = make([][]string, tbl.NumRows())
	for c := 0; c < int(tbl.NumCols()); c++ {
		row := 0
		for _, chunk := range tbl.Column(c).Data().Chunks() {
			for i := 0; i < chunk.Len(); i++ {
				out.rows[row] = append(out.rows[row], cell(chunk, i))
				row++
			}
		}
	}
	return out
}

func cell(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "(null)"
	}
	if ts, ok := a.(*array.Timestamp); ok {
		return ts.Value(i).ToTime(arrow.Millisecond).UTC().Format("2006-01-02 15:04:05Z07:00")
	}
	return a.ValueStr(i)
}

// TestLogExportsApplyFilters: a log export with filters holds the rows the log route lists
// with the same filters, in CSV (the engine's own bytes) and in Parquet.
func TestLogExportsApplyFilters(t *testing.T) {
	st := newStack(t, false)
	user, channel := "u-2", "whatsapp"
	f := report.Filter{User: &user, Channel: &channel}
	var want bytes.Buffer
	n, err := st.engine.WriteCSV(context.Background(), &want, "acme", report.Added, mustPeriod(t), f)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 { // Adi added two contacts, one of them from WhatsApp
		t.Fatalf("the engine lists %d rows, want 1", n)
	}
	csvJob := job(export.ReportAdded, export.FormatCSV)
	csvJob.Filter = &f
	var got bytes.Buffer
	if rows, err := st.src.Export(context.Background(), &got, csvJob); err != nil || rows != 1 {
		t.Fatalf("CSV export: %d rows, %v", rows, err)
	}
	if diff := cmp.Diff(want.String(), got.String()); diff != "" {
		t.Errorf("CSV (-want +got):\n%s", diff)
	}
	pqJob := job(export.ReportAdded, export.FormatParquet)
	pqJob.Filter = &f
	got.Reset()
	if rows, err := st.src.Export(context.Background(), &got, pqJob); err != nil || rows != 1 {
		t.Fatalf("Parquet export: %d rows, %v", rows, err)
	}
	records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(want.String(), report.BOM))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	pq := readParquet(t, got.Bytes())
	if len(pq.rows) != 1 || len(records) != 2 || cmp.Diff(records[1][1:], pq.rows[0][1:]) != "" {
		t.Errorf("Parquet rows %v, want the CSV's row %v", pq.rows, records[1:])
	}
}
