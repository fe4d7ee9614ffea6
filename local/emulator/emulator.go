// Package emulator starts the local stand-ins for AWS that run as separate processes:
// DynamoDB Local (the jar inside the npm package amplify-dynamodb-simulator) and the SES v2
// emulator (npm package aws-ses-v2-local), both installed by `npm ci --prefix local`.
// The tests (local/stacktest) and the local stack (make run) share these launchers.
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
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

	port int
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
	// C1-only JIT and the serial collector: a quicker start and less CPU on small machines,
	// which matter more here than peak throughput.
	// -sharedDb: one database for every access key and region, as a developer expects of one
	// endpoint (without it, `aws dynamodb scan` with their own credentials finds no table).
	base := []string{"-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
		"-Djava.library.path=" + filepath.Join(dir, "DynamoDBLocal_lib"), "-jar", jar, "-sharedDb"}
	if o.DBPath != "" {
		abs, err := filepath.Abs(o.DBPath) // it also becomes the working folder, below
		if err != nil {
			return nil, fmt.Errorf("start DynamoDB Local: %w", err)
		}
		o.DBPath = abs
		if err := os.MkdirAll(o.DBPath, 0o755); err != nil {
			return nil, fmt.Errorf("start DynamoDB Local: %w", err)
		}
		if err := adoptSharedDB(o.DBPath); err != nil {
			return nil, fmt.Errorf("start DynamoDB Local: %w", err)
		}
		base = append(base, "-dbPath", o.DBPath)
	} else {
		base = append(base, "-inMemory")
	}
	// DynamoDB Local writes dynamodb-local-metadata.json into its working folder: run it in
	// its data folder, or in the system temp folder when in memory, never in the repository.
	run := o
	run.Root = o.DBPath
	if run.Root == "" {
		run.Root = os.TempDir()
	}
	// DynamoDB Local listens on every interface; host only names the endpoint.
	return launch(ctx, "DynamoDB Local", o, func(endpoint string, port int) (*Process, error) {
		args := append(slices.Clip(base), "-port", strconv.Itoa(port))
		p, err := start("DynamoDB Local", java, args, endpoint, port, run)
		if err != nil {
			return nil, err
		}
		// No SDK retries while polling: waitReady is the retry loop.
		client := dynamodb.NewFromConfig(Config(endpoint), func(o *dynamodb.Options) {
			o.Retryer = aws.NopRetryer{}
			o.DisableValidateResponseChecksum = true
		})
		return p, p.waitReady(ctx, o, func(ctx context.Context) error {
			_, err := client.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)})
			return err
		})
	})
}

// sharedDBFile is the database DynamoDB Local keeps under -dbPath with -sharedDb.
const sharedDBFile = "shared-local-instance.db"

// adoptSharedDB makes the database of the local credentials (<key>_<region>.db, what
// DynamoDB Local kept before -sharedDb) the shared one, so a data folder written before
// keeps its tables.
func adoptSharedDB(dir string) error {
	shared := filepath.Join(dir, sharedDBFile)
	if _, err := os.Stat(shared); err == nil {
		return nil
	}
	old := filepath.Join(dir, AccessKeyID+"_"+Region+".db")
	if _, err := os.Stat(old); err != nil {
		return nil
	}
	return os.Rename(old, shared)
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
	host := o.host()
	return launch(ctx, "SES emulator", o, func(endpoint string, port int) (*Process, error) {
		p, err := start("SES emulator", node, []string{cli, "--host", host, "--port", strconv.Itoa(port)}, endpoint, port, o)
		if err != nil {
			return nil, err
		}
		return p, p.waitReady(ctx, o, func(ctx context.Context) error {
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
		})
	})
}

// host is the host the endpoint names: o.Host, or 127.0.0.1.
func (o Options) host() string {
	if o.Host == "" {
		return "127.0.0.1"
	}
	return o.Host
}

// launchAttempts bounds the retries when a chosen port turns out to be taken.
const launchAttempts = 5

// launch runs one start-and-wait attempt on o.Port, or on a port it picks when o.Port is 0.
// A picked port can be taken between the check and the child's bind (by a parallel test
// binary's emulator, say): when the child reports the port in use, launch stops it and tries
// another port, instead of waiting out the start timeout or talking to someone else's server.
func launch(ctx context.Context, name string, o Options, attempt func(endpoint string, port int) (*Process, error)) (*Process, error) {
	host := o.host()
	for i := 1; ; i++ {
		port := o.Port
		if port == 0 {
			var err error
			if port, err = pickPort(); err != nil {
				return nil, fmt.Errorf("start %s: %w", name, err)
			}
		}
		p, err := attempt("http://"+net.JoinHostPort(host, strconv.Itoa(port)), port)
		if err == nil {
			return p, nil
		}
		if p != nil {
			_ = p.Stop()
		}
		if o.Port != 0 || p == nil || !p.portTaken() || i == launchAttempts {
			return nil, err
		}
	}
}

// pickLow and pickHigh bound the ports PickPort chooses from: below Linux's ephemeral range
// (32768-60999), which the kernel hands to every listen on port 0 and to every outgoing
// connection, so a port chosen here is not given away again between the check and the bind.
const pickLow, pickHigh = 20000, 32767

// pickPort is PickPort; tests replace it to hand out a taken port.
var pickPort = PickPort

// PickPort returns a random port in 20000-32767 that nothing listens on right now.
func PickPort() (int, error) {
	for range 100 {
		port := pickLow + rand.IntN(pickHigh-pickLow+1)
		// Checked on every interface: DynamoDB Local binds 0.0.0.0.
		l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		l.Close()
		return port, nil
	}
	return 0, errors.New("find a free port: 100 random ports in 20000-32767 were all taken")
}

func (p *Process) bindFailure() error {
	return fmt.Errorf("%s could not listen on %s (the port is in use); output:\n%s", p.Name, p.Endpoint, p.out.String())
}

// portTaken reports whether the process said its port was in use (Jetty's "Failed to bind",
// Node's EADDRINUSE).
func (p *Process) portTaken() bool {
	out := p.out.String()
	return strings.Contains(out, "Address already in use") || strings.Contains(out, "EADDRINUSE")
}

func start(name, bin string, args []string, endpoint string, port int, o Options) (*Process, error) {
	p := &Process{Name: name, Endpoint: endpoint, port: port, done: make(chan struct{}), out: &tail{max: 8 << 10}}
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
			// Whoever answered must be our process, not another server on a reused port.
			var mine bool
			if mine, last = listens(p.cmd.Process.Pid, p.port); mine {
				return nil
			}
			if last == nil {
				last = fmt.Errorf("port %d answers, but not from %s (pid %d)", p.port, p.Name, p.cmd.Process.Pid)
			}
		}
		if p.portTaken() {
			return p.bindFailure()
		}
		select {
		case <-p.done:
			if p.portTaken() {
				return p.bindFailure()
			}
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
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
		Logger:       quietLogger{},
	}
}

// quietLogger drops checksum warnings (DynamoDB Local's error responses carry no X-Amz-Crc32;
// make run puts a front before it that adds one) and writes everything else to stderr.
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
