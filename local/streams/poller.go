// Package streams is the local stand-in for Lambda's DynamoDB event source mappings: it reads
// each mapped table's stream with the dynamodbstreams client and invokes the function with
// the same events.DynamoDBEvent Lambda sends, honouring the mapping's BatchSize,
// MaximumBatchingWindowInSeconds, FilterCriteria, FunctionResponseTypes
// (ReportBatchItemFailures), MaximumRetryAttempts and BisectBatchOnFunctionError. A batch
// whose records exhaust their retries goes to the mapping's on-failure destination as
// Lambda's on-failure record (shard and sequence range), which local/queues delivers.
//
// Positions are kept per shard in a checkpoint file, so a restarted stack neither replays
// yesterday's records nor misses the ones written while it was down.
package streams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/contrail/contrail/local/template"
)

// Invoker runs a function with a JSON payload; *runtime.Runtime is one.
type Invoker interface {
	Invoke(ctx context.Context, function string, payload []byte) ([]byte, error)
}

// StreamsAPI is the part of the DynamoDB Streams client the poller uses.
type StreamsAPI interface {
	DescribeStream(ctx context.Context, in *dynamodbstreams.DescribeStreamInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

// TablesAPI finds a table's stream.
type TablesAPI interface {
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

var (
	_ StreamsAPI = (*dynamodbstreams.Client)(nil)
	_ TablesAPI  = (*dynamodb.Client)(nil)
)

// Mapping is one event source mapping: a function reading a table's stream.
type Mapping struct {
	Function                string
	Table                   string // the table's (local) name
	BatchSize               int    // 0 = 100
	MaxBatchingWindow       time.Duration
	MaxRetryAttempts        int    // -1 = until the records expire (retries without end locally)
	StartingPosition        string // LATEST (default) or TRIM_HORIZON, for shards there at the first start
	BisectOnError           bool
	ReportBatchItemFailures bool
	Filters                 []string // FilterCriteria patterns
	OnFailure               string   // the on-failure destination (a queue's logical id); "" = none
}

// MappingsFromTemplate returns every DynamoDB event of every function in t, with table
// logical ids turned into names by tables (LogicalId -> name).
func MappingsFromTemplate(t *template.Template, tables map[string]string) ([]Mapping, error) {
	var ms []Mapping
	for _, f := range t.Functions() {
		for _, s := range f.Streams {
			name, ok := tables[s.Table]
			if !ok {
				return nil, fmt.Errorf("stream of %s: no local name for table %q", f.LogicalID, s.Table)
			}
			ms = append(ms, Mapping{
				Function:                f.LogicalID,
				Table:                   name,
				BatchSize:               s.BatchSize,
				MaxBatchingWindow:       time.Duration(s.MaxBatchingWindowSeconds) * time.Second,
				MaxRetryAttempts:        s.MaxRetryAttempts,
				StartingPosition:        s.StartingPosition,
				BisectOnError:           s.BisectOnError,
				ReportBatchItemFailures: s.ReportBatchItemFailures,
				Filters:                 s.Filters,
				OnFailure:               s.OnFailure,
			})
		}
	}
	return ms, nil
}

// Config configures a Poller.
type Config struct {
	Mappings []Mapping
	Streams  StreamsAPI
	Tables   TablesAPI
	Invoker  Invoker
	// Destinations gets the on-failure records of mappings with OnFailure (nil = dropped).
	Destinations Destinations
	// CheckpointDir keeps shard positions across restarts ("" = none: every start is a first).
	CheckpointDir string
	Log           *slog.Logger
	PollInterval  time.Duration // 0 = 250 ms
	RetryDelay    time.Duration // first retry backoff, doubling to 5 s; 0 = 250 ms
}

// Poller runs every mapping until its context ends.
type Poller struct {
	cfg     Config
	runners []*runner
	ready   chan struct{}
}

// New checks the mappings (filters parse, sizes are sane).
func New(c Config) (*Poller, error) {
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 250 * time.Millisecond
	}
	if c.RetryDelay <= 0 {
		c.RetryDelay = 250 * time.Millisecond
	}
	p := &Poller{cfg: c, ready: make(chan struct{})}
	for _, m := range c.Mappings {
		if m.BatchSize <= 0 {
			m.BatchSize = 100
		}
		if m.StartingPosition == "" {
			m.StartingPosition = string(types.ShardIteratorTypeLatest)
		}
		if m.StartingPosition != string(types.ShardIteratorTypeLatest) && m.StartingPosition != string(types.ShardIteratorTypeTrimHorizon) {
			return nil, fmt.Errorf("stream of %s: StartingPosition %q: want LATEST or TRIM_HORIZON", m.Function, m.StartingPosition)
		}
		r := &runner{m: m, cfg: &p.cfg, log: c.Log.With("function", m.Function, "table", m.Table)}
		for _, s := range m.Filters {
			f, err := ParseFilter(s)
			if err != nil {
				return nil, fmt.Errorf("stream of %s: %w", m.Function, err)
			}
			r.filters = append(r.filters, f)
		}
		p.runners = append(p.runners, r)
	}
	return p, nil
}

// Ready is closed once every mapping holds an iterator on each of its shards, so a record
// written afterwards is delivered even with StartingPosition LATEST.
func (p *Poller) Ready() <-chan struct{} { return p.ready }

// Run polls until ctx ends.
func (p *Poller) Run(ctx context.Context) {
	var wg, ready sync.WaitGroup
	for _, r := range p.runners {
		wg.Add(1)
		ready.Add(1)
		go func() {
			defer wg.Done()
			r.run(ctx, ready.Done)
		}()
	}
	go func() { ready.Wait(); close(p.ready) }()
	wg.Wait()
}

// runner is one mapping's polling loop.
type runner struct {
	m       Mapping
	cfg     *Config
	log     *slog.Logger
	filters []Filter

	arn    string
	ckpt   checkpoint
	shards map[string]*shard
	first  bool // the first refresh of a mapping with no checkpoint
}

type shard struct {
	id, parent string
	iter       *string // nil once the shard is closed and read to its end
	lastRead   string  // sequence number of the last record read
	buf        []Record
	bufSince   time.Time
}

// checkpoint is the file kept per mapping.
type checkpoint struct {
	StreamARN string            `json:"streamArn"`
	Shards    map[string]string `json:"shards"` // shard id -> last sequence number handled
	Done      []string          `json:"done"`   // closed shards read to their end
}

func (r *runner) run(ctx context.Context, ready func()) {
	once := sync.OnceFunc(ready)
	defer once()
	for ctx.Err() == nil {
		if err := r.start(ctx); err == nil {
			break
		} else if ctx.Err() == nil {
			r.log.Warn("stream not available yet", "error", err.Error())
			sleep(ctx, time.Second)
		}
	}
	lastDescribe := time.Time{}
	for ctx.Err() == nil {
		if time.Since(lastDescribe) >= time.Second {
			if err := r.refresh(ctx); err != nil {
				if ctx.Err() == nil {
					r.log.Warn("describe stream", "error", err.Error())
				}
			} else {
				once()
			}
			lastDescribe = time.Now()
		}
		for _, id := range r.order() {
			r.poll(ctx, r.shards[id])
		}
		sleep(ctx, r.cfg.PollInterval)
	}
}

func (r *runner) start(ctx context.Context) error {
	out, err := r.cfg.Tables.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(r.m.Table)})
	if err != nil {
		return fmt.Errorf("describe table: %w", err)
	}
	r.arn = aws.ToString(out.Table.LatestStreamArn)
	if r.arn == "" {
		return errors.New("the table has no stream")
	}
	r.shards = map[string]*shard{}
	r.ckpt = r.loadCheckpoint()
	r.first = r.ckpt.StreamARN != r.arn
	if r.first {
		r.ckpt = checkpoint{StreamARN: r.arn, Shards: map[string]string{}}
	}
	return nil
}

