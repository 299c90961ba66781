package pqwrite

import (
	"bytes"
	"encoding/binary"
	"math"
	"unsafe"
)

// stats are a column chunk's minimum, maximum and null count, compared
// as the column's logical type orders them.
type stats struct {
	have       bool
	imin, imax int64
	umin, umax uint64
	fmin, fmax float64
	bmin, bmax []byte
	kmin, kmax uint64 // prefixKey of bmin and bmax
	nulls      int64
}

// add takes a page's PLAIN values into the statistics and returns the
// span of its integers (greatest minus least; the largest span for other
// types and no values). It runs in the compression goroutine, off the
// path of every value.
func (s *stats) add(c *Column, vals []byte) (span uint64) {
	span = math.MaxUint64
	if len(vals) == 0 {
		return span
	}
	le := binary.LittleEndian
	switch {
	case c.physical == ByteArray:
		var prev []byte
		first := true
		for i := 0; i+4 <= len(vals); {
			n := int(le.Uint32(vals[i:]))
			v := vals[i+4 : i+4+n]
			i += 4 + n
			// Most values lie strictly between the minimum and the
			// maximum already in their first 8 bytes: two integer
			// comparisons instead of two byte comparisons.
			if k := prefixKey(v); s.have && k > s.kmin && k < s.kmax {
				continue
			}
			// Strings come in runs (an address, a header description): a
			// value like the one before changes nothing.
			if !first && bytes.Equal(v, prev) {
				continue
			}
			prev, first = v, false
			if !s.have || bytes.Compare(v, s.bmin) < 0 {
				s.bmin = append(s.bmin[:0], v...)
				s.kmin = prefixKey(v)
			}
			if !s.have || bytes.Compare(v, s.bmax) > 0 {
				s.bmax = append(s.bmax[:0], v...)
				s.kmax = prefixKey(v)
			}
			s.have = true
		}
	case c.physical == Double:
		for i := 0; i+8 <= len(vals); i += 8 {
			v := math.Float64frombits(le.Uint64(vals[i:]))
			if math.IsNaN(v) { // ignored, as the format asks
				continue
			}
			if !s.have || v < s.fmin {
				s.fmin = v
			}
			if !s.have || v > s.fmax {
				s.fmax = v
			}
			s.have = true
		}
	case c.logical == Unsigned && c.physical == Int32:
		lo, hi := minMax[uint32](vals, 0)
		s.addUint(uint64(lo), uint64(hi))
		span = uint64(hi - lo)
	case c.physical == Int32:
		// Signed: flipping the sign bit orders them as unsigned numbers.
		lo, hi := minMax[uint32](vals, 1<<31)
		s.addInt(int64(int32(lo^1<<31)), int64(int32(hi^1<<31)))
		span = uint64(hi - lo)
	case c.logical == Unsigned:
		lo, hi := minMax[uint64](vals, 0)
		s.addUint(lo, hi)
		span = hi - lo
	default:
		lo, hi := minMax[uint64](vals, 1<<63)
		s.addInt(int64(lo^1<<63), int64(hi^1<<63))
		span = hi - lo
	}
	return span
}

// prefixKey is the first 8 bytes of v as a big-endian number, shorter
// values padded with zeros. Keys in strict order mean the values are in
// the same order (a padding zero is below any byte but another zero, where
// the shorter value is a prefix so far); equal keys decide nothing.
func prefixKey(v []byte) uint64 {
	if len(v) >= 8 {
		return binary.BigEndian.Uint64(v)
	}
	var b [8]byte
	copy(b[:], v)
	return binary.BigEndian.Uint64(b[:])
}

