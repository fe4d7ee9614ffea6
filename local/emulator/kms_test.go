package emulator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

type kmsFixture struct {
	KMS    *KMS
	URL    string
	Clock  *testClock
	Log    *SDKLog
	Client *kms.Client
}

// newKMS serves a fresh local KMS (alias "test") and returns a client signing with the local
// credentials.
func newKMS(t *testing.T) *kmsFixture {
	t.Helper()
	f := &kmsFixture{Clock: &testClock{}, Log: &SDKLog{}}
	var err error
	if f.KMS, err = NewKMS(KMSOptions{Now: f.Clock.Now, Alias: "test"}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(f.KMS)
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	f.Client = kmsClient(srv.URL, AccessKeyID, SecretAccessKey, f.Log)
	return f
}

func kmsClient(endpoint, key, secret string, log *SDKLog) *kms.Client {
	cfg := Config(endpoint)
	cfg.Credentials = credentials.NewStaticCredentialsProvider(key, secret, "")
	cfg.Logger = log
	return kms.NewFromConfig(cfg, func(o *kms.Options) {
		o.RetryMaxAttempts = 1
		o.BaseEndpoint = aws.String(endpoint)
	})
}

// errorCode is the API error code of err, "" when it is none.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestKMSEncryptDecrypt(t *testing.T) {
	f := newKMS(t)
	ctx := context.Background()
	tenantA := map[string]string{"tenant": "acme"}
	enc, err := f.Client.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(f.KMS.KeyID()), Plaintext: []byte("secret key"), EncryptionContext: tenantA})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(enc.KeyId); got != f.KMS.KeyARN() {
		t.Errorf("Encrypt KeyId = %q, want the ARN %q", got, f.KMS.KeyARN())
	}
	if bytes.Contains(enc.CiphertextBlob, []byte("secret key")) {
		t.Error("the ciphertext holds the plaintext")
	}
	tampered := bytes.Clone(enc.CiphertextBlob)
	tampered[len(tampered)-1] ^= 1
	other, err := NewKMS(KMSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	otherSrv := httptest.NewServer(other)
	defer otherSrv.Close()
	otherClient := kmsClient(otherSrv.URL, AccessKeyID, SecretAccessKey, &SDKLog{})

	tests := []struct {
		name   string
		client *kms.Client
		in     kms.DecryptInput
		want   string // plaintext, or
		code   string // the error code
	}{
		{name: "same context", in: kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: tenantA}, want: "secret key"},
		{name: "key id named", in: kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: tenantA, KeyId: aws.String(f.KMS.KeyID())}, want: "secret key"},
		{name: "key ARN named", in: kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: tenantA, KeyId: aws.String(f.KMS.KeyARN())}, want: "secret key"},
		{name: "alias named", in: kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: tenantA, KeyId: aws.String("alias/test")}, want: "secret key"},
		{name: "another tenant's context", in: kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"tenant": "globex"}}, code: "InvalidCiphertextException"},
		{name: "another context key", in: kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"tenantx": "acme"}}, code: "InvalidCiphertextException"},
		{name: "an extra pair", in: kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"tenant": "acme", "x": "y"}}, code: "InvalidCiphertextException"},
		{name: "no context", in: kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}, code: "InvalidCiphertextException"},
		{name: "tampered", in: kms.DecryptInput{CiphertextBlob: tampered, EncryptionContext: tenantA}, code: "InvalidCiphertextException"},
		{name: "truncated", in: kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob[:20], EncryptionContext: tenantA}, code: "InvalidCiphertextException"},
		{name: "another key named", in: kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: tenantA, KeyId: aws.String("alias/other")}, code: "IncorrectKeyException"},
		{name: "another KMS", client: otherClient, in: kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: tenantA}, code: "InvalidCiphertextException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.client
			if c == nil {
				c = f.Client
			}
			out, err := c.Decrypt(ctx, &tc.in)
			if tc.code != "" {
				if got := errorCode(err); got != tc.code {
					t.Fatalf("Decrypt error = %v (code %q), want %s", err, got, tc.code)
				}
				if tc.code == "InvalidCiphertextException" {
					var ice *types.InvalidCiphertextException
					if !errors.As(err, &ice) {
						t.Errorf("the SDK did not make %v a *types.InvalidCiphertextException", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(out.Plaintext) != tc.want || aws.ToString(out.KeyId) != f.KMS.KeyARN() {
				t.Errorf("Decrypt = %q by %q, want %q by %q", out.Plaintext, aws.ToString(out.KeyId), tc.want, f.KMS.KeyARN())
			}
		})
	}
	if w := f.Log.Warnings(); w != "" {
		t.Errorf("the SDK warned:\n%s", w)
	}
}

func TestKMSEncryptRefusals(t *testing.T) {
	f := newKMS(t)
	ctx := context.Background()
	tests := []struct {
		name string
		in   kms.EncryptInput
		code string
	}{
		{"unknown key", kms.EncryptInput{KeyId: aws.String("alias/nope"), Plaintext: []byte("x")}, "NotFoundException"},
		{"too large", kms.EncryptInput{KeyId: aws.String(f.KMS.KeyID()), Plaintext: make([]byte, 4097)}, "ValidationException"},
		{"asymmetric algorithm", kms.EncryptInput{KeyId: aws.String(f.KMS.KeyID()), Plaintext: []byte("x"), EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256}, "ValidationException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.Client.Encrypt(ctx, &tc.in)
			if got := errorCode(err); got != tc.code {
				t.Errorf("Encrypt error = %v (code %q), want %s", err, got, tc.code)
			}
		})
	}
}

