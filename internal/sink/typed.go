package sink

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"flowsift/internal/column"
)

// The typed-value layer: a recorded row (a tape) becomes a Row of typed
// values laid out by the columns' shapes (column.Shape). The JSON Lines
// and Parquet writers, and any later typed sink, are driven by it. Every
// text cell can be reproduced from its typed values (CellText).

// TypedValue is one typed part value. Kind is the part's declared kind, 0 for
// a missing value (an empty cell: null).
type TypedValue struct {
	Kind column.Kind
	// U holds unsigned and hex values, signed ones as two's complement,
	// floats as the bits of a float64 (a float32 widened exactly), times
	// and durations as their seconds.
	U uint64
	// N is the nanoseconds of a time or duration.
	N uint32
	// Off and Len locate a string, MAC, IP or character in Row.Bytes, in
	// its typed form: valid UTF-8 for sanitised strings, the text for
	// MAC, IP and l7Content.
	Off, Len uint32
}

// Int is a signed value.
func (v TypedValue) Int() int64 { return int64(v.U) }

// Float is a float value (float32 widened to float64).
func (v TypedValue) Float() float64 { return math.Float64frombits(v.U) }

// TimeNanos is a time or duration as signed nanoseconds since 1970 (or
// signed length): the seconds are read as a signed 64-bit number, which
// gives Tranalyzer's wrapped negative differences their sign back. ok is
// false when that does not fit in 64 bits or nsec is not below 10^9.
func (v TypedValue) TimeNanos() (ns int64, ok bool) {
	sec := int64(v.U)
	if v.N >= 1e9 || sec > math.MaxInt64/1_000_000_000-1 || sec < math.MinInt64/1_000_000_000+1 {
		return 0, false
	}
	return sec*1e9 + int64(v.N), true
}

// Seconds is a duration in seconds (a double, as the typed writers give
// it); see DurationExact for when it keeps every digit.
func (v TypedValue) Seconds() float64 {
	if ns, ok := v.TimeNanos(); ok {
		return float64(ns) / 1e9
	}
	return float64(v.U) + float64(v.N)/1e9
}

// Cell locates a column's values in Row.Vals: Reps repetitions of
// len(shape.Parts) values each, starting at Start. Reps 0: an empty cell.
type Cell struct {
	Start, Reps int32
}

// Row is one typed row.
type Row struct {
	Cells []Cell
	Vals  []TypedValue
	Bytes []byte
}

// Str returns the bytes of a string-like value.
func (r *Row) Str(v TypedValue) []byte { return r.Bytes[v.Off : v.Off+v.Len] }

// Part returns part p of repetition rep of column c.
func (r *Row) Part(shapes []column.Shape, c, rep, p int) TypedValue {
	return r.Vals[int(r.Cells[c].Start)+rep*len(shapes[c].Parts)+p]
}

// RowBuilder turns tapes into Rows.
type RowBuilder struct {
	shapes []column.Shape
	row    Row
	col    int
	part   int
	inRep  bool
	// scratch takes values a declaration has no room for.
	scratch TypedValue
}

// NewRowBuilder returns a builder for rows of the given shapes.
func NewRowBuilder(shapes []column.Shape) *RowBuilder {
	return &RowBuilder{shapes: shapes, col: -1}
}

