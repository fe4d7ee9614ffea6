package contactimport

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/fault"
	"github.com/contrail/contrail/shared/httpapi"
)

func TestFormatOf(t *testing.T) {
	tests := []struct {
		contentType string
		want        Format
		code        string
	}{
		{"text/csv", CSV, ""},
		{"text/csv; charset=utf-8", CSV, ""},
		{"Text/CSV; charset=UTF-8", CSV, ""},
		{"application/csv", CSV, ""},
		{"application/json", JSON, ""},
		{"application/json; charset=utf-8", JSON, ""},
		{"text/csv; charset=iso-8859-1", 0, "unsupported_charset"},
		{"text/plain", 0, "unsupported_media_type"},
		{"", 0, "unsupported_media_type"},
		{"multipart/form-data; boundary=x", 0, "unsupported_media_type"},
	}
	for _, tt := range tests {
		t.Run(tt.contentType, func(t *testing.T) {
			got, err := FormatOf(tt.contentType)
			if d := cmp.Diff(tt.code, code(err)); d != "" {
				t.Fatalf("error code (-want +got):\n%s", d)
			}
			if err != nil && fault.KindOf(err) != fault.Unsupported {
				t.Errorf("kind = %v, want Unsupported", fault.KindOf(err))
			}
			if got != tt.want {
				t.Errorf("format = %v, want %v", got, tt.want)
			}
		})
	}
}

func code(err error) string {
	if err == nil {
		return ""
	}
	if fe := fault.As(err); fe != nil {
		return fe.Code
	}
	return "not a fault: " + err.Error()
}

// csvRows is a CSV import of n rows: Person 0001, p1@example.com; Person 0002, ...
// (CSVRows to the package's external tests).
func csvRows(n int) string {
	var b strings.Builder
	b.WriteString("name,email,phone\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "Person %04d,p%d@example.com,\n", i, i)
	}
	return b.String()
}

