package pii

import (
	"context"
	"fmt"

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

var _ Wrapper = (*KMSWrapper)(nil)

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
