package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/auditlog"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/tenant"
)

// caseAudit times the audit log routes (issue 15) against DynamoDB Local, tables from
// template.yaml, each through its real handler, its service built as its function builds it
// (auditlog.NewService over the function's environment as template.yaml resolves it; only
// the clients point at the local stand-ins), against bare SDK calls reading or writing the
// same items. Three rows of one run:
//
//   - 7a: POST /v1/audit-events, 100 platform events by a service (ingest: validation, ids,
//     four TransactWriteItems of 25 conditional puts, as audit.Writer writes them) vs a bare
//     BatchWriteItem of the same 100 items (four calls of 25, BatchWriteItem's limit), read
//     back from the handler's first write, new ids each time. No Idempotency-Key (with one,
//     the handler also claims and saves the key: more writes, not overhead).
//   - 7b: GET /v1/audit-events?type=<one type>, the first page of 50 over 30 days of the
//     busiest tenant, vs bare Queries of the same GSI partitions (see auditQueryPeer).
//   - 7c: GET /v1/cobrowse/sessions/{id}/events, every page of a 2,000-event session, oldest
//     first, vs a bare Query of the session's BySession partition, page by page.
//
// The read routes also record each read as AUDIT_LOG_VIEWED (one PutItem per request):
// part of the handler's cost, not of the bare read.
func caseAudit(ctx context.Context, b *bencher) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	st, err := startHandlerStack(ctx, b.o.root)
	if err != nil {
		return err
	}
	defer st.Stop()
	db, tpl := st.db, st.tpl
	refs, secrets := localRefs(tpl)

	// service builds a function's service as its main.go does (auditlog.NewService over
	// env.Load(read)): the configuration read from the function's environment in
	// template.yaml, the cursor key the value of the secret CURSOR_SECRET_ARN names, a
	// keyring when KEYS_TABLE is set (its KMS the stand-in); the DynamoDB client is the
	// bench's, shared with the bare side.
	service := func(fn string, read func(*env.Reader) auditlog.Config) (*auditlog.Service, error) {
		f, ok := tpl.Function(fn)
		if !ok {
			return nil, fmt.Errorf("no function %s in template.yaml", fn)
		}
		vars, err := tpl.FunctionEnv(f, refs)
		if err != nil {
			return nil, err
		}
		r := env.Reader{Lookup: env.Map(vars)}
		cfg := read(&r)
		if err := r.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", fn, err)
		}
		if cfg.CursorSecretARN != "" {
			for _, s := range secrets {
				if s.ARN == cfg.CursorSecretARN {
					cfg.CursorSecret = s.Value
				}
			}
			if cfg.CursorSecret == "" {
				return nil, fmt.Errorf("%s: no secret %s", fn, cfg.CursorSecretARN)
			}
		}
		svc := auditlog.New(cfg, db, ident.SystemClock)
		if cfg.Keys.Table != "" {
			svc.Keyring = st.keyring() // its table is cfg.Keys.Table, named by localRefs
		}
		return svc, nil
	}
	if err := auditIngestRow(ctx, b, db, service); err != nil {
		return err
	}
	if err := auditQueryRow(ctx, b, db, service); err != nil {
		return err
	}
	return auditSessionRow(ctx, b, db, service)
}

type serviceFunc func(fn string, read func(*env.Reader) auditlog.Config) (*auditlog.Service, error)

