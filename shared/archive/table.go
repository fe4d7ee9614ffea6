package archive

import (
	"fmt"
	"io"
	"sort"
	"unsafe"

	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/metadata"
	"github.com/apache/arrow/go/v17/parquet/schema"
)

// Parquet is written and read here with the low-level parquet/file column writers and
// readers, not pqarrow: pqarrow links arrow/compute and arrow/flight (gRPC, protobuf), which
// tripled the size of every function that touches the archive.

// ColumnType is the type of a TableColumn.
type ColumnType int

const (
	StringColumn     ColumnType = iota // BYTE_ARRAY (String)
	Int64Column                        // INT64 (Int(64, signed))
	TimestampColumn                    // INT64 (Timestamp(UTC, milliseconds)): Unix milliseconds
	BoolColumn                         // BOOLEAN
	StringListColumn                   // the standard 3-level LIST of optional String elements
)

// TableColumn is one top-level column of a Parquet file. Required columns are never null;
// the others are optional.
type TableColumn struct {
	Name     string
	Type     ColumnType
	Required bool
}

func (c TableColumn) node() (schema.Node, error) {
	rep := parquet.Repetitions.Optional
	if c.Required {
		rep = parquet.Repetitions.Required
	}
	switch c.Type {
	case StringColumn:
		return schema.NewPrimitiveNodeLogical(c.Name, rep, schema.StringLogicalType{}, parquet.Types.ByteArray, -1, -1)
	case Int64Column:
		return schema.NewPrimitiveNodeLogical(c.Name, rep, schema.NewIntLogicalType(64, true), parquet.Types.Int64, -1, -1)
	case TimestampColumn:
		return schema.NewPrimitiveNodeLogical(c.Name, rep, schema.NewTimestampLogicalType(true, schema.TimeUnitMillis), parquet.Types.Int64, -1, -1)
	case BoolColumn:
		return schema.NewPrimitiveNode(c.Name, rep, parquet.Types.Boolean, -1, -1)
	case StringListColumn:
		if c.Required {
			return nil, fmt.Errorf("parquet column %s: lists are optional", c.Name)
		}
		elem, err := schema.NewPrimitiveNodeLogical("element", parquet.Repetitions.Optional, schema.StringLogicalType{}, parquet.Types.ByteArray, -1, -1)
		if err != nil {
			return nil, err
		}
		return schema.ListOfWithName(c.Name, elem, rep, -1)
	}
	return nil, fmt.Errorf("parquet column %s: unknown type %d", c.Name, c.Type)
}

// tableSchema is the Parquet schema of columns (the root named "schema", as pqarrow and
// most writers name it).
func tableSchema(cols []TableColumn) (*schema.GroupNode, error) {
	fields := make(schema.FieldList, len(cols))
	for i, c := range cols {
		n, err := c.node()
		if err != nil {
			return nil, err
		}
		fields[i] = n
	}
	return schema.NewGroupNode("schema", parquet.Repetitions.Repeated, fields, -1)
}

