package sink

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestAppendUintAgainstStrconv: every power of ten and its neighbours,
// every length, random values, signed extremes.
func TestAppendUintAgainstStrconv(t *testing.T) {
	vals := []uint64{0, math.MaxUint64, math.MaxUint64 - 1}
	for p := uint64(1); ; p *= 10 {
		vals = append(vals, p-1, p, p+1)
		if p > math.MaxUint64/10 {
			break
		}
	}
	for i := 0; i < 64; i++ {
		vals = append(vals, 1<<i, 1<<i-1)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 200000; i++ {
		vals = append(vals, rng.Uint64()>>rng.IntN(64))
	}
	for _, v := range vals {
		if got, want := string(appendUint([]byte("x"), v)), "x"+strconv.FormatUint(v, 10); got != want {
			t.Fatalf("appendUint(%d) = %q, want %q", v, got, want)
		}
		if got, want := string(appendUint(nil, v)), strconv.FormatUint(v, 10); got != want {
			t.Fatalf("appendUint(nil, %d) = %q, want %q", v, got, want)
		}
		s := int64(v)
		if got, want := string(appendInt([]byte("y"), s)), "y"+strconv.FormatInt(s, 10); got != want {
			t.Fatalf("appendInt(%d) = %q, want %q", s, got, want)
		}
	}
	for _, v := range vals[:400] {
		for _, width := range []int{1, 6, 9, 12} {
			if got, want := string(appendUintPadded(nil, v, width)), fmt.Sprintf("%0*d", width, v); got != want {
				t.Fatalf("appendUintPadded(%d, %d) = %q, want %q", v, width, got, want)
			}
		}
	}
	for _, s := range []int64{math.MinInt64, math.MinInt64 + 1, -1, -9, -10, math.MaxInt64} {
		if got, want := string(appendInt(nil, s)), strconv.FormatInt(s, 10); got != want {
			t.Fatalf("appendInt(%d) = %q, want %q", s, got, want)
		}
	}
}

func BenchmarkAppendUint(b *testing.B) {
	var vals [1024]uint64
	for i := range vals {
		// packet columns: small counts, ports, sequence numbers, lengths
		vals[i] = [...]uint64{uint64(i % 60), uint64(i * 37 % 65536), uint64(i) * 2654435761 % (1 << 32), uint64(i * 1460)}[i%4]
	}
	buf := make([]byte, 0, 64<<10)
	b.Run("strconv", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if len(buf) > 60<<10 {
				buf = buf[:0]
			}
			buf = strconv.AppendUint(buf, vals[i&1023], 10)
		}
	})
	b.Run("appendUint", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if len(buf) > 60<<10 {
				buf = buf[:0]
			}
			buf = appendUint(buf, vals[i&1023])
		}
	})
}

// BenchmarkAppendG7 formats the values of a flow row's float columns:
// mostly whole numbers, some fractions.
func BenchmarkAppendG7(b *testing.B) {
	vals := []float32{0, 1, 60, 29200, 65535, 0.4190502, 2.386349, 7.1008e-05, 0, 3}
	buf := make([]byte, 0, 64)
	for i := 0; i < b.N; i++ {
		buf = AppendG7(buf[:0], vals[i%len(vals)])
	}
}