// auditIngestRow is row 7a.
func auditIngestRow(ctx context.Context, b *bencher, db *dynamodb.Client, service serviceFunc) error {
	svc, err := service("IngestAuditEventsFunction", auditlog.ReadIngestConfig)
	if err != nil {
		return err
	}
	table := svc.Config.Audit.Table
	ev, err := readEvent(b.o.root, "ingest-audit-events-batch.json")
	if err != nil {
		return err
	}
	delete(ev.Headers, "idempotency-key")
	const tnt = "ingest"
	ev.RequestContext.Authorizer.JWT.Claims["custom:tenant_id"] = tnt
	ev.Body, err = platformBatch(b.o.seed, 100, time.Now().UTC())
	if err != nil {
		return err
	}
	h := httpapi.Route(httpapi.IngestRoles, svc.Ingest)
	ingest := func() error {
		resp, err := h(ctx, ev)
		if err != nil {
			return err
		}
		var out auditlog.IngestResponse
		if resp.StatusCode != 202 || json.Unmarshal([]byte(resp.Body), &out) != nil || len(out.IDs) != 100 {
			return fmt.Errorf("POST /v1/audit-events answered %d: %.300s", resp.StatusCode, resp.Body)
		}
		return nil
	}
	// The handler's first batch, read back, is the bare side's template.
	if err := ingest(); err != nil {
		return err
	}
	tmpl, err := tenantItems(ctx, db, table, tnt)
	if err != nil {
		return err
	}
	if len(tmpl) != 100 {
		return fmt.Errorf("one ingest of 100 events stored %d items", len(tmpl))
	}
	oldIDs := make([]string, len(tmpl))
	for i, it := range tmpl {
		oldIDs[i] = it["id"].(*types.AttributeValueMemberS).Value
	}
	runs := max(b.o.writeRuns/4, 3)
	ids := ident.NewGenerator(ident.SystemClock)
	// renamed gives the template's items new ids: a replacer of each id by a new one, and
	// each new id's old one.
	renamed := func() (*strings.Replacer, map[string]string) {
		pairs := make([]string, 0, 2*len(oldIDs))
		old := make(map[string]string, len(oldIDs))
		for _, id := range oldIDs {
			n := ids.New()
			pairs = append(pairs, id, n)
			old[n] = id
		}
		return strings.NewReplacer(pairs...), old
	}
	// batchWrites is the template renamed by r, as BatchWriteItem calls of 25 puts (its limit).
	batchWrites := func(r *strings.Replacer) []*dynamodb.BatchWriteItemInput {
		var calls []*dynamodb.BatchWriteItemInput
		for chunk := range slices.Chunk(tmpl, 25) {
			var reqs []types.WriteRequest
			for _, it := range chunk {
				reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: replaceItem(it, r)}})
			}
			calls = append(calls, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
		}
		return calls
	}
	inputs := make([][]*dynamodb.BatchWriteItemInput, runs+2)
	newIDs := make([]map[string]string, len(inputs)) // new id -> the template's
	for i := range inputs {
		var r *strings.Replacer
		r, newIDs[i] = renamed()
		inputs[i] = batchWrites(r)
	}
	next := 0
	bare := func() error {
		in := inputs[next]
		next++
		for _, call := range in {
			out, err := db.BatchWriteItem(ctx, call)
			if err != nil {
				return err
			}
			if len(out.UnprocessedItems) > 0 {
				return fmt.Errorf("BatchWriteItem left %d tables' items unprocessed", len(out.UnprocessedItems))
			}
		}
		return nil
	}
	// Same answer: the bare side's first batch stores the same 100 items, but for the ids.
	if err := bare(); err != nil {
		return err
	}
	all, err := tenantItems(ctx, db, table, tnt)
	if err != nil {
		return err
	}
	byID := map[string]map[string]types.AttributeValue{}
	for _, it := range tmpl {
		byID[it["id"].(*types.AttributeValueMemberS).Value] = it
	}
	matched := 0
	for _, it := range all {
		id := it["id"].(*types.AttributeValueMemberS).Value
		old, ok := newIDs[0][id]
		if !ok {
			continue
		}
		r := strings.NewReplacer(id, old)
		if !reflect.DeepEqual(replaceItem(it, r), byID[old]) {
			return fmt.Errorf("the bare BatchWriteItem stored %s unlike the handler's %s", id, old)
		}
		matched++
	}
	if matched != 100 {
		return fmt.Errorf("the bare BatchWriteItem stored %d of 100 items", matched)
	}
	name := fmt.Sprintf("7a. POST /v1/audit-events, 100 platform events vs bare BatchWriteItem (%d each)", runs)
	c, d, err := b.pair(name, runs, ingest, bare)
	if err != nil {
		return err
	}
	b.ratioRow(name, c, d, 1.10)

	// Breakdown: the writer's form of the same items, four TransactWriteItems of 25 puts
	// conditional on attribute_not_exists(pk) (all or nothing, never an overwrite), bare,
	// against the bare BatchWriteItem: what the storage contract costs apart from the handler.
	txs := make([][]*dynamodb.TransactWriteItemsInput, runs+2)
	for i := range txs {
		r, _ := renamed()
		for chunk := range slices.Chunk(tmpl, audit.BatchSize) {
			var items []types.TransactWriteItem
			for _, it := range chunk {
				items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table), Item: replaceItem(it, r),
					ConditionExpression: aws.String("attribute_not_exists(pk)")}})
			}
			txs[i] = append(txs[i], &dynamodb.TransactWriteItemsInput{TransactItems: items})
		}
	}
	nextTx := 0
	bareTx := func() error {
		in := txs[nextTx]
		nextTx++
		for _, call := range in {
			if _, err := db.TransactWriteItems(ctx, call); err != nil {
				return err
			}
		}
		return nil
	}
	// The bare BatchWriteItem side reuses inputs from the start, with new ids each time.
	for i := range inputs {
		r, _ := renamed()
		inputs[i] = batchWrites(r)
	}
	next = 0
	c, d, err = b.pair("7a b. breakdown", runs, bareTx, bare)
	if err != nil {
		return err
	}
	b.breakdownRow("7a b. breakdown: bare TransactWriteItems (4 × 25 conditional puts, the writer's form) vs bare BatchWriteItem", c, d)
	return nil
}

