// Package console serves the web console's built files (console/ builds them into
// functions/console/assets): locally through the gateway (Handler), in AWS from S3 behind
// CloudFront, uploaded at deploy time by a CloudFormation custom resource (Deployer). Both
// give each file the same content type and cache policy (Objects).
package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strings"
)

// Prefix is where the console lives, locally and in AWS.
const Prefix = "/console/"

// Config is /console/config.json: how the console signs in and where the API is.
type Config struct {
	// Auth is "local" (a development user chosen on a form, tokens from DevTokenURL) or
	// "cognito" (OAuth 2.0 authorization code with PKCE against the URLs below).
	Auth        string `json:"auth"`
	APIURL      string `json:"apiUrl"` // "" = the console's own origin
	DevTokenURL string `json:"devTokenUrl,omitempty"`

	AuthorizeURL string `json:"authorizeUrl,omitempty"`
	TokenURL     string `json:"tokenUrl,omitempty"`
	LogoutURL    string `json:"logoutUrl,omitempty"`
	ClientID     string `json:"clientId,omitempty"`
	RedirectURI  string `json:"redirectUri,omitempty"`
	LogoutURI    string `json:"logoutUri,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

// CognitoConfig is the AWS console's configuration for a user pool domain
// ("https://<prefix>.auth.<region>.amazoncognito.com") and the console's origin.
func CognitoConfig(domain, clientID, consoleOrigin, apiURL string) Config {
	return Config{
		Auth: "cognito", APIURL: strings.TrimSuffix(apiURL, "/"),
		AuthorizeURL: domain + "/oauth2/authorize", TokenURL: domain + "/oauth2/token", LogoutURL: domain + "/logout",
		ClientID: clientID, RedirectURI: consoleOrigin + Prefix + "callback", LogoutURI: consoleOrigin + Prefix,
		Scope: "openid profile email",
	}
}

// Object is one file of the console as it is served.
type Object struct {
	Name         string // relative to the console's root: "index.html", "app-3f9c0b1a.js"
	ContentType  string
	CacheControl string
	Body         []byte
}

const (
	indexFile = "index.html"
	// NoCache is for what names no content hash (index.html, config.json): always revalidated.
	NoCache = "no-cache"
	// Immutable is for content-hashed assets: a new build gives new names.
	Immutable = "public, max-age=31536000, immutable"
)

// ErrNotBuilt says the console's files are missing (npm --prefix console run build).
var ErrNotBuilt = errors.New("the console is not built: run `npm --prefix console ci && npm --prefix console run build` (make run and make build do)")

// Objects returns every file of a build, sorted by name. Dot files (.gitkeep) are left out.
func Objects(files fs.FS) ([]Object, error) {
	var out []Object
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != "." {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		out = append(out, Object{Name: p, ContentType: contentType(p), CacheControl: cacheControl(p), Body: b})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the console's files: %w", err)
	}
	if !hasIndex(out) {
		return nil, ErrNotBuilt
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ConfigObject is config.json as an Object.
func ConfigObject(c Config) (Object, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return Object{}, fmt.Errorf("encode console config: %w", err)
	}
	return Object{Name: "config.json", ContentType: "application/json", CacheControl: NoCache, Body: b}, nil
}

func hasIndex(objs []Object) bool {
	for _, o := range objs {
		if o.Name == indexFile {
			return true
		}
	}
	return false
}

func contentType(name string) string {
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func cacheControl(name string) string {
	if name == indexFile {
		return NoCache
	}
	return Immutable
}

// Handler serves the console under Prefix from files, with config.json from c: a path
// with no file extension is a screen of the single-page app and gets index.html.
func Handler(files fs.FS, c Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "The console is read with GET.", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path == strings.TrimSuffix(Prefix, "/") {
			http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, Prefix)
		if !ok {
			http.NotFound(w, r)
			return
		}
		var obj Object
		var err error
		switch {
		case name == "config.json":
			obj, err = ConfigObject(c)
		case path.Ext(name) == "":
			obj, err = read(files, indexFile)
		default:
			obj, err = read(files, name)
		}
		switch {
		case errors.Is(err, fs.ErrNotExist) && path.Ext(name) == "":
			http.Error(w, ErrNotBuilt.Error(), http.StatusServiceUnavailable)
			return
		case errors.Is(err, fs.ErrNotExist):
			http.Error(w, "No such file in the console.", http.StatusNotFound)
			return
		case err != nil:
			http.Error(w, "The console could not be read.", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", obj.ContentType)
		w.Header().Set("Cache-Control", obj.CacheControl)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		if obj.Name == indexFile {
			// The console loads only its own files and talks only to the API.
			csp := "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
			if c.APIURL != "" || c.TokenURL != "" {
				csp += "; connect-src 'self' " + strings.TrimSpace(c.APIURL+" "+originOf(c.TokenURL))
			}
			w.Header().Set("Content-Security-Policy", csp)
		}
		if r.Method == http.MethodHead {
			return
		}
		w.Write(obj.Body)
	})
}

func read(files fs.FS, name string) (Object, error) {
	if !fs.ValidPath(name) || strings.HasPrefix(name, ".") || strings.Contains(name, "/.") {
		return Object{}, fs.ErrNotExist
	}
	b, err := fs.ReadFile(files, name)
	if err != nil {
		return Object{}, err
	}
	return Object{Name: name, ContentType: contentType(name), CacheControl: cacheControl(name), Body: b}, nil
}

// originOf returns "https://host" of a URL ("" when it has none).
func originOf(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return ""
	}
	host, _, _ := strings.Cut(rest, "/")
	return scheme + "://" + host
}
