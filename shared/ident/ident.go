// Package ident makes the identifiers Contrail stores: ULIDs, unique and ordered by time.
package ident

import (
	"crypto/rand"
	"io"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// Clock tells the time. Injected wherever time decides keys or order.
type Clock func() time.Time

// SystemClock is the real clock, in UTC.
func SystemClock() time.Time { return time.Now().UTC() }

// Generator makes ULIDs that sort in the order they were made within one process
// (monotonic entropy), from the given clock.
type Generator struct {
	mu      sync.Mutex
	clock   Clock
	entropy io.Reader
}

// NewGenerator returns a generator reading time from clock and randomness from crypto/rand.
func NewGenerator(clock Clock) *Generator {
	return &Generator{clock: clock, entropy: ulid.Monotonic(rand.Reader, 0)}
}

// New returns a new id for the generator's current time.
func (g *Generator) New() string {
	return g.At(g.clock())
}

// At returns a new id for time t.
func (g *Generator) At(t time.Time) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return ulid.MustNew(ulid.Timestamp(t), g.entropy).String()
}

// Now returns the generator clock's current time.
func (g *Generator) Now() time.Time { return g.clock() }

// IsULID reports whether s is the canonical text of a ULID as Generator makes it: 26
// characters of Crockford's base 32 in upper case (no I, L, O or U), the first at most 7
// (48 bits of time). The parsers of every id type made from a ULID ask it, so they agree.
func IsULID(s string) bool {
	if len(s) != ulid.EncodedSize || s[0] < '0' || s[0] > '7' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9', 'A' <= c && c <= 'H', c == 'J', c == 'K', c == 'M', c == 'N', 'P' <= c && c <= 'T', 'V' <= c && c <= 'Z':
		default:
			return false
		}
	}
	return true
}
