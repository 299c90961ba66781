package pqwrite

import (
	"bytes"
	"io"
	"math"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// TestWriterReadBack writes every node kind (optional scalars of each
// physical and logical type, an optional group, lists of scalars and of
// groups) over several pages and row groups, and reads the file back
// with parquet-go: schema, values, levels, statistics and metadata.
func TestWriterReadBack(t *testing.T) {
	fields := []*Node{
		{Name: "u8", Optional: true, Physical: Int32, Logical: Unsigned, Bits: 8},
		{Name: "u64", Optional: true, Physical: Int64, Logical: Unsigned, Bits: 64},
		{Name: "i32", Optional: true, Physical: Int32, Logical: Signed, Bits: 32},
		{Name: "d", Optional: true, Physical: Double},
		{Name: "ts", Optional: true, Physical: Int64, Logical: Timestamp},
		{Name: "s", Optional: true, Physical: ByteArray, Logical: String},
		{Name: "g", Optional: true, Children: []*Node{
			{Name: "a", Optional: true, Physical: Int32, Logical: Unsigned, Bits: 16},
			{Name: "b", Optional: true, Physical: ByteArray, Logical: String},
		}},
		{Name: "l", List: true, Children: []*Node{{Name: "element", Optional: true, Physical: Int32, Logical: Unsigned, Bits: 32}}},
		{Name: "lg", List: true, Children: []*Node{{Name: "element", Optional: true, Children: []*Node{
			{Name: "x", Optional: true, Physical: Int64, Logical: Signed, Bits: 64},
		}}}},
	}
	var buf bytes.Buffer
	w, err := New(&buf, fields, "test", [][2]string{{"k", "v"}})
	if err != nil {
		t.Fatal(err)
	}
	w.PageSize = 1 << 10
	w.RowGroupRows = 1000
	cols := w.Columns()
	if len(cols) != 10 {
		t.Fatalf("%d leaf columns", len(cols))
	}
	const rows = 2500
	for i := 0; i < rows; i++ {
		if i%7 == 0 {
			for _, c := range cols {
				c.Null(0, 0)
			}
			w.EndRow()
			continue
		}
		cols[0].Int32(0, int32(uint8(200+i)))
		cols[1].Int64(0, int64(uint64(math.MaxUint64)-uint64(i)))
		cols[2].Int32(0, int32(-i))
		cols[3].Double(0, float64(i)/3)
		cols[4].Int64(0, int64(i)*1e9+1)
		cols[5].Bytes(0, []byte{'s', byte('a' + i%26)})
		cols[6].Int32(0, int32(i))
		cols[7].Null(0, 1) // group present, b missing
		for k := 0; k < i%3; k++ {
			cols[8].Int32(min(k, 1), int32(k))
		}
		if i%3 == 0 {
			cols[8].Null(0, 0)
		}
		cols[9].Int64(0, int64(-i))
		cols[9].Int64(1, int64(i))
		w.EndRow()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if pf.NumRows() != rows || len(pf.RowGroups()) != 3 {
		t.Fatalf("%d rows in %d row groups", pf.NumRows(), len(pf.RowGroups()))
	}
	if v, ok := pf.Lookup("k"); !ok || v != "v" {
		t.Errorf("key/value metadata: %q %v", v, ok)
	}
	want := "message schema { optional int32 u8 (INT(8,false)); optional int64 u64 (INT(64,false)); optional int32 i32 (INT(32,true)); optional double d; optional int64 ts (TIMESTAMP(isAdjustedToUTC=true,unit=NANOS)); optional binary s (STRING); optional group g { optional int32 a (INT(16,false)); optional binary b (STRING); } required group l (LIST) { repeated group list { optional int32 element (INT(32,false)); } } required group lg (LIST) { repeated group list { optional group element { optional int64 x (INT(64,true)); } } } }"
	if got := oneLine(pf.Schema().String()); got != want {
		t.Errorf("schema\n%s\nwant\n%s", got, want)
	}
	// Statistics of the first row group: u64 compares unsigned.
	cc := pf.Metadata().RowGroups[0].Columns[1].MetaData.Statistics
	lo, hi := le64(cc.MinValue), le64(cc.MaxValue)
	if lo != math.MaxUint64-999 || hi != math.MaxUint64-1 || cc.NullCount != 143 {
		t.Errorf("u64 stats: min %d max %d nulls %d", lo, hi, cc.NullCount)
	}
	// Values and levels.
	r := 0
	rbuf := make([]parquet.Row, 100)
	for _, rg := range pf.RowGroups() {
		rr := rg.Rows()
		for {
			n, err := rr.ReadRows(rbuf)
			for _, row := range rbuf[:n] {
				checkRow(t, r, row)
				r++
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		rr.Close()
	}
	if r != rows {
		t.Fatalf("read %d rows", r)
	}
}

func checkRow(t *testing.T, i int, row parquet.Row) {
	t.Helper()
	by := map[int][]parquet.Value{}
	for _, v := range row {
		by[v.Column()] = append(by[v.Column()], v)
	}
	if i%7 == 0 {
		for c := 0; c < 10; c++ {
			if len(by[c]) != 1 || !by[c][0].IsNull() || by[c][0].DefinitionLevel() != 0 {
				t.Fatalf("row %d col %d: %v, want one null", i, c, by[c])
			}
		}
		return
	}
	if by[0][0].Uint32() != uint32(uint8(200+i)) || by[1][0].Uint64() != math.MaxUint64-uint64(i) ||
		by[2][0].Int32() != int32(-i) || by[3][0].Double() != float64(i)/3 || by[4][0].Int64() != int64(i)*1e9+1 ||
		string(by[5][0].ByteArray()) != string([]byte{'s', byte('a' + i%26)}) || by[6][0].Uint32() != uint32(i) {
		t.Fatalf("row %d: %v", i, row)
	}
	if !by[7][0].IsNull() || by[7][0].DefinitionLevel() != 1 {
		t.Fatalf("row %d: g.b %v", i, by[7])
	}
	if n := i % 3; n == 0 {
		if len(by[8]) != 1 || by[8][0].DefinitionLevel() != 0 {
			t.Fatalf("row %d: empty list %v", i, by[8])
		}
	} else if len(by[8]) != n || by[8][n-1].Uint32() != uint32(n-1) || by[8][0].RepetitionLevel() != 0 || by[8][n-1].RepetitionLevel() != min(n-1, 1) {
		t.Fatalf("row %d: list %v", i, by[8])
	}
	if len(by[9]) != 2 || by[9][0].Int64() != int64(-i) || by[9][1].Int64() != int64(i) || by[9][1].RepetitionLevel() != 1 {
		t.Fatalf("row %d: list of groups %v", i, by[9])
	}
}

func le64(b []byte) uint64 {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

func oneLine(s string) string {
	return string(bytes.Join(bytes.Fields([]byte(s)), []byte(" ")))
}
