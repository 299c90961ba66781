package clickhouse

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"flowsift/internal/column"
	"flowsift/internal/sink"
)

// RowBinary is ClickHouse's binary row format: each value in its native
// little-endian form, strings and arrays prefixed by a varint length,
// Nullable values by a null byte, tuples as their elements in order.
// Every typed value goes through it untouched: integers and hex bit
// fields in their width, floats as their bits, times as nanoseconds.

// Encoder appends typed rows (sink.Row) of a table in RowBinary. The run
// sends Native (NativeEncoder); this row-wise encoder is the reference the
// tests hold the Native one against, value for value.
type Encoder struct {
	t *Table
	// prefix is the encoded sensor and captureFile of every row.
	prefix []byte
	// KeyZeroed counts sorting-key times outside what Int64 nanoseconds
	// hold (years 1677 to 2262), written as 0: the key cannot be NULL.
	KeyZeroed uint64
}

// NewEncoder returns an encoder of rows of t with the run's sensor and
// capture file.
func NewEncoder(t *Table, sensor uint32, capture string) *Encoder {
	e := &Encoder{t: t}
	e.prefix = binary.LittleEndian.AppendUint32(nil, sensor)
	e.prefix = appendString(e.prefix, []byte(capture))
	return e
}

// Append appends row in RowBinary.
func (e *Encoder) Append(b []byte, row *sink.Row) []byte {
	b = append(b, e.prefix...)
	shapes := e.t.Shapes
	for c, s := range shapes {
		cell := row.Cells[c]
		reps := int(cell.Reps)
		switch {
		case s.Repeated && s.Compound():
			// Nested: one array per part.
			for p := range s.Parts {
				b = binary.AppendUvarint(b, uint64(reps))
				for rep := 0; rep < reps; rep++ {
					v := row.Part(shapes, c, rep, p)
					b = e.appendNullable(b, &s.Parts[p], &v, row)
				}
			}
		case s.Compound():
			for p := range s.Parts {
				v := sink.TypedValue{}
				if reps > 0 {
					v = row.Part(shapes, c, 0, p)
				}
				b = e.appendNullable(b, &s.Parts[p], &v, row)
			}
		case s.Repeated:
			b = binary.AppendUvarint(b, uint64(reps))
			for rep := 0; rep < reps; rep++ {
				v := row.Part(shapes, c, rep, 0)
				b = e.appendNullable(b, &s.Parts[0], &v, row)
			}
		default:
			v := sink.TypedValue{}
			if reps > 0 {
				v = row.Part(shapes, c, 0, 0)
			}
			if e.t.notNull[c] {
				var ok bool
				if b, ok = appendValue(b, &s.Parts[0], &v, row); !ok {
					e.KeyZeroed++
					b = appendZero(b, &s.Parts[0])
				}
				continue
			}
			b = e.appendNullable(b, &s.Parts[0], &v, row)
		}
	}
	return b
}

// appendNullable appends a Nullable value: 1 for NULL (a missing value, or
// a time outside Int64 nanoseconds, as in Parquet), else 0 and the value.
func (e *Encoder) appendNullable(b []byte, p *column.Part, v *sink.TypedValue, row *sink.Row) []byte {
	n := len(b)
	b = append(b, 0)
	b, ok := appendValue(b, p, v, row)
	if !ok {
		b = append(b[:n], 1)
	}
	return b
}

// appendValue appends a value of part p; ok is false (and nothing is
// appended) when it has none.
func appendValue(b []byte, p *column.Part, v *sink.TypedValue, row *sink.Row) ([]byte, bool) {
	if v.Kind == 0 {
		return b, false
	}
	le := binary.LittleEndian
	switch p.Kind {
	case column.KindUint, column.KindHex, column.KindInt:
		switch p.Bits {
		case 8:
			return append(b, byte(v.U)), true
		case 16:
			return le.AppendUint16(b, uint16(v.U)), true
		case 32:
			return le.AppendUint32(b, uint32(v.U)), true
		}
		return le.AppendUint64(b, v.U), true
	case column.KindFloat32, column.KindFloat64:
		return le.AppendUint64(b, v.U), true
	case column.KindTime:
		ns, ok := v.TimeNanos()
		if !ok {
			return b, false
		}
		return le.AppendUint64(b, uint64(ns)), true
	case column.KindDuration:
		return le.AppendUint64(b, math.Float64bits(v.Seconds())), true
	}
	return appendString(b, row.Str(*v)), true
}

