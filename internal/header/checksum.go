package header

import (
	"encoding/binary"
	"math/bits"
)

// Sum is the RFC 1071 one's-complement sum of b read as big-endian 16-bit
// words (unfolded; a trailing odd byte is the high byte of a last word).
// The value is congruent to the plain sum of the words modulo 0xffff and
// zero only if that sum is, which is all Fold and checksum checks rely on.
//
// The one's-complement sum does not depend on byte order (RFC 1071
// §2(B)), so the words are loaded little-endian (no byte swap) and the
// folded sum is swapped once; four words per round share one carry chain
// (each carry out, 2^64, is 1 modulo 0xffff, the end-around carry).
func Sum(b []byte) uint64 {
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
	le := Fold(s>>48 + s>>32&0xffff + s>>16&0xffff + s&0xffff + c)
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

// PseudoSum is the unfolded sum of the TCP/UDP pseudo header (RFC 9293
// §3.1, RFC 8200 §8.1): the source and destination addresses (4 or 16
// bytes), the protocol and the transport length.
func PseudoSum(src, dst []byte, proto uint8, length uint32) uint64 {
	return Sum(src) + Sum(dst) + uint64(proto) + uint64(length>>16) + uint64(length&0xffff)
}

// Fold reduces an unfolded one's-complement sum to 16 bits.
func Fold(s uint64) uint32 {
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint32(s)
}
