package vlog

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/contrail/contrail/shared/tenant"
)

// LeafRecord is what the log's append record holds of one leaf: its index, its event's id and
// occurred_at, and its record hash (tlog.RecordHash of the leaf's stored form, Leaf).
type LeafRecord struct {
	Index      int64
	EventID    string
	OccurredAt int64 // Unix ms
	Hash       tlog.Hash
}

// EachLeaf hands fn, in index order, every committed leaf of the tenant's log whose event
// occurred in [from, to), and returns the head it read (a tenant without a log has the empty
// head and no leaves). It only reads LogTable: Log.DB and Log.Table are all it needs.
func (l *Log) EachLeaf(ctx context.Context, t tenant.ID, from, to time.Time, fn func(LeafRecord) error) (Head, error) {
	st := l.state()
	head, _, err := st.head(ctx, t)
	if err != nil {
		return Head{}, err
	}
	first, next, start, err := st.periodLeaves(ctx, t, head.Size, from, to)
	if err != nil || first == next {
		return head, err
	}
	lo, hi := from.UnixMilli(), to.UnixMilli()
	err = st.eachAppend(ctx, t, start, next, "", func(r *appendRecord) error {
		for i, id := range r.IDs {
			n, at := r.Start+int64(i), r.Times[i]
			if n < first || n >= next || at < lo || at >= hi {
				continue
			}
			if err := fn(LeafRecord{Index: n, EventID: id, OccurredAt: at, Hash: hashOf(r.Hashes[i*tlog.HashSize:])}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return head, fmt.Errorf("read the leaves of %s: %w", t, err)
	}
	return head, nil
}

// periodLeaves finds, in the tree of the given size, the first leaf whose event occurred in
// [from, to), the leaf after the last one, and where the append holding the first starts,
// reading only the appends' times. Nothing in the period: first = next = start = size.
func (s *state) periodLeaves(ctx context.Context, t tenant.ID, size int64, from, to time.Time) (first, next, start int64, err error) {
	lo, hi := from.UnixMilli(), to.UnixMilli()
	first, next = -1, -1
	err = s.eachAppend(ctx, t, 0, size, "#start, #times", func(r *appendRecord) error {
		for i, at := range r.Times {
			if n := r.Start + int64(i); n < size && at >= lo && at < hi {
				if first < 0 {
					first, start = n, r.Start
				}
				next = n + 1
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, 0, err
	}
	if first < 0 {
		return size, size, size, nil
	}
	return first, next, start, nil
}