func TestParseCSV(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []Row
		code string
	}{
		{
			name: "plain",
			body: "name,email,phone\nAna,ana@example.com,+62 812 3456 7890\nBob,,\n",
			want: []Row{
				{Number: 1, Line: 2, Name: "Ana", Email: "ana@example.com", Phone: "+62 812 3456 7890"},
				{Number: 2, Line: 3, Name: "Bob"},
			},
		},
		{
			name: "BOM, CRLF, header case and spaces, columns in another order",
			body: "\xEF\xBB\xBF Phone , NAME,Email\r\n123456,Ana,ana@example.com\r\n",
			want: []Row{{Number: 1, Line: 2, Name: "Ana", Email: "ana@example.com", Phone: "123456"}},
		},
		{
			name: "quoted fields with commas, quotes and a line break; blank lines skipped",
			body: "name,email,phone\n\"Doe, Jane \"\"JD\"\"\",jane@example.com,\n\n\"Multi\nLine\",,\nLast,,\n",
			want: []Row{
				{Number: 1, Line: 2, Name: `Doe, Jane "JD"`, Email: "jane@example.com"},
				{Number: 2, Line: 4, Name: "Multi\nLine"},
				{Number: 3, Line: 6, Name: "Last"},
			},
		},
		{
			name: "no final newline, leading space before a quote",
			body: "name,email,phone\nAna, \"ana@example.com\",1234567",
			want: []Row{{Number: 1, Line: 2, Name: "Ana", Email: "ana@example.com", Phone: "1234567"}},
		},
		{
			name: "wrong field counts are row problems",
			body: "name,email,phone\nAna,ana@example.com\nBob,b@example.com,,extra\nCarl,,\n",
			want: []Row{
				{Number: 1, Line: 2, Problem: "has 2 fields; the header has 3 (quote a field that holds a comma)"},
				{Number: 2, Line: 3, Problem: "has 4 fields; the header has 3 (quote a field that holds a comma)"},
				{Number: 3, Line: 4, Name: "Carl"},
			},
		},
		{name: "empty body", body: "", code: "no_rows"},
		{name: "BOM only", body: "\xEF\xBB\xBF", code: "no_rows"},
		{name: "header only", body: "name,email,phone\n", code: "no_rows"},
		{
			name: "name only",
			body: "name\nAna\n\"Bob, Jr.\"\n",
			want: []Row{{Number: 1, Line: 2, Name: "Ana"}, {Number: 2, Line: 3, Name: "Bob, Jr."}},
		},
		{
			name: "name and phone, in another order",
			body: "Phone,name\n123456,Ana\n,Bob\n",
			want: []Row{{Number: 1, Line: 2, Name: "Ana", Phone: "123456"}, {Number: 2, Line: 3, Name: "Bob"}},
		},
		{
			name: "email and name; a row with a phone is a row problem",
			body: "email,name\nana@example.com,Ana\nb@example.com,Bob,123456\n",
			want: []Row{
				{Number: 1, Line: 2, Name: "Ana", Email: "ana@example.com"},
				{Number: 2, Line: 3, Problem: "has 3 fields; the header has 2 (quote a field that holds a comma)"},
			},
		},
		{name: "missing name", body: "email,phone\na@example.com,123456\n", code: "invalid_csv_header"},
		{name: "extra column", body: "name,email,phone,company\nAna,,,X\n", code: "invalid_csv_header"},
		{name: "repeated column", body: "name,email,email\nAna,,\n", code: "invalid_csv_header"},
		{name: "no header", body: "Ana,ana@example.com,123456\n", code: "invalid_csv_header"},
		{name: "bare quote", body: "name,email,phone\nA\"na,,\n", code: "invalid_csv"},
		{name: "unterminated quote", body: "name,email,phone\n\"Ana,,\n", code: "invalid_csv"},
		{name: "1000 rows", body: csvRows(1000), want: nil},
		{name: "1001 rows", body: csvRows(1001), code: "too_many_rows"},
		{name: "over 256 KiB", body: "name,email,phone\n" + strings.Repeat("x", httpapi.MaxBody), code: "body_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(CSV, []byte(tt.body))
			if d := cmp.Diff(tt.code, code(err)); d != "" {
				t.Fatalf("error code (-want +got):\n%s (error: %v)", d, err)
			}
			if tt.name == "1000 rows" {
				if len(got) != 1000 || got[999] != (Row{Number: 1000, Line: 1001, Name: "Person 1000", Email: "p1000@example.com"}) {
					t.Fatalf("last of %d rows = %+v", len(got), got[len(got)-1])
				}
				return
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("rows (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseCSVErrorMessages(t *testing.T) {
	tests := []struct {
		body string
		want *fault.Error
	}{
		{"name,EMAIL,company,company\n", &fault.Error{Kind: fault.Invalid, Code: "invalid_csv_header",
			Message: `The first CSV line must be the header: name, and any of email, phone, in any order; it has unknown columns "company", "company".`,
			Fields:  map[string]string{"header": "must hold name and any of email, phone, each once"}}},
		{"Email,phone,email\n", &fault.Error{Kind: fault.Invalid, Code: "invalid_csv_header",
			Message: `The first CSV line must be the header: name, and any of email, phone, in any order; it lacks name; it repeats email.`,
			Fields:  map[string]string{"header": "must hold name and any of email, phone, each once"}}},
		{"name,email,phone\nAna,,\nB\"ob,,\n", &fault.Error{Kind: fault.Invalid, Code: "invalid_csv",
			Message: `The CSV is malformed at line 3, column 2: bare " in non-quoted-field. Enclose a field holding quotes, commas or line breaks in double quotes and double each quote inside it.`}},
		{csvRows(1001), &fault.Error{Kind: fault.TooLarge, Code: "too_many_rows", Message: "An import holds at most 1000 rows; split it into several imports."}},
	}
	for _, tt := range tests {
		t.Run(tt.want.Code, func(t *testing.T) {
			_, err := Parse(CSV, []byte(tt.body))
			if d := cmp.Diff(tt.want, fault.As(err)); d != "" {
				t.Errorf("error (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseJSON(t *testing.T) {
	many := func(n int) string {
		items := make([]string, n)
		for i := range items {
			items[i] = `{"name":"P"}`
		}
		return `{"contacts":[` + strings.Join(items, ",") + `]}`
	}
	tests := []struct {
		name string
		body string
		want []Row
		code string
	}{
		{
			name: "rows",
			body: `{"contacts":[{"name":"Ana","email":"ana@example.com","phone":"+1 555 0100 22"},{"name":"Bob","email":null}]}`,
			want: []Row{
				{Number: 1, Name: "Ana", Email: "ana@example.com", Phone: "+1 555 0100 22"},
				{Number: 2, Name: "Bob"},
			},
		},
		{
			name: "bad rows are row problems",
			body: `{"contacts":[{"name":5},{"name":"A","company":"X"},"Carl",null,[],{"name":"Dee"}]}`,
			want: []Row{
				{Number: 1, Problem: "name: must be a string"},
				{Number: 2, Problem: "company: is not a known field (use name, email, phone)"},
				{Number: 3, Problem: "must be an object with name, email and phone"},
				{Number: 4, Problem: "must be an object with name, email and phone"},
				{Number: 5, Problem: "must be an object with name, email and phone"},
				{Number: 6, Name: "Dee"},
			},
		},
		{name: "empty list", body: `{"contacts":[]}`, code: "no_rows"},
		{name: "no list", body: `{}`, code: "no_rows"},
		{name: "null list", body: `{"contacts":null}`, code: "no_rows"},
		{name: "unknown top-level field", body: `{"contacts":[{"name":"A"}],"dryRun":true}`, code: "invalid_request"},
		{name: "contacts not an array", body: `{"contacts":{"name":"A"}}`, code: "invalid_request"},
		{name: "not JSON", body: `name,email,phone`, code: "invalid_json"},
		{name: "trailing data", body: `{"contacts":[{"name":"A"}]} {}`, code: "invalid_body"},
		{name: "empty body", body: ``, code: "invalid_body"},
		{name: "1001 rows", body: many(1001), code: "too_many_rows"},
		{name: "over 256 KiB", body: `{"contacts":[{"name":"` + strings.Repeat("x", httpapi.MaxBody) + `"}]}`, code: "body_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(JSON, []byte(tt.body))
			if d := cmp.Diff(tt.code, code(err)); d != "" {
				t.Fatalf("error code (-want +got):\n%s (error: %v)", d, err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("rows (-want +got):\n%s", d)
			}
		})
	}
}

func TestRowInput(t *testing.T) {
	tests := []struct {
		name    string
		row     Row
		name2   string
		email   *string
		phone   *string
		message string
	}{
		{name: "all fields, trimmed", row: Row{Name: "  Ana ", Email: " ana@example.com ", Phone: " +62 812-3456-7890 "},
			name2: "Ana", email: ptr("ana@example.com"), phone: ptr("+62 812-3456-7890")},
		{name: "name only", row: Row{Name: "Bob", Email: "  ", Phone: ""}, name2: "Bob"},
		{name: "no name", row: Row{Name: " ", Email: "x@example.com"}, message: "name: is required"},
		{name: "long name", row: Row{Name: strings.Repeat("é", 201)}, message: "name: must be 1 to 200 characters"},
		{name: "two problems", row: Row{Name: "", Email: "not-an-email", Phone: "abc"},
			message: "email: must be one email address, like name@example.com; name: is required; phone: must be a phone number like +62 812-3456-7890: an optional +, then 6 to 20 digits with spaces, dashes, dots or parentheses"},
		{name: "display name in email", row: Row{Name: "A", Email: "Ana <ana@example.com>"}, message: "email: must be one email address, like name@example.com"},
		{name: "line break in email", row: Row{Name: "A", Email: "ana@example.com\nBcc: x@example.com"}, message: "email: must not contain line breaks"},
		{name: "invalid UTF-8", row: Row{Name: "A\xff"}, message: "name: must be valid UTF-8"},
		{name: "row problem", row: Row{Problem: "has 2 fields; the header has 3"}, message: "has 2 fields; the header has 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, msg := tt.row.Input()
			if d := cmp.Diff(tt.message, msg); d != "" {
				t.Fatalf("message (-want +got):\n%s", d)
			}
			if msg != "" {
				return
			}
			if d := cmp.Diff([]any{tt.name2, tt.email, tt.phone, "import"}, []any{in.Name, in.Email, in.Phone, in.Source}); d != "" {
				t.Errorf("input (-want +got):\n%s", d)
			}
		})
	}
}

func ptr(s string) *string { return &s }
