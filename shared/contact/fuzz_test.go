package contact

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/fault"
	"github.com/contrail/contrail/shared/validate"
)

// The seed corpus is in testdata/fuzz/<FuzzName>/; run with
// go test -run '^$' -fuzz FuzzDecodeCreate -fuzztime 30s ./shared/contact/

// FuzzDecodeCreate: any body either decodes into an input that keeps every rule of the
// contract, or is refused with a 400 or 413 fault; it never panics or fails otherwise.
func FuzzDecodeCreate(f *testing.F) {
	f.Add([]byte(`{"name": "Budi", "email": "budi@example.com", "phone": "+62 812-3456-7890", "source": "api"}`))
	f.Add([]byte(`{"name": " \u00a0x ", "channel": "whatsapp", "externalId": "+628"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := DecodeCreate(body)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		checkName(t, in.Name)
		if in.Email != nil {
			checkEmailValue(t, *in.Email)
		}
		if in.Phone != nil && *in.Phone != "" && PhoneProblem(*in.Phone) != "" {
			t.Fatalf("accepted phone %q", *in.Phone)
		}
		if !slices.Contains([]string{"manual", "api", "incoming_message"}, in.Source) {
			t.Fatalf("accepted source %q", in.Source)
		}
		if in.Channel != "" && !slices.Contains(audit.Channels, in.Channel) {
			t.Fatalf("accepted channel %q", in.Channel)
		}
		if in.ExternalID != "" && (in.Channel == "" || utf8.RuneCountInString(in.ExternalID) > MaxExternalID || in.ExternalID != strings.TrimSpace(in.ExternalID)) {
			t.Fatalf("accepted externalId %q on channel %q", in.ExternalID, in.Channel)
		}
	})
}

// FuzzDecodeUpdate: the same for PATCH bodies.
func FuzzDecodeUpdate(f *testing.F) {
	f.Add([]byte(`{"name": "Budi Santoso", "email": null, "phone": ""}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := DecodeUpdate(body)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		if !in.Sets("name") && !in.Sets("email") && !in.Sets("phone") {
			t.Fatalf("accepted a patch that changes nothing: %q", body)
		}
		if in.Sets("name") {
			if in.Name == nil {
				t.Fatalf("accepted a null name")
			}
			checkName(t, *in.Name)
		}
		if in.Email != nil {
			checkEmailValue(t, *in.Email)
		}
		if in.Phone != nil && *in.Phone != "" && PhoneProblem(*in.Phone) != "" {
			t.Fatalf("accepted phone %q", *in.Phone)
		}
	})
}

func checkRefusal(t *testing.T, err error) {
	t.Helper()
	fe := fault.As(err)
	if fe == nil || (fe.Kind != fault.Invalid && fe.Kind != fault.TooLarge) {
		t.Fatalf("refused with %v, want a 400 or 413 fault", err)
	}
	if fe.Code == "" || fe.Message == "" {
		t.Fatalf("fault without code or message: %#v", fe)
	}
}

func checkName(t *testing.T, name string) {
	t.Helper()
	if n := utf8.RuneCountInString(name); n < 1 || n > 200 || name != strings.TrimSpace(name) || !utf8.ValidString(name) ||
		strings.ContainsFunc(name, validate.IsControl) || strings.ContainsAny(name, "\u2028\u2029") {
		t.Fatalf("accepted name %q", name)
	}
}

func checkEmailValue(t *testing.T, email string) {
	t.Helper()
	if email == "" {
		return
	}
	if strings.ContainsAny(email, "\r\n") || validate.EmailProblem(email) != "" || email != strings.TrimSpace(email) {
		t.Fatalf("accepted email %q", email)
	}
}

// TestPhoneProblem pins the phone rule.
func TestPhoneProblem(t *testing.T) {
	for _, tc := range []struct {
		phone string
		ok    bool
	}{
		{"+62 812-3456-7890", true},
		{"(021) 555.1234", true},
		{"123456", true},
		{"12345", false},
		{"+123456789012345678901", false},
		{"62+812345678", false},
		{"+62 812 abc", false},
		{"+62\n812345678", false},
		{strings.Repeat("1-", 20) + "1", false},
	} {
		if got := PhoneProblem(tc.phone) == ""; got != tc.ok {
			t.Errorf("PhoneProblem(%q) ok = %v, want %v", tc.phone, got, tc.ok)
		}
	}
}