// viewPut is the write every read request adds: one conditional PutItem of an
// AUDIT_LOG_VIEWED event, as Service.recordView writes it, new id each time.
func viewPut(ctx context.Context, db *dynamodb.Client, svc *auditlog.Service, tnt string) func() error {
	return func() error {
		now := audit.FormatTime(time.Now())
		e := audit.Event{ID: svc.IDs.New(), TenantID: tenant.ID(tnt), OccurredAt: now, RecordedAt: now,
			Type: "AUDIT_LOG_VIEWED", Category: audit.CategoryAccess, Source: audit.SourceUser,
			Actor: audit.Actor{Type: audit.ActorUser, ID: "7c0e9a52-0000-4000-8000-00000000ad01", Name: "Rina Admin"},
			Data:  map[string]any{"filters": map[string]any{"from": now, "to": now}}}
		item, err := svc.Keys.Item(&e, svc.Retention)
		if err != nil {
			return err
		}
		_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(svc.Config.Audit.Table), Item: item,
			ConditionExpression: aws.String("attribute_not_exists(pk)")})
		return err
	}
}

// withViews is read followed by n view writes: a bare read with the AUDIT_LOG_VIEWED
// events the handler writes for the same answer, one per request it made.
func withViews(read, view func() error, n int) func() error {
	return func() error {
		if err := read(); err != nil {
			return err
		}
		for range n {
			if err := view(); err != nil {
				return err
			}
		}
		return nil
	}
}

// platformTypes is the mix of platform events the bench writes: type, weight, data.
var platformTypes = []struct {
	typ    string
	weight int
	data   func(r *rand.Rand) map[string]any
}{
	{"STATUS_CHANGE", 30, func(r *rand.Rand) map[string]any {
		return map[string]any{"customerId": fmt.Sprintf("cust-%d", r.IntN(5000)), "status": []string{"open", "pending", "closed"}[r.IntN(3)], "messageId": fmt.Sprintf("msg-%d", r.IntN(1e6))}
	}},
	{"MESSENGER_SEND", 25, func(r *rand.Rand) map[string]any {
		return map[string]any{"customerId": fmt.Sprintf("cust-%d", r.IntN(5000))}
	}},
	{"ONLINE_STATUS_ONLINE", 10, func(*rand.Rand) map[string]any { return nil }},
	{"ONLINE_STATUS_OFFLINE", 10, func(*rand.Rand) map[string]any { return nil }},
	{"START_CALL", 8, func(r *rand.Rand) map[string]any {
		return map[string]any{"callId": fmt.Sprintf("call-%d", r.IntN(1e6)), "customerId": fmt.Sprintf("cust-%d", r.IntN(5000))}
	}},
	{"LIVE_VIEW", 5, func(r *rand.Rand) map[string]any {
		return map[string]any{"sessionId": fmt.Sprintf("cb-%d", r.IntN(1e5))}
	}},
	{"LOGGED_IN", 4, func(*rand.Rand) map[string]any { return nil }}, // the type row 7b filters on
	{"CONFERENCE_AGENT", 4, func(r *rand.Rand) map[string]any {
		return map[string]any{"callId": fmt.Sprintf("call-%d", r.IntN(1e6)), "customerId": fmt.Sprintf("cust-%d", r.IntN(5000))}
	}},
	{"ROLE_CHANGE", 2, func(r *rand.Rand) map[string]any {
		return map[string]any{"roleName": "supervisor", "tenantUser": fmt.Sprintf("agent-%d", r.IntN(80))}
	}},
	{"SETTINGS_CHANGE", 2, func(r *rand.Rand) map[string]any {
		return map[string]any{"configuration": map[string]any{"mfa": r.IntN(2) == 1}}
	}},
}

