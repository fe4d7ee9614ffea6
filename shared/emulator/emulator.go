// Package emulator starts the local stand-ins for AWS that run as separate processes:
// DynamoDB Local (the jar inside the npm package amplify-dynamodb-simulator) and the SES v2
// emulator (npm package aws-ses-v2-local), both installed by `npm ci --prefix local`.
// The tests (shared/stacktest) and the local stack (make run) share these launchers.
//
// Each process runs in its own process group and gets SIGKILL when the process that started
// it dies, so nothing outlives a test binary or a killed `make run`.
package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/logging"
)

// Region is the region every local client uses.
const Region = "us-east-1"

// Options configures a launcher.
type Options struct {
	// Root is the repository root (the folder holding local/node_modules). Required.
	Root string
	// Host to listen on; "" = 127.0.0.1.
	Host string
	// Port to listen on; 0 = a free port.
	Port int
	// DBPath makes DynamoDB Local keep its data in this folder (created if missing);
	// "" = in memory (tests).
	DBPath string
	// Output receives the process's stdout and stderr; nil = kept only for error messages.
	Output io.Writer
	// StartTimeout bounds the wait until the process answers; 0 = 120 s (DynamoDB Local
	// starts in about 3 s on an idle machine, far slower on a busy one).
	StartTimeout time.Duration
}

// Process is a running emulator.
type Process struct {
	Name     string // "DynamoDB Local" or "SES emulator"
	Endpoint string // http://host:port, for BaseEndpoint / AWS_ENDPOINT_URL_<SERVICE>

	cmd  *exec.Cmd
	done chan struct{} // closed when the process exited
	err  error         // exit status, valid after done
	out  *tail
	once sync.Once
}

// Stop ends the process (SIGTERM to its group, SIGKILL after 3 s) and waits for it.
func (p *Process) Stop() error {
	p.once.Do(func() {
		pgid := -p.cmd.Process.Pid
		_ = syscall.Kill(pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(3 * time.Second):
			_ = syscall.Kill(pgid, syscall.SIGKILL)
			<-p.done
		}
	})
	return nil
}

// DynamoDBLocalDir returns the folder holding DynamoDBLocal.jar under root.
func DynamoDBLocalDir(root string) string {
	return filepath.Join(root, "local", "node_modules", "amplify-dynamodb-simulator", "emulator")
}

// SESCLI returns the aws-ses-v2-local command-line entry under root.
func SESCLI(root string) string {
	return filepath.Join(root, "local", "node_modules", "aws-ses-v2-local", "dist", "cli.js")
}

// StartDynamoDB starts DynamoDB Local (which also serves DynamoDB Streams on the same
// endpoint) and waits until it answers ListTables.
func StartDynamoDB(ctx context.Context, o Options) (*Process, error) {
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, errors.New("java not found: install Java 17+ (e.g. apt-get install openjdk-17-jre-headless)")
	}
	dir := DynamoDBLocalDir(o.Root)
	jar := filepath.Join(dir, "DynamoDBLocal.jar")
	if _, err := os.Stat(jar); err != nil {
		return nil, fmt.Errorf("DynamoDB Local not installed: run `npm ci --prefix local` (make test does): %s is missing", jar)
	}
	host, port, err := hostPort(o)
	if err != nil {
		return nil, err
	}
	// C1-only JIT and the serial collector: a quicker start and less CPU on small machines,
	// which matter more here than peak throughput.
	args := []string{"-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
		"-Djava.library.path=" + filepath.Join(dir, "DynamoDBLocal_lib"), "-jar", jar, "-port", strconv.Itoa(port)}
	if o.DBPath != "" {
		abs, err := filepath.Abs(o.DBPath) // it also becomes the working folder, below
		if err != nil {
			return nil, fmt.Errorf("start DynamoDB Local: %w", err)
		}
		o.DBPath = abs
		if err := os.MkdirAll(o.DBPath, 0o755); err != nil {
			return nil, fmt.Errorf("start DynamoDB Local: %w", err)
		}
		args = append(args, "-dbPath", o.DBPath)
	} else {
		args = append(args, "-inMemory")
	}
	// DynamoDB Local writes dynamodb-local-metadata.json into its working folder: run it in
	// its data folder, or in the system temp folder when in memory, never in the repository.
	run := o
	run.Root = o.DBPath
	if run.Root == "" {
		run.Root = os.TempDir()
	}
	// DynamoDB Local listens on every interface; host only names the endpoint.
	p, err := start(ctx, "DynamoDB Local", java, args, "http://"+net.JoinHostPort(host, strconv.Itoa(port)), run)
	if err != nil {
		return nil, err
	}
	// No SDK retries while polling: waitReady is the retry loop.
	client := dynamodb.NewFromConfig(Config(p.Endpoint), func(o *dynamodb.Options) {
		o.Retryer = aws.NopRetryer{}
		o.DisableValidateResponseChecksum = true
	})
	if err := p.waitReady(ctx, o, func(ctx context.Context) error {
		_, err := client.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)})
		return err
	}); err != nil {
		return nil, err
	}
	return p, nil
}

