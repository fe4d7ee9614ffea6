// Command archiver archives audit events to Parquet on S3: the audit table's stream hands
// it batches of inserted events; it writes one part per tenant-day and reports the records
// of any tenant-day it could not write as batch item failures.
package main

import (
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/lambdafn"
)

func main() {
	log := slog.Default()
	a := &archive.Archiver{Store: lambdafn.New(archive.NewS3Store, archive.ReadBucket), Log: log}
	// The Archiver is a lambda.Handler, which lambda.Start runs as is: it gets the raw
	// stream event, decodes it with archive.DecodeStreamBatch (no reflection), then runs Handle.
	lambda.Start(a)
}
