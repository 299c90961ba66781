package tcpflags

import (
	"encoding/binary"
	"math/bits"
)

// Bounds-checked readers: Tranalyzer reads header fields even where the
// capture ended (the bytes are then whatever its buffer held); we read 0.

func u8(d []byte, i int) uint8 {
	if i < 0 || i >= len(d) {
		return 0
	}
	return d[i]
}

func u16(d []byte, i int) uint16 {
	return uint16(u8(d, i))<<8 | uint16(u8(d, i+1))
}

func u32(d []byte, i int) uint32 {
	return uint32(u16(d, i))<<16 | uint32(u16(d, i+2))
}

// sum16 is the RFC 1071 one's-complement sum of b (unfolded), with the
// 16-bit word at even offset skip treated as zero (skip < 0: none). The
// value is congruent to the plain sum of the 16-bit words modulo 0xffff and
// zero only if that sum is, which is all fold and its callers rely on.
func sum16(b []byte, skip int) uint64 {
	if skip >= 0 && skip&1 == 0 && skip+1 < len(b) {
		return sumWords(b[:skip]) + sumWords(b[skip+2:])
	}
	return sumWords(b)
}

// sumWords adds b as 64-bit words and folds the total into 16 bits; a
// trailing odd byte is the high byte of a last word. The one's-complement
// sum does not depend on byte order (RFC 1071 §2(B)), so the words are
// loaded little-endian (no byte swap) and the folded sum is swapped once;
// four words per round share one carry chain (each carry out, 2^64, is 1
// modulo 0xffff, the end-around carry).
func sumWords(b []byte) uint64 {
	var s, c uint64
	for len(b) >= 32 {
		s, c = bits.Add64(s, binary.LittleEndian.Uint64(b), c)
		s, c = bits.Add64(s, binary.LittleEndian.Uint64(b[8:]), c)
		s, c = bits.Add64(s, binary.LittleEndian.Uint64(b[16:]), c)
		s, c = bits.Add64(s, binary.LittleEndian.Uint64(b[24:]), c)
		b = b[32:]
	}
	for len(b) >= 8 {
		s, c = bits.Add64(s, binary.LittleEndian.Uint64(b), c)
		b = b[8:]
	}
	le := fold(s>>48 + s>>32&0xffff + s>>16&0xffff + s&0xffff + c)
	r := uint64(bits.ReverseBytes16(uint16(le)))
	for len(b) >= 2 {
		r += uint64(b[0])<<8 | uint64(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		r += uint64(b[0]) << 8
	}
	return r
}

// fold reduces an unfolded one's-complement sum to 16 bits.
func fold(s uint64) uint32 {
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint32(s)
}
