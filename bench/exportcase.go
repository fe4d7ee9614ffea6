package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/export"
	"github.com/contrail/contrail/shared/export/files"
	"github.com/contrail/contrail/shared/export/source"
	"github.com/contrail/contrail/shared/export/worker"
	"github.com/contrail/contrail/shared/report"
)

// fileS3 is the export bucket as one local file: the worker's upload (files.Upload, 5 MiB
// parts) writes its parts into it in order, as S3 would assemble them.
type fileS3 struct {
	path string
	f    *os.File
}

var _ files.S3 = (*fileS3)(nil)

func (s *fileS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	f, err := os.Create(s.path)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(f, in.Body); err != nil {
		f.Close()
		return nil, err
	}
	return &s3.PutObjectOutput{}, f.Close()
}

func (s *fileS3) CreateMultipartUpload(context.Context, *s3.CreateMultipartUploadInput, ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	f, err := os.Create(s.path)
	s.f = f
	return &s3.CreateMultipartUploadOutput{UploadId: aws.String("bench")}, err
}

func (s *fileS3) UploadPart(_ context.Context, in *s3.UploadPartInput, _ ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	_, err := io.Copy(s.f, in.Body)
	return &s3.UploadPartOutput{ETag: aws.String(fmt.Sprint(aws.ToInt32(in.PartNumber)))}, err
}

func (s *fileS3) CompleteMultipartUpload(context.Context, *s3.CompleteMultipartUploadInput, ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	return &s3.CompleteMultipartUploadOutput{}, s.f.Close()
}

func (s *fileS3) AbortMultipartUpload(context.Context, *s3.AbortMultipartUploadInput, ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	s.f.Close()
	return &s3.AbortMultipartUploadOutput{}, os.Remove(s.path)
}

func caseExport(ctx context.Context, b *bencher, duck *sql.DB, data string) error {
	p, err := yearPeriod(b.o.scale, min(365, b.o.scale.Days))
	if err != nil {
		return err
	}
	work := filepath.Join(b.o.root, ".local", "bench", "work", "export")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	cOut, dOut := filepath.Join(work, "contrail.csv"), filepath.Join(work, "duckdb.csv")
	store := &archive.DirStore{Dir: data}
	src := &source.Reports{Engine: report.NewEngine(store, func() time.Time { return End }), Archive: &archive.Reader{Store: store}}
	job := &export.Job{TenantID: "busy", ID: "bench", Report: export.ReportAdded, Format: export.FormatCSV,
		From: audit.FormatTime(p.From), To: audit.FormatTime(p.To), TZ: reportTZ}
	var rows int64
	contrail := func() error { // what the export worker runs for the job: the source into an upload
		up := files.NewUpload(ctx, &fileS3{path: cOut}, "exports", "bench.csv", export.ContentType(job.Format), worker.FileName(job))
		n, err := src.Export(ctx, up, job)
		if err != nil {
			return errors.Join(err, up.Abort())
		}
		rows = n
		_, err = up.Close()
		return err
	}
	if _, err := duck.Exec(`CREATE OR REPLACE MACRO safe_cell(x) AS
  CASE WHEN left(x, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) THEN '''' || x ELSE x END`); err != nil {
		return err
	}
	q := duckExportSQL(data, "busy", p, dOut)
	peer := func() error { _, err := duck.Exec(q); return err }
	if err := runOnce(contrail, peer); err != nil {
		return err
	}
	n, err := sameCSV(cOut, dOut)
	if err != nil {
		return err
	}
	if int64(n) != rows {
		return fmt.Errorf("the export says %d rows, its file holds %d", rows, n)
	}
	logf("export: both CSV files hold the same %d rows", n)
	name := fmt.Sprintf("11. CSV export, Added log, busiest tenant, %d days (%s rows)", min(365, b.o.scale.Days), thousands(n))
	c, d, err := b.pair(name, min(b.o.runs, 3), contrail, peer)
	if err != nil {
		return err
	}
	b.ratioRow(name, c, d, 1.0)
	peak, err := peakHeap(contrail)
	if err != nil {
		return err
	}
	b.heapRow("11m. the export worker's peak live heap on that export", peak, 256<<20)
	return nil
}

// duckExportSQL writes the same CSV: the period's distinct CONTACT_ADDED events, newest
// first, the log's columns and titles, every cell guarded against formula injection as
// the export's are.
func duckExportSQL(data, tenant string, p report.Period, out string) string {
	return `COPY (
  SELECT strftime(occurred_at::TIMESTAMP, '%Y-%m-%dT%H:%M:%S.%gZ') AS "Created At",
         safe_cell(contact_id) AS "Contact ID", safe_cell(contact_name) AS "Contact Name",
         safe_cell(source) AS "Source", safe_cell(actor_name) AS "User"
  FROM (` + contactsAddedSQL(data, tenant, p) + `)
  ORDER BY occurred_at DESC, event_id DESC
) TO ` + sqlString(out) + ` (FORMAT csv, HEADER)`
}

// sameCSV parses both files and compares them record by record (the header included, the
// BOM Contrail's starts with aside); it returns the number of rows.
func sameCSV(contrail, duck string) (int, error) {
	open := func(p string) (*csv.Reader, func() error, error) {
		f, err := os.Open(p)
		if err != nil {
			return nil, nil, err
		}
		r := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
		r.ReuseRecord = true
		return r, f.Close, nil
	}
	cr, cclose, err := open(contrail)
	if err != nil {
		return 0, err
	}
	defer cclose()
	dr, dclose, err := open(duck)
	if err != nil {
		return 0, err
	}
	defer dclose()
	for i := 0; ; i++ {
		c, cerr := cr.Read()
		d, derr := dr.Read()
		if cerr == io.EOF && derr == io.EOF {
			return i - 1, nil
		}
		if cerr != nil || derr != nil {
			return 0, fmt.Errorf("record %d: contrail %v, duckdb %v", i, cerr, derr)
		}
		if i == 0 && len(c) > 0 {
			c[0] = strings.TrimPrefix(c[0], report.BOM)
		}
		if strings.Join(c, "\x00") != strings.Join(d, "\x00") {
			return 0, fmt.Errorf("record %d differs:\ncontrail %q\nduckdb   %q", i, c, d)
		}
	}
}
