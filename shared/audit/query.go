package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/contrail/contrail/shared/tenant"
)

// QueryAPI is the part of the DynamoDB client the reader uses.
type QueryAPI interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

var _ QueryAPI = (*dynamodb.Client)(nil)

// Reader reads events back from the audit table. Every read is a Query on one partition of
// the table or of a GSI, bounded by a sort-key range; reads over several partitions (the
// contacts merged into one, the write shards of a day, the types asked for) are merged by sort
// key. A position is an event's sort key (<occurredAt>#<id>): it orders events totally, so
// "strictly after the position" can never drop or repeat an event, whichever partitions,
// days or 1 MB pages the reads cross.
type Reader struct {
	DB    QueryAPI
	Table string
	Keys  Keys
	// MaxDayWindow bounds how many days a Log read queries at once; 0 = DefaultMaxDayWindow,
	// 1 = one day after another.
	MaxDayWindow int
}

// DefaultMaxDayWindow is how many days a Log read queries at once at most.
const DefaultMaxDayWindow = 16

// maxInFlight bounds the Queries a read has in flight at once.
const maxInFlight = 16

// Filter selects events of the tenant audit log. Empty fields do not filter.
type Filter struct {
	Category  string
	Types     []string
	ActorID   string
	ContactID string
	From, To  time.Time // [From, To)
}

// History returns events of the given contacts (a contact and every contact merged into it),
// newest first, within [from, to), only the given types when types is non-empty, strictly
// after position after ("" = from the newest), at most limit. It returns the position to
// continue from, "" when there is nothing more.
//
// Each contact is one Query on GSI ByContact (key condition: its contactKey and the sk range
// of the period and position), read newest first and merged. The type filter is a
// FilterExpression on that already bounded range: a contact's history is small, and reading
// it through ByType instead would cost one query per type per day.
func (r *Reader) History(ctx context.Context, tenant tenant.ID, contactIDs []string, types []string, from, to time.Time, after string, limit int) ([]Event, string, error) {
	lo, hi, ok := descBounds(from, to, after)
	if !ok || len(contactIDs) == 0 {
		return []Event{}, "", nil
	}
	var f filterExpr
	f.types(types)
	var streams []*stream
	seen := map[string]bool{}
	for _, id := range contactIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		streams = append(streams, r.stream(IndexByContact, "contactKey", ContactKey(tenant, id), lo, hi, true, &f))
	}
	evs, err := merge(ctx, r.DB, streams, true, limit+1, after)
	if err != nil {
		return nil, "", fmt.Errorf("read history of contacts %v: %w", contactIDs, err)
	}
	evs, next := page(evs, limit)
	return evs, next, nil
}

