package clickhouse

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"flowsift/internal/column"
	"flowsift/internal/sink"
)

// testColumns cover every kind of part, compounds, repetitions, a
// repeated compound (Nested) and the sorting key.
var testColumns = []column.Column{
	{Name: "dir", Type: "C"},
	{Name: "flowInd", Type: "U64"},
	{Name: "flowStat", Type: "H64"},
	{Name: "timeFirst", Type: "U64.U32"},
	{Name: "timeLast", Type: "U64.U32"},
	{Name: "duration", Type: "U64.U32", Duration: true},
	{Name: "u8", Type: "U8"},
	{Name: "i32", Type: "I32"},
	{Name: "h16", Type: "H16"},
	{Name: "f", Type: "F"},
	{Name: "d", Type: "D"},
	{Name: "s", Type: "S"},
	{Name: "sc", Type: "SC"},
	{Name: "raw", Type: "SC", Text: column.TextRaw},
	{Name: "mac", Type: "MAC"},
	{Name: "ip", Type: "IPX"},
	{Name: "a_b", Type: "H8_H32"},
	{Name: "reps", Type: "U16:R"},
	{Name: "x_y", Type: "U8_SC:R"},
	{Name: "empty", Type: "U32"},
}

// collect is a sink.Output that encodes rows in RowBinary, and in Native:
// all rows in one block (native), and each row in a block of its own
// (perRow).
type collect struct {
	rb     *sink.RowBuilder
	enc    *Encoder
	b      []byte
	n      int
	nenc   *NativeEncoder
	all    *nativeBatch
	perRow [][]byte
}

func (c *collect) Replay(tape []byte) {
	c.rb.Replay(tape, func(r *sink.Row) {
		c.b = c.enc.Append(c.b, r)
		c.n++
		c.nenc.Append(c.all, r)
		one := c.nenc.newBatch()
		c.nenc.Append(one, r)
		c.perRow = append(c.perRow, nativeBytes(one))
	})
}

// nativeBytes is a batch in Native, uncompressed.
func nativeBytes(b *nativeBatch) []byte {
	var w blockWriter
	b.writeTo(&w)
	plain, err := decompressNative(w.finish())
	if err != nil {
		panic(err)
	}
	return plain
}
func (c *collect) Flush() error   { return nil }
func (c *collect) Close() error   { return nil }
func (c *collect) Err() error     { return nil }
func (c *collect) Written() int64 { return 0 }

// testRows records two rows through sink.Async (as the engine does) and
// returns their RowBinary encoding.
func testRows(t *testing.T) (*Table, []byte) {
	t.Helper()
	tb, c := testRowsCollected(t)
	return tb, c.b
}

// testRowsCollected records the two test rows and returns them encoded
// both ways.
func testRowsCollected(t *testing.T) (*Table, *collect) {
	t.Helper()
	tb, err := NewTable(Flows, "flows", testColumns)
	if err != nil {
		t.Fatal(err)
	}
	c := &collect{rb: sink.NewRowBuilder(tb.Shapes), enc: NewEncoder(tb, 7, "cap.pcap"), nenc: NewNativeEncoder(tb, 7, "cap.pcap")}
	c.all = c.nenc.newBatch()
	a := sink.NewAsyncOutputs(c)
	ip := [16]byte{10, 0, 0, 1}
	// Row 1: every value set.
	a.Col()
	a.Dir('A')
	a.Col()
	a.U(42)
	a.Col()
	a.H(0x4000000000000042, 16)
	a.Col()
	a.Time(1700000000, 123456789)
	a.Col()
	a.Time(20_000_000_000, 5) // the year 2603, beyond Int64 nanoseconds: NULL
	a.Col()
	a.Time(18446744072237547651, 153327457) // a wrapped negative duration
	a.Col()
	a.U(255)
	a.Col()
	a.I(-5)
	a.Col()
	a.H(0x0244, 4)
	a.Col()
	a.F32(0.1)
	a.Col()
	a.F64(math.Copysign(math.NaN(), -1))
	a.Col()
	a.StrString("quote\" tab\t \xff")
	a.Col()
	a.StrClassString("eth:ipv4")
	a.Col()
	a.RawString("raw\xff")
	a.Col()
	a.MAC([6]byte{2, 0, 0, 9, 0, 1})
	a.Col()
	a.IP(4, &ip)
	a.Col()
	a.H(0x01, 2)
	a.Sub()
	a.H(0x80000000, 8)
	a.Col()
	a.Rep()
	a.U(1)
	a.Rep()
	a.U(65535)
	a.Col()
	a.Rep()
	a.U(3)
	a.Sub()
	a.StrClassString("x")
	a.Col()
	a.EndRow()
	// Row 2: empty cells.
	a.Col()
	a.Dir('B')
	a.Col()
	a.U(43)
	a.Col()
	a.H(0, 16)
	a.Col()
	a.Time(1, 0)
	a.EndRow()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if c.n != 2 {
		t.Fatalf("%d rows", c.n)
	}
	return tb, c
}

