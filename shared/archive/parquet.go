package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/metadata"
)

// RowGroupRows is the most rows a row group holds. Rows are sorted by occurred_at, so each
// row group covers a time slice and its min/max statistics let a reader skip it; 32k rows
// of events is 1-3 MB compressed, a good unit for one ranged S3 read per column.
const RowGroupRows = 32 * 1024

// dictColumns are the low-cardinality columns written with dictionary encoding.
var dictColumns = []string{"tenant_id", "type", "category", "actor_type", "actor_id", "actor_name", "source", "channel", "ip", "user_agent"}

func writerProps() *parquet.WriterProperties {
	opts := []parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithDictionaryDefault(false),
		parquet.WithMaxRowGroupLength(RowGroupRows),
		parquet.WithStats(true),
		parquet.WithStatsFor("data", false),
		parquet.WithStatsFor("user_agent", false),
		parquet.WithCreatedBy("contrail archive (parquet-go v17)"),
	}
	for _, c := range dictColumns {
		opts = append(opts, parquet.WithDictionaryFor(c, true))
	}
	return parquet.NewWriterProperties(opts...)
}

// Writer writes rows (already sorted) to one Parquet object. The output depends only on
// the rows and metadata given, so the same rows always make the same bytes.
type Writer struct {
	fw   *file.Writer
	bufs [numColumns]colBuf
}

// NewWriter starts an object on w with the given key-value metadata.
func NewWriter(w io.Writer, meta map[string]string) (*Writer, error) {
	fw, err := newFileWriter(w, archiveColumns, writerProps(), meta)
	if err != nil {
		return nil, err
	}
	return &Writer{fw: fw}, nil
}

// Write appends rows as row groups of at most RowGroupRows (each call starts a new row
// group; no rows, no row group).
func (w *Writer) Write(rows []Row) error {
	for len(rows) > 0 {
		n := min(len(rows), RowGroupRows)
		if err := w.writeGroup(rows[:n]); err != nil {
			return fmt.Errorf("write parquet row group: %w", err)
		}
		rows = rows[n:]
	}
	return nil
}

// Close finishes the object (writes the footer).
func (w *Writer) Close() error {
	if err := w.fw.Close(); err != nil {
		return fmt.Errorf("finish parquet object: %w", err)
	}
	return nil
}

// Encode writes rows (sorted) into one Parquet object held in memory.
func Encode(rows []Row, meta map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(64 + len(rows)*64)
	w, err := NewWriter(&buf, meta)
	if err != nil {
		return nil, err
	}
	if err := w.Write(rows); err != nil {
		w.Close()
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeGroup writes rows as one row group, column by column. String values are handed to
// the column writers without copying.
func (w *Writer) writeGroup(rows []Row) error {
	rgw := w.fw.AppendRowGroup()
	for col := 0; col < numColumns; col++ {
		b := &w.bufs[col]
		b.reset()
		fillColumn(b, col, rows)
		cw, err := rgw.NextColumn()
		if err != nil {
			return err
		}
		if err := b.write(cw, archiveColumns[col]); err != nil {
			return err
		}
	}
	for col := range w.bufs {
		w.bufs[col].reset()
		clear(w.bufs[col].strs[:cap(w.bufs[col].strs)]) // drop references to the rows
	}
	return rgw.Close()
}

// fillColumn puts column col of rows into b.
func fillColumn(b *colBuf, col int, rows []Row) {
	switch col {
	case ColOccurredAt, ColRecordedAt:
		for i := range rows {
			if col == ColOccurredAt {
				b.ints = append(b.ints, rows[i].OccurredAt)
			} else {
				b.ints = append(b.ints, rows[i].RecordedAt)
			}
		}
	case ColIsAgent:
		for i := range rows {
			if v := rows[i].IsAgent; v != nil {
				b.defs = append(b.defs, 1)
				b.bools = append(b.bools, *v)
			} else {
				b.defs = append(b.defs, 0)
			}
		}
	case ColMergedContactIDs:
		for i := range rows {
			b.appendList(rows[i].MergedContactIDs)
		}
	default:
		get := stringGetter(col)
		if archiveColumns[col].Required {
			for i := range rows {
				b.strs = append(b.strs, bytesOf(get(&rows[i])))
			}
			return
		}
		for i := range rows {
			if v := get(&rows[i]); v != "" {
				b.defs = append(b.defs, 1)
				b.strs = append(b.strs, bytesOf(v))
			} else {
				b.defs = append(b.defs, 0)
			}
		}
	}
}

func stringGetter(col int) func(*Row) string {
	switch col {
	case ColEventID:
		return func(r *Row) string { return r.EventID }
	case ColTenantID:
		return func(r *Row) string { return r.TenantID }
	case ColType:
		return func(r *Row) string { return r.Type }
	case ColCategory:
		return func(r *Row) string { return r.Category }
	case ColActorType:
		return func(r *Row) string { return r.ActorType }
	case ColActorID:
		return func(r *Row) string { return r.ActorID }
	case ColActorName:
		return func(r *Row) string { return r.ActorName }
	case ColContactID:
		return func(r *Row) string { return r.ContactID }
	case ColContactName:
		return func(r *Row) string { return r.ContactName }
	case ColPrimaryContactID:
		return func(r *Row) string { return r.PrimaryContactID }
	case ColSource:
		return func(r *Row) string { return r.Source }
	case ColChannel:
		return func(r *Row) string { return r.Channel }
	case ColSessionID:
		return func(r *Row) string { return r.SessionID }
	case ColData:
		return func(r *Row) string { return r.Data }
	case ColIP:
		return func(r *Row) string { return r.IP }
	case ColUserAgent:
		return func(r *Row) string { return r.UserAgent }
	case ColRequestID:
		return func(r *Row) string { return r.RequestID }
	}
	panic(fmt.Sprintf("archive: column %d is not a string", col))
}

// ---- reading

// seeker adapts an Object to the io.Seeker the Parquet reader wants (it only asks for the size).
type seeker struct {
	Object
	off int64
}

func (s *seeker) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += s.off
	case io.SeekEnd:
		offset += s.Size()
	}
	if offset < 0 {
		return 0, errors.New("seek before start")
	}
	s.off = offset
	return offset, nil
}

