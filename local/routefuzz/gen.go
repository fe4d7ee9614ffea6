package routefuzz

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/contrail/contrail/local/devauth"
	"github.com/contrail/contrail/local/template"
	"github.com/contrail/contrail/shared/audit"
)

// Request is one generated request: everything needed to send it again by hand.
type Request struct {
	Route  string // the template route it aims at: "POST /v1/contacts/{id}/channels"
	Method string
	Path   string // escaped path and query, as sent
	Header [][2]string
	Body   []byte
	// Claims are the token's claims when the request carries a token the generator signed.
	Claims map[string]any
}

// header returns the value of header name ("" when absent).
func (r *Request) header(name string) string {
	for _, h := range r.Header {
		if strings.EqualFold(h[0], name) {
			return h[1]
		}
	}
	return ""
}

// pools are the values the generator draws from, growing as the run goes (ids of contacts
// the fuzzer created, cursors the API returned).
type pools struct {
	aContacts  []string // tenant A's contacts
	aGone      []string // A's deleted or merged contacts
	aSessions  []string
	aSchedules []string
	aExports   []string
	bIDs       []string // tenant B's ids: cross-tenant probes (never B's names)
	cursors    []string
	idem       []idemUse
}

type idemUse struct {
	key, method, path string
	body              []byte
}

// generator makes requests for tenant A: mostly well formed, then mutated in one or more
// places (method, path parameters, query, headers, token claims, body).
type generator struct {
	rng    *rand.Rand
	routes []template.Route
	corpus *Corpus
	key    []byte
	tenant string // A
	other  string // B: tenant claims near it probe normalisation
	p      *pools
	now    func() time.Time
}

func (g *generator) pick(n int) int { return g.rng.IntN(n) }

func (g *generator) chance(p float64) bool { return g.rng.Float64() < p }

func pickOf[T any](g *generator, xs []T) T { return xs[g.pick(len(xs))] }

// next makes one request.
func (g *generator) next() Request {
	rt := pickOf(g, g.routes)
	r := Request{Route: rt.Method + " " + rt.Path, Method: rt.Method}
	if g.chance(0.04) {
		r.Method = pickOf(g, []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
	}
	r.Path = g.path(rt.Path) + g.query(r.Route)
	if !rt.Public || g.chance(0.3) {
		g.auth(&r, rt)
	}
	body, ct := g.body(r.Route, r.Method)
	r.Body = body
	if ct != "" {
		r.Header = append(r.Header, [2]string{"Content-Type", ct})
	}
	g.headers(&r)
	return r
}

// path fills each {param} of a template path.
func (g *generator) path(tpl string) string {
	var b strings.Builder
	for rest := tpl; rest != ""; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			b.WriteString(rest)
			break
		}
		j := strings.IndexByte(rest, '}')
		b.WriteString(rest[:i])
		b.WriteString(g.param(rest[i+1 : j]))
		rest = rest[j+1:]
	}
	return b.String()
}

// odd are path parameter values that are not ids: path characters, key separators,
// percent-encodings of bytes that are not UTF-8, and sizes far beyond any id.
var odd = []string{
	"%2E%2E", "..", "%2F", "a%2Fb", "%00", "%FF%FE", "%C0%AF", "%E2%80%A8", "%F0%9F%98%80", "%20", "%23", "T%23x%23C%23y",
	"%25", "%3Cscript%3E", "'%20OR%201%3D1", "nul%0Aline", "%EF%BB%BF", "0", "-1", "a", "Z",
	"01JDQ7Z3K8M4N6P8R0T2V4X6Z8", "01jdq7z3k8m4n6p8r0t2v4x6z8", "%C3%BC", "~", ".", "%2e",
}

func (g *generator) param(name string) string {
	switch g.pick(10) {
	case 0, 1:
		return pickOf(g, odd)
	case 2:
		return strings.Repeat(pickOf(g, []string{"A", "%FF", "0", "%C3%A9"}), pickOf(g, []int{27, 201, 1024, 8000}))
	case 3:
		if len(g.p.bIDs) > 0 {
			return url.PathEscape(pickOf(g, g.p.bIDs))
		}
	case 4:
		if len(g.p.aGone) > 0 {
			return url.PathEscape(pickOf(g, g.p.aGone))
		}
	}
	var from []string
	switch name {
	case "id":
		from = append(append(from, g.p.aContacts...), g.p.aExports...)
	case "sessionId":
		from = g.p.aSessions
	case "name":
		from = g.p.aSchedules
	case "path+": // a C2SP tile path (GET /v1/log/tile/{path+})
		from = []string{"0/000", "0/x001/234", "1/000.p/5", "0/000.p/0", "0/000.p/256", "data/000", "entries/000", "99/000", "0/x999/x999/x999/x999/999", "0/-1", "0/000/../000"}
	}
	if len(from) == 0 {
		return pickOf(g, odd)
	}
	if name == "path+" {
		return pickOf(g, from) // a greedy parameter: its slashes are part of it
	}
	return url.PathEscape(pickOf(g, from))
}

