package report

import (
	"context"
	"fmt"
	"io"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/pii"
	"github.com/contrail/contrail/shared/tenant"
)

// Engine reads the contact reports of one archive. It is safe for concurrent use.
type Engine struct {
	store          archive.Store
	reader         *archive.Reader
	clock          ident.Clock
	parallel       int // tenant-days read at once by a page or the overview
	streamParallel int // tenant-days loaded ahead by Each (each held whole in memory)
	hot            *hotCheck
	keys           *pii.Keyring // opens the logs' contact names (WithKeyring)
}

// NewEngine returns an engine over store; clock decides "today" (never answered from a rollup).
func NewEngine(store archive.Store, clock ident.Clock) *Engine {
	return &Engine{store: store, reader: &archive.Reader{Store: store, Parallel: 4}, clock: clock, parallel: 24, streamParallel: 4}
}

// Each calls fn for every row of log k in period p that f keeps, newest first, holding one
// UTC day of the log's kept rows in memory at a time. It stops at fn's first error and returns it.
func (e *Engine) Each(ctx context.Context, tenant tenant.ID, k Kind, p Period, f Filter, fn func(Row) error) error {
	return e.each(ctx, tenant, k, p, f, fn)
}

// WriteCSV streams log k for period p, filtered by f, to w as CSV (BOM, header, rows newest
// first) and returns the number of rows written.
func (e *Engine) WriteCSV(ctx context.Context, w io.Writer, tenant tenant.ID, k Kind, p Period, f Filter) (int, error) {
	cw, err := NewCSVWriter(w, k)
	if err != nil {
		return 0, err
	}
	if err := e.Each(ctx, tenant, k, p, f, cw.Write); err != nil {
		return cw.Rows(), err
	}
	if err := cw.Flush(); err != nil {
		return cw.Rows(), err
	}
	return cw.Rows(), nil
}

// Log returns one newest-first page of log k filtered by f: at most limit rows older than
// after (nil: the first page), and the position to continue from, nil when no row follows.
func (e *Engine) Log(ctx context.Context, tenant tenant.ID, k Kind, p Period, f Filter, after *Position, limit int) ([]Row, *Position, error) {
	if limit < 1 {
		return nil, nil, fmt.Errorf("log page of %d rows", limit)
	}
	return e.page(ctx, tenant, k, p, f, after, limit)
}
