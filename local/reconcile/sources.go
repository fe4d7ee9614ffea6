package reconcile

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/tenant"
	"github.com/contrail/contrail/shared/vlog"
	"github.com/contrail/contrail/shared/vlog/bundle"
)

// Source is one place that holds a tenant's events: the audit table, the archive. The checker
// compares every source with the audit table, id by id and type by type; a new source is one
// more value in Checker.Sources. (The verifiable log is not a Source: it holds leaves, which
// can repeat, and no types; Checker.Log compares it.)
type Source interface {
	// Name names the source in the printed differences: "DynamoDB", "the archive".
	Name() string
	// Events returns the distinct events of tenant with an occurredAt in [from, to).
	Events(ctx context.Context, t tenant.ID, from, to time.Time) (Events, error)
}

// Event is what reconciliation compares of one event.
type Event struct {
	Type       string
	Category   string
	OccurredAt time.Time
	// RecordedAt is when it was written: the sequencer's bound runs from then.
	RecordedAt time.Time
	// Leaf is the record hash of its leaf (vlog.Leaf of the archived row); the archive's
	// events only.
	Leaf tlog.Hash
}

// Events are a source's events by id.
type Events map[string]Event

// ids returns the ids of evs, sorted.
func (evs Events) ids() []string {
	out := make([]string, 0, len(evs))
	for id := range evs {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// byType counts evs per type.
func (evs Events) byType() map[string]int {
	n := map[string]int{}
	for _, e := range evs {
		n[e.Type]++
	}
	return n
}

// ofType returns the ids of the events of type typ, sorted.
func (evs Events) ofType(typ string) []string {
	var out []string
	for id, e := range evs {
		if e.Type == typ {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// AuditTable reads the events of the audit table: every write shard of every UTC date of the
// period, with a key-range Query (no scan), consistently.
type AuditTable struct {
	DB     audit.QueryAPI
	Table  string
	Shards int
}

// Name implements Source.
func (a *AuditTable) Name() string { return "DynamoDB" }

// Events implements Source.
func (a *AuditTable) Events(ctx context.Context, t tenant.ID, from, to time.Time) (Events, error) {
	out := Events{}
	lo, hi := audit.FormatTime(from), audit.FormatTime(to)
	for _, date := range archive.Dates(from, to) {
		for shard := range max(a.Shards, 1) {
			in := &dynamodb.QueryInput{
				TableName:                aws.String(a.Table),
				ConsistentRead:           aws.Bool(true),
				KeyConditionExpression:   aws.String("pk = :pk AND sk BETWEEN :lo AND :hi"),
				ExpressionAttributeNames: map[string]string{"#t": "type"},
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":pk": &types.AttributeValueMemberS{Value: audit.PK(t, date, shard)},
					":lo": &types.AttributeValueMemberS{Value: lo},
					":hi": &types.AttributeValueMemberS{Value: hi},
				},
			}
			in.ProjectionExpression = aws.String("id, #t, category, occurredAt, recordedAt, itemType")
			for {
				page, err := a.DB.Query(ctx, in)
				if err != nil {
					return nil, fmt.Errorf("query audit table %s, partition %s: %w", a.Table, audit.PK(t, date, shard), err)
				}
				for _, it := range page.Items {
					if str(it, "itemType") != audit.ItemType {
						continue
					}
					at, err := audit.ParseTime(str(it, "occurredAt"))
					if err != nil || !at.Before(to) || at.Before(from) {
						continue // sk BETWEEN includes to itself
					}
					rec, _ := audit.ParseTime(str(it, "recordedAt")) // none: zero, long past any bound
					out[str(it, "id")] = Event{Type: str(it, "type"), Category: str(it, "category"), OccurredAt: at, RecordedAt: rec}
				}
				if page.LastEvaluatedKey == nil {
					break
				}
				in.ExclusiveStartKey = page.LastEvaluatedKey
			}
		}
	}
	return out, nil
}

func str(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// Archive reads the distinct events of the Parquet archive as every reader does
// (archive.Reader: each event once, however many objects hold it), every column: the log's
// leaves are rebuilt from the rows.
type Archive struct {
	Store archive.Store
}

// Name implements Source.
func (a *Archive) Name() string { return "the archive" }

// Events implements Source.
func (a *Archive) Events(ctx context.Context, t tenant.ID, from, to time.Time) (Events, error) {
	out := Events{}
	r := &archive.Reader{Store: a.Store}
	err := r.Scan(ctx, archive.Query{Tenant: t, From: from, To: to}, func(row *archive.Row) error {
		e := Event{Type: row.Type, Category: row.Category, OccurredAt: time.UnixMilli(row.OccurredAt).UTC(), RecordedAt: time.UnixMilli(row.RecordedAt).UTC()}
		// A row no leaf can be made of keeps the zero hash: no log records that.
		if leaf, err := vlog.Leaf(row); err == nil {
			e.Leaf = bundle.LeafHash(leaf)
		}
		out[row.EventID] = e
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the archive of tenant %s: %w", t, err)
	}
	return out, nil
}

// Copy is an event stored in more than one of the objects a reader reads for its day.
type Copy struct {
	ID      string
	Keys    []string // the objects holding it, sorted
	Differs bool     // the copies are not the same row
}

// Copies lists the events of [from, to) held by more than one object a reader reads now
// (the compacted object and the parts it does not cover). Readers drop the duplicates, so a
// copy is not counted twice; copies that differ mean the reports depend on which object a
// reader merged first.
func (a *Archive) Copies(ctx context.Context, t tenant.ID, from, to time.Time) ([]Copy, error) {
	r := &archive.Reader{Store: a.Store}
	var out []Copy
	for _, date := range archive.Dates(from, to) {
		day, err := r.Day(ctx, t, date)
		if err != nil {
			return nil, fmt.Errorf("list the archive of tenant %s on %s: %w", t, date, err)
		}
		seen := map[string]*Copy{}
		first := map[string]archive.Row{}
		for _, o := range append(slices.Clone(day.Compacted), day.Parts...) {
			b, err := a.Store.Get(ctx, o.Key)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", o.Key, err)
			}
			rows, err := archive.Decode(b)
			if err != nil {
				return nil, fmt.Errorf("decode %s: %w", o.Key, err)
			}
			for _, row := range rows {
				at := time.UnixMilli(row.OccurredAt)
				if at.Before(from) || !at.Before(to) {
					continue
				}
				c, ok := seen[row.EventID]
				if !ok {
					seen[row.EventID] = &Copy{ID: row.EventID, Keys: []string{o.Key}}
					first[row.EventID] = row
					continue
				}
				if !slices.Contains(c.Keys, o.Key) {
					c.Keys = append(c.Keys, o.Key)
				}
				if !sameRow(first[row.EventID], row) {
					c.Differs = true
				}
			}
		}
		for _, c := range seen {
			if len(c.Keys) > 1 {
				sort.Strings(c.Keys)
				out = append(out, *c)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func sameRow(a, b archive.Row) bool {
	return a.EventID == b.EventID && a.Type == b.Type && a.OccurredAt == b.OccurredAt && a.RecordedAt == b.RecordedAt &&
		a.ContactID == b.ContactID && a.ActorID == b.ActorID && a.Source == b.Source && a.Channel == b.Channel &&
		a.Data == b.Data && a.PrimaryContactID == b.PrimaryContactID && slices.Equal(a.MergedContactIDs, b.MergedContactIDs)
}