// newFileWriter starts a Parquet file of cols on w with key-value metadata meta (written
// in key order, so the same metadata always makes the same bytes).
func newFileWriter(w io.Writer, cols []TableColumn, props *parquet.WriterProperties, meta map[string]string) (*file.Writer, error) {
	root, err := tableSchema(cols)
	if err != nil {
		return nil, fmt.Errorf("start parquet writer: %w", err)
	}
	opts := []file.WriteOption{file.WithWriterProps(props)}
	if len(meta) > 0 {
		keys := make([]string, 0, len(meta))
		for k := range meta {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		kv := metadata.NewKeyValueMetadata()
		for _, k := range keys {
			if err := kv.Append(k, meta[k]); err != nil {
				return nil, fmt.Errorf("start parquet writer: metadata %s: %w", k, err)
			}
		}
		opts = append(opts, file.WithWriteMetadata(kv))
	}
	return file.NewParquetWriter(w, root, opts...), nil
}

// emptyBytes is the value of an empty string: the dictionary encoder treats a nil
// ByteArray as null.
var emptyBytes = []byte{}

// bytesOf returns s's bytes without copying (the column writers only read them).
func bytesOf(s string) parquet.ByteArray {
	if s == "" {
		return emptyBytes
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// stringOf returns b as a string without copying. Values the column readers return point
// into page buffers that are allocated per page and never written again.
func stringOf(b parquet.ByteArray) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// colBuf holds one column's levels and values for one row group, ready for WriteBatch.
// Optional columns carry definition levels (values hold only the non-null ones); lists also
// carry repetition levels.
type colBuf struct {
	defs, reps []int16
	strs       []parquet.ByteArray
	ints       []int64
	bools      []bool
	// TableWriter's own copy of string bytes: strs are made from data and ends at flush.
	data []byte
	ends []int
}

func (b *colBuf) reset() {
	b.defs, b.reps = b.defs[:0], b.reps[:0]
	b.strs, b.ints, b.bools = b.strs[:0], b.ints[:0], b.bools[:0]
	b.data, b.ends = b.data[:0], b.ends[:0]
}

// ownedStrings makes strs from the copied bytes.
func (b *colBuf) ownedStrings() {
	b.strs = b.strs[:0]
	start := 0
	for _, e := range b.ends {
		if e == start {
			b.strs = append(b.strs, emptyBytes)
		} else {
			b.strs = append(b.strs, b.data[start:e:e])
		}
		start = e
	}
}

// write writes the buffered column through the next column writer of a row group.
func (b *colBuf) write(cw file.ColumnChunkWriter, c TableColumn) error {
	var defs, reps []int16
	if !c.Required {
		defs = b.defs
	}
	if c.Type == StringListColumn {
		reps = b.reps
	}
	var err error
	switch w := cw.(type) {
	case *file.ByteArrayColumnChunkWriter:
		_, err = w.WriteBatch(b.strs, defs, reps)
	case *file.Int64ColumnChunkWriter:
		_, err = w.WriteBatch(b.ints, defs, reps)
	case *file.BooleanColumnChunkWriter:
		_, err = w.WriteBatch(b.bools, defs, reps)
	default:
		err = fmt.Errorf("unexpected column writer %T", cw)
	}
	if err != nil {
		return fmt.Errorf("write parquet column %s: %w", c.Name, err)
	}
	return nil
}

// List levels of the standard 3-level encoding of an optional list of optional elements.
const (
	listNull    = 0 // the list is null
	listEmpty   = 1 // the list is empty
	listElemDef = 3 // an element is present
	listRepNew  = 0 // the first level of a row
	listRepNext = 1 // a further element of the same row
)

// appendList adds one list value (nil or empty: null) with bytes shared from ids.
func (b *colBuf) appendList(ids []string) {
	b.appendListLevels(len(ids), listNull)
	for _, id := range ids {
		b.strs = append(b.strs, bytesOf(id))
	}
}

// appendListLevels adds the definition and repetition levels of one list value of n
// elements; a list of none has the definition level none (listNull or listEmpty).
func (b *colBuf) appendListLevels(n int, none int16) {
	if n == 0 {
		b.defs = append(b.defs, none)
		b.reps = append(b.reps, listRepNew)
		return
	}
	for j := 0; j < n; j++ {
		b.defs = append(b.defs, listElemDef)
		if j == 0 {
			b.reps = append(b.reps, listRepNew)
		} else {
			b.reps = append(b.reps, listRepNext)
		}
	}
}

// ---- TableWriter

// TableWriter writes a Parquet file row by row: set each column of a row (String, Int64,
// Timestamp, Strings; Null for an optional column's null, or leave it unset), then EndRow.
// Every groupRows rows become a row group. Values are copied, so the caller may reuse what
// it passes.
type TableWriter struct {
	fw        *file.Writer
	cols      []TableColumn
	bufs      []colBuf
	set       []bool
	pending   int
	rows      int64
	groupRows int
}

// NewTableWriter starts a file of cols on w with row groups of at most groupRows rows.
func NewTableWriter(w io.Writer, cols []TableColumn, props *parquet.WriterProperties, meta map[string]string, groupRows int) (*TableWriter, error) {
	fw, err := newFileWriter(w, cols, props, meta)
	if err != nil {
		return nil, err
	}
	return &TableWriter{fw: fw, cols: cols, bufs: make([]colBuf, len(cols)), set: make([]bool, len(cols)), groupRows: max(groupRows, 1)}, nil
}

func (t *TableWriter) mark(col int, typ ColumnType) {
	c := t.cols[col]
	if c.Type != typ {
		panic(fmt.Sprintf("archive: parquet column %s is not of type %d", c.Name, typ))
	}
	if t.set[col] {
		panic(fmt.Sprintf("archive: parquet column %s set twice in one row", c.Name))
	}
	t.set[col] = true
	if !c.Required && typ != StringListColumn {
		t.bufs[col].defs = append(t.bufs[col].defs, 1)
	}
}

// String sets a StringColumn of the current row.
func (t *TableWriter) String(col int, s string) {
	t.mark(col, StringColumn)
	b := &t.bufs[col]
	b.data = append(b.data, s...)
	b.ends = append(b.ends, len(b.data))
}

// Int64 sets an Int64Column of the current row.
func (t *TableWriter) Int64(col int, v int64) {
	t.mark(col, Int64Column)
	t.bufs[col].ints = append(t.bufs[col].ints, v)
}

// Timestamp sets a TimestampColumn of the current row (Unix milliseconds).
func (t *TableWriter) Timestamp(col int, ms int64) {
	t.mark(col, TimestampColumn)
	t.bufs[col].ints = append(t.bufs[col].ints, ms)
}

// Bool sets a BoolColumn of the current row.
func (t *TableWriter) Bool(col int, v bool) {
	t.mark(col, BoolColumn)
	t.bufs[col].bools = append(t.bufs[col].bools, v)
}

// Strings sets a StringListColumn of the current row; nil is a null list, an empty
// non-nil slice an empty list.
func (t *TableWriter) Strings(col int, ss []string) {
	t.mark(col, StringListColumn)
	b := &t.bufs[col]
	none := int16(listEmpty)
	if ss == nil {
		none = listNull
	}
	b.appendListLevels(len(ss), none)
	for _, s := range ss {
		b.data = append(b.data, s...)
		b.ends = append(b.ends, len(b.data))
	}
}

// Null sets an optional column of the current row to null.
func (t *TableWriter) Null(col int) {
	c := t.cols[col]
	if c.Required {
		panic(fmt.Sprintf("archive: parquet column %s is required", c.Name))
	}
	if t.set[col] {
		panic(fmt.Sprintf("archive: parquet column %s set twice in one row", c.Name))
	}
	t.set[col] = true
	t.bufs[col].defs = append(t.bufs[col].defs, 0)
	if c.Type == StringListColumn {
		t.bufs[col].reps = append(t.bufs[col].reps, listRepNew)
	}
}

// EndRow finishes the current row (unset optional columns are null) and writes a row
// group when groupRows rows are pending.
func (t *TableWriter) EndRow() error {
	for i, c := range t.cols {
		if t.set[i] {
			t.set[i] = false
			continue
		}
		if c.Required {
			return fmt.Errorf("parquet row %d: required column %s not set", t.rows, c.Name)
		}
		t.Null(i)
		t.set[i] = false
	}
	t.pending++
	t.rows++
	if t.pending >= t.groupRows {
		return t.flush()
	}
	return nil
}

// Rows is the number of rows ended so far.
func (t *TableWriter) Rows() int64 { return t.rows }

func (t *TableWriter) flush() error {
	if t.pending == 0 {
		return nil
	}
	rgw := t.fw.AppendRowGroup()
	for i, c := range t.cols {
		cw, err := rgw.NextColumn()
		if err != nil {
			return fmt.Errorf("write parquet row group: %w", err)
		}
		b := &t.bufs[i]
		if c.Type == StringColumn || c.Type == StringListColumn {
			b.ownedStrings()
		}
		if err := b.write(cw, c); err != nil {
			return err
		}
		b.reset()
	}
	t.pending = 0
	if err := rgw.Close(); err != nil {
		return fmt.Errorf("write parquet row group: %w", err)
	}
	return nil
}

// Close writes the pending rows and the footer.
func (t *TableWriter) Close() error {
	err := t.flush()
	if cerr := t.fw.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("finish parquet file: %w", cerr)
	}
	return err
}
