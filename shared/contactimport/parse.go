// Package contactimport reads the body of POST /v1/contacts/import, CSV (RFC 4180, header
// name and any of email, phone) or JSON ({"contacts": [...]}), into numbered rows, checks each row by the
// same rules as POST /v1/contacts, and imports the valid rows (importer.go).
//
// Row numbers: row 1 is the first data record, in CSV (the header is not counted) and in JSON
// (contacts[0]). A CSV row also carries the line it starts on (the header is line 1), which
// differs from row+1 when blank lines are skipped or a quoted field spans lines.
package contactimport

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"slices"
	"strings"

	"github.com/contrail/contrail/shared/fault"
	"github.com/contrail/contrail/shared/httpapi"
)

// MaxRows is the most rows one import may hold; more is a 413.
const MaxRows = 1000

// Columns are the CSV header's columns, in the documented order: name is required, email
// and phone are optional.
var Columns = []string{"name", "email", "phone"}

// Row is one contact of the import, as sent.
type Row struct {
	Number  int    // 1-based position among the data rows
	Line    int    // CSV: the line the record starts on (header = line 1); 0 for JSON
	Name    string //
	Email   string //
	Phone   string //
	Problem string // set when the row itself could not be read (field count, JSON shape)
}

// Failure is one row that was not imported, as the response reports it.
type Failure struct {
	Row     int    `json:"row"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

// Fail returns the failure of r with message.
func (r *Row) Fail(message string) Failure {
	return Failure{Row: r.Number, Line: r.Line, Message: message}
}

// Format is the body's format.
type Format int

// Formats of an import body.
const (
	CSV Format = iota + 1
	JSON
)

// FormatOf reads the Content-Type header: text/csv (or application/csv) with an optional
// charset=utf-8, or application/json. Anything else is a 415.
func FormatOf(contentType string) (Format, error) {
	unsupported := fault.New(fault.Unsupported, "unsupported_media_type",
		"Send the import as text/csv (UTF-8, header name,email,phone) or as application/json ({\"contacts\": [...]}).")
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, unsupported
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return 0, fault.New(fault.Unsupported, "unsupported_charset", "Send the import encoded as UTF-8 (charset=utf-8).")
	}
	switch mt {
	case "text/csv", "application/csv":
		return CSV, nil
	case "application/json":
		return JSON, nil
	}
	return 0, unsupported
}

// Parse reads body in format f into rows. The whole request is refused (a fault) when the
// body is over 256 KiB or holds more than MaxRows rows (413), has no rows, a bad CSV header or
// broken CSV quoting, or is not a JSON object with a contacts array (400). A row that cannot
// be read on its own (wrong field count, a non-object in the JSON array) is returned with
// Problem set, so it is reported by number while the other rows are imported.
func Parse(f Format, body []byte) ([]Row, error) {
	if len(body) > httpapi.MaxBody {
		return nil, fault.New(fault.TooLarge, "body_too_large",
			fmt.Sprintf("The request body is %d bytes; send at most %d (split the import).", len(body), httpapi.MaxBody))
	}
	if f == JSON {
		return parseJSON(body)
	}
	return parseCSV(body)
}

func tooManyRows() error {
	return fault.New(fault.TooLarge, "too_many_rows",
		fmt.Sprintf("An import holds at most %d rows; split it into several imports.", MaxRows))
}

func noRows() error {
	return fault.New(fault.Invalid, "no_rows", "The import holds no contacts; send at least one row.")
}

var bom = []byte("\xEF\xBB\xBF")

func parseCSV(body []byte) ([]Row, error) {
	body = bytes.TrimPrefix(body, bom)
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1 // a row with the wrong field count is that row's failure, not the import's
	r.TrimLeadingSpace = true

	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, fault.New(fault.Invalid, "no_rows", "The CSV is empty; send a header line name,email,phone and at least one row.")
	}
	if err != nil {
		return nil, csvSyntax(err)
	}
	index, err := headerIndex(header)
	if err != nil {
		return nil, err
	}

	var rows []Row
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvSyntax(err)
		}
		if len(rows) == MaxRows {
			return nil, tooManyRows()
		}
		line, _ := r.FieldPos(0)
		row := Row{Number: len(rows) + 1, Line: line}
		if len(rec) != len(header) {
			row.Problem = fmt.Sprintf("has %d fields; the header has %d (quote a field that holds a comma)", len(rec), len(header))
		} else {
			for c, dst := range []*string{&row.Name, &row.Email, &row.Phone} {
				if index[c] >= 0 { // an optional column left out stays empty
					*dst = rec[index[c]]
				}
			}
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, noRows()
	}
	return rows, nil
}

// headerIndex maps Columns to their positions in header (-1 for a column left out): names
// are trimmed and case-insensitive, in any order, each at most once, and nothing else; name
// is required, email and phone are optional.
func headerIndex(header []string) ([3]int, error) {
	index := [3]int{-1, -1, -1}
	var unknown, dup []string
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		c := slices.Index(Columns, h)
		switch {
		case c < 0:
			unknown = append(unknown, fmt.Sprintf("%q", h))
		case index[c] >= 0:
			dup = append(dup, h)
		default:
			index[c] = i
		}
	}
	var problems []string
	if index[0] < 0 {
		problems = append(problems, "it lacks name")
	}
	if len(unknown) > 0 {
		problems = append(problems, "it has unknown columns "+strings.Join(unknown, ", "))
	}
	if len(dup) > 0 {
		problems = append(problems, "it repeats "+strings.Join(dup, ", "))
	}
	if len(problems) > 0 {
		return index, fault.InvalidFields("invalid_csv_header",
			"The first CSV line must be the header: name, and any of email, phone, in any order; "+strings.Join(problems, "; ")+".",
			map[string]string{"header": "must hold name and any of email, phone, each once"})
	}
	return index, nil
}

func csvSyntax(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fault.New(fault.Invalid, "invalid_csv", fmt.Sprintf(
			"The CSV is malformed at line %d, column %d: %v. Enclose a field holding quotes, commas or line breaks in double quotes and double each quote inside it.",
			pe.StartLine, pe.Column, pe.Err))
	}
	return fault.New(fault.Invalid, "invalid_csv", "The CSV could not be read.")
}

func parseJSON(body []byte) ([]Row, error) {
	var doc struct {
		Contacts []json.RawMessage `json:"contacts"`
	}
	if err := httpapi.DecodeJSON(body, &doc); err != nil {
		return nil, err
	}
	if len(doc.Contacts) == 0 {
		return nil, noRows()
	}
	if len(doc.Contacts) > MaxRows {
		return nil, tooManyRows()
	}
	rows := make([]Row, len(doc.Contacts))
	for i, raw := range doc.Contacts {
		rows[i] = jsonRow(i+1, raw)
	}
	return rows, nil
}

// jsonRow decodes one element of contacts strictly: an object with name, email and phone
// strings (null is absent) and nothing else.
func jsonRow(n int, raw json.RawMessage) Row {
	row := Row{Number: n}
	var in struct {
		Name  *string `json:"name"`
		Email *string `json:"email"`
		Phone *string `json:"phone"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field != "":
			row.Problem = typeErr.Field + ": must be a string"
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			row.Problem = strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`) + ": is not a known field (use name, email, phone)"
		default:
			row.Problem = "must be an object with name, email and phone"
		}
		return row
	}
	if string(bytes.TrimSpace(raw)) == "null" {
		row.Problem = "must be an object with name, email and phone"
		return row
	}
	for _, f := range []struct {
		dst *string
		src *string
	}{{&row.Name, in.Name}, {&row.Email, in.Email}, {&row.Phone, in.Phone}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	return row
}
