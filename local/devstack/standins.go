package devstack

// The stand-ins: DynamoDB Local behind its CRC-adding front, the S3 server and the SES
// emulator started side by side, or Options.Endpoint adopted in their place.

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/contrail/contrail/local/emulator"
	"github.com/contrail/contrail/local/runtime"
)

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
	sesPort := o.SESPort
	if o.Faults != nil {
		sesPort = 0 // the SES front takes o.SESPort
	}
	go func() {
		// On a port of its own: Options.DynamoDBPort is the front's (below).
		p, err := emulator.StartDynamoDB(ctx, emulator.Options{Root: o.Root, DBPath: filepath.Join(o.StateDir, "dynamodb"), StartTimeout: startTimeout})
		ddbc <- started{p, err}
	}()
	go func() {
		p, err := emulator.StartSES(ctx, emulator.Options{Root: o.Root, Port: sesPort, StartTimeout: startTimeout})
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
	front, err := startDynamoDBFront(ddb.p.Endpoint, "127.0.0.1", o.DynamoDBPort, o.wrap(ServiceDynamoDB), s.log)
	if err != nil {
		return err
	}
	s.closers = append(s.closers, front.Close)
	s.dynamoDBLocal = ddb.p.Endpoint
	s3srv, err := startS3(filepath.Join(o.StateDir, "s3"), "127.0.0.1", o.S3Port, o.wrap(ServiceS3), s.log)
	if err != nil {
		return err
	}
	s.closers = append(s.closers, s3srv.Close)
	sesEndpoint := ses.p.Endpoint
	if o.Faults != nil {
		sesFront, err := startProxy("SES", ses.p.Endpoint, "127.0.0.1", o.SESPort, o.wrap(ServiceSES), s.log)
		if err != nil {
			return err
		}
		s.closers = append(s.closers, sesFront.Close)
		sesEndpoint = sesFront.Endpoint
	}
	s.DynamoDBEndpoint, s.S3Endpoint, s.SESEndpoint = front.Endpoint, s3srv.Endpoint, sesEndpoint
	s.MailViewer = ses.p.Endpoint + "/"
	s.aws = emulator.Config(s.DynamoDBEndpoint)
	return nil
}

// Faults injects faults at the stand-ins' fronts and kills function processes mid-invocation
// (local/chaos's Injector is one): Options.Faults.
type Faults interface {
	// Wrap returns the handler of a stand-in (ServiceDynamoDB, ServiceS3, ServiceSES) behind
	// its faults.
	Wrap(service string, h http.Handler) http.Handler
	runtime.Faults
}

// The stand-ins Faults.Wrap is asked for.
const (
	ServiceDynamoDB = "dynamodb"
	ServiceS3       = "s3"
	ServiceSES      = "ses"
)

// wrap is the wrapper of service's handler: Faults.Wrap, or nil without faults.
func (o *Options) wrap(service string) func(http.Handler) http.Handler {
	if o.Faults == nil {
		return nil
	}
	return func(h http.Handler) http.Handler { return o.Faults.Wrap(service, h) }
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