// testRowsJSON is the test rows in the failed-batch file.
const testRowsJSON = `{"sensor":7,"captureFile":"cap.pcap","dir":"A","flowInd":42,"flowStat":4611686018427387970,"timeFirst":1700000000123456789,"timeLast":null,"duration":-1.4720039648466725e+09,"u8":255,"i32":-5,"h16":580,"f":0.10000000149011612,"d":"-nan","s":"quote\" tab\t .","sc":"eth:ipv4","raw":{"base64":"cmF3/w=="},"mac":"02:00:00:09:00:01","ip":"10.0.0.1","a_b":[1,2147483648],"reps":[1,65535],"x_y.x":[3],"x_y.y":["x"],"empty":null}
{"sensor":7,"captureFile":"cap.pcap","dir":"B","flowInd":43,"flowStat":0,"timeFirst":1000000000,"timeLast":null,"duration":null,"u8":null,"i32":null,"h16":null,"f":null,"d":null,"s":null,"sc":null,"raw":null,"mac":null,"ip":null,"a_b":[null,null],"reps":[],"x_y.x":[],"x_y.y":[],"empty":null}
`

// TestRowBinaryJSONRoundTrip: rows encoded in RowBinary become the
// failed-batch file's JSON with every value exact, and that JSON encodes
// to the same RowBinary bytes (what clickhouse-send sends).
func TestRowBinaryJSONRoundTrip(t *testing.T) {
	tb, data := testRows(t)
	types := make([]*Type, len(tb.Cols))
	for i, c := range tb.Cols {
		var err error
		if types[i], err = ParseType(c.Type); err != nil {
			t.Fatal(err)
		}
	}
	var js []byte
	rest := data
	for i := 0; i < 2; i++ {
		var used int
		var err error
		js, used, err = AppendJSONRow(js, tb.Cols, types, rest)
		if err != nil {
			t.Fatal(err)
		}
		rest = rest[used:]
	}
	if len(rest) != 0 {
		t.Fatalf("%d bytes left", len(rest))
	}
	want := testRowsJSON
	if string(js) != want {
		t.Errorf("JSON:\n%s\nwant:\n%s", js, want)
	}
	var again []byte
	for _, line := range strings.Split(strings.TrimSuffix(string(js), "\n"), "\n") {
		var err error
		if again, err = AppendRowFromJSON(again, tb.Cols, types, []byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(again, data) {
		t.Errorf("JSON → RowBinary differs:\n%x\n%x", again, data)
	}
	// A line with a column too many or too few is refused.
	if _, err := AppendRowFromJSON(nil, tb.Cols, types, []byte(`{"sensor":1}`)); err == nil {
		t.Error("a line missing columns was accepted")
	}
	if _, err := AppendRowFromJSON(nil, tb.Cols, types, []byte(strings.Replace(strings.Split(want, "\n")[0], `"empty":null`, `"empty":null,"other":1`, 1))); err == nil || !strings.Contains(err.Error(), "other") {
		t.Errorf("extra column: %v", err)
	}
}

// TestSchema: the layout of the test columns and its DDL.
func TestSchema(t *testing.T) {
	tb, err := NewTable(Flows, "x_flows", testColumns)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range tb.Cols {
		got = append(got, c.Name+" "+c.Type)
	}
	want := []string{"sensor UInt32", "captureFile String", "dir Nullable(String)", "flowInd UInt64", "flowStat Nullable(UInt64)",
		"timeFirst Int64", "timeLast Nullable(Int64)", "duration Nullable(Float64)", "u8 Nullable(UInt8)", "i32 Nullable(Int32)",
		"h16 Nullable(UInt16)", "f Nullable(Float64)", "d Nullable(Float64)", "s Nullable(String)", "sc Nullable(String)", "raw Nullable(String)",
		"mac Nullable(String)", "ip Nullable(String)", "a_b Tuple(Nullable(UInt8), Nullable(UInt32))", "reps Array(Nullable(UInt16))",
		"x_y.x Array(Nullable(UInt8))", "x_y.y Array(Nullable(String))", "empty Nullable(UInt32)"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("columns:\n%s", strings.Join(got, "\n"))
	}
	ddl := tb.DDL("c1")
	for _, w := range []string{"CREATE TABLE IF NOT EXISTS `x_flows_local`\n(\n    `sensor` UInt32,\n", "`x_y` Nested(`x` Nullable(UInt8), `y` Nullable(String))",
		"ORDER BY (sensor, timeFirst, flowInd);", "PARTITION BY toYYYYMM(toDateTime(intDiv(timeFirst, 1000000000)))",
		"CREATE TABLE IF NOT EXISTS `x_flows` AS `x_flows_local`\nENGINE = Distributed(`c1`, currentDatabase(), `x_flows_local`, cityHash64(sensor, captureFile, flowInd));"} {
		if !strings.Contains(ddl, w) {
			t.Errorf("DDL lacks %q:\n%s", w, ddl)
		}
	}
	// Differences name the columns.
	server := append([]Col(nil), tb.Cols[:5]...)
	server = append(server, Col{"other", "UInt8"})
	server[4].Type = "UInt64"
	missing, extra, retyped := tb.Diff(server)
	if len(missing) != len(tb.Cols)-5 || missing[0] != "timeFirst" || strings.Join(extra, ",") != "other" ||
		strings.Join(retyped, ",") != "flowStat: UInt64, flowsift writes Nullable(UInt64)" {
		t.Errorf("diff: %v %v %v", missing, extra, retyped)
	}
}

func TestParseType(t *testing.T) {
	for _, s := range []string{"UInt8", "Nullable(Int64)", "Array(Nullable(String))", "Tuple(Nullable(UInt8), Nullable(UInt32))", "Array(Tuple(UInt8, Array(Float64)))"} {
		typ, err := ParseType(s)
		if err != nil || typ.String() != s {
			t.Errorf("%s: %v %v", s, typ, err)
		}
	}
	for _, s := range []string{"", "UInt7", "Nullable", "Nullable(", "Array(UInt8", "Nullable(UInt8, UInt8)", "Tuple(UInt8,)", "DateTime", strings.Repeat("Array(", 40) + "UInt8" + strings.Repeat(")", 40)} {
		if _, err := ParseType(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// fuzzTypes are the test table's column types.
func fuzzTypes(f *testing.F) ([]Col, []*Type) {
	tb, err := NewTable(Flows, "flows", testColumns)
	if err != nil {
		f.Fatal(err)
	}
	types := make([]*Type, len(tb.Cols))
	for i, c := range tb.Cols {
		types[i], _ = ParseType(c.Type)
	}
	return tb.Cols, types
}

func FuzzParseType(f *testing.F) {
	for _, s := range []string{"UInt8", "Tuple(Nullable(UInt8), Array(String))", "Array(", "Nullable(Float64)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		typ, err := ParseType(s)
		if err == nil {
			if _, err := ParseType(typ.String()); err != nil {
				t.Errorf("%q parsed, its String %q does not", s, typ.String())
			}
		}
	})
}

// FuzzAppendJSONRow: any bytes decode without panicking; what decodes
// encodes back to the same bytes.
func FuzzAppendJSONRow(f *testing.F) {
	cols, types := fuzzTypes(f)
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{1}, 64))
	f.Add(append([]byte{7, 0, 0, 0, 3, 'a', 'b', 'c'}, bytes.Repeat([]byte{0xff}, 40)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		js, used, err := AppendJSONRow(nil, cols, types, data)
		if err != nil {
			return
		}
		b, err := AppendRowFromJSON(nil, cols, types, bytes.TrimSpace(js))
		if err != nil {
			t.Fatalf("decoded row does not encode: %v\n%s", err, js)
		}
		// Canonical again: any non-zero null byte is NULL, a NaN keeps
		// its sign only, so compare the decoded JSON.
		js2, used2, err := AppendJSONRow(nil, cols, types, b)
		if err != nil || used2 != len(b) || !bytes.Equal(js, js2) {
			t.Fatalf("round trip differs (%v, %d of %d used, input %d):\n%s\n%s", err, used2, len(b), used, js, js2)
		}
	})
}

// FuzzAppendRowFromJSON: any line is refused or encoded, never a panic.
func FuzzAppendRowFromJSON(f *testing.F) {
	cols, types := fuzzTypes(f)
	f.Add([]byte(`{"sensor":1}`))
	f.Add([]byte(`{"a":[1,2,{"base64":"AA=="}]}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		AppendRowFromJSON(nil, cols, types, line)
	})
}

// TestNativeCompression: ClickHouse's compressed format round trips over
// block boundaries, compressible or not (the server's acceptance is
// tested by every insert of the server tests).
func TestNativeCompression(t *testing.T) {
	var c compressor
	random := make([]byte, 3*nativeBlock+17)
	x := uint32(1)
	for i := range random {
		x = x*1664525 + 1013904223
		random[i] = byte(x >> 24)
	}
	for _, in := range [][]byte{nil, []byte("a"), bytes.Repeat([]byte("flowsift "), 300000), random} {
		z := c.append(nil, in)
		out, err := decompressNative(z)
		if err != nil || !bytes.Equal(out, in) {
			t.Errorf("%d bytes: %v, round trip equal %v", len(in), err, bytes.Equal(out, in))
		}
		if len(in) > 0 {
			z[len(z)-1] ^= 1
			if _, err := decompressNative(z); err == nil {
				t.Errorf("%d bytes: a flipped bit passed the checksum", len(in))
			}
		}
	}
}
