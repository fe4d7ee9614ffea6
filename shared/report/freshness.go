package report

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/tenant"
)

// archivedThrough — what the overview claims, and why it is true.
//
// Claim: every event of the tenant recorded at or before archivedThrough whose occurredAt
// falls on the UTC date of the check or the day before is in the archive (and so counted by
// a report whose period holds it). That covers every event Contrail records itself
// (occurredAt = recordedAt) and ingested events up to a day late.
//
// Why: the archive cannot know on its own what the stream has not delivered yet (shards are
// processed independently; the newest recordedAt archived says nothing about a lagging
// shard). So the check asks the source: for each of the tenant's audit table partitions of
// today and yesterday (pk T#<tenant>#D#<day>#<shard>, one per write shard), it reads the
// newest items (key, id and recordedAt only) newest first and stops at the first one the archive
// holds. A partition's items reach the stream in write order and the archiver acknowledges
// them in order, so everything older in that partition is archived too. The unarchived items
// seen are the events still in flight; archivedThrough is just before the oldest of them,
// or, when there is none, the time of the check less commitSlack (a transaction stamped
// recordedAt before committing). This is a handful of key-range Queries, never a scan.
//
// Not covered, and said so in docs/reports.md: ingested events backdated by more than a day,
// and records the archiver gave up on (its on-failure queue, which alarms).

// commitSlack is how long after stamping recordedAt a writer's transaction may commit.
const commitSlack = 5 * time.Second

// maxHotItems bounds the walk of one partition; beyond it the archive is far behind (an
// incident) and the claim falls back to the oldest unarchived item seen.
const maxHotItems = 5000

type hotCheck struct {
	db     audit.QueryAPI // the audit table
	table  string
	shards int
}

// WithAuditTable lets the overview state archivedThrough by checking the audit table's
// newest items against the archive (needs dynamodb:Query on the table). Without it
// archivedThrough is null: the engine makes no claim it cannot back.
func (e *Engine) WithAuditTable(db audit.QueryAPI, table string, writeShards int) *Engine {
	e.hot = &hotCheck{db: db, table: table, shards: max(writeShards, 1)}
	return e
}

func (e *Engine) archivedThrough(ctx context.Context, tenant tenant.ID) (*string, error) {
	if e.hot == nil {
		return nil, nil
	}
	now := e.clock().UTC()
	today := dayStart(now)
	days := []time.Time{today.AddDate(0, 0, -1), today}

	// The archive's event ids, read lazily from the newest back to the oldest hot item that
	// needs checking (event_id only, row groups skipped by time): a busy tenant's check reads
	// minutes of ids, not two days.
	archived := &archivedIDs{e: e, tenant: tenant, floor: days[0], from: today.AddDate(0, 0, 1), to: today.AddDate(0, 0, 1), ids: map[string]struct{}{}}

	var (
		mu     sync.Mutex
		oldest int64 = -1 // ms of the oldest unarchived item
		wg     sync.WaitGroup
		errs   = make([]error, len(days)*e.hot.shards)
	)
	for di, d := range days {
		for s := 0; s < e.hot.shards; s++ {
			wg.Add(1)
			go func(i int, pk string) {
				defer wg.Done()
				o, err := e.hot.oldestUnarchived(ctx, pk, archived)
				if err != nil {
					errs[i] = err
					return
				}
				if o >= 0 {
					mu.Lock()
					if oldest < 0 || o < oldest {
						oldest = o
					}
					mu.Unlock()
				}
			}(di*e.hot.shards+s, audit.PK(tenant, d.Format(time.DateOnly), s))
		}
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("archivedThrough of %s: %w", tenant, err)
		}
	}
	through := now.Add(-commitSlack)
	if oldest >= 0 {
		if t := time.UnixMilli(oldest - 1).UTC(); t.Before(through) {
			through = t
		}
	}
	s := audit.FormatTime(through)
	return &s, nil
}

// archivedIDs knows the archive's event ids of a tenant for occurred_at in [from, to) and
// extends the range back on demand, never below floor.
type archivedIDs struct {
	e        *Engine
	tenant   tenant.ID
	floor    time.Time
	mu       sync.Mutex
	from, to time.Time
	ids      map[string]struct{}
}

// has reports whether the archive holds event id, which occurred at at.
func (a *archivedIDs) has(ctx context.Context, id string, at time.Time) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if at.Before(a.from) && a.from.After(a.floor) {
		// at least double the range at each step, so a long walk reads O(log n) times
		from := a.to.Add(-2 * a.to.Sub(a.from))
		if at.Before(from) {
			from = at.Truncate(time.Minute)
		}
		if from.Before(a.floor) {
			from = a.floor
		}
		err := a.e.reader.Scan(ctx, archive.Query{Tenant: a.tenant, From: from, To: a.from, Columns: []string{"event_id"}}, func(r *archive.Row) error {
			a.ids[strings.Clone(r.EventID)] = struct{}{}
			return nil
		})
		if err != nil {
			return false, err
		}
		a.from = from
	}
	_, ok := a.ids[id]
	return ok, nil
}

// oldestUnarchived walks partition pk newest first until an archived item and returns the
// oldest recordedAt (ms) of the unarchived items before it, -1 when there is none.
func (h *hotCheck) oldestUnarchived(ctx context.Context, pk string, archived *archivedIDs) (int64, error) {
	oldest := int64(-1)
	seen := 0
	in := &dynamodb.QueryInput{
		TableName:                aws.String(h.table),
		KeyConditionExpression:   aws.String("pk = :pk"),
		ExpressionAttributeNames: map[string]string{"#id": "id", "#r": "recordedAt", "#sk": "sk"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: pk},
		},
		ProjectionExpression: aws.String("#id, #r, #sk"),
		ScanIndexForward:     aws.Bool(false),
		Limit:                aws.Int32(100),
	}
	for {
		out, err := h.db.Query(ctx, in)
		if err != nil {
			return 0, fmt.Errorf("query audit partition %s: %w", pk, err)
		}
		for _, item := range out.Items {
			id, _ := item["id"].(*types.AttributeValueMemberS)
			rec, _ := item["recordedAt"].(*types.AttributeValueMemberS)
			sk, _ := item["sk"].(*types.AttributeValueMemberS)
			if id == nil || rec == nil || sk == nil {
				continue // not an event item
			}
			occ, _, _ := strings.Cut(sk.Value, "#") // sk = <occurredAt>#<id>
			at, err := audit.ParseTime(occ)
			if err != nil {
				continue
			}
			ok, err := archived.has(ctx, id.Value, at)
			if err != nil {
				return 0, err
			}
			if ok {
				return oldest, nil
			}
			t, err := audit.ParseTime(rec.Value)
			if err != nil {
				continue
			}
			if ms := t.UnixMilli(); oldest < 0 || ms < oldest {
				oldest = ms
			}
			seen++
			if seen >= maxHotItems {
				slog.WarnContext(ctx, "archive far behind the audit table", "partition", pk, "unarchived_items", seen)
				return oldest, nil
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return oldest, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
