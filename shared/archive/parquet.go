package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/metadata"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
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
	fw     *pqarrow.FileWriter
	schema *arrow.Schema
	bld    *array.RecordBuilder
}

// NewWriter starts an object on w with the given key-value metadata.
func NewWriter(w io.Writer, meta map[string]string) (*Writer, error) {
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	vals := make([]string, len(keys))
	for i, k := range keys {
		vals[i] = meta[k]
	}
	md := arrow.NewMetadata(keys, vals)
	sch := arrow.NewSchema(Schema.Fields(), &md)
	fw, err := pqarrow.NewFileWriter(sch, w, writerProps(), pqarrow.DefaultWriterProps())
	if err != nil {
		return nil, fmt.Errorf("start parquet writer: %w", err)
	}
	return &Writer{fw: fw, schema: sch, bld: array.NewRecordBuilder(memory.DefaultAllocator, sch)}, nil
}

// Write appends rows as row groups of at most RowGroupRows.
func (w *Writer) Write(rows []Row) error {
	for len(rows) > 0 {
		n := min(len(rows), RowGroupRows)
		rec := w.build(rows[:n])
		err := w.fw.Write(rec)
		rec.Release()
		if err != nil {
			return fmt.Errorf("write parquet row group: %w", err)
		}
		rows = rows[n:]
	}
	return nil
}