// StartSES starts the SES v2 emulator and waits until it answers /health-check.
// Mail it receives is listed at GET <Endpoint>/store.
func StartSES(ctx context.Context, o Options) (*Process, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, errors.New("node not found: install Node.js 20+ (e.g. apt-get install nodejs)")
	}
	cli := SESCLI(o.Root)
	if _, err := os.Stat(cli); err != nil {
		return nil, fmt.Errorf("SES emulator not installed: run `npm ci --prefix local` (make test does): %s is missing", cli)
	}
	host, port, err := hostPort(o)
	if err != nil {
		return nil, err
	}
	endpoint := "http://" + net.JoinHostPort(host, strconv.Itoa(port))
	p, err := start(ctx, "SES emulator", node, []string{cli, "--host", host, "--port", strconv.Itoa(port)}, endpoint, o)
	if err != nil {
		return nil, err
	}
	if err := p.waitReady(ctx, o, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/health-check", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("health check: %s", resp.Status)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return p, nil
}

func hostPort(o Options) (string, int, error) {
	host := o.Host
	if host == "" {
		host = "127.0.0.1"
	}
	if o.Port != 0 {
		return host, o.Port, nil
	}
	port, err := FreePort()
	return host, port, err
}

// FreePort returns a TCP port nothing listens on right now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func start(ctx context.Context, name, bin string, args []string, endpoint string, o Options) (*Process, error) {
	p := &Process{Name: name, Endpoint: endpoint, done: make(chan struct{}), out: &tail{max: 8 << 10}}
	// Not CommandContext: the process must outlive ctx (which only bounds start-up).
	cmd := exec.Command(bin, args...)
	cmd.Dir = o.Root
	var w io.Writer = p.out
	if o.Output != nil {
		w = io.MultiWriter(p.out, o.Output)
	}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p.cmd = cmd
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// waitReady polls ready until it succeeds, the process exits or the time is up.
func (p *Process) waitReady(ctx context.Context, o Options, ready func(context.Context) error) error {
	timeout := o.StartTimeout
	if timeout == 0 {
		timeout = 120 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, 2*time.Second)
		last = ready(attempt)
		cancelAttempt()
		if last == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before answering (%v); output:\n%s", p.Name, p.err, p.out.String())
		case <-ctx.Done():
			_ = p.Stop()
			return fmt.Errorf("%s did not answer at %s within %s (%v); output:\n%s", p.Name, p.Endpoint, timeout, last, p.out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Config returns an AWS configuration for a local endpoint: static credentials, Region,
// BaseEndpoint, and a logger that drops the SDK's harmless checksum warnings.
func Config(endpoint string) aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
		Logger:       quietLogger{},
	}
}

// quietLogger drops checksum warnings (DynamoDB Local and gofakes3 do not send the checksums
// the SDK looks for) and writes everything else to stderr.
type quietLogger struct{}

func (quietLogger) Logf(c logging.Classification, format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if strings.Contains(msg, "checksum") {
		return
	}
	fmt.Fprintf(os.Stderr, "aws sdk %s: %s\n", c, msg)
}

// tail keeps the last max bytes written, for error messages.
type tail struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(b)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}
