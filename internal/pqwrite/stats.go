package pqwrite

import (
	"bytes"
	"encoding/binary"
	"math"
)

// stats are a column chunk's minimum, maximum and null count, compared
// as the column's logical type orders them.
type stats struct {
	have       bool
	imin, imax int64
	umin, umax uint64
	fmin, fmax float64
	bmin, bmax []byte
	nulls      int64
}

func (s *stats) addInt(v int64) {
	if !s.have || v < s.imin {
		s.imin = v
	}
	if !s.have || v > s.imax {
		s.imax = v
	}
	s.have = true
}

func (s *stats) addUint(v uint64) {
	if !s.have || v < s.umin {
		s.umin = v
	}
	if !s.have || v > s.umax {
		s.umax = v
	}
	s.have = true
}

// addFloat ignores NaN, as the format asks.
func (s *stats) addFloat(v float64) {
	if math.IsNaN(v) {
		return
	}
	if !s.have || v < s.fmin {
		s.fmin = v
	}
	if !s.have || v > s.fmax {
		s.fmax = v
	}
	s.have = true
}

func (s *stats) addBytes(v []byte) {
	if !s.have || bytes.Compare(v, s.bmin) < 0 {
		s.bmin = append(s.bmin[:0], v...)
	}
	if !s.have || bytes.Compare(v, s.bmax) > 0 {
		s.bmax = append(s.bmax[:0], v...)
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