// Close finishes the object (writes the footer).
func (w *Writer) Close() error {
	w.bld.Release()
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

func (w *Writer) build(rows []Row) arrow.Record {
	b := w.bld
	str := func(i int) *array.StringBuilder { return b.Field(i).(*array.StringBuilder) }
	ts := func(i int) *array.TimestampBuilder { return b.Field(i).(*array.TimestampBuilder) }
	n := len(rows)
	var dataBytes, idBytes int
	for i := range rows {
		dataBytes += len(rows[i].Data)
		idBytes += len(rows[i].EventID)
	}
	for i := 0; i < numColumns; i++ {
		b.Field(i).Reserve(n)
	}
	str(ColData).ReserveData(dataBytes)
	str(ColEventID).ReserveData(idBytes)

	req := func(sb *array.StringBuilder, get func(*Row) string) {
		for i := range rows {
			sb.Append(get(&rows[i]))
		}
	}
	opt := func(sb *array.StringBuilder, get func(*Row) string) {
		for i := range rows {
			if v := get(&rows[i]); v != "" {
				sb.Append(v)
			} else {
				sb.AppendNull()
			}
		}
	}
	req(str(ColEventID), func(r *Row) string { return r.EventID })
	req(str(ColTenantID), func(r *Row) string { return r.TenantID })
	for _, c := range []int{ColOccurredAt, ColRecordedAt} {
		tb := ts(c)
		for i := range rows {
			if c == ColOccurredAt {
				tb.Append(arrow.Timestamp(rows[i].OccurredAt))
			} else {
				tb.Append(arrow.Timestamp(rows[i].RecordedAt))
			}
		}
	}
	req(str(ColType), func(r *Row) string { return r.Type })
	req(str(ColCategory), func(r *Row) string { return r.Category })
	req(str(ColActorType), func(r *Row) string { return r.ActorType })
	opt(str(ColActorID), func(r *Row) string { return r.ActorID })
	opt(str(ColActorName), func(r *Row) string { return r.ActorName })
	opt(str(ColContactID), func(r *Row) string { return r.ContactID })
	opt(str(ColContactName), func(r *Row) string { return r.ContactName })
	opt(str(ColPrimaryContactID), func(r *Row) string { return r.PrimaryContactID })
	lb := b.Field(ColMergedContactIDs).(*array.ListBuilder)
	vb := lb.ValueBuilder().(*array.StringBuilder)
	for i := range rows {
		ids := rows[i].MergedContactIDs
		if len(ids) == 0 {
			lb.AppendNull()
			continue
		}
		lb.Append(true)
		for _, id := range ids {
			vb.Append(id)
		}
	}
	opt(str(ColSource), func(r *Row) string { return r.Source })
	opt(str(ColChannel), func(r *Row) string { return r.Channel })
	opt(str(ColSessionID), func(r *Row) string { return r.SessionID })
	bb := b.Field(ColIsAgent).(*array.BooleanBuilder)
	for i := range rows {
		if rows[i].IsAgent == nil {
			bb.AppendNull()
		} else {
			bb.Append(*rows[i].IsAgent)
		}
	}
	req(str(ColData), func(r *Row) string { return r.Data })
	opt(str(ColIP), func(r *Row) string { return r.IP })
	opt(str(ColUserAgent), func(r *Row) string { return r.UserAgent })
	opt(str(ColRequestID), func(r *Row) string { return r.RequestID })
	return b.NewRecord()
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
	fr  *pqarrow.FileReader
}

// BatchRows is how many rows a reader decodes at a time.
const BatchRows = 8192

func openFile(key string, obj Object) (*objectFile, error) {
	pf, err := file.NewParquetReader(&seeker{Object: obj})
	if err != nil {
		return nil, fmt.Errorf("open parquet %s: %w", key, err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: BatchRows}, memory.DefaultAllocator)
	if err != nil {
		pf.Close()
		return nil, fmt.Errorf("open parquet %s: %w", key, err)
	}
	return &objectFile{key: key, pf: pf, fr: fr}, nil
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

// rowGroupRange returns the min and max occurred_at of row group i (ok false if unknown).
func (f *objectFile) rowGroupRange(i int) (lo, hi int64, ok bool) {
	cc, err := f.pf.MetaData().RowGroup(i).ColumnChunk(ColOccurredAt)
	if err != nil {
		return 0, 0, false
	}
	st, err := cc.Statistics()
	if err != nil || st == nil || !st.HasMinMax() {
		return 0, 0, false
	}
	s, isInt := st.(*metadata.Int64Statistics)
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
	cc, err := f.pf.MetaData().RowGroup(i).ColumnChunk(ColType)
	if err != nil {
		return true
	}
	st, err := cc.Statistics()
	if err != nil || st == nil || !st.HasMinMax() {
		return true
	}
	s, ok := st.(*metadata.ByteArrayStatistics)
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

// decodeRecord appends the rows of rec (columns named as in Columns) to dst.
func decodeRecord(rec arrow.Record, dst []Row) ([]Row, error) {
	n := int(rec.NumRows())
	start := len(dst)
	if cap(dst)-start < n {
		grown := make([]Row, start, start+n)
		copy(grown, dst)
		dst = grown
	}
	dst = dst[:start+n]
	rows := dst[start:]
	for i := range rows {
		rows[i] = Row{}
	}
	for ci, field := range rec.Schema().Fields() {
		col := columnIndex(field.Name)
		arr := rec.Column(ci)
		switch col {
		case ColOccurredAt, ColRecordedAt:
			a, ok := arr.(*array.Timestamp)
			if !ok {
				return dst, fmt.Errorf("column %s: unexpected %s", field.Name, arr.DataType())
			}
			vals := a.TimestampValues()
			for i := range rows {
				if col == ColOccurredAt {
					rows[i].OccurredAt = int64(vals[i])
				} else {
					rows[i].RecordedAt = int64(vals[i])
				}
			}
		case ColIsAgent:
			a, ok := arr.(*array.Boolean)
			if !ok {
				return dst, fmt.Errorf("column %s: unexpected %s", field.Name, arr.DataType())
			}
			for i := range rows {
				if a.IsValid(i) {
					rows[i].IsAgent = boolPtr(a.Value(i))
				}
			}
		case ColMergedContactIDs:
			a, ok := arr.(*array.List)
			if !ok {
				return dst, fmt.Errorf("column %s: unexpected %s", field.Name, arr.DataType())
			}
			vals, ok := a.ListValues().(*array.String)
			if !ok {
				return dst, fmt.Errorf("column %s: unexpected values %s", field.Name, a.ListValues().DataType())
			}
			for i := range rows {
				if !a.IsValid(i) {
					continue
				}
				s, e := a.ValueOffsets(i)
				if e > s {
					ids := make([]string, 0, e-s)
					for j := s; j < e; j++ {
						ids = append(ids, vals.Value(int(j)))
					}
					rows[i].MergedContactIDs = ids
				}
			}
		case -1:
			// a column this version does not know: ignore
		default:
			a, ok := arr.(*array.String)
			if !ok {
				return dst, fmt.Errorf("column %s: unexpected %s", field.Name, arr.DataType())
			}
			set := stringSetter(col)
			for i := range rows {
				if a.IsValid(i) {
					set(&rows[i], a.Value(i))
				}
			}
		}
	}
	return dst, nil
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

// cursor streams one object's rows (of the selected row groups and columns) in file order.
type cursor struct {
	f    *objectFile
	rr   pqarrow.RecordReader
	buf  []Row
	pos  int
	done bool
}

func newCursor(ctx context.Context, f *objectFile, cols, rowGroups []int) (*cursor, error) {
	c := &cursor{f: f}
	if len(rowGroups) == 0 {
		c.done = true
		return c, nil
	}
	rr, err := f.fr.GetRecordReader(ctx, cols, rowGroups)
	if err != nil {
		return nil, fmt.Errorf("read parquet %s: %w", f.key, err)
	}
	c.rr = rr
	return c, nil
}

// peek returns the current row, or nil at the end.
func (c *cursor) peek() (*Row, error) {
	for c.pos >= len(c.buf) {
		if c.done {
			return nil, nil
		}
		if !c.rr.Next() {
			c.done = true
			if err := c.rr.Err(); err != nil && !errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("read parquet %s: %w", c.f.key, err)
			}
			return nil, nil
		}
		var err error
		c.buf, err = decodeRecord(c.rr.Record(), c.buf[:0])
		if err != nil {
			return nil, fmt.Errorf("read parquet %s: %w", c.f.key, err)
		}
		c.pos = 0
	}
	return &c.buf[c.pos], nil
}

func (c *cursor) advance() { c.pos++ }

func (c *cursor) close() {
	if c.rr != nil {
		c.rr.Release()
	}
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
