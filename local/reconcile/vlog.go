package reconcile

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/contrail/contrail/shared/tenant"
	"github.com/contrail/contrail/shared/vlog"
)

// The sequencer's documented bounds (docs/verifying.md, "Delays"): an event is in a signed
// checkpoint within 5 minutes of being written in AWS, within 30 s on the local stack.
const (
	SequencedWithinAWS   = 5 * time.Minute
	SequencedWithinLocal = 30 * time.Second
)

// LogName names the verifiable log in the counts and findings.
const LogName = "the log"

// VerifiableLog reads the tenant's verifiable log (shared/vlog's append records in LogTable:
// each leaf's event id, occurred_at and record hash).
type VerifiableLog struct {
	Log *vlog.Log
	// SequencedWithin is the sequencer's bound: an event recorded less than this before the
	// reading and not in the log yet is "not yet sequenced" (a note), an older one is missing.
	SequencedWithin time.Duration
}

// LogSummary is what the log held for the reconciliation.
type LogSummary struct {
	Size           int64     // leaves in the whole log
	CheckpointSize int64     // the last signed checkpoint's size
	CheckpointAt   time.Time // and signing time (zero: none)
	Leaves         int       // leaves of the period
	// Pending are the ids of the period's events recorded within SequencedWithin and not in
	// the log yet: it is not settled until they are.
	Pending []string
}

// unknownType is the type the log's count gives a leaf whose event neither store holds.
const unknownType = "(in neither store)"

// compareLog compares the log's leaves of the period with the events of DynamoDB and the
// archive: events it does not hold (missing once the sequencer's bound has passed), events
// it holds twice, leaves whose event neither store holds, and leaves whose record hash is not
// the hash of the leaf rebuilt from the archived event (vlog.Leaf).
func (c *Checker) compareLog(ctx context.Context, res *Result, t tenant.ID, from, to, now time.Time, ddb, arch Events) error {
	byID := map[string][]vlog.LeafRecord{}
	head, err := c.Log.Log.EachLeaf(ctx, t, from, to, func(l vlog.LeafRecord) error {
		byID[l.EventID] = append(byID[l.EventID], l)
		res.Log.Leaves++
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the verifiable log of tenant %s: %w", t, err)
	}
	res.Log.Size, res.Log.CheckpointSize = head.Size, head.CheckpointSize
	if head.CheckpointAt > 0 {
		res.Log.CheckpointAt = time.Unix(head.CheckpointAt, 0).UTC()
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	counts := map[string]int{}
	var twice, neither, altered []string
	for _, id := range ids {
		ls := byID[id]
		d, inDDB := ddb[id]
		a, inArch := arch[id]
		switch {
		case inDDB:
			counts[d.Type] += len(ls)
		case inArch:
			counts[a.Type] += len(ls)
		default:
			counts[unknownType] += len(ls)
		}
		if len(ls) > 1 {
			idx := make([]string, len(ls))
			for i, l := range ls {
				idx[i] = fmt.Sprint(l.Index)
			}
			twice = append(twice, fmt.Sprintf("%s (leaves %s)", id, strings.Join(idx, ", ")))
		}
		if !inDDB && !inArch {
			neither = append(neither, fmt.Sprintf("%s (leaf %d)", id, ls[0].Index))
		}
		for _, l := range ls {
			if inArch && l.Hash != a.Leaf {
				altered = append(altered, fmt.Sprintf("%s (leaf %d)", id, l.Index))
			}
		}
	}
	res.Sources = append(res.Sources, LogName)
	res.Counts[LogName] = counts

	// The events the log should hold: every event either store has of the period.
	var missing []string
	stored := Events{}
	for id, e := range arch {
		stored[id] = e
	}
	for id, e := range ddb {
		stored[id] = e
	}
	for _, id := range stored.ids() {
		if _, ok := byID[id]; ok {
			continue
		}
		if now.Sub(stored[id].RecordedAt) < c.Log.SequencedWithin {
			res.Log.Pending = append(res.Log.Pending, id)
		} else {
			missing = append(missing, id)
		}
	}
	bound := c.Log.SequencedWithin.String()
	if len(missing) > 0 {
		res.diff(fmt.Sprintf("in DynamoDB or the archive, not in the log, recorded more than the sequencer's %s ago: %s", bound, events(len(missing))), missing)
	}
	if len(twice) > 0 {
		res.diff(fmt.Sprintf("in the log more than once (must never happen): %s", events(len(twice))), twice)
	}
	if len(neither) > 0 {
		res.diff(fmt.Sprintf("in the log, in neither DynamoDB nor the archive: %s", events(len(neither))), neither)
	}
	if len(altered) > 0 {
		res.diff(fmt.Sprintf("in the log with another stored form (the archived event's leaf hash is not the log's): %s", events(len(altered))), altered)
	}
	if len(res.Log.Pending) > 0 {
		res.note(fmt.Sprintf("not yet sequenced, recorded less than the sequencer's %s ago: %s", bound, events(len(res.Log.Pending))), res.Log.Pending)
	}
	return nil
}
