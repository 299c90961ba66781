package sink

import (
	"bytes"
	"errors"
	"math/rand"
	"testing"

	"flowsift/internal/column"
)

// Reference forms: the straightforward definitions the fast ones must match.

func appendHexRef(b []byte, v uint64, digits int) []byte {
	b = append(b, '0', 'x')
	n := 1
	for x := v >> 4; x != 0; x >>= 4 {
		n++
	}
	for i := n; i < digits; i++ {
		b = append(b, '0')
	}
	for i := n - 1; i >= 0; i-- {
		b = append(b, hexDigits[(v>>(uint(i)*4))&0xf])
	}
	return b
}

func appendContentRef(b []byte, s []byte) []byte {
	for _, c := range s {
		switch c {
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\v':
			b = append(b, '\\', 'v')
		case '\\':
			b = append(b, '\\', '\\')
		default:
			if c >= 0x20 && c < 0x7f {
				b = append(b, c)
			} else {
				b = append(b, '.')
			}
		}
	}
	return b
}

func TestAppendHexMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for i := 0; i < 100000; i++ {
		v := rng.Uint64() >> uint(rng.Intn(65))
		digits := []int{0, 1, 2, 3, 4, 8, 16, 20}[i%8]
		got, want := AppendHex([]byte("x"), v, digits), appendHexRef([]byte("x"), v, digits)
		if !bytes.Equal(got, want) {
			t.Fatalf("AppendHex(%#x, %d) = %q, want %q", v, digits, got, want)
		}
	}
}

func TestAppendContentMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	buf := make([]byte, 600)
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	if got, want := AppendContent(nil, all), appendContentRef(nil, all); !bytes.Equal(got, want) {
		t.Fatalf("all bytes: %q, want %q", got, want)
	}
	for i := 0; i < 20000; i++ {
		s := buf[:rng.Intn(len(buf))]
		for j := range s {
			if rng.Intn(4) == 0 {
				s[j] = byte(rng.Intn(256))
			} else {
				s[j] = byte(0x20 + rng.Intn(0x5f))
			}
		}
		if got, want := AppendContent([]byte("p"), s), appendContentRef([]byte("p"), s); !bytes.Equal(got, want) {
			t.Fatalf("%q: %q, want %q", s, got, want)
		}
	}
}

// BenchmarkAppendContent formats l7Content of a binary and a text payload.
func BenchmarkAppendContent(b *testing.B) {
	rng := rand.New(rand.NewSource(5))
	bin := make([]byte, 1400)
	rng.Read(bin)
	text := bytes.Repeat([]byte("GET /index.html HTTP/1.1\r\nHost: example.com\r\n"), 30)
	for _, in := range []struct {
		name string
		s    []byte
	}{{"binary", bin}, {"text", text}} {
		b.Run(in.name, func(b *testing.B) {
			out := make([]byte, 0, 4096)
			b.SetBytes(int64(len(in.s)))
			for i := 0; i < b.N; i++ {
				out = AppendContent(out[:0], in.s)
			}
		})
	}
}

// TestHexBytesSameAsRepeatedH checks the compact path for byte lists
// (column.WriteHexBytes) against writing each byte with Rep and H, for the
// text writer itself and through Async, with only text outputs (compact
// tape tag) and with a JSON Lines output beside (per-byte tape ops).
func TestHexBytesSameAsRepeatedH(t *testing.T) {
	lists := [][]byte{nil, {0}, {0x02, 0x04, 0x05, 0xb4}, {0xff, 0x00, 0x10, 0x01, 0xab, 0xcd, 0xef}}
	row := func(w column.Writer, b []byte, fast bool) {
		w.Col()
		w.StrString("x")
		w.Col()
		if fast {
			column.WriteHexBytes(w, b)
		} else {
			column.WriteHexBytesEach(w, b)
		}
		w.Col()
		w.U(7)
	}
	for _, b := range lists {
		var want, got bytes.Buffer
		slow, fast := NewText(&want), NewText(&got)
		row(slow, b, false)
		slow.EndRow()
		row(fast, b, true)
		fast.EndRow()
		if err := errors.Join(slow.Flush(), fast.Flush()); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("Text: %q, want %q", got.String(), want.String())
		}
		for _, withJSON := range []bool{false, true} {
			var viaAsync, js bytes.Buffer
			outs := []Output{NewTextOutput(&viaAsync)}
			if withJSON {
				j, err := NewJSONL(&js, []column.Column{{Name: "a", Type: "S"}, {Name: "b", Type: "H8:R"}, {Name: "c", Type: "U8"}}, false)
				if err != nil {
					t.Fatal(err)
				}
				outs = append(outs, j)
			}
			a := NewAsyncOutputs(outs...)
			if a.hexBytesTag == withJSON {
				t.Fatalf("hexBytesTag = %v with JSON output %v", a.hexBytesTag, withJSON)
			}
			row(a, b, true)
			a.EndRow()
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			if viaAsync.String() != want.String() {
				t.Fatalf("Async (JSON beside: %v): %q, want %q", withJSON, viaAsync.String(), want.String())
			}
		}
	}
}

// TestParquetHexBytesSameAsRepeatedH: a Parquet output takes the compact
// tape tag for byte lists (column.WriteHexBytes); its file must be the
// same, byte for byte, as the one written from a Rep and an H per byte.
// Rows mix empty, one-byte and long lists, and a list written as two
// byte runs (a Rep between them).
func TestParquetHexBytesSameAsRepeatedH(t *testing.T) {
	cols := []column.Column{{Name: "a", Type: "S"}, {Name: "b", Type: "H8:R"}, {Name: "c", Type: "U8"}}
	lists := [][]byte{nil, {0}, {0x02, 0x04, 0x05, 0xb4}, {0xff, 0x00, 0x10, 0x01, 0xab, 0xcd, 0xef}, {1}, {1}, {2, 2, 2}}
	write := func(fast bool) []byte {
		var buf bytes.Buffer
		p, err := NewParquet(&buf, cols, ParquetMeta{Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		a := NewAsyncOutputs(p)
		if a.hexBytesTag != true {
			t.Fatal("a Parquet output does not take the compact tag")
		}
		for r := 0; r < 3000; r++ {
			b := lists[r%len(lists)]
			a.Col()
			a.StrString("x")
			a.Col()
			if fast {
				column.WriteHexBytes(a, b)
			} else {
				column.WriteHexBytesEach(a, b)
			}
			if r%5 == 0 && len(b) > 0 { // a second run of bytes in the same list
				a.Rep()
				if fast {
					column.WriteHexBytes(a, b)
				} else {
					column.WriteHexBytesEach(a, b)
				}
			}
			a.Col()
			a.U(uint64(r))
			a.EndRow()
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	slow, fast := write(false), write(true)
	if !bytes.Equal(slow, fast) {
		t.Fatalf("files differ: %d and %d bytes", len(slow), len(fast))
	}
}