// Log returns events of the tenant audit log matching f, newest first, strictly after
// position after, at most limit, and the position to continue from ("" when there is no more).
//
// One filter is the key condition, chosen by selectivity; the rest are FilterExpressions on
// the range it bounds:
//
//	contactId -> GSI ByContact (one partition, whole period)
//	actorId   -> GSI ByActor, one partition per write shard per UTC day, merged
//	type      -> GSI ByType, one partition per type per write shard per UTC day, merged
//	category  -> GSI ByCategory, one partition per write shard per UTC day, merged
//	none      -> the table, one partition per write shard per UTC day, merged
//
// Days are walked newest to oldest, in windows of days queried at once, and the walk stops
// as soon as the page is full.
func (r *Reader) Log(ctx context.Context, tenant tenant.ID, f Filter, after string, limit int) ([]Event, string, error) {
	if f.From.IsZero() || f.To.IsZero() {
		return nil, "", fmt.Errorf("read audit log: the filter needs a period")
	}
	lo, hi, ok := descBounds(f.From, f.To, after)
	if !ok {
		return []Event{}, "", nil
	}
	types := slices.Clone(f.Types)
	if f.Category != "" && len(types) > 0 {
		// Types of another category can never match: drop them (none left, nothing matches).
		types = slices.DeleteFunc(types, func(t string) bool { return CategoryOf(t) != f.Category })
		if len(types) == 0 {
			return []Event{}, "", nil
		}
	}
	slices.Sort(types)
	types = slices.Compact(types)

	var fx filterExpr
	if f.ContactID != "" {
		fx.types(types)
		fx.category(f.Category)
		fx.actor(f.ActorID)
		s := r.stream(IndexByContact, "contactKey", ContactKey(tenant, f.ContactID), lo, hi, true, &fx)
		evs, err := merge(ctx, r.DB, []*stream{s}, true, limit+1, after)
		if err != nil {
			return nil, "", fmt.Errorf("read audit log of contact %s: %w", f.ContactID, err)
		}
		evs, next := page(evs, limit)
		return evs, next, nil
	}

	// Every day-bucketed partition has Keys.Shards write shards: a day is their merge.
	n := max(r.Keys.Shards, 1)
	var perDay func(day string) []*stream
	switch {
	case f.ActorID != "":
		fx.types(types)
		fx.category(f.Category)
		perDay = func(day string) []*stream {
			ss := make([]*stream, n)
			for i := range n {
				ss[i] = r.stream(IndexByActor, "actorKey", ActorKey(tenant, f.ActorID, day, i), lo, hi, true, &fx)
			}
			return ss
		}
	case len(types) > 0:
		perDay = func(day string) []*stream {
			ss := make([]*stream, 0, len(types)*n)
			for _, t := range types {
				for i := range n {
					ss = append(ss, r.stream(IndexByType, "typeKey", TypeKey(tenant, t, day, i), lo, hi, true, nil))
				}
			}
			return ss
		}
	case f.Category != "":
		perDay = func(day string) []*stream {
			ss := make([]*stream, n)
			for i := range n {
				ss[i] = r.stream(IndexByCategory, "categoryKey", CategoryKey(tenant, f.Category, day, i), lo, hi, true, nil)
			}
			return ss
		}
	default:
		perDay = func(day string) []*stream {
			ss := make([]*stream, n)
			for i := range n {
				ss[i] = r.stream("", "pk", PK(tenant, day, i), lo, hi, true, nil)
			}
			return ss
		}
	}

	// Days are read in windows that double while they come up short (1, 2, 4, ... days):
	// a busy first day costs one round of Queries, a sparse year about 27 instead of 366.
	// The days of a window are queried at once and merged newest first, in order.
	maxWindow := r.MaxDayWindow
	if maxWindow <= 0 {
		maxWindow = DefaultMaxDayWindow
	}
	days := daysDesc(lo, hi)
	var out []Event
	for i, window := 0, 1; i < len(days) && len(out) <= limit; window = min(window*2, maxWindow) {
		batch := days[i:min(i+window, len(days))]
		i += len(batch)
		perBatch := make([][]*stream, len(batch))
		var all []*stream
		for j, day := range batch {
			perBatch[j] = perDay(day)
			all = append(all, perBatch[j]...)
		}
		if err := prefetch(ctx, r.DB, all, limit+1-len(out)); err != nil {
			return nil, "", fmt.Errorf("read audit log of %s..%s: %w", batch[len(batch)-1], batch[0], err)
		}
		for j, day := range batch {
			evs, err := merge(ctx, r.DB, perBatch[j], true, limit+1-len(out), after)
			if err != nil {
				return nil, "", fmt.Errorf("read audit log of %s: %w", day, err)
			}
			out = append(out, evs...)
			if len(out) > limit {
				break
			}
		}
	}
	out, next := page(out, limit)
	return out, next, nil
}

