package tcpflags

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
// 16-bit word at even offset skip treated as zero (skip < 0: none).
func sum16(b []byte, skip int) uint64 {
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

// fold reduces an unfolded one's-complement sum to 16 bits.
func fold(s uint64) uint32 {
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint32(s)
}