// objectFile is one opened Parquet object.
type objectFile struct {
	key string
	pf  *file.Reader
	// leaf[c] is the Parquet leaf column of Columns[c] (-1: the object does not have it),
	// maxDef its maximum definition level.
	leaf   [numColumns]int
	maxDef [numColumns]int16
}

// BatchRows is how many rows a reader decodes at a time.
const BatchRows = 8192

func openFile(key string, obj Object) (*objectFile, error) {
	pf, err := file.NewParquetReader(&seeker{Object: obj})
	if err != nil {
		return nil, fmt.Errorf("open parquet %s: %w", key, err)
	}
	f := &objectFile{key: key, pf: pf}
	for i := range f.leaf {
		f.leaf[i] = -1
	}
	sch := pf.MetaData().Schema
	for i := 0; i < sch.NumColumns(); i++ {
		c := sch.Column(i)
		path := c.ColumnPath()
		col := columnIndex(path[0])
		if col < 0 {
			continue // a column this version does not know: ignore
		}
		want := parquet.Types.ByteArray
		switch archiveColumns[col].Type {
		case TimestampColumn:
			want = parquet.Types.Int64
		case BoolColumn:
			want = parquet.Types.Boolean
		}
		isList := archiveColumns[col].Type == StringListColumn
		if c.PhysicalType() != want || (isList && (len(path) != 3 || c.MaxRepetitionLevel() != 1 || c.MaxDefinitionLevel() != listElemDef)) ||
			(!isList && (len(path) != 1 || c.MaxRepetitionLevel() != 0)) {
			pf.Close()
			return nil, fmt.Errorf("open parquet %s: column %s: unexpected %s (%s)", key, c.Path(), c.PhysicalType(), c.LogicalType())
		}
		f.leaf[col], f.maxDef[col] = i, c.MaxDefinitionLevel()
	}
	return f, nil
}

func (f *objectFile) close() { f.pf.Close() }

// covers returns the keys a compacted object lists in its metadata.
func (f *objectFile) covers() ([]string, error) {
	v := f.pf.MetaData().KeyValueMetadata().FindValue(CoversKey)
	if v == nil {
		return nil, nil
	}
	var keys []string
	if err := json.Unmarshal([]byte(*v), &keys); err != nil {
		return nil, fmt.Errorf("read %s of %s: %w", CoversKey, f.key, err)
	}
	return keys, nil
}

// stats returns the statistics of column col in row group i (nil if unknown).
func (f *objectFile) stats(i, col int) metadata.TypedStatistics {
	if f.leaf[col] < 0 {
		return nil
	}
	cc, err := f.pf.MetaData().RowGroup(i).ColumnChunk(f.leaf[col])
	if err != nil {
		return nil
	}
	st, err := cc.Statistics()
	if err != nil || st == nil || !st.HasMinMax() {
		return nil
	}
	return st
}

// rowGroupRange returns the min and max occurred_at of row group i (ok false if unknown).
func (f *objectFile) rowGroupRange(i int) (lo, hi int64, ok bool) {
	s, isInt := f.stats(i, ColOccurredAt).(*metadata.Int64Statistics)
	if !isInt {
		return 0, 0, false
	}
	return s.Min(), s.Max(), true
}

// mayHoldType reports whether row group i can hold any of types (by min/max of type).
func (f *objectFile) mayHoldType(i int, types []string) bool {
	if len(types) == 0 {
		return true
	}
	s, ok := f.stats(i, ColType).(*metadata.ByteArrayStatistics)
	if !ok {
		return true
	}
	lo, hi := string(s.Min()), string(s.Max())
	for _, t := range types {
		if t >= lo && t <= hi {
			return true
		}
	}
	return false
}

