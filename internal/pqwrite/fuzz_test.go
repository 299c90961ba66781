package pqwrite

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// FuzzWriterRoundTrip writes rows that the fuzzer's bytes choose (strings
// in a dictionary column and in a PLAIN one, 64-bit integers of any span,
// 32-bit integers, doubles and lists of bytes, any of them null) in small
// pages and row groups, and reads the file back with parquet-go: every
// value, every row, and each chunk's statistics must be those written.
func FuzzWriterRoundTrip(f *testing.F) {
	f.Add([]byte("\x00\x01\x02abc\x03\x04\xff\xfe"), uint8(3))
	f.Add(bytes.Repeat([]byte("10.0.0.1\x00"), 50), uint8(1))
	f.Add([]byte{0xff, 0, 0, 0, 0, 0, 0, 0x80, 1, 2, 3}, uint8(200))
	f.Fuzz(func(t *testing.T, data []byte, spread uint8) {
		fields := []*Node{
			{Name: "dict", Optional: true, Physical: ByteArray, Logical: String},
			{Name: "str", Optional: true, Physical: ByteArray, Logical: String},
			{Name: "i64", Optional: true, Physical: Int64, Logical: Signed, Bits: 64},
			{Name: "u64", Optional: true, Physical: Int64, Logical: Unsigned, Bits: 64},
			{Name: "u32", Optional: true, Physical: Int32, Logical: Unsigned, Bits: 32},
			{Name: "d", Optional: true, Physical: Double},
			{Name: "opts", List: true, Children: []*Node{{Name: "element", Optional: true, Physical: Int32, Logical: Unsigned, Bits: 8}}},
		}
		var buf bytes.Buffer
		w, err := New(&buf, fields, "fuzz", nil)
		if err != nil {
			t.Fatal(err)
		}
		w.PageSize, w.RowGroupRows = 256, 97
		cols := w.Columns()
		cols[0].Dictionary = true
		type row struct {
			null     uint8 // bit c: column c is null
			dict     []byte
			str      []byte
			i64      int64
			u64      uint64
			u32      uint32
			d        float64
			opts     []byte
			optsNull bool
		}
		var rows []row
		// Each row takes up to 9 bytes; values repeat and spread as the
		// bytes say, so that pages span little or much.
		for i := 0; i < len(data) && len(rows) < 2000; i += 9 {
			b := make([]byte, 9)
			copy(b, data[i:])
			x := binary.LittleEndian.Uint64(b[1:])
			r := row{null: b[0] & 0x3f}
			r.dict = []byte{'k', byte(x) % (spread | 1)}
			if x&1 == 0 {
				r.dict = append(r.dict, bytes.Repeat([]byte{byte(x >> 8)}, int(x>>16)%40)...)
			}
			r.str = b[1 : 1+int(x>>24)%8]
			r.i64 = int64(x>>uint(spread%64)) - int64(len(rows))
			r.u64 = math.MaxUint64 - x>>uint(spread%64)
			r.u32 = uint32(x >> 32)
			r.d = math.Float64frombits(x)
			if math.IsNaN(r.d) {
				r.d = float64(len(rows))
			}
			r.opts = b[1 : 1+int(b[0]>>6)*2]
			r.optsNull = b[0]&0xc0 == 0
			rows = append(rows, r)
			put := func(c int, present func()) {
				if r.null&(1<<c) != 0 {
					cols[c].Null(0, 0)
				} else {
					present()
				}
			}
			put(0, func() { cols[0].Bytes(0, r.dict) })
			put(1, func() { cols[1].Bytes(0, r.str) })
			put(2, func() { cols[2].Int64(0, r.i64) })
			put(3, func() { cols[3].Int64(0, int64(r.u64)) })
			put(4, func() { cols[4].Int32(0, int32(r.u32)) })
			put(5, func() { cols[5].Double(0, r.d) })
			if r.optsNull || len(r.opts) == 0 {
				cols[6].Null(0, 0)
			} else {
				cols[6].Uint8s(0, r.opts)
			}
			w.EndRow()
		}
		pf := closeAndOpen(t, w, &buf)
		if pf.NumRows() != int64(len(rows)) {
			t.Fatalf("%d rows read, %d written", pf.NumRows(), len(rows))
		}
		i := 0
		for g, rg := range pf.RowGroups() {
			var values [7][]parquet.Value
			eachRow(t, rg, func(got parquet.Row) {
				r := rows[i]
				var opts []byte
				for _, v := range got {
					c := v.Column()
					values[c] = append(values[c], v.Clone())
					if c < 6 && v.IsNull() != (r.null&(1<<c) != 0) {
						t.Fatalf("row %d column %d: %v", i, c, v)
					}
					if c == 6 && !v.IsNull() {
						opts = append(opts, byte(v.Uint32()))
					}
					if v.IsNull() {
						continue
					}
					ok := true
					switch c {
					case 0:
						ok = bytes.Equal(v.ByteArray(), r.dict)
					case 1:
						ok = bytes.Equal(v.ByteArray(), r.str)
					case 2:
						ok = v.Int64() == r.i64
					case 3:
						ok = v.Uint64() == r.u64
					case 4:
						ok = v.Uint32() == r.u32
					case 5:
						ok = v.Double() == r.d
					}
					if !ok {
						t.Fatalf("row %d column %d: %v", i, c, v)
					}
				}
				want := r.opts
				if r.optsNull {
					want = nil
				}
				if !bytes.Equal(opts, want) {
					t.Fatalf("row %d: options %x, want %x", i, opts, want)
				}
				i++
			})
			for c, vs := range values {
				checkStats(t, g, c, cols[c], vs, pf.Metadata().RowGroups[g].Columns[c].MetaData.Statistics)
			}
		}
	})
}
