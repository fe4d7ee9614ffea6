// Command sequence-log runs on an EventBridge schedule: it appends the events the archiver
// recorded under sequence/ to their tenants' verifiable logs, writes the tiles and signed
// checkpoints, and signs an hourly heartbeat checkpoint for every log (shared/vlog).
package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/contrail/contrail/shared/awsclient"
	"github.com/contrail/contrail/shared/env"
	_ "github.com/contrail/contrail/shared/logging" // JSON logs from the first line on
	"github.com/contrail/contrail/shared/vlog"
)

func main() {
	s := vlog.NewSequencer(awsclient.Load(context.Background()), env.Load(vlog.ReadConfig), slog.Default())
	lambda.Start(s.HandleSchedule)
}
