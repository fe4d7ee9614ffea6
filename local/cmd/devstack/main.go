// Command devstack is `make run`: the whole of Contrail on this machine (see local/devstack).
//
// Environment: PORT (API port, default 3000), AWS_ENDPOINT_URL (use LocalStack or another
// endpoint for everything and start no emulator), LOCAL_SCHEDULE_SCALE (speed up rate(...)
// schedules, e.g. 60), LOG_LEVEL (DEBUG, INFO, WARN, ERROR), CONTRAIL_STATE_DIR (the data,
// keys and binaries; default .local: browser tests use a folder of their own).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/contrail/contrail/local/devstack"
)

func main() {
	o := devstack.Options{Port: 3000, Endpoint: os.Getenv("AWS_ENDPOINT_URL"), LogLevel: os.Getenv("LOG_LEVEL"),
		// The usual ports, so `aws --endpoint-url http://127.0.0.1:8000 dynamodb scan ...` and the
		// mail viewer's address stay the same from run to run; any free port when taken.
		DynamoDBPort: devstack.PortIfFree(8000), S3Port: devstack.PortIfFree(4569), SESPort: devstack.PortIfFree(8005),
		Console: true, StateDir: os.Getenv("CONTRAIL_STATE_DIR")}
	if p := os.Getenv("PORT"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 65535 {
			fail(fmt.Sprintf("PORT=%q is not a port number", p))
		}
		o.Port = n
	}
	if s := os.Getenv("LOCAL_SCHEDULE_SCALE"); s != "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f <= 0 {
			fail(fmt.Sprintf("LOCAL_SCHEDULE_SCALE=%q is not a positive number", s))
		}
		o.ScheduleScale = f
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx = stopWithParent(ctx)
	if err := devstack.Run(ctx, o); err != nil {
		fail(err.Error())
	}
}

// stopWithParent ends ctx when the parent process (make) goes away, e.g. on a SIGTERM sent
// to make alone: the stack is then re-parented, which Getppid shows.
func stopWithParent(ctx context.Context) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	ppid := os.Getppid()
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if os.Getppid() != ppid {
					cancel()
					return
				}
			}
		}
	}()
	return ctx
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "make run: "+msg)
	os.Exit(1)
}