// Replay decodes the rows of a tape, calling emit for each complete row
// (the Row is reused: emit must not keep it).
func (rb *RowBuilder) Replay(b []byte, emit func(*Row)) {
	le := binary.LittleEndian
	for i := 0; i < len(b); {
		tag := b[i]
		i++
		switch tag {
		case tCol:
			rb.nextCol()
		case tSub:
			rb.part++
		case tRep:
			rb.newRep()
		case tDir:
			v := rb.slot()
			v.Off, v.Len = uint32(len(rb.row.Bytes)), 1
			rb.row.Bytes = append(rb.row.Bytes, b[i])
			i++
		case tU, tI:
			rb.slot().U = le.Uint64(b[i:])
			i += 8
		case tH:
			rb.slot().U = le.Uint64(b[i+1:])
			i += 9
		case tF32:
			rb.slot().U = math.Float64bits(float64(math.Float32frombits(le.Uint32(b[i:]))))
			i += 4
		case tF64, tFixed9:
			rb.slot().U = le.Uint64(b[i:])
			i += 8
		case tTime:
			v := rb.slot()
			v.U, v.N = le.Uint64(b[i:]), le.Uint32(b[i+8:])
			i += 12
		case tStr, tStrClass, tRaw, tContent, tHeader:
			n := int(le.Uint32(b[i:]))
			s := b[i+4 : i+4+n]
			i += 4 + n
			if tag == tHeader {
				continue
			}
			v := rb.slot()
			off := len(rb.row.Bytes)
			switch tag {
			case tContent:
				rb.row.Bytes = AppendContent(rb.row.Bytes, s)
			case tRaw:
				rb.row.Bytes = append(rb.row.Bytes, s...)
			default:
				rb.row.Bytes = AppendValidUTF8(rb.row.Bytes, s)
			}
			v.Off, v.Len = uint32(off), uint32(len(rb.row.Bytes)-off)
		case tMAC:
			v := rb.slot()
			off := len(rb.row.Bytes)
			rb.row.Bytes = AppendMAC(rb.row.Bytes, [6]byte(b[i:i+6]))
			v.Off, v.Len = uint32(off), uint32(len(rb.row.Bytes)-off)
			i += 6
		case tIP4, tIP6, tIPNone:
			ver, a, n := tapeIP(tag, b[i:])
			i += n
			v := rb.slot()
			off := len(rb.row.Bytes)
			rb.row.Bytes = AppendIP(rb.row.Bytes, ver, &a)
			v.Off, v.Len = uint32(off), uint32(len(rb.row.Bytes)-off)
		case tEndRow:
			for rb.col < len(rb.shapes)-1 {
				rb.nextCol()
			}
			emit(&rb.row)
			rb.row.Cells = rb.row.Cells[:0]
			rb.row.Vals = rb.row.Vals[:0]
			rb.row.Bytes = rb.row.Bytes[:0]
			rb.col = -1
		}
	}
}

func (rb *RowBuilder) nextCol() {
	rb.col++
	rb.part = 0
	rb.inRep = false
	rb.row.Cells = append(rb.row.Cells, Cell{Start: int32(len(rb.row.Vals))})
}

// newRep starts a repetition: one missing value per part.
func (rb *RowBuilder) newRep() {
	rb.part = 0
	rb.inRep = true
	n := 1
	if rb.col < len(rb.shapes) {
		n = len(rb.shapes[rb.col].Parts)
	}
	for i := 0; i < n; i++ {
		rb.row.Vals = append(rb.row.Vals, TypedValue{})
	}
	rb.row.Cells[rb.col].Reps++
}

// slot returns the value the next tape value fills, with its declared
// kind. Values beyond the declaration (a plugin bug) are dropped into a
// scratch value.
func (rb *RowBuilder) slot() *TypedValue {
	if rb.col < 0 || rb.col >= len(rb.shapes) {
		rb.scratch = TypedValue{}
		return &rb.scratch
	}
	if !rb.inRep {
		rb.newRep()
	}
	parts := rb.shapes[rb.col].Parts
	if rb.part >= len(parts) {
		rb.scratch = TypedValue{}
		return &rb.scratch
	}
	c := rb.row.Cells[rb.col]
	v := &rb.row.Vals[int(c.Start)+int(c.Reps-1)*len(parts)+rb.part]
	v.Kind = parts[rb.part].Kind
	return v
}

// AppendValidUTF8 appends s with every byte that is not part of valid
// UTF-8 replaced by '.', as the text sanitiser does (core.md §12.1): the
// typed form of a string, from which AppendSanitized gives the text again.
func AppendValidUTF8(b []byte, s []byte) []byte {
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			b = append(b, s[i])
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n <= 1 {
			b = append(b, '.')
			i++
			continue
		}
		b = append(b, s[i:i+n]...)
		i += n
	}
	return b
}