func pickPlatform(r *rand.Rand) (string, map[string]any) {
	total := 0
	for _, t := range platformTypes {
		total += t.weight
	}
	n := r.IntN(total)
	for _, t := range platformTypes {
		if n < t.weight {
			return t.typ, t.data(r)
		}
		n -= t.weight
	}
	panic("unreachable")
}

// platformBatch is the body of a POST /v1/audit-events of n platform events of the last
// minutes, recorded by a service on behalf of agents.
func platformBatch(seed uint64, n int, now time.Time) (string, error) {
	r := rand.New(rand.NewPCG(seed, 7))
	evs := make([]map[string]any, n)
	for i := range evs {
		typ, data := pickPlatform(r)
		agent := r.IntN(80)
		e := map[string]any{"type": typ, "occurredAt": audit.FormatTime(now.Add(-time.Duration(n-i) * time.Second)),
			"actor": map[string]any{"type": "user", "id": fmt.Sprintf("agent-%d", agent), "name": fmt.Sprintf("Agent %d", agent)}}
		if data != nil {
			e["data"] = data
		}
		evs[i] = e
	}
	body, err := json.Marshal(map[string]any{"events": evs})
	return string(body), err
}

// tenantItems scans the audit table for a tenant's events, in sort-key order.
func tenantItems(ctx context.Context, db *dynamodb.Client, table, tnt string) ([]map[string]types.AttributeValue, error) {
	var out []map[string]types.AttributeValue
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table),
		FilterExpression: aws.String("tenantId = :t"), ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberS{Value: tnt}}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
	}
	sort.Slice(out, func(i, j int) bool { return skOfItem(out[i]) < skOfItem(out[j]) })
	return out, nil
}

