package mail

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/audit"
)

func TestSubjectLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"You're invited by Ana", "You're invited by Ana"},
		{"Ana\r\nBcc: x@example.com", "Ana Bcc: x@example.com"},
		{"tab\there\u2028line\u2029para\u0085next", "tab here line para next"},
		{"  spaced   out  ", "spaced out"},
		{"bad \xff byte", "bad \uFFFD byte"},
		{strings.Repeat("é", 250), strings.Repeat("é", MaxSubject-1) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := subjectLine(tt.in); got != tt.want {
				t.Errorf("subjectLine(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func apiError(status int, err error) error {
	return &smithy.OperationError{ServiceID: "SESv2", OperationName: "SendEmail", Err: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err,
	}}
}

func TestTransient(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"throttled", apiError(429, &sestypes.TooManyRequestsException{Message: aws.String("slow down")}), true},
		{"limit exceeded", apiError(400, &sestypes.LimitExceededException{Message: aws.String("quota")}), true},
		{"500 without a code", apiError(500, &smithy.GenericAPIError{Code: "UnknownError"}), true},
		{"503", apiError(503, &smithy.GenericAPIError{Code: "ServiceUnavailable"}), true},
		{"network", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{"timeout", fmt.Errorf("send: %w", context.DeadlineExceeded), true},
		{"message rejected", apiError(400, &sestypes.MessageRejected{Message: aws.String("not verified")}), false},
		{"bad request", apiError(400, &sestypes.BadRequestException{Message: aws.String("bad address")}), false},
		{"sender not verified", apiError(400, &sestypes.MailFromDomainNotVerifiedException{Message: aws.String("x")}), false},
		{"sending paused", apiError(400, &sestypes.SendingPausedException{Message: aws.String("x")}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Transient(tt.err); got != tt.want {
				t.Errorf("Transient(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestComposeRefuses(t *testing.T) {
	ev := func(typ string, data map[string]any) *audit.Event {
		return &audit.Event{ID: "E1", TenantID: "t", Type: typ, Actor: audit.Actor{Name: "Ana"},
			Contact: &audit.ContactRef{ID: "c1", Name: "Bob"}, Data: data}
	}
	tests := []struct {
		name string
		ev   *audit.Event
		want string
	}{
		{"invite without address", ev("CONTACT_INVITED", map[string]any{}), "the request has no recipient address (data.email)"},
		{"invite to two addresses", ev("CONTACT_INVITED", map[string]any{"email": "a@example.com, b@example.com"}), "the recipient address must be one email address, like name@example.com"},
		{"header injection", ev("MESSAGE_SENT", map[string]any{"to": "a@example.com\r\nBcc: b@example.com", "text": "x"}), "the recipient address must not contain line breaks"},
		{"message without text", ev("MESSAGE_SENT", map[string]any{"to": "a@example.com", "text": " "}), "the message has no text"},
		{"share without contact", ev("CONTACT_SHARED", map[string]any{"email": "a@example.com"}), "the contact was not found when the email was sent"},
		{"not a request", ev("COMMENT_ADDED", map[string]any{"text": "x"}), "COMMENT_ADDED is not an email request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compose(tt.ev, nil)
			var perm *PermanentError
			if !errors.As(err, &perm) {
				t.Fatalf("error %v is not permanent", err)
			}
			if d := cmp.Diff(tt.want, perm.Reason); d != "" {
				t.Errorf("reason (-want +got):\n%s", d)
			}
		})
	}
}

// FuzzCompose: whatever users typed, the subject stays one line and no user value reaches
// the HTML part unescaped.
func FuzzCompose(f *testing.F) {
	f.Add("Ayu <b>Agent</b>", "Bob \"B\"", "Hi <script>alert(1)</script>\r\nBye", "note & <i>")
	f.Add("A\r\nBcc: x@example.com", "\u2028", "\x00", "")
	f.Fuzz(func(t *testing.T, actor, contactName, text, note string) {
		for _, typ := range []string{"CONTACT_INVITED", "MESSAGE_SENT"} {
			ev := &audit.Event{ID: "E1", TenantID: "t", Type: typ, Actor: audit.Actor{Name: actor},
				Contact: &audit.ContactRef{ID: "c1", Name: contactName},
				Data:    map[string]any{"email": "a@example.com", "to": "a@example.com", "text": text, "note": note}}
			m, err := Compose(ev, nil)
			if err != nil {
				var perm *PermanentError
				if !errors.As(err, &perm) || typ != "MESSAGE_SENT" {
					t.Fatalf("%s: %v", typ, err)
				}
				continue
			}
			if strings.ContainsAny(m.Subject, "\r\n") {
				t.Fatalf("subject %q has a line break", m.Subject)
			}
			for _, v := range []string{actor, contactName, text} {
				if strings.Contains(v, "<") && strings.Contains(m.HTML, v) {
					t.Fatalf("%s: %q reached the HTML unescaped", typ, v)
				}
			}
		}
	})
}