// Session returns the events of a co-browsing session, oldest first, strictly after
// position after, at most limit, and the position to continue from ("" when there is no
// more). It reads GSI BySession, one partition per session.
func (r *Reader) Session(ctx context.Context, tenant tenant.ID, sessionID SessionID, after string, limit int) ([]Event, string, error) {
	s := r.stream(IndexBySession, "sessionKey", SessionKey(tenant, sessionID), after, "", false, nil)
	evs, err := merge(ctx, r.DB, []*stream{s}, false, limit+1, after)
	if err != nil {
		return nil, "", fmt.Errorf("read co-browsing session %s: %w", sessionID, err)
	}
	evs, next := page(evs, limit)
	return evs, next, nil
}

// page cuts evs to limit and returns the position after the last one kept when more followed.
func page(evs []Event, limit int) ([]Event, string) {
	if evs == nil {
		evs = []Event{}
	}
	if len(evs) <= limit {
		return evs, ""
	}
	evs = evs[:limit]
	last := evs[limit-1]
	return evs, SK(last.OccurredAt, last.ID)
}

// descBounds returns the inclusive sk range of a newest-first read of [from, to) strictly
// after position after. The upper bound is either a bare time (which no sk equals, since
// every sk has "#<id>" after the time, so it excludes events at exactly to) or the position
// itself (skipped by merge). ok is false when the range is empty.
func descBounds(from, to time.Time, after string) (lo, hi string, ok bool) {
	if !from.IsZero() {
		lo = FormatTime(from)
	}
	if !to.IsZero() {
		hi = FormatTime(to)
	}
	if after != "" && (hi == "" || after < hi) {
		hi = after
	}
	if lo == "" {
		lo = "0000"
	}
	if hi == "" {
		hi = "9999"
	}
	return lo, hi, lo <= hi
}

// daysDesc returns the UTC days that sort keys in [lo, hi] can fall on, newest first.
func daysDesc(lo, hi string) []string {
	first, err1 := time.Parse("2006-01-02", lo[:min(10, len(lo))])
	last, err2 := time.Parse("2006-01-02", hi[:min(10, len(hi))])
	if err1 != nil || err2 != nil {
		return nil
	}
	if len(hi) == len(TimeLayout) && strings.HasSuffix(hi, "T00:00:00.000Z") && last.After(first) {
		last = last.AddDate(0, 0, -1) // hi is an exclusive midnight: nothing of that day
	}
	var days []string
	for d := last; !d.Before(first); d = d.AddDate(0, 0, -1) {
		days = append(days, d.Format("2006-01-02"))
	}
	return days
}

// filterExpr collects FilterExpression terms applied on a range a key condition bounds.
type filterExpr struct {
	terms  []string
	names  map[string]string
	values map[string]types.AttributeValue
}

func (f *filterExpr) add(term string, names map[string]string, values map[string]types.AttributeValue) {
	if f.names == nil {
		f.names, f.values = map[string]string{}, map[string]types.AttributeValue{}
	}
	f.terms = append(f.terms, term)
	for k, v := range names {
		f.names[k] = v
	}
	for k, v := range values {
		f.values[k] = v
	}
}

func (f *filterExpr) types(ts []string) {
	if len(ts) == 0 {
		return
	}
	vals := map[string]types.AttributeValue{}
	ph := make([]string, len(ts))
	for i, t := range ts {
		ph[i] = ":ft" + strconv.Itoa(i)
		vals[ph[i]] = &types.AttributeValueMemberS{Value: t}
	}
	f.add("#ftype IN ("+strings.Join(ph, ", ")+")", map[string]string{"#ftype": "type"}, vals)
}

func (f *filterExpr) category(c string) {
	if c == "" {
		return
	}
	f.add("#fcat = :fcat", map[string]string{"#fcat": "category"}, map[string]types.AttributeValue{":fcat": &types.AttributeValueMemberS{Value: c}})
}

func (f *filterExpr) actor(id string) {
	if id == "" {
		return
	}
	f.add("#factor.#fid = :factor", map[string]string{"#factor": "actor", "#fid": "id"}, map[string]types.AttributeValue{":factor": &types.AttributeValueMemberS{Value: id}})
}

