package pii

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/contrail/contrail/shared/tenant"
)

// Wrapper protects tenant keys: Wrap encrypts a tenant's key for storage in KeysTable,
// Unwrap gives it back, bound to the tenant (the wrapped key of one tenant does not unwrap
// as another's). An Unwrap error makes the tenant's sealed data unreadable: the keyring
// reports it as ErrTenantKeyUnavailable.
type Wrapper interface {
	Wrap(ctx context.Context, t tenant.ID, key []byte) ([]byte, error)
	Unwrap(ctx context.Context, t tenant.ID, wrapped []byte) ([]byte, error)
}

var (
	_ Wrapper = (*FileWrapper)(nil)
	_ Wrapper = (*KMSWrapper)(nil)
)

// MasterKeyFile is the local master key's path under the local state folder (.local/).
const MasterKeyFile = "keys/master.key"

// FileWrapper wraps tenant keys locally under a 32-byte master key kept in a file (the
// local stack's stand-in for KMS): AES-256-GCM, nonce (12 bytes) ‖ ciphertext ‖ tag, with
// the tenant id as associated data. Wrap creates the file (mode 0600, folder 0700) on first
// use; Unwrap never does: a missing or damaged master key is an error, not a fresh key.
type FileWrapper struct {
	Path string

	mu   sync.Mutex
	aead cipher.AEAD
}

// Wrap seals key under the master key, creating the master key on first use.
func (w *FileWrapper) Wrap(_ context.Context, t tenant.ID, key []byte) ([]byte, error) {
	aead, err := w.master(true)
	if err != nil {
		return nil, fmt.Errorf("wrap the tenant key of %s: %w", t, err)
	}
	out := make([]byte, nonceSize, nonceSize+len(key)+tagSize)
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("wrap the tenant key of %s: nonce: %w", t, err)
	}
	return aead.Seal(out, out[:nonceSize], key, []byte(t)), nil
}

// Unwrap opens a key Wrap sealed for tenant t.
func (w *FileWrapper) Unwrap(_ context.Context, t tenant.ID, wrapped []byte) ([]byte, error) {
	aead, err := w.master(false)
	if err != nil {
		return nil, fmt.Errorf("unwrap the tenant key of %s: %w", t, err)
	}
	if len(wrapped) < nonceSize+tagSize {
		return nil, fmt.Errorf("unwrap the tenant key of %s: %d bytes is too short", t, len(wrapped))
	}
	key, err := aead.Open(nil, wrapped[:nonceSize], wrapped[nonceSize:], []byte(t))
	if err != nil {
		return nil, fmt.Errorf("unwrap the tenant key of %s: it does not open under the master key %s (another master key?)", t, w.Path)
	}
	return key, nil
}

// master returns the master key's cipher, reading the file (creating it when create is set
// and it does not exist) on first use.
func (w *FileWrapper) master(create bool) (cipher.AEAD, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.aead != nil {
		return w.aead, nil
	}
	key, err := w.read()
	if errors.Is(err, os.ErrNotExist) && create {
		key, err = w.create()
	}
	if err != nil {
		return nil, err
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	w.aead = aead
	return aead, nil
}

func (w *FileWrapper) read() ([]byte, error) {
	if w.Path == "" {
		return nil, errors.New("no master key file configured")
	}
	key, err := os.ReadFile(w.Path)
	if err != nil {
		return nil, fmt.Errorf("read the master key: %w", err)
	}
	if len(key) != keySize {
		return nil, fmt.Errorf("the master key %s is %d bytes, want %d: it is damaged (deleting it loses every tenant key it wraps)", w.Path, len(key), keySize)
	}
	return key, nil
}

// create writes a new random master key; when another process created one meanwhile, theirs
// is kept and returned.
func (w *FileWrapper) create() ([]byte, error) {
	dir := filepath.Dir(w.Path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create the master key folder: %w", err)
	}
	key := make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate the master key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".master-*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("create the master key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(key)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("write the master key: %w", err)
	}
	// Link, not rename: if another process created the key meanwhile, keep theirs.
	if err := os.Link(tmp.Name(), w.Path); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("install the master key: %w", err)
	}
	return w.read()
}

// KMS is the part of the KMS client KMSWrapper uses.
type KMS interface {
	Encrypt(ctx context.Context, in *kms.EncryptInput, opts ...func(*kms.Options)) (*kms.EncryptOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, opts ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

var _ KMS = (*kms.Client)(nil)

// KMSWrapper wraps tenant keys with a KMS key: Encrypt and Decrypt under KeyID with the
// encryption context {"tenant": <tenant id>}, so a wrapped key only unwraps for its tenant
// and CloudTrail names the tenant of every unwrap. A key policy or grant can limit a role to
// Decrypt only (readers) through kms:EncryptionContextKeys.
type KMSWrapper struct {
	KMS   KMS
	KeyID string // key id, ARN or alias
}

func encryptionContext(t tenant.ID) map[string]string { return map[string]string{"tenant": string(t)} }

// Wrap encrypts key with the KMS key.
func (w *KMSWrapper) Wrap(ctx context.Context, t tenant.ID, key []byte) ([]byte, error) {
	out, err := w.KMS.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(w.KeyID), Plaintext: key, EncryptionContext: encryptionContext(t)})
	if err != nil {
		return nil, fmt.Errorf("wrap the tenant key of %s with KMS key %s: %w", t, w.KeyID, err)
	}
	return out.CiphertextBlob, nil
}

// Unwrap decrypts a key Wrap encrypted for tenant t.
func (w *KMSWrapper) Unwrap(ctx context.Context, t tenant.ID, wrapped []byte) ([]byte, error) {
	out, err := w.KMS.Decrypt(ctx, &kms.DecryptInput{KeyId: aws.String(w.KeyID), CiphertextBlob: wrapped, EncryptionContext: encryptionContext(t)})
	if err != nil {
		return nil, fmt.Errorf("unwrap the tenant key of %s with KMS key %s: %w", t, w.KeyID, err)
	}
	return out.Plaintext, nil
}