// queryParams are the query parameters the routes read.
var queryParams = []string{"limit", "cursor", "from", "to", "tz", "status", "type", "category", "actorId", "contactId", "format", "source", "channel", "user", "eventId", "size"}

var queryValues = []string{
	"", "0", "1", "50", "500", "501", "-1", "1e3", "0x10", "abc", "2026-11-01", "2026-12-01", "2026-13-45", "2026-11-01T00:00:00Z",
	"2026-11-01T00:00:00%2B07:00", "1999-01-01", "9999-12-31", "0001-01-01", "0000-01-01T00:00:00Z", "2026-02-30", "2026-03-29T02:30:00%2B01:00", "UTC", "Asia%2FJakarta", "Local", "..%2F..%2Fetc", "Mars%2FOlympus",
	"active", "archived", "deleted", "CONTACT_ADDED", "CONTACT_MERGED", "LOGGED_IN", "contact", "access", "csv", "json", "parquet",
	"manual", "import", "incoming_message", "unknown", "whatsapp", "%FF", "%00", "%E2%80%A8", "a%0Ab", "%F0%9F%98%80",
	"2", "18446744073709551616", "9223372036854775807", "-9223372036854775808", "01JDQ7Z3K8M4N6P8R0T2V4X6Z8",
}

func (g *generator) query(route string) string {
	var parts []string
	// Start from a sample's query string half the time.
	if s := g.corpus.Samples[route]; len(s) > 0 && g.chance(0.5) {
		if q := pickOf(g, s).Query; q != "" {
			parts = strings.Split(q, "&")
		}
	}
	for range g.pick(4) {
		if len(parts) > 0 && g.chance(0.3) {
			parts = slices.Delete(parts, 0, 1)
			continue
		}
		name := pickOf(g, queryParams)
		var v string
		switch {
		case name == "cursor" && len(g.p.cursors) > 0 && g.chance(0.7):
			v = url.QueryEscape(pickOf(g, g.p.cursors))
		case g.chance(0.05):
			v = strings.Repeat("x", pickOf(g, []int{201, 4096, 20000}))
		default:
			v = pickOf(g, queryValues)
		}
		parts = append(parts, name+"="+v)
	}
	if len(parts) == 0 {
		return ""
	}
	return "?" + strings.Join(parts, "&")
}

// auth adds an Authorization header: usually a valid token of tenant A with some roles,
// sometimes one with odd claims (still signed with the stack's key), sometimes none or a
// broken one.
func (g *generator) auth(r *Request, rt template.Route) {
	now := g.now()
	claims := map[string]any{
		"iss": devauth.Issuer, "aud": devauth.Audience, "sub": "fuzz-user", "name": "Fuzz User",
		"custom:tenant_id": g.tenant, "cognito:groups": g.roles(rt), "token_use": "id",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	switch g.pick(40) {
	case 0:
		return // no token
	case 1:
		r.Header = append(r.Header, [2]string{"Authorization", pickOf(g, []string{"Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not.a.token", "Bearer e30.e30.", "bearer  " + strings.Repeat("A", 9000)})})
		return
	case 2:
		claims["exp"] = now.Add(-time.Minute).Unix()
	case 3, 4, 5, 6, 7:
		g.oddClaims(claims)
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims)).SignedString(g.key)
	if err != nil {
		panic(err) // HS256 with a key does not fail
	}
	r.Claims = claims
	r.Header = append(r.Header, [2]string{"Authorization", "Bearer " + tok})
}

