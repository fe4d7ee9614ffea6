package emulator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/google/go-cmp/cmp"
)

const testSecretARN = "arn:aws:secretsmanager:us-east-1:000000000000:secret:CursorSecret"

// newSecrets serves NewSecretsManager with one secret, its clock off by skew.
func newSecrets(t *testing.T, skew time.Duration) string {
	t.Helper()
	h := NewSecretsManager([]Secret{{ARN: testSecretARN, Name: "CursorSecret", Value: "s3cr3t"}},
		SecretsOptions{Now: func() time.Time { return time.Now().Add(skew) }})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// secretsClient signs with key, secret and session token, without retries.
func secretsClient(url, key, secret string, token ...string) *secretsmanager.Client {
	return secretsmanager.New(secretsmanager.Options{
		Region: Region, BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, strings.Join(token, "")),
	})
}

func TestSecretsManagerGetSecretValue(t *testing.T) {
	url := newSecrets(t, 0)
	c := secretsClient(url, AccessKeyID, SecretAccessKey)
	ctx := context.Background()
	// A Lambda function signs with a session token too (the bench's functions do).
	withToken := secretsClient(url, AccessKeyID, SecretAccessKey, "session")
	for _, id := range []string{testSecretARN, "CursorSecret"} {
		out, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		if err == nil {
			out, err = withToken.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		}
		if err != nil {
			t.Fatalf("GetSecretValue(%s): %v", id, err)
		}
		got := []string{aws.ToString(out.ARN), aws.ToString(out.Name), aws.ToString(out.SecretString)}
		if d := cmp.Diff([]string{testSecretARN, "CursorSecret", "s3cr3t"}, got); d != "" {
			t.Errorf("GetSecretValue(%s) (-want +got):\n%s", id, d)
		}
	}
	for name, tc := range map[string]struct {
		call func() error
		code string
	}{
		"missing secret": {func() error {
			_, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("Other")})
			return err
		}, "ResourceNotFoundException"},
		"previous version": {func() error {
			_, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(testSecretARN), VersionStage: aws.String("AWSPREVIOUS")})
			return err
		}, "ResourceNotFoundException"},
		"another operation": {func() error {
			_, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(testSecretARN)})
			return err
		}, "UnknownOperationException"},
		"another access key": {func() error {
			_, err := secretsClient(url, "other", SecretAccessKey).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(testSecretARN)})
			return err
		}, "UnrecognizedClientException"},
		"another secret key": {func() error {
			_, err := secretsClient(url, AccessKeyID, "other").GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(testSecretARN)})
			return err
		}, "InvalidSignatureException"},
		"skewed clock": {func() error {
			_, err := secretsClient(newSecrets(t, 20*time.Minute), AccessKeyID, SecretAccessKey).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(testSecretARN)})
			return err
		}, "InvalidSignatureException"},
	} {
		if err := tc.call(); errorCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
		}
	}
}

// A request must be signed, and its body must be the one signed.
func TestSecretsManagerSignedRequests(t *testing.T) {
	url := newSecrets(t, 0)
	body := []byte(`{"SecretId":"CursorSecret"}`)
	post := func(signed, sent []byte) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, url+"/", bytes.NewReader(sent))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "secretsmanager.GetSecretValue")
		if signed != nil {
			sum := sha256.Sum256(signed)
			creds := aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey}
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "secretsmanager", Region, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType")
	}
	for name, tc := range map[string]struct {
		signed, sent []byte
		status       int
		errorType    string
	}{
		"signed":         {body, body, http.StatusOK, ""},
		"unsigned":       {nil, body, http.StatusBadRequest, "MissingAuthenticationTokenException"},
		"body changed":   {body, []byte(`{"SecretId":"Other"}`), http.StatusBadRequest, "InvalidSignatureException"},
		"signed for nil": {[]byte{}, body, http.StatusBadRequest, "InvalidSignatureException"},
	} {
		if status, typ := post(tc.signed, tc.sent); status != tc.status || typ != tc.errorType {
			t.Errorf("%s: %d %q, want %d %q", name, status, typ, tc.status, tc.errorType)
		}
	}
}
