package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/contrail/contrail/shared/audit"
)

// BOM starts every CSV so that spreadsheet programs (Excel above all) read it as UTF-8
// rather than as the local code page. Parsers that follow RFC 4180 strictly see it as part
// of the first header title; docs/reports.md says so.
const BOM = "\ufeff"

// CSVHeader returns the seed's column titles of log k.
func CSVHeader(k Kind) []string {
	switch k {
	case Connected:
		return []string{"Created At", "Contact ID", "Contact Name", "Source", "User", "Channel"}
	case Merged:
		return []string{"Created At", "Primary Contact ID", "Contact Name", "Merged Contact IDs", "Source", "User"}
	default:
		return []string{"Created At", "Contact ID", "Contact Name", "Source", "User"}
	}
}

// CSVRecord returns r as a CSV record of log k, every cell neutralised against formula
// injection. Merged contact ids are separated by a space.
func CSVRecord(k Kind, r Row) []string {
	at := audit.FormatTime(r.OccurredAt)
	var rec []string
	switch k {
	case Connected:
		rec = []string{at, r.ContactID, r.ContactName, r.Source, r.UserName, r.Channel}
	case Merged:
		rec = []string{at, r.PrimaryContactID, r.ContactName, strings.Join(r.MergedContactIDs, " "), r.Source, r.UserName}
	default:
		rec = []string{at, r.ContactID, r.ContactName, r.Source, r.UserName}
	}
	for i, c := range rec {
		rec[i] = SafeCell(c)
	}
	return rec
}

// SafeCell neutralises a cell a spreadsheet would run as a formula: one that starts with
// =, +, -, @, a tab or a carriage return gets a leading single quote (OWASP's advice).
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// CSVWriter writes a log as RFC 4180 CSV (CRLF line ends) in UTF-8 with a BOM.
type CSVWriter struct {
	kind Kind
	w    *csv.Writer
	rows int
}

// NewCSVWriter writes the BOM and the header of log k to w.
func NewCSVWriter(w io.Writer, k Kind) (*CSVWriter, error) {
	if _, err := io.WriteString(w, BOM); err != nil {
		return nil, fmt.Errorf("write csv: %w", err)
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(CSVHeader(k)); err != nil {
		return nil, fmt.Errorf("write csv header: %w", err)
	}
	return &CSVWriter{kind: k, w: cw}, nil
}

// Write writes one row.
func (c *CSVWriter) Write(r Row) error {
	if err := c.w.Write(CSVRecord(c.kind, r)); err != nil {
		return fmt.Errorf("write csv row: %w", err)
	}
	c.rows++
	return nil
}

// Rows returns the number of rows written so far (the header not counted).
func (c *CSVWriter) Rows() int { return c.rows }

// Flush flushes buffered rows and reports any write error.
func (c *CSVWriter) Flush() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// FileName is the attachment name of a log export: contact-<kind>-<from>-<to>.csv with the
// period's dates in its time zone (to exclusive, as in the query).
func FileName(k Kind, p Period) string {
	return fmt.Sprintf("contact-%s-%s-%s.csv", k, localDate(p.From, p.TZ), localDate(p.To, p.TZ))
}

func localDate(t time.Time, tz *time.Location) string {
	if tz == nil {
		tz = time.UTC
	}
	return t.In(tz).Format(time.DateOnly)
}
