package header

import (
	"math/rand"
	"strconv"
	"testing"
)

// TestSumMatchesWordSum: Sum folds to the plain sum of the big-endian
// 16-bit words (a trailing odd byte the high byte of a last word), and is
// zero only when that sum is, for every length around the 8- and 32-byte
// steps and for all-zero, all-0xff and random bytes.
func TestSumMatchesWordSum(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	buf := make([]byte, 200)
	for n := 0; n <= len(buf); n++ {
		for kind := range 3 {
			b := buf[:n]
			for i := range b {
				switch kind {
				case 0:
					b[i] = 0
				case 1:
					b[i] = 0xff
				default:
					b[i] = byte(rng.Intn(256))
				}
			}
			var want uint64
			for i := 0; i+1 < n; i += 2 {
				want += uint64(b[i])<<8 | uint64(b[i+1])
			}
			if n%2 == 1 {
				want += uint64(b[n-1]) << 8
			}
			got := Sum(b)
			if Fold(got) != Fold(want) || (got == 0) != (want == 0) {
				t.Fatalf("len %d kind %d: Sum %#x folds to %#x, want %#x", n, kind, got, Fold(got), Fold(want))
			}
		}
	}
	if Fold(0x1_fffe) != 0xffff || Fold(0xffff_ffff) != 0xffff || Fold(0x2_0001) != 3 {
		t.Fatal("Fold")
	}
}

// BenchmarkSum sums a full-size TCP segment's bytes and a small one's.
func BenchmarkSum(b *testing.B) {
	for _, n := range []int{1480, 40} {
		buf := make([]byte, n)
		rand.New(rand.NewSource(1)).Read(buf)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			var s uint64
			for b.Loop() {
				s += Sum(buf)
			}
			sink = s
		})
	}
}

var sink uint64