// TestKMSAuthentication: only requests signed by the local credentials for kms, over the
// body as sent, within 15 minutes of the server's clock, are served.
func TestKMSAuthentication(t *testing.T) {
	f := newKMS(t)
	ctx := context.Background()
	in := &kms.EncryptInput{KeyId: aws.String(f.KMS.KeyID()), Plaintext: []byte("x")}

	t.Run("wrong secret", func(t *testing.T) {
		_, err := kmsClient(f.URL, AccessKeyID, "not-the-secret", &SDKLog{}).Encrypt(ctx, in)
		if got := errorCode(err); got != "InvalidSignatureException" {
			t.Errorf("error = %v, want InvalidSignatureException", err)
		}
	})
	t.Run("unknown access key", func(t *testing.T) {
		_, err := kmsClient(f.URL, "someone", SecretAccessKey, &SDKLog{}).Encrypt(ctx, in)
		if got := errorCode(err); got != "UnrecognizedClientException" {
			t.Errorf("error = %v, want UnrecognizedClientException", err)
		}
	})
	t.Run("clock skew", func(t *testing.T) {
		f.Clock.advance(16 * time.Minute)
		defer f.Clock.advance(-16 * time.Minute)
		_, err := f.Client.Encrypt(ctx, in)
		if got := errorCode(err); got != "InvalidSignatureException" {
			t.Errorf("error = %v, want InvalidSignatureException", err)
		}
	})

	body := []byte(`{"KeyId":"` + f.KMS.KeyID() + `","Plaintext":"eA=="}`)
	raw := func(t *testing.T, body []byte, sign func(*http.Request)) (int, map[string]string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, f.URL+"/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "TrentService.Encrypt")
		if sign != nil {
			sign(req)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]string
		b, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(b, &out)
		return resp.StatusCode, out
	}
	signBody := func(signed []byte) func(*http.Request) {
		return func(req *http.Request) {
			sum := sha256.Sum256(signed)
			err := v4.NewSigner().SignHTTP(ctx, localCredentials(), req, hex.EncodeToString(sum[:]), "kms", Region, time.Now())
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name   string
		body   []byte
		sign   func(*http.Request)
		status int
		typ    string
	}{
		{"unsigned", body, nil, 400, "MissingAuthenticationTokenException"},
		{"signed as sent", body, signBody(body), 200, ""},
		{"body changed after signing", bytes.Replace(body, []byte("eA=="), []byte("eQ=="), 1), signBody(body), 400, "InvalidSignatureException"},
		{"signed for s3", body, func(req *http.Request) {
			sum := sha256.Sum256(body)
			_ = v4.NewSigner().SignHTTP(ctx, localCredentials(), req, hex.EncodeToString(sum[:]), "s3", Region, time.Now())
		}, 400, "IncompleteSignatureException"},
		{"target changed after signing", body, func(req *http.Request) {
			signBody(body)(req)
			req.Header.Set("X-Amz-Target", "TrentService.Decrypt")
		}, 400, "InvalidSignatureException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, out := raw(t, tc.body, tc.sign)
			if status != tc.status || out["__type"] != tc.typ {
				t.Errorf("answer %d %v, want %d %q", status, out, tc.status, tc.typ)
			}
		})
	}
}

// TestKMSConcurrent: the handler is safe for concurrent requests (a reader's fan-out).
func TestKMSConcurrent(t *testing.T) {
	f := newKMS(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := map[string]string{"tenant": strings.Repeat("t", i+1)}
			enc, err := f.Client.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(f.KMS.KeyID()), Plaintext: []byte{byte(i)}, EncryptionContext: c})
			if err != nil {
				got[i] = err.Error()
				return
			}
			dec, err := f.Client.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: c})
			if err != nil {
				got[i] = err.Error()
				return
			}
			got[i] = hex.EncodeToString(dec.Plaintext)
		}()
	}
	wg.Wait()
	want := []string{"00", "01", "02", "03", "04", "05", "06", "07"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("plaintexts (-want +got):\n%s", d)
	}
}

// TestKMSKeyFile: a KMS kept in a key file (0600, its folder 0700) is the same key when
// started again from that file, so what it encrypted before still decrypts; a KMS of
// another file cannot.
func TestKMSKeyFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "keys", "PersonalDataKey.json")
	serve := func(file string) (*KMS, *kms.Client) {
		k, err := NewKMS(KMSOptions{KeyFile: file})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(k)
		t.Cleanup(srv.Close)
		return k, kmsClient(srv.URL, AccessKeyID, SecretAccessKey, &SDKLog{})
	}
	first, c1 := serve(path)
	tenant := map[string]string{"tenant": "acme"}
	enc, err := c1.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(first.KeyARN()), Plaintext: []byte("tenant key"), EncryptionContext: tenant})
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700 | os.ModeDir} {
		if fi, err := os.Stat(p); err != nil || fi.Mode() != want {
			t.Errorf("%s: %v, %v; want mode %v", p, fi.Mode(), err, want)
		}
	}

	again, c2 := serve(path) // a restart
	if again.KeyARN() != first.KeyARN() {
		t.Errorf("restarted key ARN %s, want %s", again.KeyARN(), first.KeyARN())
	}
	out, err := c2.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, KeyId: aws.String(first.KeyARN()), EncryptionContext: tenant})
	if err != nil || string(out.Plaintext) != "tenant key" {
		t.Errorf("Decrypt after a restart = %v, want the plaintext", err)
	}

	_, c3 := serve(filepath.Join(t.TempDir(), "other.json"))
	if _, err := c3.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: tenant}); errorCode(err) != "InvalidCiphertextException" {
		t.Errorf("another key file's KMS decrypted it: %v", err)
	}

	if err := os.WriteFile(path, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewKMS(KMSOptions{KeyFile: path}); err == nil {
		t.Error("a damaged key file was accepted")
	}
}