// rowGroups returns the row groups that may hold rows with occurred_at in [from, to)
// (0 = unbounded) and one of types (none = any).
func (f *objectFile) rowGroups(from, to int64, types []string) []int {
	n := f.pf.NumRowGroups()
	out := make([]int, 0, n)
	for i := 0; i < n; i++ {
		if f.pf.MetaData().RowGroup(i).NumRows() == 0 {
			continue
		}
		if lo, hi, ok := f.rowGroupRange(i); ok {
			if (from != 0 && hi < from) || (to != 0 && lo >= to) {
				continue
			}
		}
		if !f.mayHoldType(i, types) {
			continue
		}
		out = append(out, i)
	}
	return out
}

// columnIndexes maps column names to indexes, always including event_id and occurred_at.
func columnIndexes(names []string) ([]int, error) {
	if len(names) == 0 {
		out := make([]int, numColumns)
		for i := range out {
			out[i] = i
		}
		return out, nil
	}
	set := map[int]bool{ColEventID: true, ColOccurredAt: true}
	for _, n := range names {
		i := columnIndex(n)
		if i < 0 {
			return nil, fmt.Errorf("unknown archive column %q", n)
		}
		set[i] = true
	}
	out := make([]int, 0, len(set))
	for i := range set {
		out = append(out, i)
	}
	sort.Ints(out)
	return out, nil
}

func columnIndex(name string) int {
	for i, c := range Columns {
		if c == name {
			return i
		}
	}
	return -1
}

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
			if err := c.readList(cr.(*file.ByteArrayColumnChunkReader)); err != nil {
				return fmt.Errorf("row group %d: column %s: %w", g, Columns[col], err)
			}
		}
	}
	return nil
}

// readList reads every level and value of the list column of the open row group.
func (c *cursor) readList(cr *file.ByteArrayColumnChunkReader) error {
	l := &c.list
	l.defs, l.reps, l.vals = l.defs[:0], l.reps[:0], l.vals[:0]
	l.lvl, l.val = 0, 0
	const chunk = 4096
	for {
		n := len(l.defs)
		l.defs = grow(l.defs, n+chunk)
		l.reps = grow(l.reps, n+chunk)
		v := len(l.vals)
		l.vals = grow(l.vals, v+chunk)
		total, read, err := cr.ReadBatch(chunk, l.vals[v:], l.defs[n:], l.reps[n:])
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
	n := int(min(c.left, BatchRows))
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
			err = c.readInt64(cr, c.f.maxDef[col], func(i int, v int64) {
				if col == ColOccurredAt {
					c.buf[i].OccurredAt = v
				} else {
					c.buf[i].RecordedAt = v
				}
			})
		case ColIsAgent:
			err = c.readBool(cr, c.f.maxDef[col])
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

func (c *cursor) readString(cr file.ColumnChunkReader, maxDef int16, set func(*Row, string)) error {
	br, ok := cr.(*file.ByteArrayColumnChunkReader)
	if !ok {
		return fmt.Errorf("unexpected reader %T", cr)
	}
	n := len(c.buf)
	c.strs = grow(c.strs, n)
	defs := c.levels(n, maxDef)
	_, err := readRows(n, defs, func(rows, off, voff int) (int64, int, error) {
		var d []int16
		if defs != nil {
			d = defs[off:]
		}
		return br.ReadBatch(int64(rows), c.strs[voff:], d, nil)
	})
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

func (c *cursor) readInt64(cr file.ColumnChunkReader, maxDef int16, set func(int, int64)) error {
	ir, ok := cr.(*file.Int64ColumnChunkReader)
	if !ok {
		return fmt.Errorf("unexpected reader %T", cr)
	}
	n := len(c.buf)
	c.ints = grow(c.ints, n)
	defs := c.levels(n, maxDef)
	_, err := readRows(n, defs, func(rows, off, voff int) (int64, int, error) {
		var d []int16
		if defs != nil {
			d = defs[off:]
		}
		return ir.ReadBatch(int64(rows), c.ints[voff:], d, nil)
	})
	if err != nil {
		return err
	}
	j := 0
	for i := 0; i < n; i++ {
		if defs == nil || defs[i] == maxDef {
			set(i, c.ints[j])
			j++
		}
	}
	return nil
}

func (c *cursor) readBool(cr file.ColumnChunkReader, maxDef int16) error {
	br, ok := cr.(*file.BooleanColumnChunkReader)
	if !ok {
		return fmt.Errorf("unexpected reader %T", cr)
	}
	n := len(c.buf)
	c.bools = grow(c.bools, n)
	defs := c.levels(n, maxDef)
	_, err := readRows(n, defs, func(rows, off, voff int) (int64, int, error) {
		var d []int16
		if defs != nil {
			d = defs[off:]
		}
		return br.ReadBatch(int64(rows), c.bools[voff:], d, nil)
	})
	if err != nil {
		return err
	}
	j := 0
	for i := 0; i < n; i++ {
		if defs == nil || defs[i] == maxDef {
			c.buf[i].IsAgent = boolPtr(c.bools[j])
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
