// Command get-export answers GET /v1/exports/{id} (admin only): the job's status and, once
// it is done, a presigned link to its file valid 15 minutes.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/contrail/contrail/shared/awsclient"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/export"
	"github.com/contrail/contrail/shared/export/files"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/logging"
)

func main() {
	logging.Setup()
	var r env.Reader
	cfg := export.Config{JobsTable: r.String("JOBS_TABLE")}
	bucket := r.String("EXPORTS_BUCKET") // export files, never in the write-once archive
	pathStyle := r.Optional("S3_FORCE_PATH_STYLE", "false")
	r.Must()
	aws := awsclient.Load(context.Background())
	links := files.NewPresigner(s3.NewFromConfig(aws, files.Options(pathStyle)), bucket, export.LinkTTL)
	svc := export.New(cfg, dynamodb.NewFromConfig(aws), links)
	lambda.Start(httpapi.Route(httpapi.AdminRoles, svc.Get))
}
