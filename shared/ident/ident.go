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