func skOfItem(it map[string]types.AttributeValue) string {
	if v, ok := it["sk"].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// seedEvents writes events through the audit writer, as the ingest routes store them.
func seedEvents(ctx context.Context, svc *auditlog.Service, evs []audit.Event) error {
	for start := 0; start < len(evs); start += 100 {
		w, err := svc.Writer.Write(ctx, evs[start:min(start+100, len(evs))])
		if err != nil {
			return err
		}
		if len(w.NotStored) > 0 {
			return fmt.Errorf("seed: %d events not stored", len(w.NotStored))
		}
	}
	return nil
}

// idPage is what a bench client reads of a page: the events' ids and the next cursor (the
// bare side likewise reads only the id attribute of its items).
type idPage struct {
	Items []struct {
		ID string `json:"id"`
	} `json:"items"`
	NextCursor *string `json:"nextCursor"`
}

// busyTenant is the busiest tenant's name in the bench's data.
const busyTenant = "busy"

// auditQueryRow is row 7b.
func auditQueryRow(ctx context.Context, b *bencher, db *dynamodb.Client, service serviceFunc) error {
	svc, err := service("QueryAuditEventsFunction", auditlog.ReadQueryConfig)
	if err != nil {
		return err
	}
	// 30 days of the busiest tenant's platform events (the full run 600 a day, 18,000; the
	// smoke run 60 a day), written through the audit writer; LOGGED_IN is 4 % of them, so
	// a page of 50 needs more than one day and the handler walks several windows of days.
	perDay := 600
	if b.o.smoke {
		perDay = 60
	}
	now := time.Now().UTC()
	today := now.Truncate(24 * time.Hour)
	from, to := today.AddDate(0, 0, -29), today.AddDate(0, 0, 1)
	r := rand.New(rand.NewPCG(b.o.seed, 15))
	var evs []audit.Event
	for d := 0; d < 30; d++ {
		day := from.AddDate(0, 0, d)
		span := 24 * time.Hour
		if day.Equal(today) {
			span = now.Sub(day) - time.Minute
		}
		seed := audit.SeedFrom(fmt.Sprintf("bench-busy-%d", d))
		for i := range perDay {
			at := day.Add(time.Duration(r.Int64N(int64(max(span, time.Minute)))))
			typ, data := pickPlatform(r)
			agent := r.IntN(80)
			e := audit.Event{TenantID: busyTenant, Type: typ, Category: audit.CategoryPlatform, Source: audit.SourceAPI,
				OccurredAt: audit.FormatTime(at), RecordedAt: audit.FormatTime(at),
				Actor: audit.Actor{Type: audit.ActorUser, ID: fmt.Sprintf("agent-%d", agent), Name: fmt.Sprintf("Agent %d", agent)},
				Data:  data}
			e.ID = audit.BatchID(at, seed, i)
			evs = append(evs, e)
		}
	}
	t0 := time.Now()
	if err := seedEvents(ctx, svc, evs); err != nil {
		return err
	}
	logf("audit: %d events of tenant %s over 30 days written in %.1f s", len(evs), busyTenant, time.Since(t0).Seconds())

	const typ, limit = "LOGGED_IN", 50
	ev, err := readEvent(b.o.root, "query-audit-events-by-type.json")
	if err != nil {
		return err
	}
	ev.RequestContext.Authorizer.JWT.Claims["custom:tenant_id"] = busyTenant
	q := url.Values{"type": {typ}, "from": {from.Format("2006-01-02")}, "to": {to.Format("2006-01-02")}, "limit": {fmt.Sprint(limit)}}
	ev.RawQueryString = q.Encode()
	ev.QueryStringParameters = map[string]string{"type": typ, "from": q.Get("from"), "to": q.Get("to"), "limit": q.Get("limit")}
	h := httpapi.Route(httpapi.AdminRoles, svc.Query)
	var got []string
	handler := func() error {
		resp, err := h(ctx, ev)
		if err != nil {
			return err
		}
		var page idPage
		if resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Body), &page) != nil || len(page.Items) != limit || page.NextCursor == nil {
			return fmt.Errorf("GET /v1/audit-events answered %d: %.300s", resp.StatusCode, resp.Body)
		}
		got = got[:0]
		for _, e := range page.Items {
			got = append(got, e.ID)
		}
		return nil
	}
	peer := auditQueryPeer(ctx, db, svc.Config.Audit.Table, tenant.ID(busyTenant), typ, max(svc.Keys.Shards, 1), from, to, limit)
	var want []string
	bare := func() error {
		ids, more, err := peer()
		if err != nil {
			return err
		}
		if len(ids) != limit || !more {
			return fmt.Errorf("the bare Queries found %d events (more: %v), want a full page of %d and more", len(ids), more, limit)
		}
		want = ids
		return nil
	}
	if err := runOnce(handler, bare); err != nil {
		return err
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("the handler's page %v differs from the bare Queries' %v", got, want)
	}
	runs := b.o.writeRuns
	name := fmt.Sprintf("7b. GET /v1/audit-events type=%s, page of %d, 30 days, busiest tenant vs bare Queries (%d each)", typ, limit, runs)
	c, d, err := b.pair(name, runs, handler, bare)
	if err != nil {
		return err
	}
	b.ratioRow(name, c, d, 1.20)

	// Breakdown: the handler against the bare Queries followed by the AUDIT_LOG_VIEWED
	// PutItem every request also writes: what is left is the handler's own cost.
	c, d, err = b.pair("7b b. breakdown", runs, handler, withViews(bare, viewPut(ctx, db, svc, busyTenant), 1))
	if err != nil {
		return err
	}
	b.breakdownRow("7b b. breakdown: the same page vs bare Queries + the AUDIT_LOG_VIEWED PutItem the route writes", c, d)
	return nil
}

