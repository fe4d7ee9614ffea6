package audit

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/env"
)

// The audit table settings every writer reads, with the template parameters' bounds.
func TestReadStore(t *testing.T) {
	vars := map[string]string{
		"AUDIT_TABLE": "audit", "AUDIT_WRITE_SHARDS": "8", "RETENTION_CONTACT_DAYS": "400",
		"RETENTION_PLATFORM_DAYS": "365", "RETENTION_ACCESS_DAYS": "730", "RETENTION_COBROWSE_DAYS": "30",
	}
	r := env.Reader{Lookup: env.Map(vars)}
	got := ReadStore(&r)
	want := StoreConfig{Table: "audit", Shards: 8, Retention: RetentionDays(400, 365, 730, 30)}
	if d := cmp.Diff(want, got); d != "" || r.Err() != nil {
		t.Errorf("ReadStore (-want +got):\n%s%v", d, r.Err())
	}
	if got.Keys() != (Keys{Shards: 8}) {
		t.Errorf("Keys = %+v", got.Keys())
	}

	// Reading events needs no retention.
	r = env.Reader{Lookup: env.Map(vars)}
	if got := ReadTable(&r); got.Table != "audit" || got.Shards != 8 || got.Retention != nil {
		t.Errorf("ReadTable = %+v", got)
	}
	if d := cmp.Diff([]string{"AUDIT_TABLE", "AUDIT_WRITE_SHARDS"}, r.Names()); d != "" {
		t.Errorf("ReadTable reads (-want +got):\n%s", d)
	}

	for _, bad := range []struct{ name, value, problem string }{
		{"AUDIT_WRITE_SHARDS", "33", `AUDIT_WRITE_SHARDS="33" is not an integer in [1, 32]`},
		{"RETENTION_ACCESS_DAYS", "0", `RETENTION_ACCESS_DAYS="0" is not an integer in [1, 36500]`},
		{"RETENTION_COBROWSE_DAYS", "36501", `RETENTION_COBROWSE_DAYS="36501" is not an integer in [1, 36500]`},
		{"AUDIT_TABLE", "", "AUDIT_TABLE is not set"},
	} {
		set := map[string]string{bad.name: bad.value}
		for k, v := range vars {
			if k != bad.name {
				set[k] = v
			}
		}
		r := env.Reader{Lookup: env.Map(set)}
		ReadStore(&r)
		if err := r.Err(); err == nil || err.Error() != "configuration: "+bad.problem {
			t.Errorf("%s=%q: %v, want %s", bad.name, bad.value, err, bad.problem)
		}
	}
}

// A store configuration's writer writes into its table with its shards and retention.
func TestStoreConfigWriter(t *testing.T) {
	c := StoreConfig{Table: "audit", Shards: 8, Retention: RetentionDays(400, 365, 730, 30)}
	got := c.Writer(nil)
	want := &Writer{Table: "audit", Keys: Keys{Shards: 8}, Retention: RetentionDays(400, 365, 730, 30)}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("writer (-want +got):\n%s", d)
	}
}
