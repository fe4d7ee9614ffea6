package load

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestZipfPick(t *testing.T) {
	// n = 3, s = 1: weights 1, 1/2, 1/3 of 11/6: shares 6/11, 3/11, 2/11; cumulative 6/11, 9/11, 1.
	tests := []struct {
		name string
		n    int
		s    float64
		u    []float64
		want []int
	}{
		{"one tenant takes everything", 1, 1.1, []float64{0, 0.5, 0.999}, []int{0, 0, 0}},
		{"n=3 s=1 at the boundaries", 3, 1, []float64{0, 6.0/11 - 1e-9, 6.0/11 + 1e-9, 9.0/11 - 1e-9, 9.0/11 + 1e-9, 0.999999}, []int{0, 0, 1, 1, 2, 2}},
		{"s=0 is uniform", 4, 0, []float64{0.1, 0.3, 0.6, 0.9}, []int{0, 1, 2, 3}},
		{"no tenant counts as one", 0, 1, []float64{0.7}, []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := NewZipf(tt.n, tt.s)
			got := make([]int, len(tt.u))
			for i, u := range tt.u {
				got[i] = z.Pick(u)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("picks (-want +got):\n%s", d)
			}
		})
	}
}

func TestZipfShare(t *testing.T) {
	tests := []struct {
		name string
		n    int
		s    float64
		want []float64
	}{
		{"n=3 s=1", 3, 1, []float64{6.0 / 11, 3.0 / 11, 2.0 / 11}},
		{"n=2 s=2", 2, 2, []float64{0.8, 0.2}},
		{"uniform", 4, 0, []float64{0.25, 0.25, 0.25, 0.25}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := NewZipf(tt.n, tt.s)
			got := make([]float64, tt.n)
			for i := range got {
				got[i] = z.Share(i)
			}
			if d := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) < 1e-12 })); d != "" {
				t.Errorf("shares (-want +got):\n%s", d)
			}
		})
	}
}

// TestZipfDraws checks that seeded draws land near each tenant's share: the load's hot
// tenant is hot.
func TestZipfDraws(t *testing.T) {
	z := NewZipf(20, 1.1)
	rng := rand.New(rand.NewPCG(1, 2))
	counts := make([]int, 20)
	const n = 200000
	for range n {
		counts[z.Pick(rng.Float64())]++
	}
	for i, c := range counts {
		if got, want := float64(c)/n, z.Share(i); math.Abs(got-want) > 0.005 {
			t.Errorf("tenant %d: drawn %.4f of the picks, share %.4f", i, got, want)
		}
	}
}

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name string
		ds   []time.Duration
		p    float64
		want time.Duration
	}{
		{"none", nil, 50, 0},
		{"one", ms(7), 99, 7 * time.Millisecond},
		{"p50 of an odd count, unsorted", ms(5, 1, 3), 50, 3 * time.Millisecond},
		{"p50 of an even count is the lower middle", ms(4, 1, 3, 2), 50, 2 * time.Millisecond},
		{"p99 of 100 is the 99th", ms(seq(100)...), 99, 99 * time.Millisecond},
		{"p99 of 10 is the largest", ms(seq(10)...), 99, 10 * time.Millisecond},
		{"p100 is the max", ms(3, 9, 1), 100, 9 * time.Millisecond},
		{"a tiny p is the min", ms(3, 9, 1), 0.1, time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := append([]time.Duration(nil), tt.ds...)
			if got := Percentile(tt.ds, tt.p); got != tt.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tt.ds, tt.p, got, tt.want)
			}
			if d := cmp.Diff(before, tt.ds); d != "" {
				t.Errorf("Percentile changed its input:\n%s", d)
			}
		})
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

