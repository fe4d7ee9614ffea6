package contactimport

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/fault"
	"github.com/contrail/contrail/shared/validate"
)

// The seed corpus lives in testdata/fuzz/<FuzzName>/; run e.g.
// go test ./shared/contactimport -run '^$' -fuzz '^FuzzParseCSV$' -fuzztime 30s

func FuzzParseCSV(f *testing.F) {
	f.Add([]byte("name,email,phone\nAna,ana@example.com,+62 812 3456 7890\n"))
	f.Add([]byte("\xEF\xBB\xBFName,Email,Phone\r\n\"Doe, \"\"J\"\"\",,\r\n\"a\nb\",x@y.z,\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		rows, err := Parse(CSV, body)
		checkParsed(t, rows, err, true)
	})
}

func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(`{"contacts":[{"name":"Ana","email":"ana@example.com","phone":"+1 555 010 0200"}]}`))
	f.Add([]byte(`{"contacts":[{"name":5},null,"x",{"name":"A","x":1}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rows, err := Parse(JSON, body)
		checkParsed(t, rows, err, false)
	})
}

func FuzzRowInput(f *testing.F) {
	f.Add("Ana", "ana@example.com", "+62 812 3456 7890")
	f.Add(" ", "Ana <a@b.c>", "12")
	f.Fuzz(func(t *testing.T, name, email, phone string) {
		r := Row{Number: 1, Name: name, Email: email, Phone: phone}
		checkRow(t, &r)
	})
}

// checkParsed holds the invariants of Parse: a refusal is a 400/413 fault with a code and a
// message; otherwise 1 to MaxRows rows numbered 1..n, each checked by checkRow.
func checkParsed(t *testing.T, rows []Row, err error, csv bool) {
	t.Helper()
	if err != nil {
		fe := fault.As(err)
		if fe == nil || (fe.Kind != fault.Invalid && fe.Kind != fault.TooLarge) || fe.Code == "" || fe.Message == "" {
			t.Fatalf("refusal is not a 400/413 fault: %#v", err)
		}
		if rows != nil {
			t.Fatalf("rows returned with an error")
		}
		return
	}
	if len(rows) < 1 || len(rows) > MaxRows {
		t.Fatalf("%d rows", len(rows))
	}
	prevLine := 1
	for i := range rows {
		r := &rows[i]
		if r.Number != i+1 {
			t.Fatalf("row %d numbered %d", i+1, r.Number)
		}
		if csv {
			if r.Line <= prevLine {
				t.Fatalf("row %d starts on line %d, after line %d", r.Number, r.Line, prevLine)
			}
			prevLine = r.Line
		} else if r.Line != 0 {
			t.Fatalf("JSON row %d has line %d", r.Number, r.Line)
		}
		if r.Problem != "" && (r.Name != "" || r.Email != "" || r.Phone != "") {
			t.Fatalf("row %d has a problem and fields: %+v", r.Number, r)
		}
		checkRow(t, r)
	}
}

// checkRow holds the invariants of Row.Input: a rejected row has a message; an accepted one
// obeys every rule of POST /v1/contacts, so the store never sees a bad contact.
func checkRow(t *testing.T, r *Row) {
	t.Helper()
	in, msg := r.Input()
	if msg != "" {
		if r.Problem != "" && msg != r.Problem {
			t.Fatalf("message %q, want the row problem %q", msg, r.Problem)
		}
		return
	}
	if in.Source != "import" {
		t.Fatalf("source %q", in.Source)
	}
	if n := utf8.RuneCountInString(in.Name); !utf8.ValidString(in.Name) || n < 1 || n > 200 || in.Name != strings.TrimSpace(in.Name) {
		t.Fatalf("accepted name %q", in.Name)
	}
	if in.Email != nil && (*in.Email == "" || validate.EmailProblem(*in.Email) != "") {
		t.Fatalf("accepted email %q", *in.Email)
	}
	if in.Phone != nil && (*in.Phone == "" || contact.PhoneProblem(*in.Phone) != "") {
		t.Fatalf("accepted phone %q", *in.Phone)
	}
}