func appendZero(b []byte, p *column.Part) []byte {
	switch p.Kind {
	case column.KindUint, column.KindHex, column.KindInt:
		return append(b, make([]byte, p.Bits/8)...)
	case column.KindFloat32, column.KindFloat64, column.KindTime, column.KindDuration:
		return append(b, make([]byte, 8)...)
	}
	return append(b, 0)
}

func appendString(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// errShort is the decoding error of a truncated RowBinary row.
var errShort = errors.New("RowBinary row truncated")

// AppendJSONRow decodes one RowBinary row of columns cols (their parsed
// types) from data and appends it as a JSON object (a line of the
// failed-batch file, keys the column names). It returns the bytes of data
// it used. Numbers keep every digit (floats in Go's shortest form that
// reads back to the same double; NaN and infinities as the strings "nan",
// "-nan", "inf", "-inf"); a string that is not valid UTF-8, which a JSON string
// cannot hold byte for byte, becomes {"base64": "..."}.
func AppendJSONRow(b []byte, cols []Col, types []*Type, data []byte) ([]byte, int, error) {
	d := decoder{data: data}
	b = append(b, '{')
	for i, c := range cols {
		b = appendJSONKey(b, i, c.Name)
		var err error
		if b, err = d.json(b, types[i], 0); err != nil {
			return b, d.i, fmt.Errorf("column %s: %w", c.Name, err)
		}
	}
	return append(b, '}', '\n'), d.i, nil
}

// appendJSONKey appends column i's key of a failed-batch JSON object (and
// the comma before every key but the first).
func appendJSONKey(b []byte, i int, name string) []byte {
	if i > 0 {
		b = append(b, ',')
	}
	b = sink.AppendJSONString(b, []byte(name))
	return append(b, ':')
}

type decoder struct {
	data []byte
	i    int
}

func (d *decoder) take(n int) ([]byte, error) {
	if n < 0 || d.i+n > len(d.data) || d.i+n < d.i {
		return nil, errShort
	}
	s := d.data[d.i : d.i+n]
	d.i += n
	return s, nil
}

func (d *decoder) uvarint() (uint64, error) {
	v, n := binary.Uvarint(d.data[d.i:])
	if n <= 0 {
		return 0, errShort
	}
	d.i += n
	return v, nil
}

func (d *decoder) json(b []byte, t *Type, depth int) ([]byte, error) {
	if depth > maxTypeDepth {
		return b, errors.New("type nested too deeply")
	}
	switch t.Base {
	case "Nullable":
		s, err := d.take(1)
		if err != nil {
			return b, err
		}
		if s[0] != 0 {
			return append(b, "null"...), nil
		}
		return d.json(b, t.Elems[0], depth+1)
	case "Array":
		n, err := d.uvarint()
		if err != nil {
			return b, err
		}
		if n > uint64(len(d.data)-d.i) { // every element takes a byte at least
			return b, errShort
		}
		b = append(b, '[')
		for k := uint64(0); k < n; k++ {
			if k > 0 {
				b = append(b, ',')
			}
			if b, err = d.json(b, t.Elems[0], depth+1); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case "Tuple":
		b = append(b, '[')
		for k, e := range t.Elems {
			if k > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = d.json(b, e, depth+1); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case "String":
		n, err := d.uvarint()
		if err != nil {
			return b, err
		}
		if n > uint64(len(d.data)-d.i) {
			return b, errShort
		}
		s, _ := d.take(int(n))
		return appendJSONBytes(b, s), nil
	}
	s, err := d.take(t.Bytes)
	if err != nil {
		return b, err
	}
	return appendJSONNumber(b, t, s), nil
}

// appendJSONBytes appends a String value as JSON: a string, or
// {"base64": "..."} when it is not valid UTF-8.
func appendJSONBytes(b, s []byte) []byte {
	if utf8.Valid(s) {
		return sink.AppendJSONString(b, s)
	}
	b = append(b, `{"base64":"`...)
	b = base64.StdEncoding.AppendEncode(b, s)
	return append(b, `"}`...)
}

// appendJSONNumber appends an integer or Float64 of type t, little-endian
// in s (t.Bytes long), as JSON.
func appendJSONNumber(b []byte, t *Type, s []byte) []byte {
	var u uint64
	for k := len(s) - 1; k >= 0; k-- {
		u = u<<8 | uint64(s[k])
	}
	switch {
	case t.Base == "Float64":
		f := math.Float64frombits(u)
		switch {
		case math.IsNaN(f) && math.Signbit(f):
			return append(b, `"-nan"`...)
		case math.IsNaN(f):
			return append(b, `"nan"`...)
		case math.IsInf(f, 1):
			return append(b, `"inf"`...)
		case math.IsInf(f, -1):
			return append(b, `"-inf"`...)
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64)
	case t.Signed:
		shift := 64 - 8*uint(t.Bytes)
		return strconv.AppendInt(b, int64(u<<shift)>>shift, 10)
	}
	return strconv.AppendUint(b, u, 10)
}

// AppendRowFromJSON encodes one JSON object (a line of the failed-batch
// file) as a RowBinary row of columns cols: every column must be present
// and no other key.
func AppendRowFromJSON(b []byte, cols []Col, types []*Type, line []byte) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		return b, err
	}
	if len(obj) != len(cols) {
		var extra []string
		for k := range obj {
			if !hasCol(cols, k) {
				extra = append(extra, k)
			}
		}
		if len(extra) > 0 {
			return b, fmt.Errorf("columns the table does not have: %v", extra)
		}
	}
	for i, c := range cols {
		raw, ok := obj[c.Name]
		if !ok {
			return b, fmt.Errorf("column %s missing", c.Name)
		}
		var err error
		if b, err = encodeJSON(b, types[i], raw, 0); err != nil {
			return b, fmt.Errorf("column %s: %w", c.Name, err)
		}
	}
	return b, nil
}

func hasCol(cols []Col, name string) bool {
	for _, c := range cols {
		if c.Name == name {
			return true
		}
	}
	return false
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

func encodeJSON(b []byte, t *Type, raw json.RawMessage, depth int) ([]byte, error) {
	if depth > maxTypeDepth {
		return b, errors.New("type nested too deeply")
	}
	switch t.Base {
	case "Nullable":
		if isNull(raw) {
			return append(b, 1), nil
		}
		return encodeJSON(append(b, 0), t.Elems[0], raw, depth+1)
	case "Array", "Tuple":
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return b, err
		}
		if t.Base == "Array" {
			b = binary.AppendUvarint(b, uint64(len(elems)))
		} else if len(elems) != len(t.Elems) {
			return b, fmt.Errorf("tuple of %d values, want %d", len(elems), len(t.Elems))
		}
		for k, e := range elems {
			et := t.Elems[0]
			if t.Base == "Tuple" {
				et = t.Elems[k]
			}
			var err error
			if b, err = encodeJSON(b, et, e, depth+1); err != nil {
				return b, err
			}
		}
		return b, nil
	case "String":
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			return appendString(b, []byte(s)), nil
		}
		var enc struct {
			Base64 *string `json:"base64"`
		}
		if err := json.Unmarshal(raw, &enc); err != nil || enc.Base64 == nil {
			return b, fmt.Errorf("want a string, got %.40s", raw)
		}
		s2, err := base64.StdEncoding.DecodeString(*enc.Base64)
		if err != nil {
			return b, err
		}
		return appendString(b, s2), nil
	case "Float64":
		var f float64
		var s string
		if json.Unmarshal(raw, &s) == nil {
			switch s {
			case "nan":
				f = math.NaN()
			case "-nan":
				f = math.Copysign(math.NaN(), -1)
			case "inf":
				f = math.Inf(1)
			case "-inf":
				f = math.Inf(-1)
			default:
				return b, fmt.Errorf("want a number, got %q", s)
			}
		} else if err := json.Unmarshal(raw, &f); err != nil {
			return b, err
		}
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(f)), nil
	}
	var u uint64
	bits := 8 * t.Bytes
	if t.Signed {
		v, err := strconv.ParseInt(string(raw), 10, bits)
		if err != nil {
			return b, err
		}
		u = uint64(v)
	} else {
		v, err := strconv.ParseUint(string(raw), 10, bits)
		if err != nil {
			return b, err
		}
		u = v
	}
	for k := 0; k < t.Bytes; k++ {
		b = append(b, byte(u>>(8*k)))
	}
	return b, nil
}
