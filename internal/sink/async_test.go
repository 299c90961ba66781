package sink

import (
	"bytes"
	"errors"
	"io"
	"math"
	"testing"

	"flowsift/internal/column"
)

// writeRow writes one row using every Writer method.
// Its byte slices and addresses are package variables so that the alloc
// test measures the writer, not the helper.
var (
	rowA6   = [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 9}
	rowA4   = [16]byte{10, 0, 7, 1}
	rowStr  = []byte("a\"b\x01\xff")
	rowCls  = []byte("eth:ipv4")
	rowRaw  = []byte("raw")
	rowCont = []byte("GET /\r\n\x00")
)

func writeRow(w column.Writer, i int) {
	a6, a4 := &rowA6, &rowA4
	w.Col()
	w.Dir('A')
	w.Col()
	w.U(uint64(i) * 1e15)
	w.Col()
	w.I(-int64(i))
	w.Col()
	w.H(uint64(i), 4)
	w.Sub()
	w.H(1<<63, 2)
	w.Col()
	w.F32(float32(i) / 3)
	w.Rep()
	w.F32(float32(math.Inf(-1)))
	w.Col()
	w.F64(float64(i) / 7)
	w.Col()
	w.Time(1700000000+uint64(i), 12345)
	w.Col()
	w.Str(rowStr)
	w.Col()
	w.StrString("tab\there")
	w.Col()
	w.StrClass(rowCls)
	w.Col()
	w.StrClassString("é\n")
	w.Col()
	w.MAC([6]byte{0, 1, 2, 3, 4, byte(i)})
	w.Col()
	w.IP(4, a4)
	w.Col()
	w.IP(6, a6)
	w.Col()
	w.IP(0, a6)
	w.Col()
	w.Fixed9(1.5)
	w.Col()
	w.Raw(rowRaw)
	w.Col()
	w.RawString("")
	w.Col()
	w.Content(rowCont)
}

// TestAsyncMatchesText checks that replaying the tape gives exactly what the
// Text writer produces directly, over enough rows to recycle every tape.
func TestAsyncMatchesText(t *testing.T) {
	var want, got bytes.Buffer
	tx := NewText(&want)
	as := NewAsync(&got)
	tx.WriteString("%hdr\n")
	as.WriteString("%hdr\n")
	const rows = 20000
	for i := 0; i < rows; i++ {
		writeRow(tx, i)
		tx.EndRow()
		writeRow(as, i)
		as.EndRow()
		if i == rows/2 {
			if err := as.Flush(); err != nil {
				t.Fatal(err)
			}
			tx.Flush()
			if !bytes.Equal(want.Bytes(), got.Bytes()) {
				t.Fatalf("after Flush: %d bytes, want %d", got.Len(), want.Len())
			}
		}
	}
	tx.Flush()
	if err := as.Close(); err != nil {
		t.Fatal(err)
	}
	if got.Len() < rows*100 || !bytes.Equal(want.Bytes(), got.Bytes()) {
		t.Fatalf("async output differs: %d bytes, want %d", got.Len(), want.Len())
	}
	if as.Written() != int64(got.Len()) {
		t.Fatalf("Written %d, want %d", as.Written(), got.Len())
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(b []byte) (int, error) {
	f.n++
	return 0, errors.New("disk full")
}

func TestAsyncError(t *testing.T) {
	fw := &failWriter{}
	as := NewAsync(fw)
	writeRow(as, 1)
	as.EndRow()
	if err := as.Close(); err == nil || err.Error() != "disk full" {
		t.Fatalf("Close error %v, want disk full", err)
	}
	if as.Err() == nil || fw.n != 1 {
		t.Fatalf("Err %v after %d writes", as.Err(), fw.n)
	}
}

func TestAsyncNoAllocs(t *testing.T) {
	as := NewAsync(io.Discard)
	defer as.Close()
	for i := 0; i < 5000; i++ { // warm the tapes and the Text buffer
		writeRow(as, i)
		as.EndRow()
	}
	n := testing.AllocsPerRun(1000, func() {
		writeRow(as, 7)
		as.EndRow()
	})
	if n != 0 {
		t.Fatalf("%v allocs per row", n)
	}
}
