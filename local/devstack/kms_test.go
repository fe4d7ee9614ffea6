package devstack

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/contrail/contrail/local/emulator"
	"github.com/contrail/contrail/local/template"
	"github.com/contrail/contrail/shared/pii"
)

// TestStackKMS: the stack's KMS serves PersonalDataKey as the functions' references resolve
// it, with its key in the state folder (0600); after a restart a tenant key wrapped before
// still unwraps, so every tenant's personal data stays readable.
func TestStackKMS(t *testing.T) {
	root, err := template.Find()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := template.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	start := func() (*Stack, *pii.KMSWrapper) {
		t.Helper()
		s := &Stack{StateDir: state, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		t.Cleanup(func() { _ = s.Stop() })
		refs, err := s.startKMS(tpl)
		if err != nil {
			t.Fatal(err)
		}
		if env := s.awsEnv(Options{}); env["AWS_ENDPOINT_URL_KMS"] != s.KMSEndpoint || s.KMSEndpoint == "" {
			t.Errorf("AWS_ENDPOINT_URL_KMS = %q, want the stack's KMS %q", env["AWS_ENDPOINT_URL_KMS"], s.KMSEndpoint)
		}
		client := kms.NewFromConfig(emulator.Config(s.KMSEndpoint), func(o *kms.Options) { o.BaseEndpoint = aws.String(s.KMSEndpoint) })
		return s, &pii.KMSWrapper{KMS: client, KeyID: refs["PersonalDataKey.Arn"]}
	}
	ctx := context.Background()
	tenantKey := bytes.Repeat([]byte{7}, 32)

	s, w := start()
	wrapped, err := w.Wrap(ctx, "acme", tenantKey)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(state, KMSKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file %s: %v, %v; want mode 0600", KMSKeyFile, fi, err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}

	_, w2 := start()
	if w2.KeyID != w.KeyID {
		t.Errorf("PersonalDataKey.Arn after a restart = %s, want %s", w2.KeyID, w.KeyID)
	}
	got, err := w2.Unwrap(ctx, "acme", wrapped)
	if err != nil || !bytes.Equal(got, tenantKey) {
		t.Errorf("Unwrap after a restart = %x, %v; want the tenant key", got, err)
	}
}
