package devstack

// The stand-ins: DynamoDB Local behind its CRC-adding front, the S3 server and the SES
// emulator started side by side, or Options.Endpoint adopted in their place.

import (
	"context"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/contrail/contrail/local/emulator"
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
