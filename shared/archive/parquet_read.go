package archive

// Reading: a cursor decodes the chosen row groups and columns of one object into Rows,
// BatchRows at a time.

import (
	"bytes"
	"context"
	"fmt"

	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/file"
)

// BatchRows is how many rows a reader decodes at a time.
const BatchRows = 8192

// cursor streams one object's rows (of the selected row groups and columns) in file order,
// BatchRows at a time, straight from the typed column readers.
type cursor struct {
	f      *objectFile
	cols   []int
	groups []int // row groups still to open
	left   int64 // rows of the open row group not yet decoded
	rdrs   []file.ColumnChunkReader
	list   listLevels // the open row group's merged_contact_ids, when selected
	buf    []Row
	pos    int
	done   bool

	batch int // rows decoded at a time; 0 means BatchRows

	strs  []parquet.ByteArray
	defs  []int16
	ints  []int64
	bools []bool
}

// listLevels is one row group's list column, read whole (it is small: merges only).
type listLevels struct {
	defs, reps []int16
	vals       []parquet.ByteArray
	lvl, val   int
}

func newCursor(_ context.Context, f *objectFile, cols, rowGroups []int) (*cursor, error) {
	c := &cursor{f: f, cols: cols, groups: rowGroups, rdrs: make([]file.ColumnChunkReader, len(cols))}
	if len(rowGroups) == 0 {
		c.done = true
	}
	return c, nil
}

// peek returns the current row, or nil at the end.
func (c *cursor) peek() (*Row, error) {
	for c.pos >= len(c.buf) {
		if c.done {
			return nil, nil
		}
		if c.left == 0 {
			if len(c.groups) == 0 {
				c.done = true
				return nil, nil
			}
			if err := c.openGroup(); err != nil {
				return nil, fmt.Errorf("read parquet %s: %w", c.f.key, err)
			}
			continue
		}
		if err := c.decodeBatch(); err != nil {
			return nil, fmt.Errorf("read parquet %s: %w", c.f.key, err)
		}
	}
	return &c.buf[c.pos], nil
}

func (c *cursor) advance() { c.pos++ }

func (c *cursor) batchRows() int {
	if c.batch > 0 {
		return c.batch
	}
	return BatchRows
}

func (c *cursor) close() {}

func (c *cursor) openGroup() error {
	g := c.groups[0]
	c.groups = c.groups[1:]
	rg := c.f.pf.RowGroup(g)
	c.left = rg.NumRows()
	for k, col := range c.cols {
		c.rdrs[k] = nil
		leaf := c.f.leaf[col]
		if leaf < 0 {
			continue
		}
		cr, err := rg.Column(leaf)
		if err != nil {
			return fmt.Errorf("row group %d: %w", g, err)
		}
		c.rdrs[k] = cr
		if col == ColMergedContactIDs {
			if err := c.readList(cr.(*file.ByteArrayColumnChunkReader), c.left); err != nil {
				return fmt.Errorf("row group %d: column %s: %w", g, Columns[col], err)
			}
		}
	}
	return nil
}

// readList reads every level and value of the list column of the open row group (of rows
// rows: at least one level each, so a small part's cursor holds small buffers).
func (c *cursor) readList(cr *file.ByteArrayColumnChunkReader, rows int64) error {
	l := &c.list
	l.defs, l.reps, l.vals = l.defs[:0], l.reps[:0], l.vals[:0]
	l.lvl, l.val = 0, 0
	chunk := int(min(4096, rows+64))
	for {
		n := len(l.defs)
		l.defs = grow(l.defs, n+chunk)
		l.reps = grow(l.reps, n+chunk)
		v := len(l.vals)
		l.vals = grow(l.vals, v+chunk)
		total, read, err := cr.ReadBatch(int64(chunk), l.vals[v:], l.defs[n:], l.reps[n:])
		if err != nil {
			return err
		}
		l.defs, l.reps, l.vals = l.defs[:n+int(total)], l.reps[:n+int(total)], l.vals[:v+read]
		if total == 0 {
			return nil
		}
	}
}

// grow returns s with length n, reusing its array when it is big enough.
func grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	out := make([]T, n, max(n, 2*cap(s)))
	copy(out, s)
	return out
}

// decodeBatch decodes the next rows of the open row group into buf.
func (c *cursor) decodeBatch() error {
	n := int(min(c.left, int64(c.batchRows())))
	c.buf = grow(c.buf, n)
	clear(c.buf)
	c.pos = 0
	for k, col := range c.cols {
		cr := c.rdrs[k]
		if cr == nil {
			continue
		}
		var err error
		switch col {
		case ColMergedContactIDs:
			err = c.list.rows(c.buf)
		case ColOccurredAt, ColRecordedAt:
			err = readEach(c, cr, &c.ints, c.f.maxDef[col], func(i int, v int64) {
				if col == ColOccurredAt {
					c.buf[i].OccurredAt = v
				} else {
					c.buf[i].RecordedAt = v
				}
			})
		case ColIsAgent:
			err = readEach(c, cr, &c.bools, c.f.maxDef[col], func(i int, v bool) { c.buf[i].IsAgent = boolPtr(v) })
		default:
			err = c.readString(cr, c.f.maxDef[col], stringSetter(col))
		}
		if err != nil {
			return fmt.Errorf("column %s: %w", Columns[col], err)
		}
	}
	c.left -= int64(n)
	return nil
}

// levels returns the definition level buffer for n rows (nil for a required column).
func (c *cursor) levels(n int, maxDef int16) []int16 {
	if maxDef == 0 {
		return nil
	}
	c.defs = grow(c.defs, n)
	return c.defs
}

