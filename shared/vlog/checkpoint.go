package vlog

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"

	"github.com/contrail/contrail/shared/tenant"
	"github.com/contrail/contrail/shared/vlog/bundle"
)

// KeyName is the note key name of the stack's checkpoint signing key.
const KeyName = "contrail"

// keyLabel is hashed with the secret string into the Ed25519 seed (docs/verifying.md, "The key").
const keyLabel = "contrail checkpoint signing key v1\n"

// Origin is the origin line of a tenant's checkpoints.
func Origin(t tenant.ID) string { return bundle.OriginPrefix + t.String() }

// Checkpoint is a tree head: C2SP tlog-checkpoint with one extension line, "time <RFC 3339>",
// the time it was signed. The format is the bundle's, which contrail-verify reads.
type Checkpoint = bundle.Checkpoint

// Signer signs checkpoints with the stack's key.
type Signer struct {
	signer note.Signer
	vkey   string
}

// NewSigner derives the signing key from the signing secret's string: the Ed25519 seed is
// SHA-256(keyLabel ‖ secret). A new secret version is a new key (and key hash).
func NewSigner(secret string) (*Signer, error) {
	if secret == "" {
		return nil, errors.New("checkpoint signing secret is empty")
	}
	seed := sha256.Sum256([]byte(keyLabel + secret))
	// note.GenerateKey reads exactly the Ed25519 seed from its reader.
	skey, vkey, err := note.GenerateKey(bytes.NewReader(seed[:]), KeyName)
	if err != nil {
		return nil, fmt.Errorf("derive checkpoint key: %w", err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("derive checkpoint key: %w", err)
	}
	return &Signer{signer: s, vkey: vkey}, nil
}

// VerifierKey is the note verifier key ("contrail+<hash>+<base64>") that verifies this
// signer's checkpoints.
func (s *Signer) VerifierKey() string { return s.vkey }

// Sign returns the signed note of c.
func (s *Signer) Sign(c Checkpoint) ([]byte, error) {
	b, err := note.Sign(&note.Note{Text: string(c.Body())}, s.signer)
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint %s %d: %w", c.Origin, c.Size, err)
	}
	return b, nil
}

// OpenCheckpoint verifies a signed checkpoint with any of the verifier keys and parses it.
func OpenCheckpoint(signed []byte, vkeys ...string) (Checkpoint, error) {
	vs, err := bundle.Verifiers(vkeys)
	if err != nil {
		return Checkpoint{}, err
	}
	return bundle.OpenCheckpoint(signed, vs)
}
