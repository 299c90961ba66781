package pqwrite

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"flowsift/internal/hugepage"

	"github.com/parquet-go/parquet-go"
	pqthrift "github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
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
		cols[5].Bytes(0, strValue(i))
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
	pf := closeAndOpen(t, w, &buf)
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
	// Values and levels; every column chunk's statistics against the
	// values read back.
	r := 0
	for g, rg := range pf.RowGroups() {
		var values [10][]parquet.Value
		eachRow(t, rg, func(row parquet.Row) {
			checkRow(t, r, row)
			r++
			for _, v := range row {
				values[v.Column()] = append(values[v.Column()], v.Clone())
			}
		})
		for c, vs := range values {
			checkStats(t, g, c, w.Columns()[c], vs, pf.Metadata().RowGroups[g].Columns[c].MetaData.Statistics)
		}
	}
	if r != rows {
		t.Fatalf("read %d rows", r)
	}
}

// newWriter returns a writer of fields into a buffer of its own.
func newWriter(t *testing.T, fields []*Node) (*Writer, *bytes.Buffer) {
	t.Helper()
	buf := new(bytes.Buffer)
	w, err := New(buf, fields, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	return w, buf
}

// closeAndOpen completes w, written to buf, and opens it with parquet-go.
func closeAndOpen(t *testing.T, w *Writer, buf *bytes.Buffer) *parquet.File {
	t.Helper()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	return pf
}

// eachRow calls fn with every row of rg in turn.
func eachRow(t *testing.T, rg parquet.RowGroup, fn func(parquet.Row)) {
	t.Helper()
	rr := rg.Rows()
	defer rr.Close()
	buf := make([]parquet.Row, 64)
	for {
		n, err := rr.ReadRows(buf)
		for _, row := range buf[:n] {
			fn(row)
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
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
		string(by[5][0].ByteArray()) != string(strValue(i)) || by[6][0].Uint32() != uint32(i) {
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

// checkStats compares a column chunk's statistics with the least and
// greatest of its values, ordered as the column's logical type orders
// them, and its null count.
func checkStats(t *testing.T, g, c int, col *Column, vs []parquet.Value, st format.Statistics) {
	t.Helper()
	less := func(a, b parquet.Value) bool {
		switch {
		case col.physical == ByteArray:
			return bytes.Compare(a.ByteArray(), b.ByteArray()) < 0
		case col.physical == Double:
			return a.Double() < b.Double()
		case col.logical == Unsigned && col.physical == Int32:
			return a.Uint32() < b.Uint32()
		case col.logical == Unsigned:
			return a.Uint64() < b.Uint64()
		case col.physical == Int32:
			return a.Int32() < b.Int32()
		}
		return a.Int64() < b.Int64()
	}
	var lo, hi parquet.Value
	nulls, have := 0, false
	for _, v := range vs {
		if v.IsNull() {
			nulls++
			continue
		}
		if !have || less(v, lo) {
			lo = v
		}
		if !have || less(hi, v) {
			hi = v
		}
		have = true
	}
	if st.NullCount != int64(nulls) {
		t.Errorf("row group %d column %d: null count %d, want %d", g, c, st.NullCount, nulls)
	}
	if !have {
		if st.MinValue != nil || st.MaxValue != nil {
			t.Errorf("row group %d column %d: min/max without values", g, c)
		}
		return
	}
	if col.physical == Double {
		// A zero bound is written as -0.0 (minimum) and +0.0 (maximum),
		// as the format asks, whatever the zeros' signs.
		if lo.Double() == 0 {
			lo = parquet.DoubleValue(math.Copysign(0, -1))
		}
		if hi.Double() == 0 {
			hi = parquet.DoubleValue(0)
		}
	}
	if !bytes.Equal(st.MinValue, lo.Bytes()) || !bytes.Equal(st.MaxValue, hi.Bytes()) {
		t.Errorf("row group %d column %d: min %x max %x, want %x %x", g, c, st.MinValue, st.MaxValue, lo.Bytes(), hi.Bytes())
	}
}

// strValue is row i's string: runs of equal values, and empty ones (the
// least of all).
func strValue(i int) []byte {
	if i%11 == 5 {
		return []byte{}
	}
	return []byte{'s', byte('a' + i/4%26)}
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

// TestStatsPages: statistics over several pages, with the least or
// greatest value first on a page, equal runs, empty strings and negative
// numbers.
func TestStatsPages(t *testing.T) {
	plain := func(vs ...string) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
			b = append(b, v...)
		}
		return b
	}
	var s stats
	str := &Column{physical: ByteArray, logical: String}
	s.add(str, plain("m", "m", "n"))
	s.add(str, plain("", "", "b"))
	s.add(str, plain("z", "z", "a"))
	if string(s.bmin) != "" || string(s.bmax) != "z" || !s.have {
		t.Errorf("strings: min %q max %q", s.bmin, s.bmax)
	}
	ints := func(vs ...int32) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		}
		return b
	}
	var si, su stats
	signed := &Column{physical: Int32, logical: Signed}
	unsigned := &Column{physical: Int32, logical: Unsigned}
	for _, page := range [][]byte{ints(5, 6, 7, 8, 9, 10), ints(-3, 4), ints(1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 2)} {
		si.add(signed, page)
		su.add(unsigned, page)
	}
	if si.imin != -3 || si.imax != 11 {
		t.Errorf("signed: min %d max %d", si.imin, si.imax)
	}
	if su.umin != 1 || su.umax != uint64(uint32(0xfffffffd)) {
		t.Errorf("unsigned: min %d max %d", su.umin, su.umax)
	}
}

// TestByteLists: a list of unsigned 8-bit values (IP and TCP options)
// is appended a byte per value (Uint8s and Int32 alike) and widened to
// INT32 when its pages are compressed; read back, values, levels and
// statistics are those written, over several pages and row groups.
func TestByteLists(t *testing.T) {
	fields := []*Node{{Name: "opts", List: true, Children: []*Node{{Name: "element", Optional: true, Physical: Int32, Logical: Unsigned, Bits: 8}}}}
	w, buf := newWriter(t, fields)
	w.PageSize = 256
	w.RowGroupRows = 700
	c := w.Columns()[0]
	if !c.bytes8 {
		t.Fatal("list of 8-bit values not kept as bytes")
	}
	want := func(i int) []byte { // row i's list; empty when i%5 == 0
		b := make([]byte, i%5)
		for k := range b {
			b[k] = byte(i*7 + k*31 + 200)
		}
		return b
	}
	const rows = 2000
	for i := range rows {
		switch b := want(i); {
		case len(b) == 0:
			c.Null(0, 0)
		case i%2 == 0:
			c.Uint8s(0, b)
		default:
			for k, x := range b {
				c.Int32(min(k, 1), int32(x))
			}
		}
		w.EndRow()
	}
	pf := closeAndOpen(t, w, buf)
	if len(pf.RowGroups()) != 3 {
		t.Fatalf("%d row groups", len(pf.RowGroups()))
	}
	r := 0
	for g, rg := range pf.RowGroups() {
		var values []parquet.Value
		eachRow(t, rg, func(row parquet.Row) {
			b := want(r)
			if len(b) == 0 {
				if len(row) != 1 || !row[0].IsNull() {
					t.Fatalf("row %d: %v, want an empty list", r, row)
				}
			} else {
				if len(row) != len(b) {
					t.Fatalf("row %d: %v, want %v", r, row, b)
				}
				for k, v := range row {
					if v.Uint32() != uint32(b[k]) || v.RepetitionLevel() != min(k, 1) {
						t.Fatalf("row %d element %d: %v, want %d", r, k, v, b[k])
					}
				}
			}
			for _, v := range row {
				values = append(values, v.Clone())
			}
			r++
		})
		checkStats(t, g, 0, c, values, pf.Metadata().RowGroups[g].Columns[0].MetaData.Statistics)
	}
	if r != rows {
		t.Fatalf("read %d rows", r)
	}
}

// TestMinMax compares the page statistics of integer values (32-bit,
// 64-bit and bytes) with a plain loop, for every length up to 80 values
// (the unrolled part and the rest) and the extreme anywhere, signed
// (flipped) and unsigned.
func TestMinMax(t *testing.T) {
	x := uint64(88172645463325252)
	next := func() uint64 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x }
	for n := 1; n <= 80; n++ {
		for _, flip := range []uint64{0, 1 << 63} {
			v32 := make([]byte, 4*n)
			v64 := make([]byte, 8*n)
			for i := range n {
				binary.LittleEndian.PutUint32(v32[4*i:], uint32(next()))
				binary.LittleEndian.PutUint64(v64[8*i:], next())
			}
			lo32, hi32 := ^uint32(0), uint32(0)
			lo64, hi64 := ^uint64(0), uint64(0)
			for i := range n {
				a := binary.LittleEndian.Uint32(v32[4*i:]) ^ uint32(flip>>32)
				b := binary.LittleEndian.Uint64(v64[8*i:]) ^ flip
				lo32, hi32 = min(lo32, a), max(hi32, a)
				lo64, hi64 = min(lo64, b), max(hi64, b)
			}
			if lo, hi := minMax[uint32](v32, uint32(flip>>32)); lo != lo32 || hi != hi32 {
				t.Errorf("32-bit, %d values, flip %x: %x %x, want %x %x", n, flip, lo, hi, lo32, hi32)
			}
			if lo, hi := minMax[uint64](v64, flip); lo != lo64 || hi != hi64 {
				t.Errorf("64-bit, %d values, flip %x: %x %x, want %x %x", n, flip, lo, hi, lo64, hi64)
			}
			// Bytes (bytes8 pages): the low bytes of the 64-bit values.
			v8 := make([]byte, n)
			lo8, hi8 := byte(255), byte(0)
			for i := range n {
				v8[i] = v64[8*i]
				lo8, hi8 = min(lo8, v8[i]), max(hi8, v8[i])
			}
			var s stats
			if s.addBytes(v8); s.umin != uint64(lo8) || s.umax != uint64(hi8) {
				t.Errorf("bytes, %d values: %d %d, want %d %d", n, s.umin, s.umax, lo8, hi8)
			}
		}
	}
}

// TestStatsStrings compares the string statistics with a plain loop over
// values that share long prefixes, are prefixes of each other, hold zero
// bytes and come in runs: the 8-byte prefix shortcut must never skip a
// new minimum or maximum.
func TestStatsStrings(t *testing.T) {
	x := uint64(2463534242)
	next := func(n uint64) uint64 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x % n }
	alphabet := []byte{0, 1, 'a', 'b', 0xff}
	str := &Column{physical: ByteArray, logical: String}
	for round := range 200 {
		var s stats
		var lo, hi []byte
		have := false
		for range 1 + next(5) {
			var page []byte
			for range 1 + next(40) {
				v := []byte("192.168.")[:next(9)]
				for range next(4) {
					v = append(v, alphabet[next(uint64(len(alphabet)))])
				}
				for range 1 + next(3) {
					page = binary.LittleEndian.AppendUint32(page, uint32(len(v)))
					page = append(page, v...)
					if !have || bytes.Compare(v, lo) < 0 {
						lo = v
					}
					if !have || bytes.Compare(v, hi) > 0 {
						hi = v
					}
					have = true
				}
			}
			s.add(str, page)
		}
		if !bytes.Equal(s.bmin, lo) || !bytes.Equal(s.bmax, hi) {
			t.Fatalf("round %d: min %q max %q, want %q %q", round, s.bmin, s.bmax, lo, hi)
		}
	}
}

