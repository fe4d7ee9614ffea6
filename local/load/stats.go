package load

// The pure accounting of a run: the Zipf pick of a tenant, latency percentiles, and the
// archive's lag (the oldest acknowledged event not yet in the Parquet archive).

import (
	"maps"
	"math"
	"slices"
	"sort"
	"time"
)

// Zipf picks an index in [0, n) with probability proportional to 1/(i+1)^s: index 0, the hot
// tenant, gets the largest share, and each next one less.
type Zipf struct {
	cum []float64 // cumulative shares, the last 1
}

// NewZipf returns the distribution over n indexes with exponent s (n >= 1, s >= 0; s = 0 is
// uniform).
func NewZipf(n int, s float64) Zipf {
	n = max(n, 1)
	cum := make([]float64, n)
	total := 0.0
	for i := range n {
		total += 1 / math.Pow(float64(i+1), s)
		cum[i] = total
	}
	for i := range cum {
		cum[i] /= total
	}
	cum[n-1] = 1
	return Zipf{cum: cum}
}

// Pick maps u, uniform in [0, 1), to an index: the first whose cumulative share exceeds u.
func (z Zipf) Pick(u float64) int {
	i := sort.Search(len(z.cum), func(i int) bool { return z.cum[i] > u })
	return min(i, len(z.cum)-1)
}

// Share is index i's expected share of the picks.
func (z Zipf) Share(i int) float64 {
	if i == 0 {
		return z.cum[0]
	}
	return z.cum[i] - z.cum[i-1]
}

// Percentile is the nearest-rank p-th percentile (0 < p <= 100) of ds: the smallest value
// at least p% of ds are at or below. 0 for none. ds need not be sorted; it is not changed.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

// Lag accounts for the events the API acknowledged until the archive holds them. An event
// may be seen in the archive before its acknowledgement is recorded (the archiver is fast,
// the caller slow): it is then never pending.
type Lag struct {
	pending  map[string]time.Time // acknowledged, not archived: id -> when acknowledged
	archived map[string]bool      // seen in the archive
	acked    int
}

// NewLag returns an empty account.
func NewLag() *Lag { return &Lag{pending: map[string]time.Time{}, archived: map[string]bool{}} }

// Acked records ids acknowledged at at.
func (l *Lag) Acked(at time.Time, ids ...string) {
	for _, id := range ids {
		l.acked++
		if !l.archived[id] {
			l.pending[id] = at
		}
	}
}

// Archived records that the archive holds id.
func (l *Lag) Archived(id string) {
	l.archived[id] = true
	delete(l.pending, id)
}

// Oldest returns the age at now of the oldest event acknowledged by now and not yet
// archived (0 when none is pending), and how many such events there are. now is the moment
// the archive was listed: an event acknowledged after it may be archived and not listed yet.
func (l *Lag) Oldest(now time.Time) (time.Duration, int) {
	var oldest time.Time
	n := 0
	for _, at := range l.pending {
		if at.After(now) {
			continue
		}
		n++
		if oldest.IsZero() || at.Before(oldest) {
			oldest = at
		}
	}
	if n == 0 {
		return 0, 0
	}
	return now.Sub(oldest), n
}

// Pending returns the ids acknowledged and not archived, sorted.
func (l *Lag) Pending() []string {
	return slices.Sorted(maps.Keys(l.pending))
}

// Acknowledged is how many acknowledgements were recorded.
func (l *Lag) Acknowledged() int { return l.acked }

// Sample is the archive's lag at one moment of the run.
type Sample struct {
	At      time.Duration // since the load began
	Lag     time.Duration // age of the oldest acknowledged event not yet archived
	Pending int           // acknowledged events not yet archived
	Load1   float64       // the machine's 1-minute load average then (0 where unknown)
}

// MaxLag is the largest lag of samples, and when it was seen.
func MaxLag(samples []Sample) Sample {
	var m Sample
	for _, s := range samples {
		if s.Lag > m.Lag {
			m = s
		}
	}
	return m
}
