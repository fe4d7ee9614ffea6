// Command export-worker runs export jobs: the jobs table's stream hands it each new job
// (INSERT of sk JOB); it writes the report to S3, marks the job done or failed with its
// REPORT_EXPORTED event, and emails the link once when asked.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/awsclient"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/export/source"
	"github.com/contrail/contrail/shared/export/worker"
	_ "github.com/contrail/contrail/shared/logging" // JSON logs from the first line on
	"github.com/contrail/contrail/shared/pii"
	"github.com/contrail/contrail/shared/vlog"
)

func main() {
	awsCfg := awsclient.Load(context.Background())
	cfg, db := env.Load(worker.ReadConfig), dynamodb.NewFromConfig(awsCfg)
	store := archive.NewS3Store(awsCfg, env.Load(archive.ReadBucket))
	src := source.NewReports(store, db, cfg.Audit, pii.NewKeyring(awsCfg, cfg.Keys))
	src.Bundles = vlog.NewExporter(db, env.Load(vlog.ReadTable), store, cfg.Audit)
	w := worker.New(cfg, db, cfg.Exports.Client(awsCfg), sesv2.NewFromConfig(awsCfg), src)
	lambda.Start(w.Handle)
}
