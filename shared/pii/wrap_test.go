package pii_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/contrail/contrail/local/emulator"
	"github.com/contrail/contrail/shared/pii"
)

var tenantKey = bytes.Repeat([]byte{7}, 32)

// TestFileWrapper: the master key file is made on first Wrap (0600 in a 0700 folder), kept,
// and shared by every wrapper of the path; a wrapped key unwraps for its tenant only; Unwrap
// never makes a master key.
func TestFileWrapper(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), ".local")
	path := filepath.Join(dir, pii.MasterKeyFile)
	w := &pii.FileWrapper{Path: path}
	wrapped, err := w.Wrap(ctx, "acme", tenantKey)
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700 | os.ModeDir} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != want {
			t.Errorf("%s has mode %v, want %v", p, st.Mode(), want)
		}
	}
	if st, _ := os.Stat(path); st.Size() != 32 {
		t.Errorf("the master key file holds %d bytes, want 32", st.Size())
	}
	if bytes.Contains(wrapped, tenantKey) {
		t.Error("the wrapped key holds the key")
	}
	again := &pii.FileWrapper{Path: path} // another process, the same file
	got, err := again.Unwrap(ctx, "acme", wrapped)
	if err != nil || !bytes.Equal(got, tenantKey) {
		t.Errorf("Unwrap by another wrapper = %x, %v", got, err)
	}
	if _, err := again.Unwrap(ctx, "globex", wrapped); err == nil {
		t.Error("acme's key unwrapped as globex's")
	}
	nowhere := filepath.Join(t.TempDir(), "none", "master.key")
	if _, err := (&pii.FileWrapper{Path: nowhere}).Unwrap(ctx, "acme", wrapped); err == nil {
		t.Error("Unwrap without a master key succeeded")
	}
	if _, err := os.Stat(nowhere); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Unwrap made a master key: %v", err)
	}
}

// TestFileWrapperRace: processes making the master key at once end up with one.
func TestFileWrapperRace(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "keys", "master.key")
	const n = 8
	wrapped := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wrapped[i], errs[i] = (&pii.FileWrapper{Path: path}).Wrap(ctx, "acme", tenantKey)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	r := &pii.FileWrapper{Path: path}
	for i, w := range wrapped {
		if got, err := r.Unwrap(ctx, "acme", w); err != nil || !bytes.Equal(got, tenantKey) {
			t.Errorf("writer %d's wrapped key: %x, %v", i, got, err)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("the key folder holds %d files, want the master key alone", len(entries))
	}
}

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
