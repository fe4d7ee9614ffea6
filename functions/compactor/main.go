// Command compactor runs on an EventBridge schedule: it merges each marked tenant-day's
// archive objects into one sorted, de-duplicated object, writes the day's rollup and
// deletes the objects the new one covers.
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/awsclient"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/logging"
)

func main() {
	log := logging.Setup()
	var r env.Reader
	bucket := r.String("ARCHIVE_BUCKET")
	pathStyle := r.Optional("S3_FORCE_PATH_STYLE", "false")
	maxDays := r.Int("COMPACT_MAX_DAYS", 1, 10000)
	lockMode := r.Optional("ARCHIVE_LOCK_MODE", "")
	lockDays := r.Int("ARCHIVE_LOCK_DAYS", 1, 36500)
	r.Must()
	lock, err := archive.ParseLock(lockMode, lockDays)
	if err != nil {
		log.Error("configuration", "error", err.Error())
		os.Exit(1)
	}
	s3c := s3.NewFromConfig(awsclient.Load(context.Background()), archive.S3Options(pathStyle))
	c := &archive.Compactor{Store: &archive.S3Store{Client: s3c, Bucket: bucket, Lock: lock}, Log: log, Clock: ident.SystemClock, MaxDays: maxDays}
	// A scheduled event runs one compaction; {"detail": {"sweep": true}} (an operator's
	// invoke) first marks every unsettled day by listing the whole archive.
	lambda.Start(func(ctx context.Context, ev events.EventBridgeEvent) (archive.RunResult, error) {
		var d struct{ Sweep bool }
		if json.Unmarshal(ev.Detail, &d) == nil && d.Sweep {
			if _, err := c.Sweep(ctx); err != nil {
				return archive.RunResult{}, err
			}
		}
		return c.Run(ctx)
	})
}
