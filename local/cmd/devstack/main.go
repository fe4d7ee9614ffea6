// Command devstack is `make run`: the whole of Contrail on this machine (see local/devstack).
//
// Environment: PORT (API port, default 3000), AWS_ENDPOINT_URL (use LocalStack or another
// endpoint for everything and start no emulator), LOCAL_SCHEDULE_SCALE (speed up rate(...)
// schedules, e.g. 60), LOG_LEVEL (DEBUG, INFO, WARN, ERROR).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/contrail/contrail/local/devstack"
)

func main() {
	o := devstack.Options{Port: 3000, Endpoint: os.Getenv("AWS_ENDPOINT_URL"), LogLevel: os.Getenv("LOG_LEVEL")}
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
	// Stop cleanly when the parent (make) goes away, e.g. on a SIGTERM sent to make alone.
	ppid := os.Getppid()
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0); errno != 0 {
		fail("prctl(PR_SET_PDEATHSIG): " + errno.Error())
	}
	if os.Getppid() != ppid {
		return // the parent died before prctl took effect
	}
	if err := devstack.Run(ctx, o); err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "make run: "+msg)
	os.Exit(1)
}
