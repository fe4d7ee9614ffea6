// Package devstack starts the whole of Contrail on one machine without Docker: DynamoDB Local
// (data under .local/dynamodb), an in-process S3 server (objects as plain files under
// .local/s3/<bucket>/<key>) and the SES emulator; the tables, indexes, streams, TTL and the
// bucket from template.yaml; every function built for the host and run behind a local
// Lambda Runtime API; the HTTP API gateway, the DynamoDB stream poller and the scheduler.
// `make run` runs it; end-to-end tests start it in process with Start.
//
// With Options.Endpoint (AWS_ENDPOINT_URL, e.g. LocalStack) no emulator starts: tables and
// the bucket are created there and the functions use that endpoint for everything.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/contrail/contrail/local/devauth"
	"github.com/contrail/contrail/local/emulator"
	"github.com/contrail/contrail/local/gateway"
	"github.com/contrail/contrail/local/queues"
	"github.com/contrail/contrail/local/runtime"
	"github.com/contrail/contrail/local/schedule"
	"github.com/contrail/contrail/local/streams"
	"github.com/contrail/contrail/local/template"
)

// Options configures a stack. The zero value runs everything from the repository holding the
// working directory, with state under its .local/ and the API on a free port.
type Options struct {
	// Root is the repository root (holding template.yaml); "" = found from the working directory.
	Root string
	// StateDir holds the data, keys, binaries and checkpoints; "" = <Root>/.local.
	StateDir string
	// Host and Port of the API; "" = 127.0.0.1, 0 = a free port.
	Host string
	Port int
	// Ports of DynamoDB, the S3 server and the SES emulator; 0 = a free port. DynamoDB's is
	// a front on 127.0.0.1 before DynamoDB Local, which takes a free port of its own (see
	// startDynamoDBFront).
	DynamoDBPort, S3Port, SESPort int
	// Functions limits the stack to these LogicalIds (their routes, streams and schedules);
	// nil = every function of the template.
	Functions []string
	// Endpoint, when set, is an AWS endpoint to use for everything (LocalStack): no emulator
	// starts. "" = start DynamoDB Local, S3 and the SES emulator.
	Endpoint string
	// Prefix names the local tables and bucket ("contrail" = contrail-ContactsTable,
	// contrail-archive-bucket); "" = "contrail".
	Prefix string
	// NoSchedules leaves the scheduler off (tests that fire functions themselves).
	NoSchedules bool
	// ScheduleScale divides rate(...) periods (LOCAL_SCHEDULE_SCALE); 0 = real time.
	ScheduleScale float64
	// Out receives the stack's logs and the functions' output; nil = os.Stderr.
	Out io.Writer
	// Banner receives what Run prints once the stack is up (URLs, tokens); nil = os.Stdout.
	Banner io.Writer
	// Progress receives a line per start-up step (the API URL, the stand-ins, each function
	// built, n of N); nil = none (Run: Banner).
	Progress io.Writer
	// LogLevel of the stack's own logs and AWS_LAMBDA_LOG_LEVEL of the functions; "" = INFO.
	LogLevel string
	// Console builds the web console (console/) when its sources changed, before the
	// functions (make run); false serves whatever build is there (tests).
	Console bool
}

// Stack is a running local stack.
type Stack struct {
	URL      string            // the API, e.g. http://127.0.0.1:3000
	Root     string            // repository root
	StateDir string            // .local
	Tables   map[string]string // table LogicalId -> local name
	Buckets  map[string]string // bucket LogicalId -> local name
	// Endpoints of the stand-ins (all the same with Options.Endpoint); MailViewer is the SES
	// emulator's web page ("" with an external endpoint).
	DynamoDBEndpoint, S3Endpoint, SESEndpoint, MailViewer string
	Functions                                             []string // LogicalIds running

	key     []byte
	rt      *runtime.Runtime
	srv     *http.Server // the API: 503 "starting" until Start returns, then the gateway
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closers []func() error
	log     *slog.Logger
	once    sync.Once
	aws     aws.Config
	// dynamoDBLocal is DynamoDB Local's own endpoint, behind DynamoDBEndpoint ("" with
	// Options.Endpoint).
	dynamoDBLocal string
}

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
	refs, err := s.refs(ctx, tpl, db)
	if err != nil {
		abandon()
		return nil, err
	}
	say.line("  tables and bucket ready")

	br := <-buildDone
	if br.err != nil {
		return nil, br.err
	}
	s.rt = runtime.New(out, log)
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
	// The SQS queues that feed functions: the archiver's on-failure queue feeds the replay.
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

