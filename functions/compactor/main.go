// Command compactor runs on an EventBridge schedule: it merges each marked tenant-day's
// archive objects into one sorted, de-duplicated object, writes the day's rollup and
// deletes the objects the new one covers.
package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/awsclient"
	"github.com/contrail/contrail/shared/env"
	_ "github.com/contrail/contrail/shared/logging" // JSON logs from the first line on
)

func main() {
	log := slog.Default()
	c := archive.NewCompactor(awsclient.Load(context.Background()), env.Load(archive.ReadCompactorConfig), log)
	// A scheduled event runs one compaction; {"detail": {"sweep": true}} (an operator's
	// invoke) first marks every unsettled day by listing the whole archive.
	lambda.Start(c.HandleSchedule)
}
