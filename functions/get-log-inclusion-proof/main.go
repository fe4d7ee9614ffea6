// Command get-log-inclusion-proof answers GET /v1/log/proof/inclusion: an event's leaf and its inclusion proof in the verifiable log (admin); each read records LOG_PROOF_VIEWED.
package main

import (
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/lambdafn"
	"github.com/contrail/contrail/shared/vlog"
)

func main() {
	lambdafn.Route(httpapi.AdminRoles, lambdafn.New(vlog.NewService, vlog.ReadProofConfig).Inclusion)
}
