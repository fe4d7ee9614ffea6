package devstack

// Start-up: the order the stack comes up in (state lock, the API's port answering
// "starting", the build beside the stand-ins, tables and bucket, functions, gateway, queues,
// stream poller and scheduler) and the progress lines it prints on the way.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/contrail/contrail/local/devauth"
	"github.com/contrail/contrail/local/gateway"
	"github.com/contrail/contrail/local/queues"
	"github.com/contrail/contrail/local/runtime"
	"github.com/contrail/contrail/local/schedule"
	"github.com/contrail/contrail/local/streams"
	"github.com/contrail/contrail/local/template"
)

// Start brings the stack up and returns once the API answers and the stream poller holds
// its iterators. From its first second the API's port answers every request with 503
// "starting". On error everything started so far is stopped.
func Start(ctx context.Context, o Options) (_ *Stack, err error) {
	began := time.Now()
	if err := o.defaults(); err != nil {
		return nil, err
	}
	out := o.Out
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level(o.LogLevel)}))
	s := &Stack{Root: o.Root, StateDir: o.StateDir, log: log, Tables: map[string]string{}, Buckets: map[string]string{}}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	if err := os.MkdirAll(o.StateDir, 0o755); err != nil {
		return nil, fmt.Errorf("state folder: %w", err)
	}
	// One stack per state folder: a second one would start a second DynamoDB Local on the
	// same data.
	release, err := lockState(o.StateDir)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, release)
	// Take the API's port first: a busy port fails in a second, not after every start-up.
	ln, err := net.Listen("tcp", net.JoinHostPort(o.Host, strconv.Itoa(o.Port)))
	if err != nil {
		return nil, fmt.Errorf("serve the API on %s:%d: %w (set PORT to use another port)", o.Host, o.Port, err)
	}
	s.closers = append(s.closers, func() error { ln.Close(); return nil })
	// Serve at once: until the gateway is ready every route answers 503 "starting", so a
	// client learns why it waits instead of hanging on a connection nobody reads.
	front := gateway.NewStarting()
	s.srv = &http.Server{Handler: front, ReadHeaderTimeout: 10 * time.Second}
	s.URL = "http://" + ln.Addr().String()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("API server stopped", "error", err.Error())
		}
	}()
	say := newProgress(o.Progress)
	say.line("Starting Contrail locally. Until it is ready, %s answers 503 (code \"starting\").", s.URL)

	tpl, err := template.Load(filepath.Join(o.Root, template.FileName))
	if err != nil {
		return nil, err
	}
	if s.key, err = devauth.LoadOrCreateKey(filepath.Join(o.StateDir, devauth.KeyFile)); err != nil {
		return nil, err
	}

	fns := selectFunctions(tpl, o.Functions)
	type buildResult struct {
		bins map[string]string
		err  error
	}
	buildDone := make(chan buildResult, 1)
	buildCtx, cancelBuild := context.WithCancel(ctx)
	defer cancelBuild()
	say.line("  building %d functions for this machine into %s (a minute or two the first time, seconds after)",
		len(fns), relTo(o.Root, filepath.Join(o.StateDir, "bin")))
	go func() {
		if o.Console {
			front.SetStatus("building the console")
			if err := buildConsole(buildCtx, o.Root, say.line); err != nil {
				buildDone <- buildResult{nil, err}
				return
			}
		}
		built := 0
		bins, err := buildFunctions(buildCtx, o.Root, filepath.Join(o.StateDir, "bin"), fns, log, func(f template.Function) {
			built++
			front.SetStatus(fmt.Sprintf("building functions: %d of %d", built, len(fns)))
			say.line("  built %*d of %d  %s", len(strconv.Itoa(len(fns))), built, len(fns), f.LogicalID)
		})
		if err == nil {
			say.line("  functions ready: %d of %d (%d compiled now, %d unchanged), %.0f s after start", len(bins), len(fns), built, len(bins)-built, time.Since(began).Seconds())
		}
		buildDone <- buildResult{bins, err}
	}()
	// On a failure before the build is collected, stop it rather than wait for it.
	abandon := func() { cancelBuild(); <-buildDone }

	front.SetStatus("starting the stand-ins and building the functions")
	if o.Endpoint == "" {
		say.line("  starting DynamoDB Local, S3 and the SES emulator")
	}
	if err := s.startAWS(ctx, o); err != nil {
		abandon()
		return nil, err
	}
	if o.Endpoint == "" {
		say.line("  stand-ins ready, %.0f s after start", time.Since(began).Seconds())
	} else {
		say.line("  using %s for DynamoDB, S3 and SES (no local stand-ins)", o.Endpoint)
	}
	for _, tb := range tpl.Tables() {
		s.Tables[tb.LogicalID] = TableName(o.Prefix, tb.LogicalID)
	}
	for _, b := range tpl.Buckets() {
		s.Buckets[b] = BucketName(o.Prefix, b)
	}
	db := dynamodb.NewFromConfig(s.aws, func(opt *dynamodb.Options) { opt.BaseEndpoint = aws.String(s.DynamoDBEndpoint) })
	s3c := s3.NewFromConfig(s.aws, func(opt *s3.Options) { opt.BaseEndpoint, opt.UsePathStyle = aws.String(s.S3Endpoint), true })
	if err := ensureTables(ctx, db, tpl, s.Tables); err != nil {
		abandon()
		return nil, err
	}
	for _, name := range s.Buckets {
		if err := ensureBucket(ctx, s3c, name); err != nil {
			abandon()
			return nil, err
		}
	}
	secrets, err := s.startSecrets(tpl)
	if err != nil {
		abandon()
		return nil, err
	}
	keys, err := s.startKMS(tpl)
	if err != nil {
		abandon()
		return nil, err
	}
	refs, err := s.refs(ctx, tpl, db)
	if err != nil {
		abandon()
		return nil, err
	}
	maps.Copy(refs, secrets)
	maps.Copy(refs, keys)
	say.line("  tables and bucket ready")

	br := <-buildDone
	if br.err != nil {
		return nil, br.err
	}
	s.rt = runtime.New(out, log)
	if o.Faults != nil {
		s.rt.SetFaults(o.Faults)
	}
	s.closers = append(s.closers, s.rt.Close)
	for _, f := range fns {
		bin, ok := br.bins[f.LogicalID]
		if !ok {
			continue
		}
		env, err := tpl.FunctionEnv(f, refs)
		if err != nil {
			return nil, err
		}
		for k, v := range s.awsEnv(o) {
			env[k] = v
		}
		s.rt.Add(runtime.Function{Name: f.LogicalID, Path: bin, Env: env, Timeout: time.Duration(f.Timeout) * time.Second, Memory: f.MemorySize})
		s.Functions = append(s.Functions, f.LogicalID)
	}
	running := func(id string) bool { return slices.Contains(s.Functions, id) }

	var routes []gateway.Route
	for _, r := range gateway.RoutesFromTemplate(tpl) {
		if running(r.Function) {
			routes = append(routes, r)
		}
	}
	gw, err := gateway.New(gateway.Config{Routes: routes, Key: s.key, Invoker: s.rt, Log: log})
	if err != nil {
		return nil, err
	}
	front.SetStatus("starting the stream poller")

	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel

	allMappings, err := streams.MappingsFromTemplate(tpl, s.Tables)
	if err != nil {
		return nil, err
	}
	var mappings []streams.Mapping
	for _, m := range allMappings {
		if running(m.Function) {
			mappings = append(mappings, m)
		}
	}
	// The SQS queues that feed functions: the archiver's and the mailer's on-failure queues feed
	// their replays.
	qs := queues.New(runCtx, queues.Config{Queues: queues.FromTemplate(tpl, running), Invoker: s.rt, Log: log})
	s.wg.Add(1)
	go func() { defer s.wg.Done(); <-runCtx.Done(); qs.Wait() }()
	poller, err := streams.New(streams.Config{
		Destinations:  qs,
		Mappings:      mappings,
		Streams:       dynamodbstreams.NewFromConfig(s.aws, func(opt *dynamodbstreams.Options) { opt.BaseEndpoint = aws.String(s.DynamoDBEndpoint) }),
		Tables:        db,
		Invoker:       s.rt,
		CheckpointDir: filepath.Join(o.StateDir, "streams"),
		Log:           log,
	})
	if err != nil {
		return nil, err
	}
	s.wg.Add(1)
	go func() { defer s.wg.Done(); poller.Run(runCtx) }()
	select {
	case <-poller.Ready():
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(60 * time.Second):
		return nil, errors.New("the stream poller did not reach the tables' streams within 60 s")
	}

	if !o.NoSchedules {
		var jobs []schedule.Job
		for _, j := range schedule.JobsFromTemplate(tpl) {
			if running(j.Function) {
				j.Scale = localScheduleScale[j.Function]
				jobs = append(jobs, j)
			}
		}
		sch, err := schedule.New(schedule.Config{Jobs: jobs, Invoker: s.rt, Log: log, Scale: o.ScheduleScale})
		if err != nil {
			return nil, err
		}
		s.wg.Add(1)
		go func() { defer s.wg.Done(); sch.Run(runCtx) }()
	}

	front.Ready(s.routes(gw))
	say.line("Ready, %.0f s after start.", time.Since(began).Seconds())
	return s, nil
}