// TestDeltaPages: pages of 64-bit integers that span less than 32 bits
// are DELTA_BINARY_PACKED, others PLAIN, in one column chunk; read back,
// the values (signed ones crossing zero, unsigned ones near the top, and
// nulls) are those written, and the chunk lists both encodings.
func TestDeltaPages(t *testing.T) { onBothHosts(t, testDeltaPages) }

// onBothHosts runs write as on a little-endian host and as on a
// big-endian one (the values decoded before encoding) and checks that
// both wrote the same file.
func onBothHosts(t *testing.T, write func(*testing.T) []byte) {
	t.Helper()
	defer func() { littleEndianHost = binary.NativeEndian.Uint16([]byte{1, 0}) == 1 }()
	var files [2][]byte
	for i, le := range []bool{true, false} {
		littleEndianHost = le
		files[i] = write(t)
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Error("the big-endian path wrote another file")
	}
}

func testDeltaPages(t *testing.T) []byte {
	t.Helper()
	fields := []*Node{
		{Name: "s", Optional: true, Physical: Int64, Logical: Signed, Bits: 64},
		{Name: "u", Optional: true, Physical: Int64, Logical: Unsigned, Bits: 64},
	}
	w, buf := newWriter(t, fields)
	w.PageSize = 1 << 10
	const rows = 3000
	x := uint64(88172645463325252)
	value := func(i int) (int64, uint64) {
		if i < 2000 {
			// Narrow: consecutive around zero, and near the top.
			return int64(i - 1000), math.MaxUint64 - uint64(i)*7
		}
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		return int64(x), x
	}
	want := make([][]parquet.Value, rows)
	for i := range rows {
		if i%11 == 0 {
			w.Columns()[0].Null(0, 0)
			w.Columns()[1].Null(0, 0)
			want[i] = []parquet.Value{parquet.NullValue(), parquet.NullValue()}
		} else {
			s, u := value(i)
			w.Columns()[0].Int64(0, s)
			w.Columns()[1].Int64(0, int64(u))
			want[i] = []parquet.Value{parquet.Int64Value(s), parquet.Int64Value(int64(u))}
		}
		w.EndRow()
	}
	pf := closeAndOpen(t, w, buf)
	file := bytes.Clone(buf.Bytes())
	for c := range 2 {
		encs := pf.Metadata().RowGroups[0].Columns[c].MetaData.Encoding
		if len(encs) != 3 || encs[0] != format.Plain || encs[1] != format.DeltaBinaryPacked || encs[2] != format.RLE {
			t.Errorf("column %d: encodings %v", c, encs)
		}
	}
	checkRows(t, pf, want)
	return file
}

