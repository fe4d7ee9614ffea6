package archive

import (
	"bytes"
	"context"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/tenant"
)

func rowsOf(t testing.TB, evs []audit.Event) []Row {
	t.Helper()
	out, err := FromEvents(evs)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool { return Less(&out[i], &out[j]) })
	return out
}

// putPart writes rows as the archiver would (one part per call).
func putPart(t testing.TB, st Store, tenant tenant.ID, date string, rows []Row) string {
	t.Helper()
	rows = append([]Row(nil), rows...)
	sort.Slice(rows, func(i, j int) bool { return Less(&rows[i], &rows[j]) })
	key, b, err := EncodePart(tenant, date, rows)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(context.Background(), key, b); err != nil {
		t.Fatal(err)
	}
	return key
}

func collect(t testing.TB, r *Reader, q Query) []Row {
	t.Helper()
	var out []Row
	if err := r.Scan(context.Background(), q, func(row *Row) error {
		out = append(out, *row)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReaderScan(t *testing.T) {
	st := &DirStore{Dir: t.TempDir()}
	const date = "2026-11-29"
	all := rowsOf(t, sampleEvents(t, 2, "acme", date, 300))
	// Overlapping parts: every event at least once, some twice.
	putPart(t, st, "acme", date, all[:120])
	putPart(t, st, "acme", date, all[100:250])
	putPart(t, st, "acme", date, all[240:])
	putPart(t, st, "acme", date, all[10:20])
	putPart(t, st, "other", date, rowsOf(t, sampleEvents(t, 3, "other", date, 20)))

	day := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	r := &Reader{Store: st, Parallel: 2}
	from, to := day.Add(5*time.Hour+30*time.Minute), day.Add(17*time.Hour)
	inRange := func(rows []Row) []Row {
		var out []Row
		for _, x := range rows {
			if x.OccurredAt >= from.UnixMilli() && x.OccurredAt < to.UnixMilli() {
				out = append(out, x)
			}
		}
		return out
	}
	project := func(rows []Row) []Row {
		out := make([]Row, len(rows))
		for i, x := range rows {
			out[i] = Row{EventID: x.EventID, OccurredAt: x.OccurredAt, Type: x.Type, ContactName: x.ContactName}
		}
		return out
	}
	onlyTypes := func(rows []Row, types ...string) []Row {
		var out []Row
		for _, x := range rows {
			for _, ty := range types {
				if x.Type == ty {
					out = append(out, x)
				}
			}
		}
		return out
	}
	reversed := func(rows []Row) []Row {
		out := append([]Row(nil), rows...)
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
		return out
	}
	tests := []struct {
		name string
		q    Query
		want []Row
	}{
		{"whole day, every column", Query{Tenant: "acme", From: day, To: day.Add(24 * time.Hour)}, all},
		{"range across two dates", Query{Tenant: "acme", From: day.Add(-2 * time.Hour), To: day.Add(26 * time.Hour)}, all},
		{"time range", Query{Tenant: "acme", From: from, To: to}, inRange(all)},
		{"projection", Query{Tenant: "acme", From: from, To: to, Columns: []string{"type", "contact_name"}}, project(inRange(all))},
		{"types", Query{Tenant: "acme", From: day, To: day.Add(24 * time.Hour), Types: []string{"CONTACT_ADDED", "CONTACT_MERGED"}}, onlyTypes(all, "CONTACT_ADDED", "CONTACT_MERGED")},
		{"descending", Query{Tenant: "acme", From: from, To: to, Descending: true}, reversed(inRange(all))},
		{"no such tenant", Query{Tenant: "nobody", From: day, To: day.Add(24 * time.Hour)}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := collect(t, r, tc.q)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("rows (-want +got):\n%s", d)
			}
		})
	}
}

func TestRowGroupsSkippedByTime(t *testing.T) {
	const date = "2026-11-29"
	rows := rowsOf(t, sampleEvents(t, 4, "acme", date, RowGroupRows*2+100))
	b, err := Encode(rows, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := openFile("x", bytesObject{bytesReader(b)})
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	if n := f.pf.NumRowGroups(); n != 3 {
		t.Fatalf("row groups = %d, want 3", n)
	}
	last := rows[len(rows)-1].OccurredAt
	if got := f.rowGroups(last, 0, nil); !cmp.Equal(got, []int{2}) {
		t.Errorf("row groups for the last instant = %v, want [2]", got)
	}
	if got := f.rowGroups(0, rows[0].OccurredAt+1, nil); !cmp.Equal(got, []int{0}) {
		t.Errorf("row groups for the first instant = %v, want [0]", got)
	}
	if got := f.rowGroups(0, 0, []string{"ZZZ_NO_SUCH_TYPE"}); len(got) != 0 {
		t.Errorf("row groups for an absent type = %v, want none", got)
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// mustKey returns an archive key built from values the test knows are valid.
func mustKey(key string, err error) string {
	if err != nil {
		panic(err)
	}
	return key
}
