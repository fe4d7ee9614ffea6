package httpapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/contrail/contrail/shared/fault"
	"github.com/contrail/contrail/shared/tenant"
)

// Role is a group in the token's cognito:groups claim.
type Role string

// The roles of the contract.
const (
	Admin   Role = "admin"
	Agent   Role = "agent"
	Service Role = "service"
)

// The sets of roles each kind of route admits; every route names one, and Route checks it.
var (
	ContactRoles = []Role{Agent, Admin}   // contact actions, reads and history
	AdminRoles   = []Role{Admin}          // audit log, reports, exports
	IngestRoles  = []Role{Service, Admin} // POST /v1/audit-events
	ServiceRoles = []Role{Service}        // co-browsing ingest
)

// Principal is the verified caller: the tenant comes from here and nowhere else.
type Principal struct {
	TenantID tenant.ID
	UserID   string
	Name     string
	Roles    []Role
}

// principalFrom reads the JWT claims the HTTP API authorizer verified (the local gateway
// passes the same claims). It fails with 401 when the claims lack a subject or a tenant, and
// with 403 when the tenant claim is not a valid tenant id (tenant.Parse) or the subject or
// name could corrupt a key or a report: such a token is genuine but unusable as it is.
func principalFrom(req *events.APIGatewayV2HTTPRequest) (Principal, error) {
	a := req.RequestContext.Authorizer
	if a == nil || a.JWT == nil {
		return Principal{}, errUnauthenticated
	}
	c := a.JWT.Claims
	rawTenant := c["custom:tenant_id"]
	p := Principal{
		UserID: strings.TrimSpace(c["sub"]),
		Name:   strings.TrimSpace(c["name"]),
		Roles:  parseGroups(c["cognito:groups"]),
	}
	if rawTenant == "" || p.UserID == "" {
		return Principal{}, errUnauthenticated
	}
	id, err := tenant.Parse(rawTenant)
	if err != nil {
		return Principal{}, fault.New(fault.Forbidden, "invalid_tenant",
			"The token's custom:tenant_id claim is not a valid tenant id ("+err.Error()+"); ask your administrator to fix the user's tenant attribute.")
	}
	p.TenantID = id
	// The subject reaches audit keys (ByActor: "T#<tenant>#A#<sub>#<day>#<shard>") and both
	// claims reach every event and CSV report: no key separator, control character or
	// broken UTF-8 gets in through them.
	if problem := claimProblem(p.UserID, maxSubject, true); problem != "" {
		return Principal{}, fault.New(fault.Forbidden, "invalid_subject",
			"The token's sub claim "+problem+"; ask your administrator to fix the user's identity provider.")
	}
	if problem := claimProblem(p.Name, maxName, false); problem != "" {
		return Principal{}, fault.New(fault.Forbidden, "invalid_name",
			"The token's name claim "+problem+"; ask your administrator to fix the user's name.")
	}
	if p.Name == "" {
		p.Name = p.UserID
	}
	return p, nil
}

// The longest sub and name claims accepted, in bytes.
const (
	maxSubject = 256
	maxName    = 512
)

// claimProblem says what is wrong with a subject (isKey) or name claim, or "".
func claimProblem(s string, max int, isKey bool) string {
	switch {
	case len(s) > max:
		return fmt.Sprintf("is %d bytes long; at most %d are allowed", len(s), max)
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case strings.ContainsFunc(s, unicode.IsControl):
		return "holds a control character"
	case isKey && strings.Contains(s, "#"):
		return "holds '#'"
	}
	return ""
}

var errUnauthenticated = fault.New(fault.Unauthenticated, "unauthorized", "Send a valid bearer token in the Authorization header.")

// parseGroups reads cognito:groups as API Gateway passes it: "[admin agent]", or a JSON
// array, or a comma- or space-separated list.
func parseGroups(s string) []Role {
	s = strings.TrimSpace(s)
	var arr []string
	if strings.HasPrefix(s, "[") && json.Unmarshal([]byte(s), &arr) == nil {
		// JSON array
	} else {
		s = strings.Trim(s, "[]")
		arr = strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
	}
	roles := make([]Role, 0, len(arr))
	for _, g := range arr {
		if g = strings.TrimSpace(g); g != "" {
			roles = append(roles, Role(g))
		}
	}
	return roles
}
