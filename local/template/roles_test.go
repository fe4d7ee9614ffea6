package template

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/httpapi"
)

// contractRoles is who may call each route, as the contract (spec/API.md, "Roles") gives it:
// agent: contact actions, contact reads and history; admin: everything an agent may, plus the
// audit log, reports and exports; service: ingest only (platform events with admin,
// co-browsing events alone). nil: a public route (health). Written out route by route, not
// derived from httpapi's role sets, so a wrong set in httpapi or in one main.go fails here.
var contractRoles = map[string][]httpapi.Role{
	"GET /v1/health": nil,

	"POST /v1/contacts":                {httpapi.Agent, httpapi.Admin},
	"POST /v1/contacts/import":         {httpapi.Agent, httpapi.Admin},
	"GET /v1/contacts":                 {httpapi.Agent, httpapi.Admin},
	"GET /v1/contacts/{id}":            {httpapi.Agent, httpapi.Admin},
	"PATCH /v1/contacts/{id}":          {httpapi.Agent, httpapi.Admin},
	"POST /v1/contacts/{id}/channels":  {httpapi.Agent, httpapi.Admin},
	"POST /v1/contacts/{id}/archive":   {httpapi.Agent, httpapi.Admin},
	"POST /v1/contacts/{id}/unarchive": {httpapi.Agent, httpapi.Admin},
	"DELETE /v1/contacts/{id}":         {httpapi.Agent, httpapi.Admin},
	"POST /v1/contacts/merge":          {httpapi.Agent, httpapi.Admin},
	"POST /v1/contacts/{id}/invite":    {httpapi.Agent, httpapi.Admin},
	"POST /v1/contacts/{id}/messages":  {httpapi.Agent, httpapi.Admin},
	"POST /v1/contacts/{id}/share":     {httpapi.Agent, httpapi.Admin},
	"POST /v1/contacts/{id}/comments":  {httpapi.Agent, httpapi.Admin},
	"GET /v1/contacts/{id}/history":    {httpapi.Agent, httpapi.Admin},
	// Erasure (issue 12): destroys personal data for good, so an admin only.
	"POST /v1/contacts/{id}/erase": {httpapi.Admin},

	"POST /v1/audit-events":                         {httpapi.Service, httpapi.Admin},
	"POST /v1/cobrowse/sessions/{sessionId}/events": {httpapi.Service},
	"GET /v1/audit-events":                          {httpapi.Admin},
	"GET /v1/log/checkpoint":                        {httpapi.Admin},
	"GET /v1/log/proof/inclusion":                   {httpapi.Admin},
	"GET /v1/log/proof/consistency":                 {httpapi.Admin},
	"GET /v1/log/tile/{path+}":                      {httpapi.Admin},
	"GET /v1/cobrowse/sessions/{sessionId}/events":  {httpapi.Admin},

	"GET /v1/reports/contacts/overview":  {httpapi.Admin},
	"GET /v1/reports/contacts/added":     {httpapi.Admin},
	"GET /v1/reports/contacts/connected": {httpapi.Admin},
	"GET /v1/reports/contacts/deleted":   {httpapi.Admin},
	"GET /v1/reports/contacts/merged":    {httpapi.Admin},

	"POST /v1/exports":                     {httpapi.Admin},
	"GET /v1/exports/{id}":                 {httpapi.Admin},
	"PUT /v1/export-schedules/{name}":      {httpapi.Admin},
	"GET /v1/export-schedules":             {httpapi.Admin},
	"DELETE /v1/export-schedules/{name}":   {httpapi.Admin},
	"POST /v1/export-schedules/{name}/run": {httpapi.Admin},

	// Tenant settings, an extension of the contract (docs/api.md, "Tenant settings"): they
	// decide what the audit log keeps, so only an admin reads or changes them.
	"GET /v1/settings": {httpapi.Admin},
	"PUT /v1/settings": {httpapi.Admin},
}

// roleSets are httpapi's named role sets, as a main.go names them.
var roleSets = map[string][]httpapi.Role{
	"ContactRoles": httpapi.ContactRoles,
	"AdminRoles":   httpapi.AdminRoles,
	"IngestRoles":  httpapi.IngestRoles,
	"ServiceRoles": httpapi.ServiceRoles,
}

