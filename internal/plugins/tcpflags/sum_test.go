package tcpflags

import (
	"math/rand"
	"testing"

	"flowsift/internal/header"
)

// sum16Ref is the word-by-word definition sum16 must agree with.
func sum16Ref(b []byte, skip int) uint64 {
	var s uint64
	n := len(b) &^ 1
	for i := 0; i < n; i += 2 {
		if i == skip {
			continue
		}
		s += uint64(b[i])<<8 | uint64(b[i+1])
	}
	if len(b)&1 != 0 {
		s += uint64(b[len(b)-1]) << 8
	}
	return s
}

// TestSum16MatchesWordSum checks the folded sums, with extra terms added
// before folding as the callers do, on random, all-zero and all-0xff data.
func TestSum16MatchesWordSum(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	buf := make([]byte, 3000)
	for i := 0; i < 20000; i++ {
		n := rng.Intn(len(buf))
		b := buf[:n]
		switch i % 4 {
		case 0:
			clear(b)
		case 1:
			for j := range b {
				b[j] = 0xff
			}
		default:
			rng.Read(b)
			if i%8 == 2 && n > 0 { // mostly zeros
				clear(b)
				b[rng.Intn(n)] = byte(rng.Intn(256))
			}
		}
		skip := -1
		if n > 0 && i%3 != 0 {
			skip = rng.Intn(n + 2)
		}
		extra := uint64(0)
		if i%5 == 0 {
			extra = uint64(rng.Intn(1 << 17))
		}
		got, want := sum16(b, skip), sum16Ref(b, skip)
		if header.Fold(got+extra) != header.Fold(want+extra) || (got == 0) != (want == 0) {
			t.Fatalf("len %d skip %d extra %d: fold %#x, want %#x (raw %d, %d)", n, skip, extra,
				header.Fold(got+extra), header.Fold(want+extra), got, want)
		}
	}
}

// BenchmarkSum16 sums a typical full-size segment (1460 bytes of payload
// and 20 of TCP header).
func BenchmarkSum16(b *testing.B) {
	buf := make([]byte, 1480)
	rand.New(rand.NewSource(1)).Read(buf)
	b.SetBytes(int64(len(buf)))
	var s uint64
	for b.Loop() {
		s += sum16(buf, 16)
	}
	_ = s
}
