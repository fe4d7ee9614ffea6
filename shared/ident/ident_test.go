package ident_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/contrail/contrail/shared/ident"
)

// ulidText is the canonical text of a ULID, as the id parsers said it with a regular expression.
var ulidText = regexp.MustCompile(`^[0-7][0-9A-HJKMNP-TV-Z]{25}$`)

func TestIsULID(t *testing.T) {
	made := ident.NewGenerator(func() time.Time { return time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC) }).New()
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{made, true},
		{"01M8K9G17XM8W1VQSY6ATREJH0", true},
		{"7ZZZZZZZZZZZZZZZZZZZZZZZZZ", true},
		{"8ZZZZZZZZZZZZZZZZZZZZZZZZZ", false}, // beyond 48 bits of time
		{"01m8k9g17xm8w1vqsy6atrejh0", false}, // lower case
		{"01M8K9G17XM8W1VQSY6ATREJHI", false}, // I
		{"01M8K9G17XM8W1VQSY6ATREJHL", false}, // L
		{"01M8K9G17XM8W1VQSY6ATREJHO", false}, // O
		{"01M8K9G17XM8W1VQSY6ATREJHU", false}, // U
		{"01M8K9G17XM8W1VQSY6ATREJH", false},  // 25
		{"01M8K9G17XM8W1VQSY6ATREJH00", false},
		{"", false},
		{"01M8K9G17XM8W1VQSY6ATREJ\x00H", false},
		{"01M8K9G17XM8W1VQSY6ATRE/H0", false},
		{"01M8K9G17XM8W1VQSY6ATREJé", false},
	} {
		if got := ident.IsULID(tc.s); got != tc.want {
			t.Errorf("IsULID(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

// FuzzIsULID: IsULID answers as the regular expression the parsers used before it.
func FuzzIsULID(f *testing.F) {
	for _, s := range []string{"01M8K9G17XM8W1VQSY6ATREJH0", "8ZZZZZZZZZZZZZZZZZZZZZZZZZ", strings.Repeat("0", 26), "", "01M8K9G17XM8W1VQSY6ATREJHI"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ident.IsULID(s), ulidText.MatchString(s); got != want {
			t.Errorf("IsULID(%q) = %v, the expression says %v", s, got, want)
		}
	})
}