// progress writes start-up lines from the start and the build goroutines.
type progress struct {
	mu sync.Mutex
	w  io.Writer
}

// localScheduleScale runs some scheduled functions faster than template.yaml's rate, on top
// of LOCAL_SCHEDULE_SCALE, where a local bound needs it. SequenceLogFunction's rate(1 minute)
// is EventBridge's shortest and meets the AWS bound (an event in a signed checkpoint within
// 5 minutes); locally an event must be in one within 30 s, so it runs every 10 s. Scaling
// the template's own rate keeps the schedule in one place, and runs the sequencer the same
// way in AWS and here (a scheduled invoke, reserved concurrency 1), rather than chaining it
// to the archiver's invocations, which AWS would not do.
var localScheduleScale = map[string]float64{"SequenceLogFunction": 6}

func newProgress(w io.Writer) *progress {
	if w == nil {
		w = io.Discard
	}
	return &progress{w: w}
}

func (p *progress) line(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}

// relTo is path relative to root when inside it.
func relTo(root, path string) string {
	if r, err := filepath.Rel(root, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}

func (o *Options) defaults() error {
	if o.Root == "" {
		p, err := template.Find()
		if err != nil {
			return err
		}
		o.Root = filepath.Dir(p)
	}
	abs, err := filepath.Abs(o.Root)
	if err != nil {
		return err
	}
	o.Root = abs
	if o.StateDir == "" {
		o.StateDir = filepath.Join(o.Root, ".local")
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.Prefix == "" {
		o.Prefix = "contrail"
	}
	if o.Out == nil {
		o.Out = os.Stderr
	}
	if o.LogLevel == "" {
		o.LogLevel = "INFO"
	}
	return nil
}

func level(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}

func selectFunctions(tpl *template.Template, only []string) []template.Function {
	var fns []template.Function
	for _, f := range tpl.Functions() {
		if only == nil || slices.Contains(only, f.LogicalID) {
			fns = append(fns, f)
		}
	}
	return fns
}
