package bundle

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint is a C2SP tlog-checkpoint of a tenant's log: origin, tree size and root hash,
// and Contrail's extension line "time <RFC 3339 UTC seconds>", the signing time that makes
// heartbeats (a new signature over an unchanged tree) show the log was not cut off.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
	Time   time.Time // zero when the checkpoint has no time line
	// SignedBy names the key that verified it ("contrail+1a2b3c4d") and Note is the signed
	// note as given, to be kept for the next verification; both set by OpenCheckpoint.
	SignedBy string
	Note     string
}

// Body is the checkpoint's note text, the part that is signed.
func (c Checkpoint) Body() []byte {
	b := fmt.Appendf(nil, "%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root[:]))
	if !c.Time.IsZero() {
		b = fmt.Appendf(b, "time %s\n", c.Time.UTC().Format(time.RFC3339))
	}
	return b
}

// Describe names a checkpoint in a message: "checkpoint 480 signed 2026-12-07T05:00:00Z".
func (c Checkpoint) Describe() string {
	if c.Time.IsZero() {
		return fmt.Sprintf("checkpoint %d (no signing time)", c.Size)
	}
	return fmt.Sprintf("checkpoint %d signed %s", c.Size, c.Time.UTC().Format(time.RFC3339))
}

// ErrNotSigned is (wrapped in) OpenCheckpoint's error when no given key signed the note.
var ErrNotSigned = errors.New("not signed by any given key")

// OpenCheckpoint verifies a signed checkpoint note against the verifier keys and parses
// its body. Its errors say which signature failed and why.
func OpenCheckpoint(text []byte, keys note.Verifiers) (Checkpoint, error) {
	n, err := note.Open(text, keys)
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &unverified):
			var by []string
			for _, s := range unverified.Note.UnverifiedSigs {
				by = append(by, fmt.Sprintf("%s+%08x", s.Name, s.Hash))
			}
			return Checkpoint{}, fmt.Errorf("%w: it is signed only by %s (forged, or signed by a key this verifier was not given)", ErrNotSigned, strings.Join(by, ", "))
		case errors.As(err, &invalid):
			return Checkpoint{}, fmt.Errorf("the signature by %s+%08x does not verify: the checkpoint's text was changed after it was signed", invalid.Name, invalid.Hash)
		}
		return Checkpoint{}, fmt.Errorf("not a signed note: %w", err)
	}
	c, err := ParseCheckpointBody(n.Text)
	if err != nil {
		return Checkpoint{}, err
	}
	c.SignedBy = fmt.Sprintf("%s+%08x", n.Sigs[0].Name, n.Sigs[0].Hash)
	c.Note = string(text)
	return c, nil
}

// ParseCheckpointBody parses a checkpoint's note text (unverified).
func ParseCheckpointBody(text string) (Checkpoint, error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 || !strings.HasSuffix(text, "\n") {
		return Checkpoint{}, fmt.Errorf("malformed checkpoint: want origin, size and root hash lines")
	}
	var c Checkpoint
	if c.Origin = lines[0]; c.Origin == "" {
		return Checkpoint{}, fmt.Errorf("malformed checkpoint: the origin line is empty")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return Checkpoint{}, fmt.Errorf("malformed checkpoint: size %q is not a decimal number", lines[1])
	}
	c.Size = size
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return Checkpoint{}, fmt.Errorf("malformed checkpoint: root %q is not a base64 SHA-256 hash", lines[2])
	}
	copy(c.Root[:], root)
	for _, l := range lines[3:] {
		v, ok := strings.CutPrefix(l, "time ")
		if !ok {
			continue // another extension line: not Contrail's to judge
		}
		if !c.Time.IsZero() {
			return Checkpoint{}, fmt.Errorf("malformed checkpoint: two time lines")
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil || t.UTC().Format(time.RFC3339) != v {
			return Checkpoint{}, fmt.Errorf("malformed checkpoint: time %q is not RFC 3339 UTC in seconds", v)
		}
		c.Time = t.UTC()
	}
	return c, nil
}

// Verifiers parses note verifier keys ("contrail+1a2b3c4d+AcB...") into the set a
// checkpoint may be signed by (more than one while a key is being rotated).
func Verifiers(vkeys []string) (note.Verifiers, error) {
	if len(vkeys) == 0 {
		return nil, fmt.Errorf("no verifier key given")
	}
	var vs []note.Verifier
	for _, k := range vkeys {
		v, err := note.NewVerifier(strings.TrimSpace(k))
		if err != nil {
			return nil, fmt.Errorf("verifier key %q: %w", k, err)
		}
		vs = append(vs, v)
	}
	return note.VerifierList(vs...), nil
}
