package emulator

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// testClock is the S3 server's clock: the wall clock plus an offset the test moves.
type testClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

type s3Fixture struct {
	URL    string
	Clock  *testClock
	Log    *SDKLog
	Client *s3.Client
	Bucket string
}

// newS3 serves NewS3 over a fresh memory backend (TLS when tls is set) with a bucket, and a
// client signing with the local credentials whose log the test can read.
func newS3(t *testing.T, tls bool, optFns ...func(*s3.Options)) *s3Fixture {
	t.Helper()
	f := &s3Fixture{Clock: &testClock{}, Log: &SDKLog{}, Bucket: "bucket-1"}
	h := NewS3(s3mem.New(), S3Options{Now: f.Clock.Now})
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	cfg := Config(srv.URL)
	cfg.Logger = f.Log
	cfg.HTTPClient = srv.Client()
	f.Client = s3.NewFromConfig(cfg, append([]func(*s3.Options){func(o *s3.Options) { o.UsePathStyle = true }}, optFns...)...)
	if _, err := f.Client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(f.Bucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	return f
}

func (f *s3Fixture) put(t *testing.T, key string, body []byte) {
	t.Helper()
	_, err := f.Client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(f.Bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

// answer is what a raw HTTP request got: the status, S3's error code and message, and the
// CORS header.
type answer struct {
	Status      int
	Code        string
	Message     string
	Body        string
	AllowOrigin string
}

func do(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{Status: resp.StatusCode, AllowOrigin: resp.Header.Get("Access-Control-Allow-Origin")}
	if resp.StatusCode >= 300 {
		var e struct{ Code, Message string }
		if err := xml.Unmarshal(b, &e); err != nil && req.Method != http.MethodHead {
			t.Errorf("%s %s: error body is not S3's XML: %q", req.Method, req.URL, b)
		}
		a.Code, a.Message = e.Code, e.Message
	} else {
		a.Body = string(b)
	}
	return a
}

func get(t *testing.T, u string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

func (f *s3Fixture) presignGet(t *testing.T, key string, expires time.Duration) string {
	t.Helper()
	p, err := s3.NewPresignClient(f.Client).PresignGetObject(context.Background(),
		&s3.GetObjectInput{Bucket: aws.String(f.Bucket), Key: aws.String(key)}, s3.WithPresignExpires(expires))
	if err != nil {
		t.Fatal(err)
	}
	return p.URL
}

var expired = answer{Status: 403, Code: "AccessDenied", Message: "Request has expired"}

func TestS3PresignedGetWorksUntilItExpires(t *testing.T) {
	f := newS3(t, false)
	f.put(t, "exports/e1.csv", []byte("id,name\n1,Ada\n"))
	link := f.presignGet(t, "exports/e1.csv", 15*time.Minute)

	if d := cmp.Diff(answer{Status: 200, Body: "id,name\n1,Ada\n"}, get(t, link)); d != "" {
		t.Errorf("presigned GET before expiry (-want +got):\n%s", d)
	}
	f.Clock.advance(14 * time.Minute)
	if got := get(t, link); got.Status != 200 {
		t.Errorf("presigned GET at 14 min of 15 = %+v, want 200", got)
	}
	f.Clock.advance(2 * time.Minute)
	if d := cmp.Diff(expired, get(t, link)); d != "" {
		t.Errorf("presigned GET after expiry (-want +got):\n%s", d)
	}
}

func TestS3RejectsChangedPresignedURLs(t *testing.T) {
	f := newS3(t, false)
	f.put(t, "exports/e1.csv", []byte("secret"))
	f.put(t, "exports/e2.csv", []byte("other secret"))
	link := f.presignGet(t, "exports/e1.csv", time.Hour)
	mismatch := answer{Status: 403, Code: "SignatureDoesNotMatch", Message: errSignatureMismatch.Message}

	for _, tc := range []struct {
		name   string
		change func(u *url.URL)
		want   answer
	}{
		{"signature", func(u *url.URL) {
			q := u.Query()
			sig := []byte(q.Get("X-Amz-Signature"))
			sig[10] ^= 1 // '0'..'9' and 'a'..'f' stay hex
			q.Set("X-Amz-Signature", string(sig))
			u.RawQuery = q.Encode()
		}, mismatch},
		{"another key", func(u *url.URL) { u.Path = strings.Replace(u.Path, "e1.csv", "e2.csv", 1) }, mismatch},
		{"a longer expiry", func(u *url.URL) {
			q := u.Query()
			q.Set("X-Amz-Expires", "604800")
			u.RawQuery = q.Encode()
		}, mismatch},
		{"an added parameter", func(u *url.URL) { u.RawQuery += "&response-content-type=text%2Fhtml" }, mismatch},
		{"another access key", func(u *url.URL) {
			q := u.Query()
			q.Set("X-Amz-Credential", strings.Replace(q.Get("X-Amz-Credential"), AccessKeyID+"/", "AKIAOTHER/", 1))
			u.RawQuery = q.Encode()
		}, answer{Status: 403, Code: "InvalidAccessKeyId", Message: errUnknownKey.Message}},
		{"no signature", func(u *url.URL) {
			q := u.Query()
			q.Del("X-Amz-Signature")
			u.RawQuery = q.Encode()
		}, answer{Status: 400, Code: "AuthorizationQueryParametersError", Message: "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := url.Parse(link)
			if err != nil {
				t.Fatal(err)
			}
			tc.change(u)
			if d := cmp.Diff(tc.want, get(t, u.String())); d != "" {
				t.Errorf("GET %s (-want +got):\n%s", u, d)
			}
		})
	}
	if got := get(t, link); got.Status != 200 || got.Body != "secret" {
		t.Errorf("the unchanged link = %+v, want 200 secret", got)
	}
}

func TestS3RejectsUnsignedRequests(t *testing.T) {
	f := newS3(t, false)
	f.put(t, "k", []byte("v"))
	obj := f.URL + "/" + f.Bucket + "/k"
	denied := answer{Status: 403, Code: "AccessDenied", Message: "Access Denied"}
	for _, tc := range []struct {
		method, url string
		body        string
		header      map[string]string
	}{
		{method: http.MethodGet, url: obj},
		{method: http.MethodGet, url: f.URL + "/" + f.Bucket + "?list-type=2"},
		{method: http.MethodPut, url: obj, body: "overwritten"},
		{method: http.MethodDelete, url: obj},
		// SigV2 (AWS CLI v1's s3 presign by default): S3's answer where only SigV4 is accepted.
		{method: http.MethodGet, url: obj + "?AWSAccessKeyId=local&Signature=r6t9jryZT9Vv5RQPYdyQ8SfYZ%2BU%3D&Expires=1796604869"},
		{method: http.MethodGet, url: obj, header: map[string]string{"Authorization": "AWS local:r6t9jryZT9Vv5RQPYdyQ8SfYZ+U="}},
		// A browser's preflight: no bucket CORS configuration, so no CORS answer.
		{method: http.MethodOptions, url: obj, header: map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}},
		{method: http.MethodGet, url: obj, header: map[string]string{"Origin": "https://evil.example"}},
	} {
		req, err := http.NewRequest(tc.method, tc.url, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		want := denied
		if strings.Contains(tc.url, "AWSAccessKeyId") || tc.header["Authorization"] != "" {
			want = answer{Status: 400, Code: "InvalidRequest", Message: errSigV2.Message}
		}
		if d := cmp.Diff(want, do(t, req)); d != "" {
			t.Errorf("unsigned %s %s %v (-want +got):\n%s", tc.method, tc.url, tc.header, d)
		}
	}
	out, err := f.Client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(f.Bucket), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(b) != "v" {
		t.Errorf("object after the unsigned PUT and DELETE = %q, want %q", b, "v")
	}
}

func TestS3AnswersNoCORSHeaders(t *testing.T) {
	f := newS3(t, false)
	f.put(t, "k", []byte("v"))
	link := f.presignGet(t, "k", time.Minute)
	req, err := http.NewRequest(http.MethodGet, link, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", "https://evil.example")
	if d := cmp.Diff(answer{Status: 200, Body: "v"}, do(t, req)); d != "" {
		t.Errorf("presigned GET from another origin (-want +got):\n%s", d)
	}
}

func TestS3RejectsOtherCredentials(t *testing.T) {
	f := newS3(t, false)
	for _, tc := range []struct {
		name, key, secret, code string
	}{
		{"unknown key", "AKIAOTHER", SecretAccessKey, "InvalidAccessKeyId"},
		{"wrong secret", AccessKeyID, "not-the-secret", "SignatureDoesNotMatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := s3.NewFromConfig(Config(f.URL), func(o *s3.Options) {
				o.UsePathStyle = true
				o.Credentials = credentials.NewStaticCredentialsProvider(tc.key, tc.secret, "")
				o.Retryer = aws.NopRetryer{}
			})
			_, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(f.Bucket)})
			if err == nil || !strings.Contains(err.Error(), "StatusCode: 403") || !strings.Contains(err.Error(), tc.code) {
				t.Errorf("ListObjectsV2 = %v, want 403 %s", err, tc.code)
			}
		})
	}
}

