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
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/contrail/contrail/local/runtime"
	"github.com/contrail/contrail/local/template"
)

// Invoker runs a function with a JSON payload.
type Invoker = runtime.Invoker

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

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