// startAWS starts the stand-ins (or adopts Options.Endpoint) and sets the endpoints.
func (s *Stack) startAWS(ctx context.Context, o Options) error {
	if o.Endpoint != "" {
		s.DynamoDBEndpoint, s.S3Endpoint, s.SESEndpoint = o.Endpoint, o.Endpoint, o.Endpoint
		s.aws = emulator.Config(o.Endpoint)
		return nil
	}
	if err := checkPrerequisites(ctx); err != nil {
		return err
	}
	if err := installEmulators(ctx, o.Root, o.Out); err != nil {
		return err
	}
	type started struct {
		p   *emulator.Process
		err error
	}
	ddbc, sesc := make(chan started, 1), make(chan started, 1)
	go func() {
		// On a port of its own: Options.DynamoDBPort is the front's (below).
		p, err := emulator.StartDynamoDB(ctx, emulator.Options{Root: o.Root, DBPath: filepath.Join(o.StateDir, "dynamodb"), StartTimeout: startTimeout})
		ddbc <- started{p, err}
	}()
	go func() {
		p, err := emulator.StartSES(ctx, emulator.Options{Root: o.Root, Port: o.SESPort, StartTimeout: startTimeout})
		sesc <- started{p, err}
	}()
	ddb, ses := <-ddbc, <-sesc
	for _, st := range []started{ddb, ses} {
		if st.p != nil {
			s.closers = append(s.closers, st.p.Stop)
		}
	}
	if ddb.err != nil {
		return ddb.err
	}
	if ses.err != nil {
		return ses.err
	}
	// The functions and the banner use the front: DynamoDB Local's own error responses lack
	// the CRC32 header the SDK checks.
	front, err := startDynamoDBFront(ddb.p.Endpoint, "127.0.0.1", o.DynamoDBPort, s.log)
	if err != nil {
		return err
	}
	s.closers = append(s.closers, front.Close)
	s.dynamoDBLocal = ddb.p.Endpoint
	s3srv, err := startS3(filepath.Join(o.StateDir, "s3"), "127.0.0.1", o.S3Port, s.log)
	if err != nil {
		return err
	}
	s.closers = append(s.closers, s3srv.Close)
	s.DynamoDBEndpoint, s.S3Endpoint, s.SESEndpoint = front.Endpoint, s3srv.Endpoint, ses.p.Endpoint
	s.MailViewer = ses.p.Endpoint + "/"
	s.aws = emulator.Config(s.DynamoDBEndpoint)
	return nil
}

// refs are the local values of what template.yaml only knows once deployed.
func (s *Stack) refs(ctx context.Context, tpl *template.Template, db *dynamodb.Client) (map[string]string, error) {
	refs := map[string]string{"HttpApi": "local"}
	arns, err := streamARNs(ctx, db, s.Tables)
	if err != nil {
		return nil, err
	}
	for id, name := range s.Tables {
		refs[id] = name
		refs[id+".Arn"] = "arn:aws:dynamodb:us-east-1:000000000000:table/" + name
		if arn, ok := arns[id]; ok {
			refs[id+".StreamArn"] = arn
		}
	}
	for id, name := range s.Buckets {
		refs[id] = name
		refs[id+".Arn"] = "arn:aws:s3:::" + name
		refs[id+".DomainName"] = name + ".s3.amazonaws.com"
	}
	// Plausible local values for what a function's environment might name but no stand-in
	// serves, so one such reference does not stop the whole stack.
	fallback := map[string]func(id string) (ref, arn string){
		"AWS::SQS::Queue": func(id string) (string, string) {
			return "http://sqs.us-east-1.localhost/000000000000/contrail-" + id, "arn:aws:sqs:us-east-1:000000000000:contrail-" + id
		},
		"AWS::SNS::Topic": func(id string) (string, string) {
			arn := "arn:aws:sns:us-east-1:000000000000:contrail-" + id
			return arn, arn
		},
		"AWS::Athena::WorkGroup": func(id string) (string, string) { return "contrail-" + id, "" },
		"AWS::Glue::Database":    func(id string) (string, string) { return "contrail_" + template.Dir(id), "" },
		"AWS::Glue::Table":       func(id string) (string, string) { return template.Dir(id), "" },
		"AWS::Cognito::UserPool": func(string) (string, string) {
			return "us-east-1_local", "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_local"
		},
		"AWS::Cognito::UserPoolClient": func(string) (string, string) { return "local-client", "" },
		"AWS::Serverless::Function": func(id string) (string, string) {
			return id, "arn:aws:lambda:us-east-1:000000000000:function:" + id
		},
	}
	for typ, f := range fallback {
		for _, id := range tpl.ResourcesOfType(typ) {
			ref, arn := f(id)
			refs[id] = ref
			if arn != "" {
				refs[id+".Arn"] = arn
			}
		}
	}
	for _, id := range tpl.ResourcesOfType("AWS::SecretsManager::Secret") {
		v, err := secret(filepath.Join(s.StateDir, "secrets"), id)
		if err != nil {
			return nil, err
		}
		refs[template.SecretRef(id)] = v
		refs[id] = "arn:aws:secretsmanager:us-east-1:000000000000:secret:" + id
	}
	return refs, nil
}