// checkRows reads every row group of pf and checks its rows against
// want: the same nulls, the same integers (32-bit ones compared as such:
// parquet-go's Int64 of an INT32 value is not sign-extended on every
// path).
func checkRows(t *testing.T, pf *parquet.File, want [][]parquet.Value) {
	t.Helper()
	same := func(a, b parquet.Value) bool {
		if a.IsNull() || b.IsNull() {
			return a.IsNull() == b.IsNull()
		}
		if a.Kind() == parquet.Int32 {
			return b.Kind() == parquet.Int32 && a.Int32() == b.Int32()
		}
		return a.Kind() == b.Kind() && a.Int64() == b.Int64()
	}
	r := 0
	for _, g := range pf.RowGroups() {
		eachRow(t, g, func(row parquet.Row) {
			for c, v := range row {
				if !same(v, want[r][c]) {
					t.Fatalf("row %d column %d: %v, want %v", r, c, v, want[r][c])
				}
			}
			r++
		})
	}
	if r != len(want) {
		t.Fatalf("read %d rows, want %d", r, len(want))
	}
}

// TestDictionaryPages: a dictionary column (values expanded on the way,
// as addresses are) over four row groups: the first repeats a few values
// (dictionary pages only); the second repeats each value thrice until the
// dictionary is full (dictionary pages, then PLAIN ones); the third never
// repeats (the dictionary is given up after dictMinValues values); the
// fourth starts a dictionary anew, of values that differ only after their
// 16th byte. Read back, every value is the expanded
// one written, and each chunk lists the encodings it uses, its dictionary
// page and statistics that match its values.
func TestDictionaryPages(t *testing.T) {
	w, c, buf, expands := dictColumn(t, "<")
	w.PageSize = 4 << 10
	w.RowGroupRows = 3*maxDictEntries + 20000
	value := func(r int) string {
		switch g, i := r/int(w.RowGroupRows), r%int(w.RowGroupRows); {
		case g == 1 && i >= 1000:
			return "d" + itoa(r/3) // thrice each, more than the dictionary holds
		case g == 2:
			return "e" + itoa(r) // no repeats
		case g == 3:
			// Longer than a table slot's key, the same first 16 bytes.
			return "a shared prefix, then " + itoa(r*7%37)
		default:
			return "v" + itoa(r*7%37)
		}
	}
	rows := 3*int(w.RowGroupRows) + 5000
	for r := range rows {
		if r%13 == 0 {
			c.Null(0, 0)
		} else {
			c.Bytes(0, []byte(value(r)))
		}
		w.EndRow()
	}
	pf := closeAndOpen(t, w, buf)
	if *expands >= rows {
		t.Errorf("%d values expanded for %d rows", *expands, rows)
	}
	// Per row group: the dictionary's size, and the encodings of the
	// data pages in turn (runs of one encoding as one).
	want := []string{"37 [RLE_DICTIONARY]", "65536 [RLE_DICTIONARY PLAIN]", "", "37 [RLE_DICTIONARY]"}
	r := 0
	for g, rg := range pf.RowGroups() {
		md := pf.Metadata().RowGroups[g].Columns[0].MetaData
		if fmt.Sprint(md.Encoding) != "[PLAIN RLE_DICTIONARY RLE]" || md.DictionaryPageOffset == 0 || md.DictionaryPageOffset >= md.DataPageOffset {
			t.Errorf("row group %d: encodings %v, dictionary page at %d, data at %d", g, md.Encoding, md.DictionaryPageOffset, md.DataPageOffset)
		}
		dict, encs := pageEncodings(t, buf.Bytes(), md)
		got := fmt.Sprint(dict, " ", encs)
		if g == 2 {
			// Given up once the values seen reach dictMinValues: one
			// page more at most.
			if dict < dictMinValues || dict > 2*dictMinValues || fmt.Sprint(encs) != "[RLE_DICTIONARY PLAIN]" {
				t.Errorf("row group 2 (no repeats): dictionary and data pages %s", got)
			}
		} else if got != want[g] {
			t.Errorf("row group %d: dictionary and data pages %s, want %s", g, got, want[g])
		}
		var vs []parquet.Value
		eachRow(t, rg, func(row parquet.Row) {
			v := row[0]
			want := ""
			if r%13 != 0 {
				want = "<" + value(r)
			}
			if v.IsNull() != (r%13 == 0) || !v.IsNull() && string(v.ByteArray()) != want {
				t.Fatalf("row %d: %v, want %q", r, v, want)
			}
			vs = append(vs, v.Clone())
			r++
		})
		checkStats(t, g, 0, c, vs, md.Statistics)
	}
	if r != rows {
		t.Fatalf("read %d rows of %d", r, rows)
	}
}

