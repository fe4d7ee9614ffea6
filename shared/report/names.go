package report

import (
	"context"
	"fmt"
	"slices"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/pii"
	"github.com/contrail/contrail/shared/tenant"
)

// OpenBatch is the most rows whose names one OpenValues call opens while a log is streamed
// (CSV, exports): memory stays bounded by a batch, however long the period.
const OpenBatch = 1000

// WithKeyring lets the logs open their contact names, sealed at write time (shared/pii):
// without it a sealed name fails the read. The overview needs no names and never opens any.
func (e *Engine) WithKeyring(r *pii.Keyring) *Engine {
	e.keys = r
	return e
}

// newCache returns the key cache of one read (a page, a CSV, an export): never shared
// between reads, so a key erased meanwhile does not linger in a warm container. nil when the
// engine has no keyring.
func (e *Engine) newCache() *pii.Cache {
	if e.keys == nil {
		return nil
	}
	return e.keys.NewCache()
}

// openNames opens the sealed contact names of rows in place, with one OpenValues call (the
// keys of all their contacts fetched at once): the one place the logs decrypt. A name of an
// erased contact reads pii.Erased; plaintext names (from before sealing) are left as they
// are. A tenant key that does not unwrap, a lost data key or a tampered name is an error,
// never pii.Erased.
func (e *Engine) openNames(ctx context.Context, c *pii.Cache, t tenant.ID, rows []Row) error {
	var vals []pii.Value
	var at []int
	for i := range rows {
		if pii.IsSealed(rows[i].ContactName) {
			vals = append(vals, pii.Value{Tenant: t, ContactID: rows[i].ContactID, EventID: rows[i].EventID, Field: audit.ContactNameField, V: rows[i].ContactName})
			at = append(at, i)
		}
	}
	if len(vals) == 0 {
		return nil
	}
	if c == nil {
		return fmt.Errorf("contact log of tenant %s: event %s has a sealed contact name, and the report engine has no personal-data keys", t, rows[at[0]].EventID)
	}
	err := c.OpenValues(ctx, vals)
	for j, i := range at {
		if s, ok := vals[j].V.(string); ok {
			rows[i].ContactName = s
		}
	}
	if err != nil {
		return fmt.Errorf("contact log of tenant %s: %w", t, err)
	}
	return nil
}

// openEach opens rows' names a batch of OpenBatch at a time and hands each row to fn.
func (e *Engine) openEach(ctx context.Context, c *pii.Cache, t tenant.ID, rows []Row, fn func(Row) error) error {
	for batch := range slices.Chunk(rows, OpenBatch) {
		if err := e.openNames(ctx, c, t, batch); err != nil {
			return err
		}
		for _, r := range batch {
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}
