// Command get-log-tile answers GET /v1/log/tile/{path+}: one tile of the verifiable log (admin); each read records LOG_PROOF_VIEWED.
package main

import (
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/lambdafn"
	"github.com/contrail/contrail/shared/vlog"
)

func main() {
	lambdafn.Route(httpapi.AdminRoles, lambdafn.New(vlog.NewService, vlog.ReadProofConfig).Tile)
}