// AppendPartText appends the text form of one typed value of part p of a
// column of shape s: what the text file shows for it. Missing values
// append nothing.
func AppendPartText(b []byte, s column.Shape, p column.Part, v TypedValue, row *Row) []byte {
	if v.Kind == 0 {
		return b
	}
	switch p.Kind {
	case column.KindUint:
		return strconv.AppendUint(b, v.U, 10)
	case column.KindInt:
		return strconv.AppendInt(b, v.Int(), 10)
	case column.KindHex:
		return AppendHex(b, v.U, p.Bits/4)
	case column.KindFloat32:
		return AppendG7(b, float32(v.Float()))
	case column.KindFloat64:
		if s.Text == column.TextFixed9 {
			return AppendFixed(b, v.Float(), 9)
		}
		return AppendFixed(b, v.Float(), 6)
	case column.KindTime, column.KindDuration:
		return AppendTime(b, v.U, v.N)
	case column.KindString:
		str := row.Str(v)
		if s.Text == column.TextRaw || s.Text == column.TextContent {
			return append(b, str...)
		}
		if p.Quoted {
			b = append(b, '"')
			b = AppendSanitized(b, str)
			return append(b, '"')
		}
		return AppendSanitized(b, str)
	}
	return append(b, row.Str(v)...) // char, MAC, IP: their text
}

// AppendCellText appends the text cell of column c of row: repetitions
// joined by ';', parts by '_'.
func AppendCellText(b []byte, shapes []column.Shape, row *Row, c int) []byte {
	s := shapes[c]
	cell := row.Cells[c]
	for rep := 0; rep < int(cell.Reps); rep++ {
		if rep > 0 {
			b = append(b, ';')
		}
		for p := range s.Parts {
			if p > 0 {
				b = append(b, '_')
			}
			b = AppendPartText(b, s, s.Parts[p], row.Part(shapes, c, rep, p), row)
		}
	}
	return b
}

// TimeValue is the typed value of a time given as signed nanoseconds
// since 1970 (a Parquet timestamp): the inverse of TypedValue.TimeNanos.
func TimeValue(ns int64) TypedValue {
	sec, nsec := ns/1e9, ns%1e9
	if nsec < 0 {
		sec--
		nsec += 1e9
	}
	return TypedValue{Kind: column.KindTime, U: uint64(sec), N: uint32(nsec)}
}

// DurationValue is the typed value of a duration given in seconds (a
// double): the inverse of TypedValue.Seconds, exact while the duration has at
// most 15 significant digits (|d| below about 10^6 s).
func DurationValue(d float64) TypedValue {
	text := strconv.AppendFloat(nil, d, 'f', 9, 64)
	neg := len(text) > 0 && text[0] == '-'
	if neg {
		text = text[1:]
	}
	dot := len(text) - 10
	sec, _ := strconv.ParseInt(string(text[:dot]), 10, 64)
	nsec, _ := strconv.ParseInt(string(text[dot+1:]), 10, 64)
	if neg {
		sec, nsec = -sec, -nsec
		if nsec < 0 {
			sec--
			nsec += 1e9
		}
	}
	return TypedValue{Kind: column.KindDuration, U: uint64(sec), N: uint32(nsec)}
}

// JSONType and ParquetType name a shape's types in the JSON Lines and
// Parquet files (docs/formats.md).
func JSONType(s column.Shape) string    { return typeName(s, jsonPart, "[", "]") }
func ParquetType(s column.Shape) string { return typeName(s, parquetPart, "STRUCT(", ")") }

func typeName(s column.Shape, part func(column.Part, column.Shape) string, open, close string) string {
	var t string
	if s.Compound() {
		var ps []string
		for _, p := range s.Parts {
			if open == "[" {
				ps = append(ps, part(p, s))
			} else {
				ps = append(ps, p.Name+" "+part(p, s))
			}
		}
		t = open + strings.Join(ps, ", ") + close
	} else {
		t = part(s.Parts[0], s)
	}
	if s.Repeated {
		if open == "[" {
			return "array of " + t
		}
		return "LIST(" + t + ")"
	}
	return t
}

func jsonPart(p column.Part, s column.Shape) string {
	switch p.Kind {
	case column.KindUint, column.KindInt:
		return "integer"
	case column.KindHex:
		return "integer (`--json-hex`: string)"
	case column.KindFloat32, column.KindFloat64:
		return "number"
	case column.KindTime:
		return "number (seconds)"
	case column.KindDuration:
		return "number (seconds)"
	}
	return "string"
}

func parquetPart(p column.Part, s column.Shape) string {
	switch p.Kind {
	case column.KindUint, column.KindHex:
		return "UINT" + strconv.Itoa(p.Bits)
	case column.KindInt:
		return "INT" + strconv.Itoa(p.Bits)
	case column.KindFloat32, column.KindFloat64, column.KindDuration:
		return "DOUBLE"
	case column.KindTime:
		return "TIMESTAMP(NANOS, UTC)"
	}
	return "STRING"
}
