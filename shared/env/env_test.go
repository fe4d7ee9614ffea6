package env

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReaderValues(t *testing.T) {
	r := Reader{Lookup: Map(map[string]string{
		"TABLE": " contacts ", "SHARDS": "4", "EMPTY": "  ", "PATH_STYLE": "TRUE", "OFF": "false", "SET": "x",
	})}
	type values struct {
		Table, Empty, Missing, Set string
		Shards                     int
		PathStyle, Off, Unset      bool
	}
	got := values{
		Table: r.String("TABLE"), Shards: r.Int("SHARDS", 1, 32),
		Empty: r.Optional("EMPTY", "def"), Missing: r.Optional("MISSING", "def"), Set: r.Optional("SET", "def"),
		PathStyle: r.Bool("PATH_STYLE", false), Off: r.Bool("OFF", true), Unset: r.Bool("UNSET", true),
	}
	want := values{Table: "contacts", Shards: 4, Empty: "def", Missing: "def", Set: "x", PathStyle: true, Off: false, Unset: true}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("values (-want +got):\n%s", d)
	}
	if err := r.Err(); err != nil {
		t.Errorf("Err = %v", err)
	}
	// Every name read once, sorted, whether set or not.
	r.String("TABLE")
	wantNames := []string{"EMPTY", "MISSING", "OFF", "PATH_STYLE", "SET", "SHARDS", "TABLE", "UNSET"}
	if d := cmp.Diff(wantNames, r.Names()); d != "" {
		t.Errorf("Names (-want +got):\n%s", d)
	}
}

// Every problem is in one message, in the order read, naming the variable and its value.
func TestReaderProblems(t *testing.T) {
	r := Reader{Lookup: Map(map[string]string{"SHARDS": "40", "DAYS": "x", "PATH_STYLE": "yes", "FROM": "nobody"})}
	r.String("TABLE")
	r.Int("SHARDS", 1, 32)
	r.Int("DAYS", 1, 36500)
	r.Int("UNSET_INT", 1, 2)
	r.Bool("PATH_STYLE", false)
	r.Invalid("FROM", r.String("FROM"), "is not an email address")
	want := `configuration: TABLE is not set; SHARDS="40" is not an integer in [1, 32]; DAYS="x" is not an integer in [1, 36500]; ` +
		`UNSET_INT is not set; PATH_STYLE="yes" is not true or false; FROM="nobody" is not an email address`
	err := r.Err()
	if err == nil || err.Error() != want {
		t.Fatalf("Err = %v\nwant %s", err, want)
	}
	defer func() {
		if p := recover(); p != want {
			t.Errorf("Must panicked with %v, want %s", p, want)
		}
	}()
	r.Must()
}

func TestLoad(t *testing.T) {
	t.Setenv("CONTRAIL_ENV_TEST_TABLE", "contacts")
	type config struct{ Table string }
	read := func(r *Reader) config { return config{Table: r.String("CONTRAIL_ENV_TEST_TABLE")} }
	if got := Load(read); got.Table != "contacts" {
		t.Errorf("Load = %+v", got)
	}
	defer func() {
		if p := recover(); p != "configuration: CONTRAIL_ENV_TEST_UNSET is not set" {
			t.Errorf("Load of an unset variable panicked with %v", p)
		}
	}()
	Load(func(r *Reader) string { return r.String("CONTRAIL_ENV_TEST_UNSET") })
	t.Error("Load of an unset variable returned")
}
