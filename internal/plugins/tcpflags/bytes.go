package tcpflags

import "flowsift/internal/header"

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
// zero only if that sum is, which is all header.Fold and its callers rely
// on.
func sum16(b []byte, skip int) uint64 {
	if skip >= 0 && skip&1 == 0 && skip+1 < len(b) {
		return header.Sum(b[:skip]) + header.Sum(b[skip+2:])
	}
	return header.Sum(b)
}
