package devstack

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/contrail/contrail/local/stacktest"
)

func TestMain(m *testing.M) { stacktest.Main(m) }

// oneEndpoint serves DynamoDB, S3 and SES on one URL, as LocalStack does, by sending each
// request to the stand-in of the service its SigV4 credential scope names.
func oneEndpoint(t *testing.T) string {
	t.Helper()
	backends := map[string]string{
		"dynamodb": stacktest.DynamoDBEndpoint(t),
		"s3":       stacktest.S3Endpoint(t),
		"ses":      stacktest.SESEndpoint(t),
	}
	scope := regexp.MustCompile(`Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := scope.FindStringSubmatch(r.Header.Get("Authorization"))
		if m == nil || backends[m[1]] == "" {
			http.Error(w, "unknown service", http.StatusBadRequest)
			return
		}
		u, _ := url.Parse(backends[m[1]])
		httputil.NewSingleHostReverseProxy(u).ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestExternalEndpoint runs the stack the way AWS_ENDPOINT_URL=<LocalStack> make run does:
// no emulator of its own, tables and bucket created at the endpoint, functions using it.
func TestExternalEndpoint(t *testing.T) {
	endpoint := oneEndpoint(t)
	prefix := stacktest.UniqueName("ls")
	s := StartTest(t, Options{Endpoint: endpoint, Prefix: prefix, Functions: []string{"HealthFunction", "GetContactFunction"}})

	if s.MailViewer != "" || s.DynamoDBEndpoint != endpoint || s.S3Endpoint != endpoint || s.SESEndpoint != endpoint {
		t.Errorf("endpoints %q %q %q, mail viewer %q: want all %q and no mail viewer", s.DynamoDBEndpoint, s.S3Endpoint, s.SESEndpoint, s.MailViewer, endpoint)
	}
	ctx := context.Background()
	for _, id := range []string{"ContactsTable", "AuditTable", "JobsTable"} {
		if _, err := stacktest.DynamoDB(t).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(prefix + "-" + id)}); err != nil {
			t.Errorf("table %s not created at the endpoint: %v", id, err)
		}
	}
	if _, err := stacktest.S3(t).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(strings.ToLower(prefix) + "-archive")}); err != nil {
		t.Errorf("bucket not created at the endpoint: %v", err)
	}
	// The function reads the table through the endpoint: a 404 from the store, not a 500.
	wantServing(t, s)
}
