package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
)

// lambdaPayloadLimit is the most JSON a synchronous or stream invocation carries.
const lambdaPayloadLimit = 6 << 20

// batchRecords renders realistic audit events (every tenant, the last two days) as
// DynamoDB stream records, one JSON object each, in arrival order.
func batchRecords(sc scale, seed uint64, want int) ([][]byte, error) {
	g := gen{seed: seed + 1000, sc: sc}
	days := g.days()
	var evs []audit.Event
	for len(evs) < want {
		for _, t := range sc.Tenants {
			for di := len(days) - 2; di < len(days); di++ {
				n := max(want/len(sc.Tenants)/2, 1)
				evs = append(evs, g.dayEvents(t, di, days[di], n, 1000)...)
			}
		}
		g.seed++
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].RecordedAt < evs[j].RecordedAt })
	ret := audit.RetentionDays(400, 400, 400, 30)
	keys := audit.Keys{Shards: 4}
	out := make([][]byte, 0, want)
	for i := range evs[:want] {
		item, err := keys.Item(&evs[i], ret)
		if err != nil {
			return nil, err
		}
		rec := map[string]any{
			"eventID": fmt.Sprintf("%032x", i), "eventName": "INSERT", "eventVersion": "1.1",
			"eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
			"eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/contrail-AuditTable/stream/2026-11-30T00:00:00.000",
			"dynamodb": map[string]any{
				"ApproximateCreationDateTime": 1.7964e9, "SequenceNumber": fmt.Sprintf("%021d", 1000+i),
				"Keys":     audit.ToStreamImage(map[string]types.AttributeValue{"pk": item["pk"], "sk": item["sk"]}),
				"NewImage": audit.ToStreamImage(item), "SizeBytes": 900, "StreamViewType": "NEW_IMAGE",
			},
		}
		b, err := json.Marshal(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// batchJSON is the invocation payload of the records.
func batchJSON(recs [][]byte) []byte {
	return append(append([]byte(`{"Records":[`), bytes.Join(recs, []byte(","))...), "]}"...)
}

// fitting returns how many records fit in limit bytes of payload.
func fitting(recs [][]byte, limit int) int {
	size := len(`{"Records":[]}`)
	for i, r := range recs {
		size += len(r)
		if i > 0 {
			size++
		}
		if size > limit {
			return i
		}
	}
	return len(recs)
}

func caseArchive(ctx context.Context, b *bencher, duck *sql.DB, _ string) error {
	all, err := batchRecords(b.o.scale, b.o.seed, 10_000)
	if err != nil {
		return err
	}
	work := filepath.Join(b.o.root, ".local", "bench", "work")
	for _, tc := range []struct {
		name   string
		n      int
		target float64
	}{
		{"6 MB", fitting(all, lambdaPayloadLimit), 0.50}, // issue 15 (was 1.00)
		{"10,000 records", 10_000, 1.00},                 // beyond Lambda's payload: for reference
	} {
		recs := all[:tc.n]
		payload := batchJSON(recs)
		dir := filepath.Join(work, "archive-"+strings.ReplaceAll(strings.ReplaceAll(tc.name, " ", ""), ",", ""))
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		in := filepath.Join(dir, "records.ndjson")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(in, append(bytes.Join(recs, []byte("\n")), '\n'), 0o644); err != nil {
			return err
		}
		cOut, dOut := filepath.Join(dir, "contrail"), filepath.Join(dir, "duckdb")
		arch := &archive.Archiver{Store: &archive.DirStore{Dir: cOut}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		contrail := func() error { // what the archiver function runs: raw payload in, response out
			batch, err := archive.DecodeStreamBatch(payload)
			if err != nil {
				return err
			}
			resp, err := arch.Handle(ctx, batch)
			if err != nil {
				return err
			}
			if len(resp.BatchItemFailures) > 0 {
				return fmt.Errorf("%d records failed", len(resp.BatchItemFailures))
			}
			return nil
		}
		peer := func() error {
			if err := os.RemoveAll(dOut); err != nil {
				return err
			}
			_, err := duck.Exec(duckArchiveSQL(in, dOut))
			return err
		}
		if err := runOnce(contrail, peer); err != nil {
			return err
		}
		if err := sameArchiveRows(duck, cOut, dOut, tc.n); err != nil {
			return fmt.Errorf("%s batch: %w", tc.name, err)
		}
		logf("archive %s (%d records, %.1f MB): both outputs hold the same %d rows", tc.name, tc.n, float64(len(payload))/(1<<20), tc.n)
		name := fmt.Sprintf("1. archive a stream batch: %s (%d rec, %.1f MB)", tc.name, tc.n, float64(len(payload))/(1<<20))
		c, d, err := b.pair("archive "+tc.name, 3*b.o.runs, contrail, peer) // short runs, noisy: three times as many
		if err != nil {
			return err
		}
		b.ratioRow(name, c, d, tc.target)
		if tc.n != 10_000 {
			// Where the time goes: the same batch already decoded (Handle alone: rows,
			// grouping, Parquet, zstd, files) against DuckDB's whole run.
			batch, err := archive.DecodeStreamBatch(payload)
			if err != nil {
				return err
			}
			handle := func() error { _, err := arch.Handle(ctx, batch); return err }
			hc, hd, err := b.pair("archive handle "+tc.name, 3*b.o.runs, handle, peer)
			if err != nil {
				return err
			}
			b.breakdownRow(fmt.Sprintf("1b. the same %s batch without its JSON decoding (breakdown)", tc.name), hc, hd)
		}
	}
	return nil
}

const streamColumns = `{'eventName': 'VARCHAR', 'dynamodb': 'STRUCT(SequenceNumber VARCHAR, NewImage STRUCT(
  itemType STRUCT(S VARCHAR), id STRUCT(S VARCHAR), tenantId STRUCT(S VARCHAR),
  occurredAt STRUCT(S VARCHAR), recordedAt STRUCT(S VARCHAR), "type" STRUCT(S VARCHAR), category STRUCT(S VARCHAR),
  actor STRUCT(M STRUCT("type" STRUCT(S VARCHAR), id STRUCT(S VARCHAR), "name" STRUCT(S VARCHAR))),
  contact STRUCT(M STRUCT(id STRUCT(S VARCHAR), "name" STRUCT(S VARCHAR))),
  source STRUCT(S VARCHAR), channel STRUCT(S VARCHAR), sessionId STRUCT(S VARCHAR), isAgent STRUCT(BOOL BOOLEAN),
  data JSON,
  context STRUCT(M STRUCT(ip STRUCT(S VARCHAR), userAgent STRUCT(S VARCHAR), requestId STRUCT(S VARCHAR)))))'}`

// duckArchiveSQL turns the stream records into the archive's columns, one Parquet file per
// tenant-day (hive partitions tenant=/date=, like Contrail's layout), rows sorted by time,
// zstd. data stays DynamoDB JSON: plain SQL cannot untype it (Contrail does), which only
// favours DuckDB.
func duckArchiveSQL(in, out string) string {
	return `COPY (
  SELECT n.id.S AS event_id, n.tenantId.S AS tenant_id,
    CAST(n.occurredAt.S AS TIMESTAMPTZ) AS occurred_at, CAST(n.recordedAt.S AS TIMESTAMPTZ) AS recorded_at,
    n."type".S AS "type", n.category.S AS category,
    n.actor.M."type".S AS actor_type, NULLIF(n.actor.M.id.S, '') AS actor_id, NULLIF(n.actor.M."name".S, '') AS actor_name,
    NULLIF(n.contact.M.id.S, '') AS contact_id, NULLIF(n.contact.M."name".S, '') AS contact_name,
    json_extract_string(n.data, '$.M.primaryContactId.S') AS primary_contact_id,
    CASE WHEN json_extract(n.data, '$.M.mergedContactIds') IS NULL THEN NULL
         ELSE json_extract_string(n.data, '$.M.mergedContactIds.L[*].S') END AS merged_contact_ids,
    NULLIF(n.source.S, '') AS source, NULLIF(n.channel.S, '') AS channel, NULLIF(n.sessionId.S, '') AS session_id,
    n.isAgent.BOOL AS is_agent, coalesce(CAST(n.data AS VARCHAR), '{}') AS data,
    NULLIF(n.context.M.ip.S, '') AS ip, NULLIF(n.context.M.userAgent.S, '') AS user_agent, NULLIF(n.context.M.requestId.S, '') AS request_id,
    n.tenantId.S AS tenant, strftime(CAST(n.occurredAt.S AS TIMESTAMP), '%Y-%m-%d') AS date
  FROM (SELECT eventName, dynamodb.NewImage AS n FROM read_json(` + sqlString(in) + `, format = 'newline_delimited', columns = ` + streamColumns + `))
  WHERE eventName = 'INSERT' AND n.itemType.S = 'event'
  ORDER BY occurred_at, event_id
) TO ` + sqlString(out) + ` (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (tenant, date))`
}

// sameArchiveRows reads both outputs back and compares every column of every row (data
// compared as the JSON value it stands for).
func sameArchiveRows(db *sql.DB, contrailDir, duckDir string, n int) error {
	read := func(glob string, dynamoData bool) ([]string, error) {
		rows, err := db.Query(`SELECT event_id, tenant_id, epoch_ms(occurred_at), epoch_ms(recorded_at), "type", category,
  actor_type, coalesce(actor_id, '<null>'), coalesce(actor_name, '<null>'), coalesce(contact_id, '<null>'), coalesce(contact_name, '<null>'),
  coalesce(primary_contact_id, '<null>'), coalesce(array_to_string(merged_contact_ids, '|'), '<null>'),
  coalesce(source, '<null>'), coalesce(channel, '<null>'), coalesce(session_id, '<null>'), coalesce(CAST(is_agent AS VARCHAR), '<null>'),
  data, coalesce(ip, '<null>'), coalesce(user_agent, '<null>'), coalesce(request_id, '<null>'),
  regexp_extract(filename, 'tenant=([^/]*)/date=([^/]*)/', ['t', 'd']) AS part
FROM read_parquet(` + sqlString(glob) + `, hive_partitioning = false, filename = true) ORDER BY event_id`)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			f := make([]string, 21)
			var part map[string]any
			ptrs := make([]any, 22)
			for i := range f {
				ptrs[i] = &f[i]
			}
			ptrs[21] = &part
			if err := rows.Scan(ptrs...); err != nil {
				return nil, err
			}
			data, err := canonData(f[17], dynamoData)
			if err != nil {
				return nil, fmt.Errorf("event %s: %w", f[0], err)
			}
			f[17] = data
			// The object a row sits in must be its tenant-day.
			if part["t"] != f[1] || part["d"] != time.UnixMilli(atoi(f[2])).UTC().Format(time.DateOnly) {
				return nil, fmt.Errorf("event %s of %s at %s is in the object of %v", f[0], f[1], f[2], part)
			}
			out = append(out, strings.Join(f, "\t"))
		}
		return out, rows.Err()
	}
	c, err := read(filepath.Join(contrailDir, "events", "*", "*", "*.parquet"), false)
	if err != nil {
		return fmt.Errorf("read contrail's output: %w", err)
	}
	d, err := read(filepath.Join(duckDir, "*", "*", "*.parquet"), true)
	if err != nil {
		return fmt.Errorf("read duckdb's output: %w", err)
	}
	if len(c) != n || len(d) != n {
		return fmt.Errorf("contrail wrote %d rows, duckdb %d, want %d", len(c), len(d), n)
	}
	for i := range c {
		if c[i] != d[i] {
			return fmt.Errorf("row %d differs:\ncontrail %s\nduckdb   %s", i, c[i], d[i])
		}
	}
	return nil
}

func atoi(s string) int64 {
	var n int64
	fmt.Sscan(s, &n)
	return n
}

// canonData re-encodes data JSON canonically (keys sorted, numbers as float64); DynamoDB
// JSON is untyped first.
func canonData(s string, dynamo bool) (string, error) {
	var v any
	if dynamo {
		var av archive.AttributeValue
		if err := json.Unmarshal([]byte(s), &av); err != nil {
			return "", err
		}
		v = untype(&av)
	} else if err := json.Unmarshal([]byte(s), &v); err != nil {
		return "", err
	}
	b, err := json.Marshal(v)
	return string(b), err
}

func untype(av *archive.AttributeValue) any {
	switch {
	case av == nil || av.NULL != nil:
		return nil
	case av.S != nil:
		return *av.S
	case av.N != nil:
		var f float64
		fmt.Sscan(*av.N, &f)
		return f
	case av.BOOL != nil:
		return *av.BOOL
	case av.M != nil:
		m := map[string]any{}
		for k, x := range av.M {
			m[k] = untype(x)
		}
		return m
	case av.L != nil:
		l := make([]any, len(av.L))
		for i, x := range av.L {
			l[i] = untype(x)
		}
		return l
	case av.SS != nil:
		l := make([]any, len(av.SS))
		for i, x := range av.SS {
			l[i] = x
		}
		return l
	}
	return nil
}
