package gateway

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/contrail/contrail/local/template"
)

// Route sends one method and path to one function.
type Route struct {
	Method   string // GET, POST, ... or ANY
	Path     string // /v1/contacts/{id}; {name+} matches the rest of the path
	Public   bool   // no token needed (Auth: {Authorizer: NONE})
	Function string // LogicalId
}

// Key is the route key API Gateway puts in the event: "GET /v1/contacts/{id}".
func (r Route) Key() string { return r.Method + " " + r.Path }

// RoutesFromTemplate returns every HttpApi event of every function in t.
func RoutesFromTemplate(t *template.Template) []Route {
	var rs []Route
	for _, f := range t.Functions() {
		for _, r := range f.Routes {
			rs = append(rs, Route{Method: r.Method, Path: r.Path, Public: r.Public, Function: f.LogicalID})
		}
	}
	return rs
}

// segment kinds, in order of precedence: a literal beats a parameter beats a greedy one.
const (
	literal = iota
	param
	greedy
)

type segment struct {
	kind int
	text string // the literal, or the parameter's name
}

type compiled struct {
	Route
	segs []segment
}

// router matches requests to routes the way HTTP APIs do: the most specific path wins
// (literal segments before {params}, {params} before {greedy+}), then an exact method
// before ANY.
type router struct {
	routes []compiled
}

func newRouter(routes []Route) (*router, error) {
	seen := map[string]string{}
	rt := &router{}
	for _, r := range routes {
		r.Method = strings.ToUpper(r.Method)
		if r.Method == "" || !strings.HasPrefix(r.Path, "/") {
			return nil, fmt.Errorf("route %q of %s: want a method and a path starting with /", r.Key(), r.Function)
		}
		c := compiled{Route: r}
		for _, s := range splitPath(r.Path) {
			switch {
			case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "+}"):
				c.segs = append(c.segs, segment{greedy, s[1 : len(s)-2]})
			case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"):
				c.segs = append(c.segs, segment{param, s[1 : len(s)-1]})
			default:
				c.segs = append(c.segs, segment{literal, s})
			}
		}
		norm := r.Method + " " + shape(c.segs)
		if other, dup := seen[norm]; dup {
			return nil, fmt.Errorf("routes %q (%s) and %s clash", r.Key(), r.Function, other)
		}
		seen[norm] = fmt.Sprintf("%q (%s)", r.Key(), r.Function)
		rt.routes = append(rt.routes, c)
	}
	sort.SliceStable(rt.routes, func(i, j int) bool { return moreSpecific(rt.routes[i], rt.routes[j]) })
	return rt, nil
}

// shape is the path with parameter names erased: /v1/contacts/{id} and /v1/contacts/{x} clash.
func shape(segs []segment) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		switch s.kind {
		case literal:
			b.WriteString(s.text)
		case param:
			b.WriteString("{}")
		case greedy:
			b.WriteString("{+}")
		}
	}
	return b.String()
}

func moreSpecific(a, b compiled) bool {
	for i := 0; i < len(a.segs) && i < len(b.segs); i++ {
		if a.segs[i].kind != b.segs[i].kind {
			return a.segs[i].kind < b.segs[i].kind
		}
	}
	if len(a.segs) != len(b.segs) {
		return len(a.segs) > len(b.segs)
	}
	return a.Method != "ANY" && b.Method == "ANY"
}

func splitPath(p string) []string {
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match returns the route for method and escaped path with its decoded path parameters.
// pathFound reports whether some route has the path (for any method).
func (rt *router) match(method, escapedPath string) (r *compiled, params map[string]string, ok bool) {
	raw := splitPath(escapedPath)
	for i := range rt.routes {
		c := &rt.routes[i]
		p, matched := c.matchPath(raw)
		if !matched || (c.Method != method && c.Method != "ANY") {
			continue
		}
		return c, p, true
	}
	return nil, nil, false
}

func (c *compiled) matchPath(raw []string) (map[string]string, bool) {
	var params map[string]string
	set := func(k, v string) {
		if params == nil {
			params = map[string]string{}
		}
		params[k] = v
	}
	for i, s := range c.segs {
		if s.kind == greedy {
			if i >= len(raw) {
				return nil, false
			}
			rest := make([]string, 0, len(raw)-i)
			for _, r := range raw[i:] {
				rest = append(rest, unescape(r))
			}
			set(s.text, strings.Join(rest, "/"))
			return params, true
		}
		if i >= len(raw) {
			return nil, false
		}
		v := unescape(raw[i])
		switch s.kind {
		case literal:
			if v != s.text {
				return nil, false
			}
		case param:
			if v == "" {
				return nil, false
			}
			set(s.text, v)
		}
	}
	return params, len(raw) == len(c.segs)
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}