// stream is one partition of the table or an index read in sort-key order within [lo, hi]
// (either may be empty: unbounded), a DynamoDB page at a time.
type stream struct {
	in   dynamodb.QueryInput
	buf  []map[string]types.AttributeValue
	done bool
}

func (r *Reader) stream(index, keyAttr, key, lo, hi string, desc bool, f *filterExpr) *stream {
	names := map[string]string{"#pk": keyAttr}
	if lo != "" || hi != "" {
		names["#sk"] = "sk"
	}
	values := map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: key}}
	cond := "#pk = :pk"
	switch {
	case lo != "" && hi != "":
		cond += " AND #sk BETWEEN :lo AND :hi"
	case lo != "":
		cond += " AND #sk >= :lo"
	case hi != "":
		cond += " AND #sk <= :hi"
	}
	if lo != "" {
		values[":lo"] = &types.AttributeValueMemberS{Value: lo}
	}
	if hi != "" {
		values[":hi"] = &types.AttributeValueMemberS{Value: hi}
	}
	in := dynamodb.QueryInput{
		TableName:                 aws.String(r.Table),
		KeyConditionExpression:    aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ScanIndexForward:          aws.Bool(!desc),
	}
	if index != "" {
		in.IndexName = aws.String(index)
	}
	if f != nil && len(f.terms) > 0 {
		in.FilterExpression = aws.String(strings.Join(f.terms, " AND "))
		for k, v := range f.names {
			names[k] = v
		}
		for k, v := range f.values {
			values[k] = v
		}
	}
	return &stream{in: in}
}

// head returns the stream's next item, reading pages (following LastEvaluatedKey, so the
// 1 MB page limit and filtered-out pages are crossed) until it has one or the range is done.
func (s *stream) head(ctx context.Context, db QueryAPI, want int) (map[string]types.AttributeValue, error) {
	for len(s.buf) == 0 && !s.done {
		in := s.in
		in.Limit = aws.Int32(int32(min(max(want, 1)+1, 1000)))
		out, err := db.Query(ctx, &in)
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", in.ExpressionAttributeValues[":pk"].(*types.AttributeValueMemberS).Value, err)
		}
		s.buf = out.Items
		s.in.ExclusiveStartKey = out.LastEvaluatedKey
		s.done = len(out.LastEvaluatedKey) == 0
	}
	if len(s.buf) == 0 {
		return nil, nil
	}
	return s.buf[0], nil
}

func skOf(item map[string]types.AttributeValue) string {
	if v, ok := item["sk"].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// merge reads up to n events from streams in sort-key order (newest first when desc),
// skipping the item whose sort key is skip (the position a read continues after).
func merge(ctx context.Context, db QueryAPI, streams []*stream, desc bool, n int, skip string) ([]Event, error) {
	if err := prefetch(ctx, db, streams, n); err != nil {
		return nil, err
	}
	var out []Event
	for len(out) < n {
		var best *stream
		var bestSK string
		for _, s := range streams {
			item, err := s.head(ctx, db, n-len(out))
			if err != nil {
				return nil, err
			}
			if item == nil {
				continue
			}
			sk := skOf(item)
			if best == nil || (desc && sk > bestSK) || (!desc && sk < bestSK) {
				best, bestSK = s, sk
			}
		}
		if best == nil {
			break
		}
		item := best.buf[0]
		best.buf = best.buf[1:]
		if bestSK == skip {
			continue
		}
		e, err := FromItem(item)
		if err != nil {
			return nil, fmt.Errorf("read event at %s: %w", bestSK, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// prefetch reads the first page of every stream at once (at most maxInFlight Queries in
// flight): a merge over write shards, types or days then costs one round trip, not one per
// partition. Streams that have items or are done are not read again.
func prefetch(ctx context.Context, db QueryAPI, streams []*stream, n int) error {
	if len(streams) < 2 {
		return nil
	}
	errs := make([]error, len(streams))
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	for i, s := range streams {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			_, errs[i] = s.head(ctx, db, n)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