// awsEnv is what every function gets on top of its template environment so its AWS clients
// reach the local stand-ins.
func (s *Stack) awsEnv(o Options) map[string]string {
	env := map[string]string{
		"AWS_REGION":                        emulator.Region,
		"AWS_DEFAULT_REGION":                emulator.Region,
		"AWS_ACCESS_KEY_ID":                 emulator.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":             emulator.SecretAccessKey,
		"AWS_EC2_METADATA_DISABLED":         "true",
		"AWS_LAMBDA_LOG_LEVEL":              o.LogLevel,
		"S3_FORCE_PATH_STYLE":               "true",
		"AWS_ENDPOINT_URL":                  s.DynamoDBEndpoint,
		"CONTRAIL_LOCAL_API_URL":            s.URL,
		"AWS_ENDPOINT_URL_DYNAMODB":         s.DynamoDBEndpoint,
		"AWS_ENDPOINT_URL_S3":               s.S3Endpoint,
		"AWS_ENDPOINT_URL_SESV2":            s.SESEndpoint,
		"AWS_ENDPOINT_URL_SES":              s.SESEndpoint,
		"AWS_ENDPOINT_URL_DYNAMODB_STREAMS": s.DynamoDBEndpoint,
	}
	if o.Endpoint != "" {
		env["AWS_ENDPOINT_URL"] = o.Endpoint
	}
	return env
}

// Token mints a development token the stack's gateway accepts.
func (s *Stack) Token(c devauth.Claims) (string, error) {
	return devauth.Mint(s.key, c, time.Now(), devauth.DefaultTTL)
}

// AWSConfig returns a configuration for clients of the stack's stand-ins; set BaseEndpoint
// per client from the Stack's endpoints (S3 needs UsePathStyle).
func (s *Stack) AWSConfig() aws.Config { return s.aws }

// DynamoDB, S3 and SES return clients of the stack's stand-ins.
func (s *Stack) DynamoDB() *dynamodb.Client {
	return dynamodb.NewFromConfig(s.aws, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(s.DynamoDBEndpoint) })
}

func (s *Stack) S3() *s3.Client {
	return s3.NewFromConfig(s.aws, func(o *s3.Options) { o.BaseEndpoint, o.UsePathStyle = aws.String(s.S3Endpoint), true })
}

func (s *Stack) SES() *sesv2.Client {
	return sesv2.NewFromConfig(s.aws, func(o *sesv2.Options) { o.BaseEndpoint = aws.String(s.SESEndpoint) })
}

// Invoke runs a function of the stack directly with a JSON payload (as `sam local invoke`).
func (s *Stack) Invoke(ctx context.Context, function string, payload []byte) ([]byte, error) {
	if s.rt == nil {
		return nil, errors.New("stack not started")
	}
	return s.rt.Invoke(ctx, function, payload)
}

// Stop stops the API, the poller and scheduler, every function process and every emulator,
// and waits for them. It is safe to call more than once.
func (s *Stack) Stop() error {
	var errs []error
	s.once.Do(func() {
		// The API stops first, so no request reaches a stopped function; closers then run
		// last-in first-out, the emulators last.
		if s.srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := s.srv.Shutdown(ctx); err != nil {
				errs = append(errs, err)
			}
			cancel()
		}
		if s.cancel != nil {
			s.cancel()
		}
		for i := len(s.closers) - 1; i >= 0; i-- {
			if err := s.closers[i](); err != nil {
				errs = append(errs, err)
			}
		}
		s.wg.Wait()
	})
	return errors.Join(errs...)
}

// startTimeout bounds each emulator's start: generous, since a loaded two-core machine can
// take a minute to start a JVM.
const startTimeout = 3 * time.Minute

// PortIfFree returns port when nothing listens on it at 127.0.0.1 now, else 0 (a free port
// is then chosen): make run's fixed ports for the stand-ins, when they are available.
func PortIfFree(port int) int {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return 0
	}
	ln.Close()
	return port
}
