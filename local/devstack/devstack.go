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
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/contrail/contrail/local/devauth"
	"github.com/contrail/contrail/local/runtime"
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
	// Faults, when set, injects faults at the fronts of DynamoDB, S3 and the SES emulator
	// (which then gets a front of its own) and kills function processes mid-invocation
	// (local/chaos). nil = none.
	Faults Faults
	// Console builds the web console (console/) when its sources changed, before the
	// functions (make run); false serves whatever build is there (tests).
	Console bool
}

// Stack is a running local stack.
type Stack struct {
	testOut  *lockedBuffer     // StartTest's capture of the output, when it made one
	URL      string            // the API, e.g. http://127.0.0.1:3000
	Root     string            // repository root
	StateDir string            // .local
	Tables   map[string]string // table LogicalId -> local name
	Buckets  map[string]string // bucket LogicalId -> local name
	// Endpoints of the stand-ins (all the same with Options.Endpoint); MailViewer is the SES
	// emulator's web page ("" with an external endpoint).
	DynamoDBEndpoint, S3Endpoint, SESEndpoint, MailViewer string
	// SecretsEndpoint is the local Secrets Manager holding the template's secrets, served
	// with an external endpoint too (startSecrets).
	SecretsEndpoint string
	// LogVerifierKey is the note verifier key of the log's checkpoints (shared/vlog), derived
	// from the local LogSigningSecret.
	LogVerifierKey string
	// KMSEndpoint is the local KMS holding PersonalDataKey (its material in the state folder's
	// keys/), served with an external endpoint too (startKMS).
	KMSEndpoint string
	Functions   []string // LogicalIds running

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
