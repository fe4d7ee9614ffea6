// Command export-scheduler runs on an EventBridge schedule: it creates the export job of
// every ended period of every due export schedule, each period once however late or often
// it runs.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/contrail/contrail/shared/export"
	"github.com/contrail/contrail/shared/lambdafn"
)

func main() {
	rn := lambdafn.New(export.NewRunner, export.ReadJobsConfig)
	lambda.Start(func(ctx context.Context, _ events.EventBridgeEvent) (export.Result, error) { return rn.Run(ctx) })
}
