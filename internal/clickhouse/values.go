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

// The values of flowsift's rows in ClickHouse's binary forms, which Native
// (the inserts, jsonBlock) and RowBinary (the tests' row-wise reference,
// rowbinary_ref_test.go) share: integers and hex bit fields little-endian
// in their width, floats as their bits, times as Int64 nanoseconds,
// strings as a varint length and their bytes. The failed-batch file's
// JSON is read and written by the same rules.

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

// errShort is the decoding error of truncated data.
var errShort = errors.New("data truncated")

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

func hasCol(cols []Col, name string) bool {
	for _, c := range cols {
		if c.Name == name {
			return true
		}
	}
	return false
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

// appendScalarJSON appends the JSON value raw of a String, Float64 or
// integer type t in its binary form (the same in Native and RowBinary):
// a string (or {"base64": "..."}, see appendJSONBytes) as its varint
// length and bytes, a number little-endian in t.Bytes (a Float64 also
// "nan", "-nan", "inf", "-inf").
func appendScalarJSON(b []byte, t *Type, raw json.RawMessage) ([]byte, error) {
	switch t.Base {
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