// roles are mostly those the route admits (service for ingest, admin for the rest), so most
// requests get past the role check to the handler's own validation; sometimes any role.
func (g *generator) roles(rt template.Route) []string {
	if g.chance(0.75) {
		if strings.HasSuffix(rt.Path, "/events") && rt.Method == "POST" || rt.Path == "/v1/audit-events" && rt.Method == "POST" {
			return []string{"service"}
		}
		return []string{"admin", "agent"}
	}
	switch g.pick(6) {
	case 0:
		return []string{"agent"}
	case 1:
		return []string{"service"}
	case 2:
		return []string{"admin", "agent"}
	default:
		return []string{"admin"}
	}
}

// oddClaims changes one or two claims to a value a careless reader would trip on.
func (g *generator) oddClaims(c map[string]any) {
	for range 1 + g.pick(2) {
		switch g.pick(9) {
		case 0:
			c["name"] = pickOf(g, []any{"", " ", strings.Repeat("N", 5000), "Ana\u0000Bee", "<script>alert(1)</script>", "=HYPERLINK(\"x\")", "\u202eevil", 42, nil, []any{"a"}})
		case 1:
			c["sub"] = pickOf(g, []any{"", "user#1", "T#" + g.tenant + "#C#x", strings.Repeat("u", 3000), "\xff\xfe", 7, map[string]any{"id": "x"}})
		case 2:
			c["custom:tenant_id"] = pickOf(g, []any{"", " " + g.tenant, g.tenant + " ", strings.ToUpper(g.tenant), g.tenant + "#C#x", g.tenant + "\u0000",
				strings.ToUpper(g.other), " " + g.other, g.other + "#", g.other + "\n", "*", 12, nil, []any{g.tenant, g.other}})
		case 3:
			c["cognito:groups"] = pickOf(g, []any{[]any{}, []any{"root"}, []any{"Admin"}, "admin", "admin agent", "[admin]", []any{"admin", 1}, nil, []any{"service", "admin"}})
		case 4:
			delete(c, pickOf(g, []string{"sub", "name", "cognito:groups", "custom:tenant_id", "token_use"}))
		case 5:
			c["token_use"] = "access"
		case 6:
			c["custom:tenant_id "] = g.other // a near-miss claim name
		case 7:
			c["nbf"] = g.now().Add(time.Hour).Unix()
		case 8:
			c["extra"] = map[string]any{"custom:tenant_id": g.other}
		}
	}
}

var contentTypes = []string{
	"application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "application/json; charset=utf-16", "text/csv",
	"text/csv; charset=utf-8", "text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "application/xml",
	"application/json;;;", "json", "", "application/merge-patch+json",
}

// headers adds content types, idempotency keys and a few other headers.
func (g *generator) headers(r *Request) {
	if g.chance(0.15) {
		r.Header = slices.DeleteFunc(r.Header, func(h [2]string) bool { return h[0] == "Content-Type" })
		r.Header = append(r.Header, [2]string{"Content-Type", pickOf(g, contentTypes)})
	}
	if r.Method != "GET" && g.chance(0.4) {
		var key string
		switch g.pick(8) {
		case 0, 1:
			if len(g.p.idem) > 0 {
				u := pickOf(g, g.p.idem)
				key = u.key
				if g.chance(0.5) && u.method == r.Method { // the same request again: replay
					r.Path, r.Body = u.path, u.body
				}
			}
		case 2:
			key = pickOf(g, []string{"", " ", strings.Repeat("k", 128), strings.Repeat("k", 129), "ключ-1", "a,b", "\t"})
		}
		if key == "" {
			key = fmt.Sprintf("fuzz-%08x", g.rng.Uint32())
		}
		r.Header = append(r.Header, [2]string{"Idempotency-Key", key})
	}
	if g.chance(0.1) {
		r.Header = append(r.Header, pickOf(g, [][2]string{
			{"Accept", "text/csv"}, {"Accept", "*/*"}, {"X-Forwarded-For", "10.0.0.1, " + strings.Repeat("1", 300)},
			{"User-Agent", strings.Repeat("ua", 2000)}, {"Origin", "https://evil.example.com"}, {"Cookie", "a=b"},
		}))
	}
}

