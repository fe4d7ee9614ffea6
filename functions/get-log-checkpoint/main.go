// Command get-log-checkpoint answers GET /v1/log/checkpoint: the latest signed checkpoint of the caller's tenant's verifiable log and the verifier keys (admin); each read records LOG_PROOF_VIEWED.
package main

import (
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/lambdafn"
	"github.com/contrail/contrail/shared/vlog"
)

func main() {
	lambdafn.Route(httpapi.AdminRoles, lambdafn.New(vlog.NewService, vlog.ReadProofConfig).Checkpoint)
}