// minMax returns the least and greatest of the little-endian values of
// T's width in v (at least one), each XORed with flip, compared unsigned.
// Four at a time into two minimums and two maximums: half the
// comparisons do not wait for the one before (with a single running
// minimum and maximum a page took 1.8 times as long, BenchmarkMinMax;
// four of each spill registers).
func minMax[T uint32 | uint64](v []byte, flip T) (lo, hi T) {
	w := int(unsafe.Sizeof(flip))
	lo = load[T](v) ^ flip
	hi = lo
	if len(v) >= 4*w {
		l0, l1, h0, h1 := lo, lo, lo, lo
		for ; len(v) >= 4*w; v = v[4*w:] {
			a, b, c, d := load[T](v)^flip, load[T](v[w:])^flip, load[T](v[2*w:])^flip, load[T](v[3*w:])^flip
			l0, l1 = min(l0, a, c), min(l1, b, d)
			h0, h1 = max(h0, a, c), max(h1, b, d)
		}
		lo, hi = min(l0, l1), max(h0, h1)
	}
	for ; len(v) >= w; v = v[w:] {
		a := load[T](v) ^ flip
		lo, hi = min(lo, a), max(hi, a)
	}
	return lo, hi
}

// load reads a little-endian value of T's width (the width is a
// constant in each instantiation, so the branch is compiled away).
func load[T uint32 | uint64](b []byte) T {
	var z T
	if unsafe.Sizeof(z) == 4 {
		return T(binary.LittleEndian.Uint32(b))
	}
	return T(binary.LittleEndian.Uint64(b))
}

// addBytes takes the values of a bytes8 page (unsigned, a byte each)
// into the statistics.
func (s *stats) addBytes(v []byte) {
	l0, h0 := v[0], v[0]
	l1, h1 := l0, h0
	for ; len(v) >= 4; v = v[4:] {
		l0, l1 = min(l0, v[0], v[2]), min(l1, v[1], v[3])
		h0, h1 = max(h0, v[0], v[2]), max(h1, v[1], v[3])
	}
	for _, x := range v {
		l0, h0 = min(l0, x), max(h0, x)
	}
	s.addUint(uint64(min(l0, l1)), uint64(max(h0, h1)))
}

func (s *stats) addInt(lo, hi int64) {
	if !s.have || lo < s.imin {
		s.imin = lo
	}
	if !s.have || hi > s.imax {
		s.imax = hi
	}
	s.have = true
}

func (s *stats) addUint(lo, hi uint64) {
	if !s.have || lo < s.umin {
		s.umin = lo
	}
	if !s.have || hi > s.umax {
		s.umax = hi
	}
	s.have = true
}

// write writes the Statistics struct as field id of its parent:
// null_count, max_value, min_value (PLAIN-encoded, without length prefix).
func (s *stats) write(t *thrift, id int16, c *Column) {
	t.structField(id)
	t.i64(3, s.nulls)
	if s.have {
		var lo, hi []byte
		le := binary.LittleEndian
		switch {
		case c.physical == ByteArray:
			lo, hi = s.bmin, s.bmax
		case c.physical == Double:
			// -0 and +0 compare equal: widen the bounds as the format asks.
			fmin, fmax := s.fmin, s.fmax
			if fmin == 0 {
				fmin = math.Copysign(0, -1)
			}
			if fmax == 0 {
				fmax = 0
			}
			lo, hi = le.AppendUint64(nil, math.Float64bits(fmin)), le.AppendUint64(nil, math.Float64bits(fmax))
		case c.logical == Unsigned && c.physical == Int32:
			lo, hi = le.AppendUint32(nil, uint32(s.umin)), le.AppendUint32(nil, uint32(s.umax))
		case c.logical == Unsigned:
			lo, hi = le.AppendUint64(nil, s.umin), le.AppendUint64(nil, s.umax)
		case c.physical == Int32:
			lo, hi = le.AppendUint32(nil, uint32(s.imin)), le.AppendUint32(nil, uint32(s.imax))
		default:
			lo, hi = le.AppendUint64(nil, uint64(s.imin)), le.AppendUint64(nil, uint64(s.imax))
		}
		t.bin(5, hi)
		t.bin(6, lo)
	}
	t.end()
}