// refresh lists the stream's shards and opens an iterator on each new one whose parent is done.
func (r *runner) refresh(ctx context.Context) error {
	var all []types.Shard
	var start *string
	for {
		out, err := r.cfg.Streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(r.arn), ExclusiveStartShardId: start})
		if err != nil {
			return err
		}
		all = append(all, out.StreamDescription.Shards...)
		if start = out.StreamDescription.LastEvaluatedShardId; start == nil {
			break
		}
	}
	known := map[string]bool{}
	for _, s := range all {
		known[aws.ToString(s.ShardId)] = true
	}
	for _, s := range all {
		id, parent := aws.ToString(s.ShardId), aws.ToString(s.ParentShardId)
		if r.shards[id] != nil || r.isDone(id) {
			continue
		}
		if parent != "" && known[parent] && !r.isDone(parent) {
			continue // a child waits for its parent, as Lambda keeps order per key
		}
		in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(r.arn), ShardId: aws.String(id)}
		switch seq := r.ckpt.Shards[id]; {
		case seq != "":
			in.ShardIteratorType, in.SequenceNumber = types.ShardIteratorTypeAfterSequenceNumber, aws.String(seq)
		case r.first:
			in.ShardIteratorType = types.ShardIteratorType(r.m.StartingPosition)
		default:
			in.ShardIteratorType = types.ShardIteratorTypeTrimHorizon
		}
		out, err := r.cfg.Streams.GetShardIterator(ctx, in)
		if err != nil {
			return fmt.Errorf("shard iterator %s: %w", id, err)
		}
		r.shards[id] = &shard{id: id, parent: parent, iter: out.ShardIterator, lastRead: r.ckpt.Shards[id]}
	}
	if r.first {
		// Shards seen from now on started after the mapping did: read them from their start.
		r.first = false
		r.saveCheckpoint()
	}
	return nil
}