func TestLag(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	type step struct {
		acked    []string // acknowledged at at
		archived []string
		at       time.Duration
	}
	tests := []struct {
		name        string
		steps       []step
		now         time.Duration
		wantLag     time.Duration
		wantPending []string
		wantAcked   int
	}{
		{"nothing acknowledged", nil, 5 * time.Second, 0, nil, 0},
		{"the oldest pending decides", []step{{acked: []string{"a", "b"}}, {acked: []string{"c"}, at: 2 * time.Second}}, 5 * time.Second, 5 * time.Second, []string{"a", "b", "c"}, 3},
		{"archived events leave", []step{{acked: []string{"a", "b"}}, {acked: []string{"c"}, at: 2 * time.Second}, {archived: []string{"a", "b"}}}, 5 * time.Second, 3 * time.Second, []string{"c"}, 3},
		{"all archived: no lag", []step{{acked: []string{"a"}}, {archived: []string{"a", "x"}}}, 9 * time.Second, 0, nil, 1},
		{"acknowledged after the listing: not counted yet", []step{{acked: []string{"a"}}, {acked: []string{"b"}, at: 6 * time.Second}}, 5 * time.Second, 5 * time.Second, []string{"a", "b"}, 2},
		{"archived before its acknowledgement was recorded", []step{{archived: []string{"a"}}, {acked: []string{"a", "b"}, at: time.Second}}, 4 * time.Second, 3 * time.Second, []string{"b"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewLag()
			for _, s := range tt.steps {
				l.Acked(t0.Add(s.at), s.acked...)
				for _, id := range s.archived {
					l.Archived(id)
				}
			}
			lag, pending := l.Oldest(t0.Add(tt.now))
			got := struct {
				Lag     time.Duration
				N       int
				Pending []string
				Acked   int
			}{lag, pending, l.Pending(), l.Acknowledged()}
			wantN := 0
			for _, id := range tt.wantPending {
				if l.pending[id].Compare(t0.Add(tt.now)) <= 0 {
					wantN++
				}
			}
			want := struct {
				Lag     time.Duration
				N       int
				Pending []string
				Acked   int
			}{tt.wantLag, wantN, tt.wantPending, tt.wantAcked}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestMaxLagAndSeries(t *testing.T) {
	s := func(at, lag int) Sample {
		return Sample{At: time.Duration(at) * time.Second, Lag: time.Duration(lag) * time.Second}
	}
	tests := []struct {
		name       string
		samples    []Sample
		wantMax    Sample
		wantSeries string
	}{
		{"none", nil, Sample{}, ""},
		{"the first of equal maxima", []Sample{s(5, 1), s(10, 4), s(15, 4), s(20, 2)}, s(10, 4), " 5: 1.0"},
		{"one a period", []Sample{s(5, 1), s(10, 2), s(31, 3), s(35, 9), s(61, 0), s(95, 1)}, s(35, 9), " 5: 1.0, 31: 3.0, 61: 0.0, 95: 1.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.wantMax, MaxLag(tt.samples)); d != "" {
				t.Errorf("MaxLag (-want +got):\n%s", d)
			}
			if got := series(tt.samples, 30*time.Second); got != tt.wantSeries {
				t.Errorf("series = %q, want %q", got, tt.wantSeries)
			}
		})
	}
}

func TestPickAction(t *testing.T) {
	// The first action's weight is its range of draws; the last takes what is left.
	first, last := actions[0], actions[len(actions)-1]
	tests := []struct {
		u    int
		want string
	}{
		{0, first.name},
		{first.weight - 1, first.name},
		{first.weight, actions[1].name},
		{totalWeight() - 1, last.name},
	}
	for _, tt := range tests {
		if got := actions[pickAction(tt.u)].name; got != tt.want {
			t.Errorf("pickAction(%d) = %s, want %s", tt.u, got, tt.want)
		}
	}
}

func TestTakeAndPut(t *testing.T) {
	ts := &tenantState{}
	ts.put(&ts.active, "a", "b", "c")
	rng := rand.New(rand.NewPCG(1, 1))
	if got := ts.take(&ts.active, 4, rng); got != nil {
		t.Fatalf("take 4 of 3 = %v, want nil", got)
	}
	got := ts.take(&ts.active, 2, rng)
	left := append([]string(nil), ts.active...)
	all := append(append([]string(nil), got...), left...)
	if d := cmp.Diff([]string{"a", "b", "c"}, all, cmpopts.SortSlices(func(a, b string) bool { return a < b })); d != "" || len(got) != 2 {
		t.Errorf("take 2: took %v, left %v", got, left)
	}
}

func TestLoadRange(t *testing.T) {
	tests := []struct {
		name            string
		loads           []float64
		lo, hi, meanVal float64
	}{
		{"none known", []float64{0, 0}, 0, 0, 0},
		{"unknown samples left out", []float64{0, 4, 2, 0, 6}, 2, 6, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var samples []Sample
			for _, l := range tt.loads {
				samples = append(samples, Sample{Load1: l})
			}
			lo, hi, mean := loadRange(samples)
			if d := cmp.Diff([]float64{tt.lo, tt.hi, tt.meanVal}, []float64{lo, hi, mean}); d != "" {
				t.Errorf("low, high, mean (-want +got):\n%s", d)
			}
		})
	}
}
