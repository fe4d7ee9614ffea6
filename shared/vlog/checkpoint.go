package vlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/contrail/contrail/shared/tenant"
)

// KeyName is the note key name of the stack's checkpoint signing key.
const KeyName = "contrail"

// keyLabel is hashed with the secret string into the Ed25519 seed (docs/verifying.md, "The key").
const keyLabel = "contrail checkpoint signing key v1\n"

// Origin is the origin line of a tenant's checkpoints.
func Origin(t tenant.ID) string { return "contrail/" + t.String() }

// Checkpoint is a tree head: C2SP tlog-checkpoint with one extension line, "time <RFC 3339>",
// the time it was signed.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
	Time   time.Time // UTC, seconds
}

// Text returns the checkpoint body the note signs.
func (c Checkpoint) Text() string {
	return fmt.Sprintf("%s\n%d\n%s\ntime %s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root[:]), c.Time.UTC().Format(time.RFC3339))
}

// ParseCheckpoint reads a checkpoint body (a note's Text).
func ParseCheckpoint(text string) (Checkpoint, error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) != 4 {
		return Checkpoint{}, errors.New("checkpoint: want origin, size, root hash and time lines")
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != lines[1] {
		return Checkpoint{}, fmt.Errorf("checkpoint: size %q", lines[1])
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		return Checkpoint{}, fmt.Errorf("checkpoint: root hash %q", lines[2])
	}
	ts, ok := strings.CutPrefix(lines[3], "time ")
	at, err := time.Parse(time.RFC3339, ts)
	if !ok || err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint: time line %q", lines[3])
	}
	c := Checkpoint{Origin: lines[0], Size: n, Time: at.UTC()}
	copy(c.Root[:], raw)
	return c, nil
}

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
	b, err := note.Sign(&note.Note{Text: c.Text()}, s.signer)
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint %s %d: %w", c.Origin, c.Size, err)
	}
	return b, nil
}

// OpenCheckpoint verifies a signed checkpoint with any of the verifier keys and parses it.
func OpenCheckpoint(signed []byte, vkeys ...string) (Checkpoint, error) {
	var vs []note.Verifier
	for _, k := range vkeys {
		v, err := note.NewVerifier(k)
		if err != nil {
			return Checkpoint{}, fmt.Errorf("verifier key %q: %w", k, err)
		}
		vs = append(vs, v)
	}
	n, err := note.Open(signed, note.VerifierList(vs...))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("open checkpoint: %w", err)
	}
	return ParseCheckpoint(n.Text)
}
