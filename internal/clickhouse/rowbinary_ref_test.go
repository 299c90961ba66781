package clickhouse

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

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
	}
	return appendScalarJSON(b, t, raw)
}
