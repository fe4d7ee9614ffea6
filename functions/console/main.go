// Command console is the custom resource that deploys the web console into ConsoleBucket
// (served by ConsoleDistribution): the files console/ built into ./assets, embedded here.
package main

import (
	"context"
	"embed"
	"io/fs"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/contrail/contrail/shared/awsclient"
	"github.com/contrail/contrail/shared/console"
	"github.com/contrail/contrail/shared/env"
	_ "github.com/contrail/contrail/shared/logging" // JSON logs from the first line on
)

//go:embed all:assets
var assets embed.FS

func main() {
	files, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err)
	}
	d := &console.Deployer{S3: s3.NewFromConfig(awsclient.Load(context.Background())), Bucket: env.Load(console.ReadBucket), Files: files}
	lambda.Start(cfn.LambdaWrap(d.Handle))
}
