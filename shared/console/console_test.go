package console

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
)

var build = fstest.MapFS{
	"index.html":        {Data: []byte(`<!doctype html><script src="/console/app-1a2b3c4d.js"></script>`)},
	"app-1a2b3c4d.js":   {Data: []byte("console.log(1)")},
	"app-5e6f7a8b.css":  {Data: []byte("body{}")},
	".gitkeep":          {Data: nil},
	"img/logo-9c.svg":   {Data: []byte("<svg/>")},
	".hidden/secret.js": {Data: []byte("no")},
}

type served struct {
	Status  int
	Headers map[string]string
	Body    string
}

func TestHandler(t *testing.T) {
	local := Config{Auth: "local", DevTokenURL: "/local/dev-token"}
	const indexCSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	index := served{200, map[string]string{"Content-Type": "text/html; charset=utf-8", "Cache-Control": NoCache,
		"Content-Security-Policy": indexCSP}, string(build["index.html"].Data)}
	tests := []struct {
		method, path string
		files        fstest.MapFS
		want         served
	}{
		{"GET", "/console/", build, index},
		{"GET", "/console/reports/contacts/added", build, index}, // a screen of the app
		{"GET", "/console/callback", build, index},
		{"HEAD", "/console/", build, served{200, index.Headers, ""}},
		{"GET", "/console/app-1a2b3c4d.js", build, served{200, map[string]string{"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": Immutable}, "console.log(1)"}},
		{"GET", "/console/app-5e6f7a8b.css", build, served{200, map[string]string{"Content-Type": "text/css; charset=utf-8", "Cache-Control": Immutable}, "body{}"}},
		{"GET", "/console/img/logo-9c.svg", build, served{200, map[string]string{"Content-Type": "image/svg+xml", "Cache-Control": Immutable}, "<svg/>"}},
		{"GET", "/console/config.json", build, served{200, map[string]string{"Content-Type": "application/json", "Cache-Control": NoCache},
			`{"auth":"local","apiUrl":"","devTokenUrl":"/local/dev-token"}`}},
		{"GET", "/console/missing-00.js", build, served{404, nil, "No such file in the console.\n"}},
		{"GET", "/console/.gitkeep", build, served{404, nil, "No such file in the console.\n"}},
		{"GET", "/console/.hidden/secret.js", build, served{404, nil, "No such file in the console.\n"}},
		{"GET", "/console/../go.mod", build, served{404, nil, "No such file in the console.\n"}},
		{"GET", "/console", build, served{301, nil, "<a href=\"/console/\">Moved Permanently</a>.\n\n"}},
		{"POST", "/console/", build, served{405, nil, "The console is read with GET.\n"}},
		{"GET", "/console/", fstest.MapFS{".gitkeep": {}}, served{503, nil, ErrNotBuilt.Error() + "\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(tt.method, "http://127.0.0.1:3000/", nil)
			req.URL.Path = tt.path // as sent, not cleaned
			Handler(tt.files, local).ServeHTTP(rec, req)
			got := served{Status: rec.Code, Body: rec.Body.String()}
			if tt.want.Headers != nil {
				got.Headers = map[string]string{}
				for k := range tt.want.Headers {
					got.Headers[k] = rec.Header().Get(k)
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if rec.Code == 200 && (rec.Header().Get("X-Content-Type-Options") != "nosniff" || rec.Header().Get("Referrer-Policy") != "no-referrer") {
				t.Errorf("headers %v lack nosniff or no-referrer", rec.Header())
			}
		})
	}
}

// cacheSpy passes every call to the S3 stand-in and remembers the Cache-Control each
// object was put with (the stand-in does not store it).
type cacheSpy struct {
	S3
	cache map[string]string
}

func (s *cacheSpy) PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	s.cache[aws.ToString(in.Key)] = aws.ToString(in.CacheControl)
	return s.S3.PutObject(ctx, in, opts...)
}

type object struct {
	Body, ContentType, CacheControl string
}

func bucketObjects(t *testing.T, c *s3.Client, bucket string) map[string]object {
	t.Helper()
	out, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]object{}
	for _, o := range out.Contents {
		g, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(g.Body)
		g.Body.Close()
		got[*o.Key] = object{string(b), aws.ToString(g.ContentType), aws.ToString(g.CacheControl)}
	}
	return got
}

