package archive

import (
	"bytes"
	"context"
	"sort"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/google/go-cmp/cmp"
)

// Objects written before the archive used parquet/file directly were written by pqarrow,
// and other tools read the archive with arrow's reader. Here pqarrow (linked into this
// test only) reads what Encode writes and writes it again the way the archiver used to:
// the bytes are the same (schema, encodings, pages, statistics, metadata), and Decode
// reads pqarrow's file back as the same rows, over several row groups.
func TestPqarrowCompatible(t *testing.T) {
	rows := rowsOf(t, sampleEvents(t, 11, "acme", "2026-11-29", RowGroupRows+300))
	sort.Slice(rows, func(i, j int) bool { return Less(&rows[i], &rows[j]) })
	obj, err := Encode(rows, map[string]string{CoversKey: `["x"]`})
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := pqarrow.ReadTable(context.Background(), bytes.NewReader(obj), nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	if tbl.NumRows() != int64(len(rows)) {
		t.Fatalf("pqarrow read %d rows, want %d", tbl.NumRows(), len(rows))
	}
	// The same table, with the object's key-value metadata, written by pqarrow the way the
	// archiver wrote objects before.
	md := arrow.NewMetadata([]string{CoversKey}, []string{`["x"]`})
	cols := make([]arrow.Column, tbl.NumCols())
	for i := range cols {
		cols[i] = *tbl.Column(i)
	}
	withMeta := array.NewTable(arrow.NewSchema(tbl.Schema().Fields(), &md), cols, tbl.NumRows())
	defer withMeta.Release()
	var again bytes.Buffer
	if err := pqarrow.WriteTable(withMeta, &again, RowGroupRows, writerProps(), pqarrow.DefaultWriterProps()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(obj, again.Bytes()) {
		t.Errorf("pqarrow writes the same rows as %d bytes, Encode as %d (or differently)", again.Len(), len(obj))
	}
	back, err := Decode(again.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(rows, back); d != "" {
		t.Errorf("rows (-written +read back through pqarrow):\n%s", d)
	}
}
