// Command archive-replay archives again the audit stream batches the archiver gave up on:
// each message of ArchiveFailureQueue names a shard and sequence range of the audit
// table's stream, which it reads back and writes to the archive. A message it cannot
// replay yet stays in the queue (and goes to the dead-letter queue after its receives).
package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/archive/replay"
	"github.com/contrail/contrail/shared/awsclient"
	"github.com/contrail/contrail/shared/env"
	_ "github.com/contrail/contrail/shared/logging" // JSON logs from the first line on
)

func main() {
	log := slog.Default()
	awsCfg := awsclient.Load(context.Background())
	rp := &replay.Replayer{
		Streams:  dynamodbstreams.NewFromConfig(awsCfg),
		Archiver: &archive.Archiver{Store: archive.NewS3Store(awsCfg, env.Load(archive.ReadBucket)), Log: log},
		Log:      log,
	}
	lambda.Start(rp.Handle)
}