// readBatch calls read until n rows are read; it returns the values read.
func readRows(n int, defs []int16, read func(rows int, off, voff int) (int64, int, error)) (int, error) {
	got, vals := 0, 0
	for got < n {
		total, nv, err := read(n-got, got, vals)
		if err != nil {
			return vals, err
		}
		if total == 0 {
			return vals, fmt.Errorf("%d rows, want %d", got, n)
		}
		got += int(total)
		vals += nv
	}
	return vals, nil
}

// batchReader is a typed column chunk reader (file.Int64ColumnChunkReader, ...).
type batchReader[T any] interface {
	ReadBatch(batchSize int64, values []T, defLvls, repLvls []int16) (total int64, valuesRead int, err error)
}

// readValues reads the batch's rows of one column into *vals with cr, which must read Ts.
// It returns the definition levels, which say the rows that have a value (nil for a
// required column: all have).
func readValues[T any](c *cursor, cr file.ColumnChunkReader, vals *[]T, maxDef int16) ([]int16, error) {
	tr, ok := cr.(batchReader[T])
	if !ok {
		return nil, fmt.Errorf("unexpected reader %T", cr)
	}
	n := len(c.buf)
	*vals = grow(*vals, n)
	defs := c.levels(n, maxDef)
	_, err := readRows(n, defs, func(rows, off, voff int) (int64, int, error) {
		var d []int16
		if defs != nil {
			d = defs[off:]
		}
		return tr.ReadBatch(int64(rows), (*vals)[voff:], d, nil)
	})
	return defs, err
}

// readEach reads the batch's rows of one column into *vals and calls set(i, v) for each
// row i that has a value v.
func readEach[T any](c *cursor, cr file.ColumnChunkReader, vals *[]T, maxDef int16, set func(i int, v T)) error {
	defs, err := readValues(c, cr, vals, maxDef)
	if err != nil {
		return err
	}
	j := 0
	for i := range c.buf {
		if defs == nil || defs[i] == maxDef {
			set(i, (*vals)[j])
			j++
		}
	}
	return nil
}

// readString reads a string column: set stores a row's value.
func (c *cursor) readString(cr file.ColumnChunkReader, maxDef int16, set func(*Row, string)) error {
	defs, err := readValues(c, cr, &c.strs, maxDef)
	if err != nil {
		return err
	}
	if defs == nil {
		for i := range c.buf {
			set(&c.buf[i], stringOf(c.strs[i]))
		}
		return nil
	}
	j := 0
	for i := range c.buf {
		if defs[i] == maxDef {
			set(&c.buf[i], stringOf(c.strs[j]))
			j++
		}
	}
	return nil
}

// rows sets MergedContactIDs of the next len(rows) rows (a null or empty list stays nil).
func (l *listLevels) rows(rows []Row) error {
	for i := range rows {
		if l.lvl >= len(l.defs) || l.reps[l.lvl] != listRepNew {
			return fmt.Errorf("list levels end or misalign at row %d", i)
		}
		var ids []string
		for first := true; l.lvl < len(l.defs) && (first || l.reps[l.lvl] == listRepNext); first = false {
			switch d := l.defs[l.lvl]; {
			case d == listElemDef:
				ids = append(ids, stringOf(l.vals[l.val]))
				l.val++
			case d == listElemDef-1: // a null element
				ids = append(ids, "")
			}
			l.lvl++
		}
		rows[i].MergedContactIDs = ids
	}
	return nil
}

func stringSetter(col int) func(*Row, string) {
	switch col {
	case ColEventID:
		return func(r *Row, s string) { r.EventID = s }
	case ColTenantID:
		return func(r *Row, s string) { r.TenantID = s }
	case ColType:
		return func(r *Row, s string) { r.Type = s }
	case ColCategory:
		return func(r *Row, s string) { r.Category = s }
	case ColActorType:
		return func(r *Row, s string) { r.ActorType = s }
	case ColActorID:
		return func(r *Row, s string) { r.ActorID = s }
	case ColActorName:
		return func(r *Row, s string) { r.ActorName = s }
	case ColContactID:
		return func(r *Row, s string) { r.ContactID = s }
	case ColContactName:
		return func(r *Row, s string) { r.ContactName = s }
	case ColPrimaryContactID:
		return func(r *Row, s string) { r.PrimaryContactID = s }
	case ColSource:
		return func(r *Row, s string) { r.Source = s }
	case ColChannel:
		return func(r *Row, s string) { r.Channel = s }
	case ColSessionID:
		return func(r *Row, s string) { r.SessionID = s }
	case ColData:
		return func(r *Row, s string) { r.Data = s }
	case ColIP:
		return func(r *Row, s string) { r.IP = s }
	case ColUserAgent:
		return func(r *Row, s string) { r.UserAgent = s }
	case ColRequestID:
		return func(r *Row, s string) { r.RequestID = s }
	}
	return func(*Row, string) {}
}

// Decode reads every row of a Parquet object held in memory (all columns).
func Decode(b []byte) ([]Row, error) {
	f, err := openFile("object", bytesObject{bytes.NewReader(b)})
	if err != nil {
		return nil, err
	}
	defer f.close()
	cols, _ := columnIndexes(nil)
	c, err := newCursor(context.Background(), f, cols, f.rowGroups(0, 0, nil))
	if err != nil {
		return nil, err
	}
	defer c.close()
	var out []Row
	for {
		r, err := c.peek()
		if err != nil {
			return nil, err
		}
		if r == nil {
			return out, nil
		}
		out = append(out, *r)
		c.advance()
	}
}
