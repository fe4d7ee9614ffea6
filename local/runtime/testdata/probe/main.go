// Command probe is a Lambda function for the runtime's tests: what it does depends on the event.
package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Action string   `json:"action"`
	Sleep  int      `json:"sleepMs"`
	Env    []string `json:"env"`
	Dir    string   `json:"dir"`
}

type reply struct {
	Action    string            `json:"action"`
	Pid       int               `json:"pid"`
	RequestID string            `json:"requestId"`
	HasDL     bool              `json:"hasDeadline"`
	Env       map[string]string `json:"env,omitempty"`
}

func main() {
	if os.Getenv("PROBE_FAIL_INIT") != "" {
		panic("PROBE_FAIL_INIT is set")
	}
	lambda.Start(func(ctx context.Context, ev event) (reply, error) {
		lc, _ := lambdacontext.FromContext(ctx)
		_, hasDL := ctx.Deadline()
		r := reply{Action: ev.Action, Pid: os.Getpid(), RequestID: lc.AwsRequestID, HasDL: hasDL}
		switch ev.Action {
		case "error":
			return r, errors.New("boom")
		case "panic":
			panic("kaboom")
		case "exit":
			os.Exit(3)
		case "sleep":
			time.Sleep(time.Duration(ev.Sleep) * time.Millisecond)
		case "block":
			// Say which process holds this invoke, then wait for the test's go-ahead.
			_ = os.WriteFile(filepath.Join(ev.Dir, strconv.Itoa(os.Getpid())), nil, 0o644)
			for {
				if _, err := os.Stat(filepath.Join(ev.Dir, "release")); err == nil {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
		case "env":
			r.Env = map[string]string{}
			for _, k := range ev.Env {
				r.Env[k] = os.Getenv(k)
			}
		}
		return r, nil
	})
}
