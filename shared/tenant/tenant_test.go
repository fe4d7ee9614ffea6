package tenant

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string
	}{
		{in: "acme"},
		{in: "t"},
		{in: "Tenant_01-eu"},
		{in: "01JDQ8Y6Z1K3M5N7P9R2T4V6X8"},
		{in: strings.Repeat("a", MaxLen)},
		{in: "", wantErr: "tenant id is empty"},
		{in: strings.Repeat("a", MaxLen+1), wantErr: "tenant id is 65 bytes long; at most 64 are allowed"},
		{in: "victim/date=2026-12-06/x", wantErr: `tenant id holds '/' at byte 6; only letters, digits, '-' and '_' are allowed, starting with a letter or digit`},
		{in: "../victim", wantErr: `tenant id holds '.' at byte 0; only letters, digits, '-' and '_' are allowed, starting with a letter or digit`},
		{in: "a#b", wantErr: `tenant id holds '#' at byte 1; only letters, digits, '-' and '_' are allowed, starting with a letter or digit`},
		{in: "a=b", wantErr: `tenant id holds '=' at byte 1; only letters, digits, '-' and '_' are allowed, starting with a letter or digit`},
		{in: " acme", wantErr: `tenant id holds ' ' at byte 0; only letters, digits, '-' and '_' are allowed, starting with a letter or digit`},
		{in: "acme\x00", wantErr: `tenant id holds '\x00' at byte 4; only letters, digits, '-' and '_' are allowed, starting with a letter or digit`},
		{in: "-acme", wantErr: `tenant id holds '-' at byte 0; only letters, digits, '-' and '_' are allowed, starting with a letter or digit`},
		{in: "acm\xc3\xa9", wantErr: `tenant id holds '\u00c3' at byte 3; only letters, digits, '-' and '_' are allowed, starting with a letter or digit`},
		{in: "a.b", wantErr: `tenant id holds '.' at byte 1; only letters, digits, '-' and '_' are allowed, starting with a letter or digit`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			id, err := Parse(tt.in)
			if tt.wantErr == "" {
				if err != nil || id != ID(tt.in) || !id.Valid() {
					t.Fatalf("Parse(%q) = %q, %v; want it accepted", tt.in, id, err)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("Parse(%q) error = %v; want %q", tt.in, err, tt.wantErr)
			}
			if id != "" || ID(tt.in).Valid() {
				t.Fatalf("Parse(%q) returned %q and Valid() = true; want neither", tt.in, id)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"acme", "victim/date=x", "../a", "a#b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := Parse(s)
		if err != nil {
			return
		}
		if strings.ContainsAny(string(id), "/=#.\\ \x00") || len(id) == 0 || len(id) > MaxLen {
			t.Fatalf("Parse accepted %q", s)
		}
	})
}