func (r *runner) isDone(id string) bool {
	for _, d := range r.ckpt.Done {
		if d == id {
			return true
		}
	}
	return false
}

// order returns the open shards in a stable order (a child opens only once its parent is done).
func (r *runner) order() []string {
	ids := make([]string, 0, len(r.shards))
	for id := range r.shards {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func (r *runner) poll(ctx context.Context, s *shard) {
	if s.iter != nil && len(s.buf) < r.m.BatchSize {
		out, err := r.cfg.Streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: s.iter, Limit: aws.Int32(1000)})
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			r.recover(ctx, s, err)
			return
		}
		for _, rec := range out.Records {
			lr := convert(rec, r.arn)
			s.lastRead = lr.DynamoDB.SequenceNumber
			if !r.matches(lr) {
				continue
			}
			if len(s.buf) == 0 {
				s.bufSince = time.Now()
			}
			s.buf = append(s.buf, lr)
		}
		s.iter = out.NextShardIterator
		if len(s.buf) == 0 && s.lastRead != "" && s.lastRead != r.ckpt.Shards[s.id] {
			r.checkpoint(s.id, s.lastRead) // everything read was filtered out
		}
	}
	for len(s.buf) > 0 && ctx.Err() == nil &&
		(len(s.buf) >= r.m.BatchSize || time.Since(s.bufSince) >= r.m.MaxBatchingWindow || s.iter == nil) {
		n := min(len(s.buf), r.m.BatchSize)
		batch := s.buf[:n]
		r.process(ctx, s.id, batch)
		if ctx.Err() != nil {
			return // not handled: the next start reads it again
		}
		s.buf = s.buf[n:]
		seq := batch[n-1].DynamoDB.SequenceNumber
		if len(s.buf) == 0 {
			seq = s.lastRead
			s.buf = nil
		} else {
			s.bufSince = time.Now()
		}
		r.checkpoint(s.id, seq)
	}
	if s.iter == nil && len(s.buf) == 0 {
		delete(r.shards, s.id)
		r.ckpt.Done = append(r.ckpt.Done, s.id)
		delete(r.ckpt.Shards, s.id)
		r.saveCheckpoint()
	}
}

// recover re-opens a shard's iterator after an error (an expired iterator, trimmed data).
func (r *runner) recover(ctx context.Context, s *shard, err error) {
	var trimmed *types.TrimmedDataAccessException
	var gone *types.ResourceNotFoundException
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(r.arn), ShardId: aws.String(s.id)}
	switch {
	case errors.As(err, &gone):
		r.log.Warn("shard is gone", "shard", s.id)
		delete(r.shards, s.id)
		return
	case errors.As(err, &trimmed) || s.lastRead == "":
		in.ShardIteratorType = types.ShardIteratorTypeTrimHorizon
	default:
		in.ShardIteratorType, in.SequenceNumber = types.ShardIteratorTypeAfterSequenceNumber, aws.String(s.lastRead)
	}
	r.log.Debug("reopening shard iterator", "shard", s.id, "error", err.Error())
	out, ierr := r.cfg.Streams.GetShardIterator(ctx, in)
	if ierr != nil {
		if ctx.Err() == nil {
			r.log.Warn("get records", "shard", s.id, "error", err.Error(), "reopen_error", ierr.Error())
		}
		return
	}
	s.iter = out.ShardIterator
}

func (r *runner) matches(rec Record) bool {
	if len(r.filters) == 0 {
		return true
	}
	g := rec.generic()
	for _, f := range r.filters {
		if f.Match(g) {
			return true
		}
	}
	return false
}

// process delivers one batch with the mapping's retry, partial-failure and bisect rules.
func (r *runner) process(ctx context.Context, shardID string, batch []Record) {
	remaining := batch
	delay := r.cfg.RetryDelay
	for attempt := 0; ; attempt++ {
		failed, whole, err := r.invoke(ctx, remaining)
		if ctx.Err() != nil {
			return
		}
		if err == nil && failed < 0 {
			return
		}
		if whole && r.m.BisectOnError && len(remaining) > 1 {
			mid := len(remaining) / 2
			r.log.Warn("stream batch failed; bisecting", "shard", shardID, "records", len(remaining), "error", errString(err))
			r.process(ctx, shardID, remaining[:mid])
			r.process(ctx, shardID, remaining[mid:])
			return
		}
		if !whole {
			remaining = remaining[failed:]
		}
		if r.m.MaxRetryAttempts >= 0 && attempt >= r.m.MaxRetryAttempts {
			r.exhausted(ctx, shardID, remaining, attempt+1, err)
			return
		}
		r.log.Warn("stream batch failed; retrying", "shard", shardID, "records", len(remaining), "attempt", attempt+1, "error", errString(err))
		sleep(ctx, delay)
		delay = min(delay*2, 5*time.Second)
	}
}