// The custom resource puts a build into the bucket with each file's type and cache policy
// and config.json from its properties, removes an older build's files after the new ones are
// in, and empties console/ when the resource is deleted (other keys stay).
func TestDeployer(t *testing.T) {
	c := stacktest.S3(t)
	bucket := stacktest.Bucket(t)
	put := func(key, body string) {
		if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader([]byte(body))}); err != nil {
			t.Fatal(err)
		}
	}
	put("console/app-00000000.js", "an older build")
	put("other/keep.txt", "not the console's")
	spy := &cacheSpy{S3: c, cache: map[string]string{}}
	d := &Deployer{S3: spy, Bucket: bucket, Files: build}
	props := map[string]any{"AuthDomain": "https://contrail-123.auth.eu-west-1.amazoncognito.com", "ClientId": "client-1",
		"ConsoleOrigin": "https://d111.cloudfront.net", "ApiUrl": "https://api.example.com/"}

	id, data, err := d.Handle(context.Background(), cfn.Event{RequestType: cfn.RequestCreate, ResourceProperties: props})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]any{"console-" + bucket, map[string]any{"Files": 5}}, []any{id, data}); d != "" {
		t.Errorf("result (-want +got):\n%s", d)
	}
	want := map[string]object{
		"console/index.html":       {string(build["index.html"].Data), "text/html; charset=utf-8", NoCache},
		"console/app-1a2b3c4d.js":  {"console.log(1)", "text/javascript; charset=utf-8", Immutable},
		"console/app-5e6f7a8b.css": {"body{}", "text/css; charset=utf-8", Immutable},
		"console/img/logo-9c.svg":  {"<svg/>", "image/svg+xml", Immutable},
		"console/config.json": {`{"auth":"cognito","apiUrl":"https://api.example.com",` +
			`"authorizeUrl":"https://contrail-123.auth.eu-west-1.amazoncognito.com/oauth2/authorize",` +
			`"tokenUrl":"https://contrail-123.auth.eu-west-1.amazoncognito.com/oauth2/token",` +
			`"logoutUrl":"https://contrail-123.auth.eu-west-1.amazoncognito.com/logout","clientId":"client-1",` +
			`"redirectUri":"https://d111.cloudfront.net/console/callback","logoutUri":"https://d111.cloudfront.net/console/",` +
			`"scope":"openid profile email"}`, "application/json", NoCache},
		"other/keep.txt": {"not the console's", "", ""},
	}
	got := bucketObjects(t, c, bucket)
	for k, o := range got {
		o.CacheControl = spy.cache[k] // the S3 stand-in keeps no Cache-Control: read what was sent
		got[k] = o
	}
	got["other/keep.txt"] = object{Body: got["other/keep.txt"].Body}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("bucket after create (-want +got):\n%s", d)
	}

	if _, _, err := d.Handle(context.Background(), cfn.Event{RequestType: cfn.RequestUpdate, ResourceProperties: map[string]any{"ClientId": "x"}}); err == nil || err.Error() != "deploy console: property AuthDomain is required" {
		t.Errorf("update without AuthDomain: %v", err)
	}
	if _, _, err := (&Deployer{S3: c, Bucket: bucket, Files: fstest.MapFS{}}).Handle(context.Background(), cfn.Event{RequestType: cfn.RequestUpdate, ResourceProperties: props}); err != ErrNotBuilt {
		t.Errorf("deploy of no build: %v, want ErrNotBuilt", err)
	}

	if _, _, err := d.Handle(context.Background(), cfn.Event{RequestType: cfn.RequestDelete}); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]object{"other/keep.txt": {Body: "not the console's"}}, bucketObjects(t, c, bucket), cmp.Transformer("body", func(o object) object { return object{Body: o.Body} })); d != "" {
		t.Errorf("bucket after delete (-want +got):\n%s", d)
	}
}

func TestMain(m *testing.M) { stacktest.Main(m) }

var _ http.Handler = Handler(build, Config{})

// The sample custom resource event (events/console-create.json) deploys as it reads.
func TestSampleCreateEvent(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "console-create.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev cfn.Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	c := stacktest.S3(t)
	bucket := stacktest.Bucket(t)
	if _, _, err := (&Deployer{S3: c, Bucket: bucket, Files: build}).Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	got := bucketObjects(t, c, bucket)["console/config.json"].Body
	want := `{"auth":"cognito","apiUrl":"https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com",` +
		`"authorizeUrl":"https://contrail-0e5d5f10-b3b5-11ef-9c4d-0a1b2c3d4e5f.auth.eu-west-1.amazoncognito.com/oauth2/authorize",` +
		`"tokenUrl":"https://contrail-0e5d5f10-b3b5-11ef-9c4d-0a1b2c3d4e5f.auth.eu-west-1.amazoncognito.com/oauth2/token",` +
		`"logoutUrl":"https://contrail-0e5d5f10-b3b5-11ef-9c4d-0a1b2c3d4e5f.auth.eu-west-1.amazoncognito.com/logout",` +
		`"clientId":"4q8v1n2m3k5j6h7g8f9d0s1a2p","redirectUri":"https://d1a2b3c4d5e6f7.cloudfront.net/console/callback",` +
		`"logoutUri":"https://d1a2b3c4d5e6f7.cloudfront.net/console/","scope":"openid profile email"}`
	if got != want {
		t.Errorf("config.json = %s\nwant %s", got, want)
	}
}
