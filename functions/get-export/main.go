// Command get-export answers GET /v1/exports/{id} (admin only): the job's status and, once
// it is done, a presigned link to its file valid 15 minutes.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/contrail/contrail/shared/awsclient"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/export"
	"github.com/contrail/contrail/shared/export/files"
	"github.com/contrail/contrail/shared/httpapi"
	_ "github.com/contrail/contrail/shared/logging" // JSON logs from the first line on
)

func main() {
	awsCfg := awsclient.Load(context.Background())
	svc := export.NewService(awsCfg, env.Load(export.ReadJobsConfig))
	exports := env.Load(files.ReadBucket)
	svc.Links = files.NewPresigner(exports.Client(awsCfg), exports.Name, export.LinkTTL)
	lambda.Start(httpapi.Route(httpapi.AdminRoles, svc.Get))
}