// exhausted hands a batch that used up its retries to the mapping's on-failure destination,
// or drops it with an error line when there is none.
func (r *runner) exhausted(ctx context.Context, shardID string, batch []Record, invokes int, err error) {
	log := r.log.With("shard", shardID, "first_sequence_number", batch[0].DynamoDB.SequenceNumber,
		"last_sequence_number", batch[len(batch)-1].DynamoDB.SequenceNumber, "records", len(batch), "attempts", invokes, "error", errString(err))
	if r.m.OnFailure == "" || r.cfg.Destinations == nil {
		log.Error("stream records dropped after retries (no on-failure destination)")
		return
	}
	body, ferr := newFailureRecord(r.m.Function, r.arn, shardID, batch, invokes, err, time.Now())
	if ferr == nil {
		ferr = r.cfg.Destinations.Send(ctx, r.m.OnFailure, body)
	}
	if ferr != nil {
		log.Error("stream records dropped after retries: the on-failure destination failed", "destination", r.m.OnFailure, "destination_error", ferr.Error())
		return
	}
	log.Error("stream records sent to the on-failure destination after retries", "destination", r.m.OnFailure)
}

func errString(err error) string {
	if err == nil {
		return "partial batch failure"
	}
	return err.Error()
}

// invoke sends batch and reads the response. failed is the index of the first record to
// retry (-1 when none); whole reports that the batch failed as a whole.
func (r *runner) invoke(ctx context.Context, batch []Record) (failed int, whole bool, err error) {
	payload, err := json.Marshal(Event{Records: batch})
	if err != nil {
		return 0, true, fmt.Errorf("encode event: %w", err)
	}
	out, err := r.cfg.Invoker.Invoke(ctx, r.m.Function, payload)
	if err != nil {
		return 0, true, err
	}
	if !r.m.ReportBatchItemFailures {
		return -1, false, nil
	}
	var resp struct {
		BatchItemFailures []struct {
			ItemIdentifier string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
	}
	if t := strings.TrimSpace(string(out)); t == "" || t == "null" {
		return -1, false, nil
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		return 0, true, fmt.Errorf("response is not a batch item failure list: %w", err)
	}
	failed = -1
	for _, f := range resp.BatchItemFailures {
		i := indexOf(batch, f.ItemIdentifier)
		if i < 0 {
			return 0, true, fmt.Errorf("batch item failure %q names no record of the batch", f.ItemIdentifier)
		}
		if failed < 0 || i < failed {
			failed = i
		}
	}
	return failed, false, nil
}

func indexOf(batch []Record, seq string) int {
	for i, rec := range batch {
		if seq != "" && rec.DynamoDB.SequenceNumber == seq {
			return i
		}
	}
	return -1
}

func (r *runner) checkpoint(shardID, seq string) {
	if seq == "" {
		return
	}
	r.ckpt.Shards[shardID] = seq
	r.saveCheckpoint()
}

func (r *runner) path() string {
	if r.cfg.CheckpointDir == "" {
		return ""
	}
	return filepath.Join(r.cfg.CheckpointDir, r.m.Function+"."+r.m.Table+".json")
}

func (r *runner) loadCheckpoint() checkpoint {
	var c checkpoint
	if p := r.path(); p != "" {
		if b, err := os.ReadFile(p); err == nil {
			if err := json.Unmarshal(b, &c); err != nil {
				r.log.Warn("ignoring unreadable stream checkpoint", "path", p, "error", err.Error())
				c = checkpoint{}
			}
		}
	}
	if c.Shards == nil {
		c.Shards = map[string]string{}
	}
	return c
}

func (r *runner) saveCheckpoint() {
	p := r.path()
	if p == "" {
		return
	}
	b, _ := json.MarshalIndent(r.ckpt, "", "  ")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.log.Warn("save stream checkpoint", "error", err.Error())
		return
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		r.log.Warn("save stream checkpoint", "error", err.Error())
		return
	}
	if err := os.Rename(tmp, p); err != nil {
		r.log.Warn("save stream checkpoint", "error", err.Error())
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