// rewrite changes a request after the SDK signed it.
type rewrite func(*http.Request)

func (f rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	f(r)
	return http.DefaultTransport.RoundTrip(r)
}

func TestS3RejectsRequestsChangedAfterSigning(t *testing.T) {
	f := newS3(t, false)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		change rewrite
		code   string
	}{
		{"another Host", func(r *http.Request) { r.Host = "other.example:80" }, "SignatureDoesNotMatch"},
		{"another signed header", func(r *http.Request) { r.Header.Set("Content-Type", "text/html") }, "SignatureDoesNotMatch"},
		{"another body", func(r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			b[0] ^= 1
			r.Body = io.NopCloser(bytes.NewReader(b))
		}, "XAmzContentSHA256Mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := s3.NewFromConfig(Config(f.URL), func(o *s3.Options) {
				o.UsePathStyle = true
				o.HTTPClient = &http.Client{Transport: tc.change}
				o.Retryer = aws.NopRetryer{}
			})
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(f.Bucket), Key: aws.String("k"), Body: strings.NewReader("payload"), ContentType: aws.String("text/plain")})
			if err == nil || !strings.Contains(err.Error(), tc.code) {
				t.Errorf("PutObject = %v, want %s", err, tc.code)
			}
		})
	}
	if _, err := f.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(f.Bucket), Key: aws.String("k")}); err == nil {
		t.Errorf("an object was stored by a rejected request")
	}
}