// auditQueryPeer is the bare side of row 7b. The events of one type of one UTC day are
// spread over the table's write shards (GSI ByType, partition T#<tenant>#Y#<type>#<day>#<shard>),
// so no single Query holds the answer: the peer reads the same partitions the handler reads,
// in the same order, and no others. Days newest first in windows of 1, 2, 4, ... 16 days;
// in a window, every day × shard partition is one Query (newest first, sk BETWEEN the
// period's bounds, Limit = the events still missing + 1), all in flight at once; the
// results are sorted by sort key, and the walk stops once it has one event more than the
// page (to know a next page exists). That is audit.Reader.Log's walk for a type filter, in
// plain SDK calls: what the row shows is the handler's own cost (routing, validation, decoding
// items into events, the JSON page, the cursor, the AUDIT_LOG_VIEWED PutItem), not a
// different plan. A peer that knew in advance which days hold the page would read fewer
// partitions, which no real reader can know.
func auditQueryPeer(ctx context.Context, db *dynamodb.Client, table string, tnt tenant.ID, typ string, shards int,
	from, to time.Time, limit int) func() ([]string, bool, error) {
	lo, hi := audit.FormatTime(from), audit.FormatTime(to)
	var days []string
	for d := to.AddDate(0, 0, -1); !d.Before(from); d = d.AddDate(0, 0, -1) {
		days = append(days, d.Format("2006-01-02"))
	}
	return func() ([]string, bool, error) {
		var items []map[string]types.AttributeValue
		for i, window := 0, 1; i < len(days) && len(items) <= limit; window = min(window*2, audit.DefaultMaxDayWindow) {
			batch := days[i:min(i+window, len(days))]
			i += len(batch)
			want := limit + 1 - len(items)
			outs := make([][]map[string]types.AttributeValue, len(batch)*shards)
			errs := make([]error, len(outs))
			var wg sync.WaitGroup
			for j, day := range batch {
				for s := range shards {
					wg.Go(func() {
						out, err := db.Query(ctx, &dynamodb.QueryInput{
							TableName: aws.String(table), IndexName: aws.String(audit.IndexByType),
							KeyConditionExpression: aws.String("typeKey = :pk AND sk BETWEEN :lo AND :hi"),
							ExpressionAttributeValues: map[string]types.AttributeValue{
								":pk": &types.AttributeValueMemberS{Value: audit.TypeKey(tnt, typ, day, s)},
								":lo": &types.AttributeValueMemberS{Value: lo}, ":hi": &types.AttributeValueMemberS{Value: hi}},
							ScanIndexForward: aws.Bool(false), Limit: aws.Int32(int32(want)),
						})
						if err == nil {
							outs[j*shards+s] = out.Items
						}
						errs[j*shards+s] = err
					})
				}
			}
			wg.Wait()
			var got []map[string]types.AttributeValue
			for k, out := range outs {
				if errs[k] != nil {
					return nil, false, errs[k]
				}
				got = append(got, out...)
			}
			sort.Slice(got, func(a, b int) bool { return skOfItem(got[a]) > skOfItem(got[b]) })
			items = append(items, got[:min(len(got), want)]...)
		}
		more := len(items) > limit
		items = items[:min(len(items), limit)]
		ids := make([]string, len(items))
		for i, it := range items {
			ids[i] = it["id"].(*types.AttributeValueMemberS).Value
		}
		return ids, more, nil
	}
}

