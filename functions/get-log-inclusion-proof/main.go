// Command get-log-inclusion-proof answers GET /v1/log/proof/inclusion: an event's leaf and its inclusion proof in the verifiable log (admin); each read records LOG_PROOF_VIEWED.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/contrail/contrail/shared/awsclient"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/httpapi"
	_ "github.com/contrail/contrail/shared/logging" // JSON logs from the first line on
	"github.com/contrail/contrail/shared/vlog"
)

func main() {
	svc := vlog.NewService(awsclient.Load(context.Background()), env.Load(vlog.ReadProofConfig))
	lambda.Start(httpapi.Route(httpapi.AdminRoles, svc.Inclusion))
}
