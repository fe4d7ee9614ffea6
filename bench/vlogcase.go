package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/contrail/contrail/local/template"
	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/vlog"
)

// caseVlog measures the verifiable log (issue 13): sequencing the archiver's 6 MB batch in
// one sequencer run, against archiving that batch; and serving an inclusion proof for a random
// event of the busiest tenant's log, with the tiles it reads.
func caseVlog(ctx context.Context, b *bencher) error {
	st, err := startHandlerStack(ctx, b.o.root, "AuditTable")
	if err != nil {
		return err
	}
	defer st.Stop()
	signer, err := vlog.NewSigner("bench-log-signing-secret")
	if err != nil {
		return err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	work := filepath.Join(b.o.root, ".local", "bench", "work", "vlog")
	if err := os.RemoveAll(work); err != nil {
		return err
	}
	tables := 0
	newLog := func(store archive.Store) (*vlog.Log, error) {
		tables++
		name := fmt.Sprintf("bench-LogTable-%d", tables)
		var tb template.Table
		for _, t := range st.tpl.Tables() {
			if t.LogicalID == "LogTable" {
				tb = t
			}
		}
		if _, err := st.db.CreateTable(ctx, tb.CreateTableInput(name)); err != nil {
			return nil, fmt.Errorf("create table %s: %w", name, err)
		}
		if err := dynamodb.NewTableExistsWaiter(st.db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
			return nil, err
		}
		return &vlog.Log{DB: st.db, Table: name, Archive: store, Checkpoints: &archive.DirStore{Dir: filepath.Join(work, name+"-checkpoints")}, Signer: signer, Log: quiet}, nil
	}

	// Sequencing vs archiving one 6 MB stream batch, in one run each: every run archives the
	// batch into a fresh folder (timed: the peer), then sequences it into a fresh LogTable
	// (timed: Contrail's side), and checks every event is in the log once.
	all, err := batchRecords(b.o.scale, b.o.seed, 10_000)
	if err != nil {
		return err
	}
	n := fitting(all, lambdaPayloadLimit)
	payload := batchJSON(all[:n])
	var seqs, archs []time.Duration
	var last *vlog.Log
	for i := 0; i <= b.o.runs; i++ { // run 0 warms up
		store := &archive.DirStore{Dir: filepath.Join(work, fmt.Sprintf("batch-%d", i))}
		arch := &archive.Archiver{Store: store, Log: quiet}
		t0 := time.Now()
		batch, err := archive.DecodeStreamBatch(payload)
		if err != nil {
			return err
		}
		if resp, err := arch.Handle(ctx, batch); err != nil || len(resp.BatchItemFailures) > 0 {
			return fmt.Errorf("archive: %v, %d failures", err, len(resp.BatchItemFailures))
		}
		ta := time.Since(t0)
		l, err := newLog(store)
		if err != nil {
			return err
		}
		t1 := time.Now()
		if err := (&vlog.Sequencer{Log: l}).Run(ctx); err != nil {
			return fmt.Errorf("sequence: %w", err)
		}
		ts := time.Since(t1)
		total := int64(0)
		for _, t := range b.o.scale.Tenants {
			h, err := l.Head(ctx, t.ID)
			if err != nil {
				return err
			}
			total += h.Size
		}
		if total != int64(n) {
			return fmt.Errorf("the logs hold %d events, the batch %d", total, n)
		}
		last = l
		if i > 0 {
			seqs, archs = append(seqs, ts), append(archs, ta)
		}
	}
	logf("vlog: %d records sequenced, every event once", n)
	b.ratioRow(fmt.Sprintf("8. sequence a 6 MB stream batch (%d rec) vs archiving it", n), median(seqs), median(archs), 0.3)
	if err := indexFloor(ctx, b, last, newLog, median(archs)); err != nil {
		return err
	}

	// Proof serving: the busiest tenant's log, its events archived and sequenced as the
	// functions do, then inclusion proofs for random events through the route's handler.
	busy := b.o.scale.Tenants[0]
	size := 300_000
	if b.o.smoke {
		size = 5_000
	}
	g := gen{seed: b.o.seed + 2000, sc: b.o.scale}
	days := g.days()
	store := &countingStore{DirStore: archive.DirStore{Dir: filepath.Join(work, "busy")}}
	arch := &archive.Archiver{Store: store, Log: quiet}
	var ids []string
	for di := len(days) - 1; len(ids) < size; di-- {
		evs := g.dayEvents(busy, di, days[di], min(size-len(ids), 50_000), 1000)
		rows := make([]archive.Row, len(evs))
		seq := make([]string, len(evs))
		for i := range evs {
			if rows[i], err = archive.FromEvent(&evs[i]); err != nil {
				return err
			}
			seq[i], ids = evs[i].ID, append(ids, evs[i].ID)
		}
		for len(rows) > 0 { // parts of 2,000, as stream batches would write them
			k := min(len(rows), 2000)
			if _, failed := arch.Write(ctx, rows[:k], seq[:k]); len(failed) > 0 {
				return fmt.Errorf("archive %d rows of %s", len(failed), busy.ID)
			}
			rows, seq = rows[k:], seq[k:]
		}
	}
	l, err := newLog(store)
	if err != nil {
		return err
	}
	t0 := time.Now()
	if err := (&vlog.Sequencer{Log: l}).Run(ctx); err != nil {
		return err
	}
	logf("vlog: %s's log of %d events built in %.1f s", busy.ID, len(ids), time.Since(t0).Seconds())
	svc := &vlog.Service{
		Log:    &vlog.Log{DB: st.db, Table: l.Table, Archive: store},
		Events: &audit.Writer{DB: st.db, Table: benchTable("AuditTable"), Keys: audit.Keys{Shards: 4}, Retention: audit.RetentionDays(400, 400, 400, 30)},
		IDs:    ident.NewGenerator(ident.SystemClock),
	}
	route := httpapi.Route(httpapi.AdminRoles, svc.Inclusion)
	ev, err := readEvent(b.o.root, "get-log-inclusion-proof-event.json")
	if err != nil {
		return err
	}
	ev.RequestContext.Authorizer.JWT.Claims["custom:tenant_id"] = busy.ID.String()
	rng := rand.New(rand.NewPCG(b.o.seed, 13))
	var times []time.Duration
	var tiles []int
	for i := 0; i < 5*b.o.runs; i++ {
		id := ids[rng.IntN(len(ids))]
		ev.QueryStringParameters = map[string]string{"eventId": id}
		ev.RawQueryString = "eventId=" + id
		store.tiles.Store(0)
		t := time.Now()
		resp, err := route(ctx, ev)
		if err != nil || resp.StatusCode != 200 {
			return fmt.Errorf("inclusion proof of %s: %v %d %s", id, err, resp.StatusCode, resp.Body)
		}
		times = append(times, time.Since(t))
		tiles = append(tiles, int(store.tiles.Load()))
	}
	sort.Ints(tiles)
	most := tiles[len(tiles)-1]
	pass := most <= 6
	b.tbl.add(row{
		name:     fmt.Sprintf("9. inclusion proof, a random event of %s's log (%d leaves): tiles read, median %d, most %d", busy.ID, len(ids), tiles[len(tiles)/2], most),
		contrail: fmtDur(median(times)), target: "≤ 6 tiles", pass: &pass,
	})
	return nil
}

// indexFloor times the floor of any log that finds an event by its id through DynamoDB: one
// index item per event of the batch (the smallest item that maps an id to its leaf, written
// unconditionally, 25 a BatchWriteItem, 8 requests at once) against archiving the batch (the
// median of row 8's peer). Exactly-once appends and inclusion proofs by event id both need such
// an index; this row shows what it alone costs against row 8's target.
func indexFloor(ctx context.Context, b *bencher, sequenced *vlog.Log, newLog func(archive.Store) (*vlog.Log, error), archiving time.Duration) error {
	var keys []map[string]types.AttributeValue
	for _, t := range b.o.scale.Tenants {
		_, err := sequenced.EachLeaf(ctx, t.ID, time.Unix(0, 0), time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), func(r vlog.LeafRecord) error {
			keys = append(keys, map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: "T#" + t.ID.String() + "#E#" + r.EventID}, "sk": &types.AttributeValueMemberS{Value: "I"},
				"index": &types.AttributeValueMemberN{Value: fmt.Sprint(r.Index)},
			})
			return nil
		})
		if err != nil {
			return err
		}
	}
	l, err := newLog(sequenced.Archive)
	if err != nil {
		return err
	}
	write := func() error {
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			errs []error
			sem  = make(chan struct{}, 8)
		)
		for lo := 0; lo < len(keys); lo += 25 {
			reqs := make([]types.WriteRequest, 0, 25)
			for _, k := range keys[lo:min(lo+25, len(keys))] {
				reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: k}})
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				in := &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{l.Table: reqs}}
				for len(in.RequestItems) > 0 {
					out, err := l.DB.BatchWriteItem(ctx, in)
					if err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
						return
					}
					in.RequestItems = out.UnprocessedItems
				}
			}()
		}
		wg.Wait()
		return errors.Join(errs...)
	}
	if err := write(); err != nil { // warm-up
		return err
	}
	var ws []time.Duration
	for range b.o.runs {
		t := time.Now()
		if err := write(); err != nil {
			return err
		}
		ws = append(ws, time.Since(t))
	}
	w := median(ws)
	b.breakdownRow(fmt.Sprintf("8 b. floor: one DynamoDB index item per event (%d, BatchWriteItem) vs archiving the batch", len(keys)), w, archiving)
	return nil
}

// countingStore counts the tiles read.
type countingStore struct {
	archive.DirStore
	tiles atomic.Int64
}

func (c *countingStore) Get(ctx context.Context, key string) ([]byte, error) {
	if strings.Contains(key, "/tile/") {
		c.tiles.Add(1)
	}
	return c.DirStore.Get(ctx, key)
}
