package httpapi

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/fault"
)

func ptr(s string) *string { return &s }

// TestParseLogFilter: present means filter (empty included), one value each, values as
// given; the cursor scope and the audit data name exactly the filters set.
func TestParseLogFilter(t *testing.T) {
	for _, c := range []struct {
		name   string
		raw    string
		want   LogFilter
		scope  string
		audit  map[string]any
		fields map[string]string
	}{
		{name: "none", raw: "from=2026-03-01&limit=5", scope: "", audit: map[string]any{}},
		{name: "all three", raw: "source=import&channel=whatsapp&user=u-1",
			want:  LogFilter{Source: ptr("import"), Channel: ptr("whatsapp"), User: ptr("u-1")},
			scope: "&source=import&channel=whatsapp&user=u-1", audit: map[string]any{"source": "import", "channel": "whatsapp", "user": "u-1"}},
		{name: "empty user is a filter", raw: "user=", want: LogFilter{User: ptr("")}, scope: "&user=", audit: map[string]any{"user": ""}},
		{name: "not trimmed, escaped in the scope", raw: "source=+a%26b+", want: LogFilter{Source: ptr(" a&b ")}, scope: "&source=+a%26b+", audit: map[string]any{"source": " a&b "}},
		{name: "200 characters", raw: "channel=" + strings.Repeat("x", 200), want: LogFilter{Channel: ptr(strings.Repeat("x", 200))},
			scope: "&channel=" + strings.Repeat("x", 200), audit: map[string]any{"channel": strings.Repeat("x", 200)}},
		{name: "201 characters", raw: "channel=" + strings.Repeat("x", 201), fields: map[string]string{"channel": "must be at most 200 characters"}},
		{name: "control characters", raw: "source=a%0Ab&user=%7F", fields: map[string]string{"source": "must be one line, without control characters", "user": "must be one line, without control characters"}},
		{name: "not UTF-8", raw: "user=%FF", fields: map[string]string{"user": "must be valid UTF-8"}},
		{name: "twice", raw: "source=a&source=b", fields: map[string]string{"source": "must be given once"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			q, err := url.ParseQuery(c.raw)
			if err != nil {
				t.Fatal(err)
			}
			f, err := ParseLogFilter(q)
			if c.fields != nil {
				fe := fault.As(err)
				if fe == nil {
					t.Fatalf("err = %v, want a 400 naming %v", err, c.fields)
				}
				if d := cmp.Diff(c.fields, fe.Fields); d != "" || fe.Code != "invalid_request" {
					t.Errorf("code %s, fields (-want +got):\n%s", fe.Code, d)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(c.want, f); d != "" {
				t.Errorf("filter (-want +got):\n%s", d)
			}
			if got := f.Query(); got != c.scope {
				t.Errorf("Query() = %q, want %q", got, c.scope)
			}
			m := map[string]any{}
			f.AddTo(m)
			if d := cmp.Diff(c.audit, m); d != "" {
				t.Errorf("AddTo (-want +got):\n%s", d)
			}
			if (f.Normalized() == nil) != f.IsZero() {
				t.Errorf("Normalized() = %v for IsZero() = %v", f.Normalized(), f.IsZero())
			}
		})
	}
}
