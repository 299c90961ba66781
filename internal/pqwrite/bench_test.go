package pqwrite

import (
	"encoding/binary"
	"io"
	"testing"
)

// BenchmarkPacketRows writes rows shaped like packet-mode rows: 40
// small integers, 10 64-bit integers and doubles, 10 strings in runs,
// columns that are mostly null, and a list of about 19 elements.
// b.N rows; reported per row.
func BenchmarkPacketRows(b *testing.B) {
	var fields []*Node
	for i := 0; i < 40; i++ {
		fields = append(fields, &Node{Name: "u" + itoa(i), Optional: true, Physical: Int32, Logical: Unsigned, Bits: 16})
	}
	for i := 0; i < 10; i++ {
		fields = append(fields, &Node{Name: "t" + itoa(i), Optional: true, Physical: Int64, Logical: Timestamp})
	}
	for i := 0; i < 10; i++ {
		fields = append(fields, &Node{Name: "s" + itoa(i), Optional: true, Physical: ByteArray, Logical: String})
	}
	for i := 0; i < 10; i++ {
		fields = append(fields, &Node{Name: "n" + itoa(i), Optional: true, Physical: Int32, Logical: Unsigned, Bits: 8})
	}
	fields = append(fields, &Node{Name: "opts", List: true, Children: []*Node{{Name: "element", Optional: true, Physical: Int32, Logical: Unsigned, Bits: 8}}})
	w, err := New(io.Discard, fields, "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	cols := w.Columns()
	strs := [][]byte{[]byte("10.9.0.1"), []byte("10.9.0.2"), []byte("02:00:00:09:00:01"), []byte("eth:ipv4:tcp")}
	b.ReportAllocs()
	b.ResetTimer()
	for r := 0; r < b.N; r++ {
		k := 0
		for i := 0; i < 40; i++ {
			cols[k].Int32(0, int32(r*i&0xffff))
			k++
		}
		for i := 0; i < 10; i++ {
			cols[k].Int64(0, int64(1700000000_000000000+r*1000+i))
			k++
		}
		for i := 0; i < 10; i++ {
			cols[k].Bytes(0, strs[(r/8+i)%len(strs)])
			k++
		}
		for i := 0; i < 10; i++ {
			if r%10 == 0 {
				cols[k].Int32(0, int32(r&0xff))
			} else {
				cols[k].Null(0, 0)
			}
			k++
		}
		for e := 0; e < 19; e++ {
			cols[k].Int32(min(e, 1), int32(e*7&0xff))
		}
		w.EndRow()
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

func itoa(i int) string { return string(rune('a'+i/26)) + string(rune('a'+i%26)) }

// BenchmarkMinMax measures the page statistics of integer columns: a
// page of 32-bit and one of 64-bit values.
func BenchmarkMinMax(b *testing.B) {
	page := make([]byte, 32<<10)
	x := uint32(12345)
	for i := range page {
		x = x*1664525 + 1013904223
		page[i] = byte(x >> 24)
	}
	b.Run("32", func(b *testing.B) {
		b.SetBytes(int64(len(page)))
		for b.Loop() {
			minMax[uint32](page, 1<<31)
		}
	})
	b.Run("64", func(b *testing.B) {
		b.SetBytes(int64(len(page)))
		for b.Loop() {
			minMax[uint64](page, 1<<63)
		}
	})
}

// BenchmarkDictionaryPage measures the dictionary encoding of a page of
// short values (5-byte addresses as the sink appends them: 300 of them,
// in runs of one to four) and of payloads (mostly empty, else one of
// 40 of 70 bytes), values the dictionary holds; reported per value.
func BenchmarkDictionaryPage(b *testing.B) {
	x := uint32(7)
	next := func() uint32 { x = x*1664525 + 1013904223; return x >> 8 }
	for _, tc := range []struct {
		name  string
		value func() []byte
	}{
		{"address", func() []byte { a := next() % 300; return []byte{1, 10, 9, byte(a >> 8), byte(a)} }},
		{"payload", func() []byte {
			if next()%3 != 0 {
				return nil
			}
			p := make([]byte, 70)
			p[0] = byte(next() % 40)
			return p
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var page []byte
			n := 0
			for len(page) < 32<<10 {
				v := tc.value()
				for range 1 + next()%4 {
					page = binary.LittleEndian.AppendUint32(page, uint32(len(v)))
					page = append(page, v...)
					n++
				}
			}
			c := &Column{physical: ByteArray, logical: String, Dictionary: true}
			// A row group's later pages: their values are in the
			// dictionary already.
			dst, _ := c.dict.encodePage(c, nil, page)
			for b.Loop() {
				var ok bool
				if dst, ok = c.dict.encodePage(c, dst[:0], page); !ok {
					b.Fatal("dictionary given up")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/value")
		})
	}
}