// dictColumn returns a writer of one dictionary string column whose
// values are expanded with prefix before them, its buffer, and the
// count of values expanded so far.
func dictColumn(t *testing.T, prefix string) (*Writer, *Column, *bytes.Buffer, *int) {
	t.Helper()
	fields := []*Node{{Name: "s", Optional: true, Physical: ByteArray, Logical: String}}
	w, buf := newWriter(t, fields)
	c := w.Columns()[0]
	c.Dictionary = true
	expands := new(int)
	c.Expand = func(dst, vals []byte) []byte {
		for i := 0; i < len(vals); {
			n := int(binary.LittleEndian.Uint32(vals[i:]))
			dst = binary.LittleEndian.AppendUint32(dst, uint32(len(prefix)+n))
			dst = append(append(dst, prefix...), vals[i+4:i+4+n]...)
			i += 4 + n
			*expands++
		}
		return dst
	}
	return w, c, buf, expands
}

// TestDictionaryLongValues: a column of 1,000-byte values, every third
// one empty (a packet file's payloads: ACKs between data). Values that
// do not repeat give their dictionary up as soon as it holds
// dictCheckBytes, within the first page: no dictionary page, PLAIN data
// pages, and no more values expanded for the dictionary than fit in
// dictCheckBytes. Values that repeat (40 of them in turn) keep theirs.
func TestDictionaryLongValues(t *testing.T) {
	for _, tc := range []struct {
		name     string
		distinct int // 0: every value distinct
		want     string
	}{
		{"distinct", 0, "0 [PLAIN]"},
		{"repeating", 40, "41 [RLE_DICTIONARY]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, c, buf, expands := dictColumn(t, "")
			value := func(r int) string {
				if r%3 == 0 {
					return ""
				}
				k := r
				if tc.distinct > 0 {
					k = r % tc.distinct
				}
				return strings.Repeat(string(rune('a'+k%26)), 1000) + strconv.Itoa(k)
			}
			const rows = 3000
			for r := range rows {
				c.Bytes(0, []byte(value(r)))
				w.EndRow()
			}
			pf := closeAndOpen(t, w, buf)
			md := pf.Metadata().RowGroups[0].Columns[0].MetaData
			if md.DictionaryPageOffset == 0 {
				md.DictionaryPageOffset = md.DataPageOffset // where pageEncodings starts
			}
			if tc.distinct == 0 {
				if extra := *expands - rows; extra > dictCheckBytes/1000+2 {
					t.Errorf("%d values expanded into the dictionary before it was given up", extra)
				}
			}
			if dict, encs := pageEncodings(t, buf.Bytes(), md); fmt.Sprint(dict, " ", encs) != tc.want {
				t.Errorf("dictionary and data pages %d %v, want %s", dict, encs, tc.want)
			}
			var vs []parquet.Value
			r := 0
			eachRow(t, pf.RowGroups()[0], func(row parquet.Row) {
				if got := string(row[0].ByteArray()); got != value(r) {
					t.Fatalf("row %d: %.20q..., want %.20q...", r, got, value(r))
				}
				vs = append(vs, row[0].Clone())
				r++
			})
			if r != rows {
				t.Fatalf("read %d rows of %d", r, rows)
			}
			checkStats(t, 0, 0, c, vs, md.Statistics)
		})
	}
}