func TestS3RejectsSkewedRequests(t *testing.T) {
	f := newS3(t, false)
	f.Clock.advance(20 * time.Minute)
	c := s3.NewFromConfig(Config(f.URL), func(o *s3.Options) { o.UsePathStyle = true; o.Retryer = aws.NopRetryer{} })
	_, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(f.Bucket)})
	if err == nil || !strings.Contains(err.Error(), "RequestTimeTooSkewed") {
		t.Errorf("ListObjectsV2 20 minutes off = %v, want RequestTimeTooSkewed", err)
	}
}

// TestS3ChecksumsDescribeTheBytesSent reads objects the SDK uploaded with checksums (it sends
// x-amz-checksum-crc32, which the S3 server keeps) whole and in ranges, with the SDK's
// response checksum validation on, and wants every byte and no checksum complaint.
func TestS3ChecksumsDescribeTheBytesSent(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https (aws-chunked with a trailing checksum)"}[tls], func(t *testing.T) {
			f := newS3(t, tls)
			ctx := context.Background()
			body := []byte(strings.Repeat("0123456789abcdef", 4096))
			for _, alg := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmCrc64nvme, types.ChecksumAlgorithmSha256} {
				key := "obj-" + string(alg)
				_, err := f.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(f.Bucket), Key: aws.String(key), Body: bytes.NewReader(body), ChecksumAlgorithm: alg})
				if err != nil {
					t.Fatalf("put %s: %v", key, err)
				}
				for _, rng := range []string{"", "bytes=0-99", "bytes=100-", "bytes=-10"} {
					in := &s3.GetObjectInput{Bucket: aws.String(f.Bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled}
					want := body
					switch rng {
					case "bytes=0-99":
						want = body[:100]
					case "bytes=100-":
						want = body[100:]
					case "bytes=-10":
						want = body[len(body)-10:]
					}
					if rng != "" {
						in.Range = aws.String(rng)
					}
					out, err := f.Client.GetObject(ctx, in)
					if err != nil {
						t.Fatalf("get %s %s: %v", key, rng, err)
					}
					got, err := io.ReadAll(out.Body)
					out.Body.Close()
					if err != nil {
						t.Errorf("read %s %s: %v", key, rng, err)
					} else if !bytes.Equal(got, want) {
						t.Errorf("get %s %s: %d bytes, want %d", key, rng, len(got), len(want))
					}
				}
			}
			if w := f.Log.Warnings(); w != "" {
				t.Errorf("the SDK warned:\n%s", w)
			}
		})
	}
}

func TestS3RejectsAWrongUploadChecksum(t *testing.T) {
	f := newS3(t, false)
	_, err := f.Client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(f.Bucket), Key: aws.String("k"),
		Body: strings.NewReader("payload"), ChecksumCRC32: aws.String("AAAAAA==")})
	if err == nil || !strings.Contains(err.Error(), "BadDigest") {
		t.Errorf("PutObject with a wrong CRC32 = %v, want 400 BadDigest", err)
	}
}

func TestS3MultipartUploadWithChecksums(t *testing.T) {
	f := newS3(t, false)
	ctx := context.Background()
	key := aws.String("big")
	up, err := f.Client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(f.Bucket), Key: key, ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
	if err != nil {
		t.Fatal(err)
	}
	part1, part2 := bytes.Repeat([]byte("a"), 5<<20), []byte("tail")
	var parts []types.CompletedPart
	for i, p := range [][]byte{part1, part2} {
		out, err := f.Client.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(f.Bucket), Key: key, UploadId: up.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
		if err != nil {
			t.Fatalf("upload part %d: %v", i+1, err)
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	if _, err := f.Client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(f.Bucket), Key: key, UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatal(err)
	}
	out, err := f.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(f.Bucket), Key: key, ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || !bytes.Equal(got, append(part1, part2...)) {
		t.Errorf("get = %d bytes, %v; want %d bytes", len(got), err, len(part1)+len(part2))
	}
	if w := f.Log.Warnings(); w != "" {
		t.Errorf("the SDK warned:\n%s", w)
	}
}
