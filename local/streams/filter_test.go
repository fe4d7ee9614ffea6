package streams

import (
	"encoding/json"
	"testing"
)

func TestFilterMatch(t *testing.T) {
	rec := func(s string) map[string]any {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	insertAdded := rec(`{"eventName":"INSERT","dynamodb":{"NewImage":{"type":{"S":"CONTACT_ADDED"},"tags":{"SS":["a","b"]}}}}`)
	modify := rec(`{"eventName":"MODIFY","dynamodb":{"NewImage":{"type":{"S":"CONTACT_ADDED"}}}}`)
	noImage := rec(`{"eventName":"REMOVE","dynamodb":{"Keys":{"pk":{"S":"x"}}}}`)
	tests := []struct {
		name    string
		pattern string
		rec     map[string]any
		want    bool
	}{
		{"event name in list", `{"eventName":["INSERT","MODIFY"]}`, insertAdded, true},
		{"event name not in list", `{"eventName":["INSERT"]}`, modify, false},
		{"nested attribute value", `{"dynamodb":{"NewImage":{"type":{"S":["CONTACT_ADDED","CONTACT_MERGED"]}}}}`, insertAdded, true},
		{"nested attribute other value", `{"dynamodb":{"NewImage":{"type":{"S":["CONTACT_MERGED"]}}}}`, insertAdded, false},
		{"nested attribute absent", `{"dynamodb":{"NewImage":{"type":{"S":["CONTACT_ADDED"]}}}}`, noImage, false},
		{"both keys must match", `{"eventName":["INSERT"],"dynamodb":{"NewImage":{"type":{"S":["CONTACT_ADDED"]}}}}`, modify, false},
		{"prefix", `{"dynamodb":{"NewImage":{"type":{"S":[{"prefix":"CONTACT_"}]}}}}`, insertAdded, true},
		{"suffix", `{"dynamodb":{"NewImage":{"type":{"S":[{"suffix":"_MERGED"}]}}}}`, insertAdded, false},
		{"anything-but", `{"eventName":[{"anything-but":["REMOVE"]}]}`, insertAdded, true},
		{"anything-but excluded", `{"eventName":[{"anything-but":"REMOVE"}]}`, noImage, false},
		{"exists true", `{"dynamodb":{"NewImage":[{"exists":true}]}}`, insertAdded, true},
		{"exists false", `{"dynamodb":{"NewImage":[{"exists":false}]}}`, noImage, true},
		{"equals-ignore-case", `{"eventName":[{"equals-ignore-case":"insert"}]}`, insertAdded, true},
		{"value in a set", `{"dynamodb":{"NewImage":{"tags":{"SS":["b"]}}}}`, insertAdded, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseFilter(tc.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Match(tc.rec); got != tc.want {
				t.Errorf("Match = %v, want %v", got, tc.want)
			}
		})
	}
}