// pageEncodings reads the page headers of a column chunk: the dictionary
// page's number of values, and the data pages' encodings, a run of one
// encoding given once.
func pageEncodings(t *testing.T, file []byte, md format.ColumnMetaData) (int32, []format.Encoding) {
	t.Helper()
	var dict int32
	var encs []format.Encoding
	off := md.DictionaryPageOffset
	end := md.DictionaryPageOffset + md.TotalCompressedSize
	for off < end {
		r := bytes.NewReader(file[off:end])
		var h format.PageHeader
		if err := pqthrift.NewDecoder(new(pqthrift.CompactProtocol).NewReader(r)).Decode(&h); err != nil {
			t.Fatalf("page header at %d: %v", off, err)
		}
		headerLen := int64(len(file[off:end])) - int64(r.Len())
		if d, ok := h.DictionaryPageHeader.Get(); ok {
			dict = d.NumValues
		}
		if d, ok := h.DataPageHeaderV2.Get(); ok && (len(encs) == 0 || encs[len(encs)-1] != d.Encoding) {
			encs = append(encs, d.Encoding)
		}
		off += headerLen + int64(h.CompressedPageSize)
	}
	return dict, encs
}

// TestArenaBuffers: a file of enough columns that their page buffers are
// cut from blocks of huge pages (valBuf), several pages each: every value
// reads back as written, so no two buffers share memory, and a buffer
// never grows into its neighbour.
func TestArenaBuffers(t *testing.T) {
	const ncols, rows = 64, 30000
	var fields []*Node
	for i := range ncols {
		fields = append(fields, &Node{Name: "c" + strconv.Itoa(i), Optional: true, Physical: Int64, Logical: Unsigned, Bits: 64})
	}
	w, buf := newWriter(t, fields)
	if ncols*w.pageCap() < hugepage.Size || len(w.arena) == 0 {
		t.Fatalf("%d columns of %d-byte buffers: no arena", ncols, w.pageCap())
	}
	value := func(r, c int) int64 { return int64(r)<<20 | int64(c)<<8 | int64(r*c&0xff) }
	for r := range rows {
		for c, col := range w.Columns() {
			col.Int64(0, value(r, c))
		}
		w.EndRow()
	}
	pf := closeAndOpen(t, w, buf)
	r := 0
	for _, rg := range pf.RowGroups() {
		eachRow(t, rg, func(row parquet.Row) {
			for c, v := range row {
				if v.Int64() != value(r, c) {
					t.Fatalf("row %d column %d: %d, want %d", r, c, v.Int64(), value(r, c))
				}
			}
			r++
		})
	}
	if r != rows {
		t.Fatalf("read %d rows of %d", r, rows)
	}
}

