package archive

// Opening an object and choosing the row groups and columns a query needs: the schema is
// checked once, and row groups are skipped by their occurred_at and type statistics.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/metadata"
)

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
