package vlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-lambda-go/events"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/tenant"
)

// Sequencer appends the events the archiver recorded under sequence/ to their tenants'
// logs. It reads no stream: the audit table's stream has its two readers already (the
// archiver and the mailer; AWS advises at most two a shard), and the archiver's parts are
// the events in the stored form a leaf is made of.
type Sequencer struct {
	Log *Log
	// MaxConflicts is how often a tenant's append is retried after another writer moved its
	// head in the same run; 0 means 3.
	MaxConflicts int
	// MaxMarkers bounds the markers of one tenant a run takes, oldest first, so that a backlog
	// (after an outage) is worked off over several runs, each within the function's timeout,
	// rather than retried whole; 0 means 500 (a million events at most).
	MaxMarkers int
	// Parallel is how many tenants are sequenced at once; 0 means 4. Each tenant's log has
	// its own head, so their appends do not contend.
	Parallel int

	// previousKeys are the verifier keys of earlier signing secrets; with the current one
	// they are recorded in LogTable by the first invocation of the process (HandleSchedule), not
	// at cold start: a start makes no writes, and a failed write fails one run, not the process.
	previousKeys  []string
	keysPublished bool
}

// Run does one pass: complete every log (tiles, checkpoints, hourly heartbeats), then for
// each tenant with markers append their events in the order the markers were recorded and
// delete the markers. A tenant that fails keeps its markers for the next run; the others go
// on. The error joins every tenant's failure.
func (s *Sequencer) Run(ctx context.Context) error {
	l := s.Log
	var errs []error
	if err := l.Heartbeat(ctx); err != nil {
		errs = append(errs, err)
	}
	objs, err := l.Archive.List(ctx, archive.SequencePrefix)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	markers := map[tenant.ID][]string{}
	var order []tenant.ID
	for _, o := range objs {
		t, ok := archive.ParseSequenceKey(o.Key)
		if !ok {
			l.log().WarnContext(ctx, "sequence marker names no tenant; left for an operator", "key", o.Key)
			continue
		}
		if _, seen := markers[t]; !seen {
			order = append(order, t)
		}
		markers[t] = append(markers[t], o.Key)
	}
	most := s.MaxMarkers
	if most <= 0 {
		most = 500
	}
	parallel := s.Parallel
	if parallel <= 0 {
		parallel = 4
	}
	err = inBatches(len(order), 1, parallel, func(i, _ int) error {
		t := order[i]
		keys := markers[t]
		if len(keys) > most {
			l.log().WarnContext(ctx, "sequence backlog: the oldest markers now, the rest next run", "tenant_id", t, "markers", len(keys), "now", most)
			keys = keys[:most]
		}
		if err := s.sequence(ctx, t, keys); err != nil {
			l.log().ErrorContext(ctx, "tenant's events not sequenced; its markers stay for the next run", "tenant_id", t, "error", err.Error())
			return err
		}
		return nil
	})
	return errors.Join(append(errs, err)...)
}

// sequence appends the events of one tenant's markers (keys in recorded order).
func (s *Sequencer) sequence(ctx context.Context, t tenant.ID, keys []string) error {
	var es []Entry
	for _, k := range keys {
		got, err := s.entries(ctx, t, k)
		if err != nil {
			return err
		}
		es = append(es, got...)
	}
	tries := s.MaxConflicts
	if tries <= 0 {
		tries = 3
	}
	for i := 0; ; i++ {
		added, err := s.Log.Append(ctx, t, es)
		if errors.Is(err, ErrConflict) && i < tries {
			s.Log.log().WarnContext(ctx, "another sequencer appended meanwhile; appending again", "tenant_id", t)
			continue
		}
		if err != nil {
			return err
		}
		s.Log.log().InfoContext(ctx, "events sequenced", "tenant_id", t, "markers", len(keys), "events", len(es), "added", added)
		break
	}
	// Only now: a crash before this line leaves the markers, and the rerun appends nothing twice.
	if err := s.Log.step("markers"); err != nil {
		return err
	}
	return s.Log.Archive.Delete(ctx, keys)
}

// entries reads one marker's events from its part, or, once the compactor merged the part
// away, from the tenant-day, keeping the marker's ids in the marker's order.
func (s *Sequencer) entries(ctx context.Context, t tenant.ID, key string) ([]Entry, error) {
	st := s.Log.Archive
	b, err := st.Get(ctx, key)
	if errors.Is(err, archive.ErrNotFound) {
		return nil, nil // another run sequenced it and deleted it since this one listed it
	}
	if err != nil {
		return nil, fmt.Errorf("read sequence marker %s: %w", key, err)
	}
	var m archive.SequenceMarker
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("read sequence marker %s: %w", key, err)
	}
	if pt, _, ok := archive.ParseTenantDay(m.Part); !ok || pt != t {
		return nil, fmt.Errorf("sequence marker %s names part %q of another tenant or none", key, m.Part)
	}
	want := make(map[string]int, len(m.EventIDs))
	for i, id := range m.EventIDs {
		want[id] = i
	}
	out := make([]Entry, len(m.EventIDs))
	found := 0
	add := func(r *archive.Row) error {
		i, ok := want[r.EventID]
		if !ok || out[i].Leaf != nil {
			return nil
		}
		e, err := NewEntry(r)
		if err != nil {
			return err
		}
		out[i] = e
		found++
		return nil
	}
	part, err := st.Get(ctx, m.Part)
	switch {
	case err == nil:
		rows, err := archive.Decode(part)
		if err != nil {
			return nil, fmt.Errorf("read part %s: %w", m.Part, err)
		}
		for i := range rows {
			if err := add(&rows[i]); err != nil {
				return nil, err
			}
		}
	case errors.Is(err, archive.ErrNotFound):
		// Compacted away: the day holds the events now.
		r := &archive.Reader{Store: st}
		if err := r.ScanDay(ctx, t, m.Date, nil, add); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("read part %s: %w", m.Part, err)
	}
	if found != len(out) {
		missing := slices.DeleteFunc(slices.Clone(m.EventIDs), func(id string) bool { return out[want[id]].Leaf != nil })
		return nil, fmt.Errorf("sequence marker %s: %d events are in neither the part nor its day, e.g. %s", key, len(missing), missing[0])
	}
	return out, nil
}

// HandleSchedule is the scheduled function's handler: one Run. Its error (some tenant's
// events not sequenced: they stay marked for the next run) fails the invocation, so it shows
// in the function's error metric.
func (s *Sequencer) HandleSchedule(ctx context.Context, _ events.CloudWatchEvent) error {
	if !s.keysPublished {
		if err := s.Log.PublishKey(ctx, s.previousKeys...); err != nil {
			return fmt.Errorf("publish verifier key: %w", err)
		}
		s.keysPublished = true
	}
	return s.Run(ctx)
}
