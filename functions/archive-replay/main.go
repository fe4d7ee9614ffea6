// Command archive-replay archives again the audit stream batches the archiver gave up on:
// each message of ArchiveFailureQueue names a shard and sequence range of the audit
// table's stream, which it reads back and writes to the archive. A message it cannot
// replay yet stays in the queue (and goes to the dead-letter queue after its receives).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/archive/replay"
	"github.com/contrail/contrail/shared/awsclient"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/logging"
)

func main() {
	log := logging.Setup()
	var r env.Reader
	bucket := r.String("ARCHIVE_BUCKET")
	pathStyle := r.Optional("S3_FORCE_PATH_STYLE", "false")
	r.Must()
	cfg := awsclient.Load(context.Background())
	s3c := s3.NewFromConfig(cfg, archive.S3Options(pathStyle))
	rp := &replay.Replayer{
		Streams:  dynamodbstreams.NewFromConfig(cfg),
		Archiver: &archive.Archiver{Store: &archive.S3Store{Client: s3c, Bucket: bucket}, Log: log},
		Log:      log,
	}
	lambda.Start(rp.Handle)
}