// contract lists, per route, the body fields of the contract (docs/api.md, the seed spec) and
// what kind of value each takes; bodies generated from it use the values of fieldValues.
var contract = map[string][]string{
	"POST /v1/contacts":                             {"name", "email", "phone", "source", "channel", "externalId"},
	"PATCH /v1/contacts/{id}":                       {"name", "email", "phone"},
	"POST /v1/contacts/{id}/channels":               {"channel", "externalId", "source"},
	"POST /v1/contacts/merge":                       {"primaryId", "mergedIds"},
	"POST /v1/contacts/{id}/invite":                 {"email"},
	"POST /v1/contacts/{id}/messages":               {"text"},
	"POST /v1/contacts/{id}/share":                  {"email", "note"},
	"POST /v1/contacts/{id}/comments":               {"text"},
	"POST /v1/contacts/import":                      {"contacts"},
	"POST /v1/audit-events":                         {"events"},
	"POST /v1/cobrowse/sessions/{sessionId}/events": {"events"},
	"POST /v1/exports":                              {"report", "from", "to", "tz", "format", "email"},
	"PUT /v1/export-schedules/{name}":               {"report", "frequency", "format", "recipients", "tz"},
	"PUT /v1/settings":                              {"cobrowse"},
}

// fieldValue returns a value for a field of the contract: valid most of the time.
func (g *generator) fieldValue(field string) any {
	if g.chance(0.1) {
		return g.anyValue()
	}
	str := func(valid ...string) any {
		if g.chance(0.7) {
			return pickOf(g, valid)
		}
		return g.oddString()
	}
	switch field {
	case "name", "note", "text":
		return str("Ana", "Budi Santoso", "Siti \"Ti\" Rahma", "Zoë Ångström", "李小龍", "O'Brien", strings.Repeat("n", 200))
	case "email":
		return str("ana@example.com", "fuzz+tag@example.co.id", "ANA@EXAMPLE.COM")
	case "phone", "externalId":
		return str("+62 812-3456-7890", "+6281234567890", "0812")
	case "source":
		return str("manual", "api", "incoming_message", "import", "user")
	case "channel":
		return str(audit.Channels...)
	case "primaryId":
		return g.contactID()
	case "mergedIds":
		ids := []any{}
		for range g.pick(4) {
			ids = append(ids, g.contactID())
		}
		if g.chance(0.05) {
			for range 11 {
				ids = append(ids, g.contactID())
			}
		}
		return ids
	case "report":
		return str("overview", "added", "connected", "deleted", "merged", "audit")
	case "format":
		return str("csv", "parquet", "json")
	case "frequency":
		return str("daily", "weekly", "monthly")
	case "tz":
		return str("UTC", "Asia/Jakarta", "America/New_York", "Asia/Kathmandu")
	case "from", "to", "occurredAt":
		if g.chance(0.1) {
			return pickOf(g, []string{"9999-12-31", "0001-01-01", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z", "2026-02-30", "1970-01-01T00:00:00Z"})
		}
		return str("2026-11-01", "2026-12-01", "2026-11-30T01:18:00.000Z", audit.FormatTime(g.now().Add(-time.Hour)))
	case "recipients":
		return []any{g.fieldValue("email"), g.fieldValue("email")}
	case "contacts":
		var rows []any
		for range g.pick(4) {
			rows = append(rows, map[string]any{"name": g.fieldValue("name"), "email": g.fieldValue("email"), "phone": g.fieldValue("phone")})
		}
		return rows
	case "events":
		var evs []any
		n := g.pick(4)
		if g.chance(0.03) {
			n = 101 + g.pick(450)
		}
		for range n {
			evs = append(evs, map[string]any{
				"type": str("LOGGED_IN", "START_CALL", "PAGECHANGE", "CLICK", "CONTACT_ADDED", "REPORT_VIEWED"), "occurredAt": g.fieldValue("occurredAt"),
				"actor":   map[string]any{"type": str("user", "system", "service"), "id": str("agent-1", "u-2"), "name": g.fieldValue("name")},
				"isAgent": g.chance(0.5), "sessionId": str("sess-1", "s:2"), "data": map[string]any{"page": "https://shop.example.com/", "n": 1},
			})
		}
		return evs
	case "cobrowse":
		return map[string]any{"inputText": str("clear", "keep", "mask")}
	}
	return g.oddString()
}

func (g *generator) contactID() any {
	switch {
	case len(g.p.aContacts) > 0 && g.chance(0.6):
		return pickOf(g, g.p.aContacts)
	case len(g.p.bIDs) > 0 && g.chance(0.3):
		return pickOf(g, g.p.bIDs)
	}
	return g.oddString()
}

// oddStrings are strings validators get wrong: empty, blank, control and format characters,
// line separators, markup, spreadsheet formulas, long ones.
var oddStrings = []string{
	"", " ", "\t\n", "\u0000", "a\u0000b", "\u2028", "\u202e", "\ufeff", "\r\nBcc: x@example.com", "<script>alert(1)</script>",
	"=1+1", "@SUM(A1)", "-2", "null", "true", "{}", "😀", "\U0001F600\U0001F600", "e\u0301", "ａｂｃ", "T#x#C#y", "%s%n", "../../",
	"a@b", "a@b@c", "\"quoted\"@example.com", "ana@example.com, bob@example.com", "ana@example.com\r\n",
}

func (g *generator) oddString() string {
	switch g.pick(6) {
	case 0:
		return strings.Repeat(pickOf(g, []string{"a", "é", "😀", " "}), pickOf(g, []int{199, 200, 201, 10000, 10001, 70000}))
	case 1:
		if len(g.corpus.Values) > 0 {
			return pickOf(g, g.corpus.Values)
		}
	}
	return pickOf(g, oddStrings)
}

// anyValue is a value of any JSON type.
func (g *generator) anyValue() any {
	switch g.pick(9) {
	case 0:
		return nil
	case 1:
		return g.chance(0.5)
	case 2:
		return pickOf(g, []any{0, -1, 1.5, 1e308, 9007199254740993})
	case 3:
		return []any{g.oddString()}
	case 4:
		return map[string]any{"nested": map[string]any{"deeper": []any{1, "x"}}}
	default:
		return g.oddString()
	}
}

// body returns a request body and its content type.
func (g *generator) body(route, method string) ([]byte, string) {
	samples := g.corpus.Samples[route]
	fields, hasContract := contract[route]
	if !hasContract && (method == "GET" || method == "DELETE" || len(samples) == 0 || samples[0].Body == "") {
		if g.chance(0.05) {
			return []byte(g.oddString()), "application/json"
		}
		return nil, ""
	}
	var base []byte
	ct := "application/json"
	if len(samples) > 0 {
		s := pickOf(g, samples)
		base = []byte(s.Body)
		if s.ContentType != "" {
			ct = s.ContentType
		}
	}
	switch n := g.pick(20); {
	case n < 6 && len(base) > 0: // a sample, as recorded
	case n < 13 && hasContract: // generated from the contract
		obj := map[string]any{}
		for _, f := range fields {
			if g.chance(0.75) {
				obj[f] = g.fieldValue(f)
			}
		}
		base, ct = marshal(obj), "application/json"
	case n < 16 && len(base) > 0: // a sample with one field changed
		var obj map[string]any
		if json.Unmarshal(base, &obj) == nil && len(obj) > 0 {
			keys := make([]string, 0, len(obj))
			for k := range obj {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			k := pickOf(g, keys)
			switch g.pick(3) {
			case 0:
				delete(obj, k)
			case 1:
				obj[k] = g.anyValue()
			default:
				obj["unknownField"] = g.anyValue()
			}
			base = marshal(obj)
		} else {
			base = g.flip(base)
		}
	case n < 18 && len(base) > 0: // bytes changed
		base = g.flip(base)
	case n < 19: // a corpus value as the whole body
		base = []byte(pickOf(g, g.corpus.Values))
	default: // larger than the contract's 256 KiB
		base = []byte(`{"name":"` + strings.Repeat("x", 270000) + `"}`)
	}
	return base, ct
}

// flip changes the bytes of b: truncation, a byte that is not UTF-8, a duplicate key, trailing
// data, a byte-order mark, deep nesting.
func (g *generator) flip(b []byte) []byte {
	b = bytes.Clone(b)
	switch g.pick(7) {
	case 0:
		if len(b) > 1 {
			return b[:g.pick(len(b))]
		}
	case 1:
		if len(b) > 0 {
			b[g.pick(len(b))] = byte(0x80 + g.pick(0x80))
		}
	case 2:
		if i := bytes.IndexByte(b, '{'); i >= 0 {
			return slices.Concat(b[:i+1], []byte(`"name":"dup",`), b[i+1:])
		}
	case 3:
		return append(b, pickOf(g, []string{"x", "{}", "\n{\"a\":1}", "\x00"})...)
	case 4:
		return append([]byte("\xef\xbb\xbf"), b...)
	case 5:
		return []byte(strings.Repeat("[", 10000) + strings.Repeat("]", 10000))
	}
	return append(b, ' ')
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(fmt.Sprint(v))
	}
	return b
}
