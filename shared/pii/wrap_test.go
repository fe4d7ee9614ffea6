package pii_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/contrail/contrail/local/emulator"
	"github.com/contrail/contrail/shared/pii"
)

var tenantKey = bytes.Repeat([]byte{7}, 32)

// localKMS serves a fresh local KMS and returns it with a client of it.
func localKMS(t *testing.T) (*emulator.KMS, *kms.Client) {
	t.Helper()
	k, err := emulator.NewKMS(emulator.KMSOptions{Alias: "contrail-pii"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(k)
	t.Cleanup(srv.Close)
	return k, kms.NewFromConfig(emulator.Config(srv.URL), func(o *kms.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.RetryMaxAttempts = 1
	})
}

// TestKMSWrapper: through the real SDK client against the local KMS, a tenant key wraps
// under the KMS key with the tenant as encryption context, and unwraps for that tenant only.
func TestKMSWrapper(t *testing.T) {
	ctx := context.Background()
	k, client := localKMS(t)
	w := &pii.KMSWrapper{KMS: client, KeyID: "alias/contrail-pii"}
	wrapped, err := w.Wrap(ctx, "acme", tenantKey)
	if err != nil {
		t.Fatal(err)
	}
	got, err := w.Unwrap(ctx, "acme", wrapped)
	if err != nil || !bytes.Equal(got, tenantKey) {
		t.Fatalf("Unwrap = %x, %v", got, err)
	}
	// Unwrap's own request: the key named and the tenant as context.
	out, err := client.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: wrapped, KeyId: aws.String(k.KeyARN()), EncryptionContext: map[string]string{"tenant": "acme"}})
	if err != nil || !bytes.Equal(out.Plaintext, tenantKey) {
		t.Errorf("Decrypt with context {tenant: acme} = %v", err)
	}
	var ice *types.InvalidCiphertextException
	if _, err := w.Unwrap(ctx, "globex", wrapped); !errors.As(err, &ice) {
		t.Errorf("acme's key unwrapped as globex's: %v, want InvalidCiphertextException", err)
	}
}