// auditSessionRow is row 7c.
func auditSessionRow(ctx context.Context, b *bencher, db *dynamodb.Client, service serviceFunc) error {
	svc, err := service("CobrowseSessionFunction", auditlog.ReadSessionConfig)
	if err != nil {
		return err
	}
	n := 2000
	if b.o.smoke {
		n = 200
	}
	// One session of the busiest tenant: n co-browsing events over the last hour, agent
	// and customer in turn, INPUT text masked as the ingest route stores it.
	const session = "cb-bench-0001"
	r := rand.New(rand.NewPCG(b.o.seed, 16))
	start := time.Now().UTC().Add(-time.Hour)
	seed := audit.SeedFrom("bench-session")
	evs := make([]audit.Event, n)
	for i := range evs {
		at := start.Add(time.Duration(i) * time.Hour / time.Duration(n+1))
		agent := r.IntN(2) == 0
		actor := audit.Actor{Type: audit.ActorCustomer}
		if agent {
			actor.Type = audit.ActorUser
		}
		e := audit.Event{TenantID: busyTenant, Category: audit.CategoryCobrowse, Source: audit.SourceAPI, SessionID: session,
			OccurredAt: audit.FormatTime(at), RecordedAt: audit.FormatTime(at), Actor: actor, IsAgent: &agent}
		switch k := r.IntN(10); {
		case k < 4:
			e.Type, e.Data = "SCROLL", map[string]any{"position": map[string]any{"x": 0, "y": r.IntN(4000)}}
		case k < 7:
			e.Type, e.Data = "CLICK", map[string]any{"element": fmt.Sprintf("#button-%d", r.IntN(40))}
		case k < 9:
			e.Type, e.Data = "INPUT", map[string]any{"element": "#email", "text": auditlog.MaskedText, "length": r.IntN(30)}
		default:
			e.Type, e.Data = "PAGECHANGE", map[string]any{"page": fmt.Sprintf("https://shop.example/p/%d", r.IntN(200))}
		}
		e.ID = audit.BatchID(at, seed, i)
		evs[i] = e
	}
	if err := seedEvents(ctx, svc, evs); err != nil {
		return err
	}

	// Both sides read the whole session in pages of 500 (the route's largest page, what a
	// client reading a whole session asks for): the handler one request per page, following
	// nextCursor; the bare side one Query per page (BySession, oldest first, Limit 500),
	// following LastEvaluatedKey. Each checks it read all n events.
	const pageSize = 500
	ev, err := readEvent(b.o.root, "cobrowse-session-first-page.json")
	if err != nil {
		return err
	}
	ev.RequestContext.Authorizer.JWT.Claims["custom:tenant_id"] = busyTenant
	old := ev.PathParameters["sessionId"]
	ev.PathParameters["sessionId"] = session
	ev.RawPath = strings.Replace(ev.RawPath, old, session, 1)
	ev.RequestContext.HTTP.Path = ev.RawPath
	h := httpapi.Route(httpapi.AdminRoles, svc.Session)
	var got []string
	requests := 0 // of the last read
	handler := func() error {
		got = got[:0]
		requests = 0
		cursor := ""
		for {
			requests++
			req := ev
			q := url.Values{"limit": {fmt.Sprint(pageSize)}}
			req.QueryStringParameters = map[string]string{"limit": fmt.Sprint(pageSize)}
			if cursor != "" {
				q.Set("cursor", cursor)
				req.QueryStringParameters["cursor"] = cursor
			}
			req.RawQueryString = q.Encode()
			resp, err := h(ctx, req)
			if err != nil {
				return err
			}
			var page idPage
			if resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Body), &page) != nil {
				return fmt.Errorf("GET %s answered %d: %.300s", ev.RawPath, resp.StatusCode, resp.Body)
			}
			for _, e := range page.Items {
				got = append(got, e.ID)
			}
			if page.NextCursor == nil {
				break
			}
			cursor = *page.NextCursor
		}
		if len(got) != n {
			return fmt.Errorf("the handler read %d events of the session, want %d", len(got), n)
		}
		return nil
	}
	var want []string
	key := audit.SessionKey(busyTenant, session)
	bare := func() error {
		want = want[:0]
		p := dynamodb.NewQueryPaginator(db, &dynamodb.QueryInput{
			TableName: aws.String(svc.Config.Audit.Table), IndexName: aws.String(audit.IndexBySession),
			KeyConditionExpression:    aws.String("sessionKey = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: key}},
			ScanIndexForward:          aws.Bool(true), Limit: aws.Int32(pageSize),
		})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			for _, it := range out.Items {
				want = append(want, it["id"].(*types.AttributeValueMemberS).Value)
			}
		}
		if len(want) != n {
			return fmt.Errorf("the bare Query read %d events of the session, want %d", len(want), n)
		}
		return nil
	}
	if err := runOnce(handler, bare); err != nil {
		return err
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("the handler read the session in another order than the bare Query")
	}
	runs := max(b.o.runs*3, 2)
	name := fmt.Sprintf("7c. GET /v1/cobrowse/sessions/{id}/events, %d events, all pages of %d vs bare Query (%d each)", n, pageSize, runs)
	c, d, err := b.pair(name, runs, handler, bare)
	if err != nil {
		return err
	}
	b.ratioRow(name, c, d, 1.20)

	// Breakdown: the same, the bare side also writing one AUDIT_LOG_VIEWED per request the
	// handler side made (the reader asks for one event more than the page, so a page that
	// ends the session has no cursor: 2,000 events in pages of 500 are 4 requests).
	pages := requests
	c, d, err = b.pair("7c b. breakdown", runs, handler, withViews(bare, viewPut(ctx, db, svc, busyTenant), pages))
	if err != nil {
		return err
	}
	b.breakdownRow(fmt.Sprintf("7c b. breakdown: the same session vs bare Query + %d AUDIT_LOG_VIEWED PutItems (one per request)", pages), c, d)
	return nil
}