var roleNames = map[string]httpapi.Role{"Admin": httpapi.Admin, "Agent": httpapi.Agent, "Service": httpapi.Service}

// Each route's function admits exactly the roles the contract gives the route: the roles its
// main.go passes to lambdafn.Route or httpapi.Route (read from the source, so a test harness that binds every
// route to the same roles cannot hide a wrong one), and httpapi.Public only where the
// template sets no authorizer.
func TestContractRouteRoles(t *testing.T) {
	root, tp := repoRoot(t)
	seen := map[string]bool{}
	for _, f := range tp.Functions() {
		if len(f.Routes) == 0 {
			continue
		}
		t.Run(f.LogicalID, func(t *testing.T) {
			main := filepath.Join("functions", f.Dir, "main.go")
			got, public, err := routeRoles(filepath.Join(root, main))
			if err != nil {
				t.Fatalf("%s: %v", main, err)
			}
			for _, r := range f.Routes {
				key := r.Method + " " + r.Path
				seen[key] = true
				want, ok := contractRoles[key]
				if !ok {
					t.Errorf("%s: the contract gives no roles for %s; add it to contractRoles", f.LogicalID, key)
					continue
				}
				if (want == nil) != r.Public || public != r.Public {
					t.Errorf("%s: %s public in the contract %v, in template.yaml %v, in %s %v", f.LogicalID, key, want == nil, r.Public, main, public)
					continue
				}
				if d := cmp.Diff(sorted(want), sorted(got)); d != "" {
					t.Errorf("%s: %s passes the roles %v to Route; the contract gives %s %v (-contract +main.go):\n%s", f.LogicalID, main, got, key, want, d)
				}
			}
		})
	}
	for key := range contractRoles {
		if !seen[key] {
			t.Errorf("contractRoles names %s, which no function in template.yaml serves", key)
		}
	}
}

// routeRoles finds the one lambdafn.Route, httpapi.Route or httpapi.Public call in a main.go
// and returns the roles passed to Route (a named set, httpapi.XxxRoles, or a literal []httpapi.Role{...}).
func routeRoles(path string) (roles []httpapi.Role, public bool, err error) {
	file, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		return nil, false, err
	}
	calls := 0
	var problem string
	ast.Inspect(file, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		name := httpapiName(call.Fun)
		if pkgName(call.Fun, "lambdafn") == "Route" { // lambdafn.Route starts httpapi.Route
			name = "Route"
		}
		switch name {
		case "Public":
			calls++
			public = true
		case "Route":
			calls++
			if len(call.Args) != 2 {
				problem = "lambdafn.Route and httpapi.Route take the roles and the handler"
				return true
			}
			var ok bool
			if roles, ok = roleArg(call.Args[0]); !ok {
				problem = "pass lambdafn.Route or httpapi.Route one of httpapi's named role sets or a []httpapi.Role{httpapi.X, ...} literal"
			}
		}
		return true
	})
	switch {
	case problem != "":
		return nil, false, errors.New(problem)
	case calls != 1:
		return nil, false, errors.New("want one lambdafn.Route, httpapi.Route or httpapi.Public call")
	}
	return roles, public, nil
}

func roleArg(e ast.Expr) ([]httpapi.Role, bool) {
	if set, ok := roleSets[httpapiName(e)]; ok {
		return set, true
	}
	lit, ok := e.(*ast.CompositeLit)
	if !ok {
		return nil, false
	}
	var roles []httpapi.Role
	for _, el := range lit.Elts {
		r, ok := roleNames[httpapiName(el)]
		if !ok {
			return nil, false
		}
		roles = append(roles, r)
	}
	return roles, true
}

// httpapiName returns X for the expression httpapi.X, "" for anything else.
func httpapiName(e ast.Expr) string { return pkgName(e, "httpapi") }

// pkgName returns X for the expression pkg.X, "" for anything else.
func pkgName(e ast.Expr, pkg string) string {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return ""
	}
	if id, ok := sel.X.(*ast.Ident); !ok || id.Name != pkg {
		return ""
	}
	return sel.Sel.Name
}

func sorted(rs []httpapi.Role) []httpapi.Role {
	rs = slices.Clone(rs)
	slices.Sort(rs)
	return rs
}