// TestInt32Trial: each column chunk of 32-bit integers takes the encoding
// its first page compresses smaller in. Random 16-bit values (checksums)
// are DELTA_BINARY_PACKED, values that repeat (lengths) PLAIN, and a
// column whose values change between row groups changes encoding with
// them. Read back, every value (nulls and signed ones crossing zero
// included) is the one written; a big-endian host writes the same file.
func TestInt32Trial(t *testing.T) { onBothHosts(t, testInt32Trial) }

func testInt32Trial(t *testing.T) []byte {
	t.Helper()
	fields := []*Node{
		{Name: "sum", Optional: true, Physical: Int32, Logical: Unsigned, Bits: 16},
		{Name: "len", Optional: true, Physical: Int32, Logical: Unsigned, Bits: 16},
		{Name: "mixed", Optional: true, Physical: Int32, Logical: Signed, Bits: 32},
		{Name: "seq", Optional: true, Physical: Int32, Logical: Unsigned, Bits: 32},
	}
	w, buf := newWriter(t, fields)
	w.PageSize = 4 << 10
	w.RowGroupRows = 20000
	const rows = 40000
	x := uint64(88172645463325252)
	rnd := func() uint64 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		return x
	}
	lengths := []int32{40, 52, 1500, 1500, 1500, 576, 40, 40}
	want := make([][]parquet.Value, rows)
	for i := range rows {
		// Consecutive numbers crossing both the signed and the unsigned
		// wrap-around (delta: the differences wrap in 32 bits).
		seq := int32(uint32(0x7fffc000) + uint32(i)*0x20000)
		sum := int32(rnd() & 0xffff)
		length := lengths[i%len(lengths)]
		// Row group 0: random 16-bit values around zero (delta); row
		// group 1: a few repeating ones (PLAIN).
		mixed := int32(rnd()&0xffff) - 0x8000
		if i >= int(w.RowGroupRows) {
			mixed = lengths[i%3] - 600
		}
		if i%13 == 0 {
			for c := range 4 {
				w.Columns()[c].Null(0, 0)
			}
			want[i] = []parquet.Value{parquet.NullValue(), parquet.NullValue(), parquet.NullValue(), parquet.NullValue()}
		} else {
			w.Columns()[0].Int32(0, sum)
			w.Columns()[1].Int32(0, length)
			w.Columns()[2].Int32(0, mixed)
			w.Columns()[3].Int32(0, seq)
			want[i] = []parquet.Value{parquet.Int32Value(sum), parquet.Int32Value(length), parquet.Int32Value(mixed), parquet.Int32Value(seq)}
		}
		w.EndRow()
	}
	pf := closeAndOpen(t, w, buf)
	file := bytes.Clone(buf.Bytes())
	plain := []format.Encoding{format.Plain, format.RLE}
	delta := []format.Encoding{format.DeltaBinaryPacked, format.RLE}
	wantEnc := [2][4][]format.Encoding{{delta, plain, delta, delta}, {delta, plain, plain, delta}}
	for g := range 2 {
		for c := range 4 {
			encs := pf.Metadata().RowGroups[g].Columns[c].MetaData.Encoding
			if !slices.Equal(encs, wantEnc[g][c]) {
				t.Errorf("row group %d column %d: encodings %v, want %v", g, c, encs, wantEnc[g][c])
			}
		}
	}
	checkRows(t, pf, want)
	return file
}
