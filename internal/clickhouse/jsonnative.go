package clickhouse

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// jsonBlock gathers rows given as JSON objects (lines of a failed-batch
// file) into a Native block of the columns cols, encoding each value by
// the column's type as the server reports it (clickhouse-send): the
// inverse of AppendJSONRowsNative.
type jsonBlock struct {
	cols []Col
	vals []*jsonColumn
	rows int
}

// jsonColumn is one column of a jsonBlock, or the element column of a
// Nullable, an Array or a Tuple.
type jsonColumn struct {
	t       *Type
	nulls   []byte        // Nullable: 1 for NULL
	offsets []byte        // Array: cumulative sizes, UInt64
	n       uint64        // Array: elements so far
	data    []byte        // integers, Float64, String: the values
	elems   []*jsonColumn // Nullable, Array: one; Tuple: one per element
}

func newJSONBlock(cols []Col, types []*Type) *jsonBlock {
	b := &jsonBlock{cols: cols}
	for _, t := range types {
		b.vals = append(b.vals, newJSONColumn(t))
	}
	return b
}

func newJSONColumn(t *Type) *jsonColumn {
	c := &jsonColumn{t: t}
	for _, e := range t.Elems {
		c.elems = append(c.elems, newJSONColumn(e))
	}
	return c
}

// addRow adds one JSON object: every column must be there, and no other
// key. After an error the block is unusable (clickhouse-send stops).
func (b *jsonBlock) addRow(line []byte) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		return err
	}
	if len(obj) != len(b.cols) {
		var extra []string
		for k := range obj {
			if !hasCol(b.cols, k) {
				extra = append(extra, k)
			}
		}
		if len(extra) > 0 {
			return fmt.Errorf("columns the table does not have: %v", extra)
		}
	}
	for i, c := range b.cols {
		raw, ok := obj[c.Name]
		if !ok {
			return fmt.Errorf("column %s missing", c.Name)
		}
		if err := b.vals[i].add(raw, 0); err != nil {
			return fmt.Errorf("column %s: %w", c.Name, err)
		}
	}
	b.rows++
	return nil
}

// add appends the JSON value raw.
func (c *jsonColumn) add(raw json.RawMessage, depth int) error {
	if depth > maxTypeDepth {
		return errors.New("type nested too deeply")
	}
	switch c.t.Base {
	case "Nullable":
		if isNull(raw) {
			c.nulls = append(c.nulls, 1)
			c.elems[0].zero()
			return nil
		}
		c.nulls = append(c.nulls, 0)
		return c.elems[0].add(raw, depth+1)
	case "Array", "Tuple":
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return err
		}
		if c.t.Base == "Tuple" {
			if len(elems) != len(c.elems) {
				return fmt.Errorf("tuple of %d values, want %d", len(elems), len(c.elems))
			}
			for k, e := range elems {
				if err := c.elems[k].add(e, depth+1); err != nil {
					return err
				}
			}
			return nil
		}
		for _, e := range elems {
			if err := c.elems[0].add(e, depth+1); err != nil {
				return err
			}
		}
		c.n += uint64(len(elems))
		c.offsets = binary.LittleEndian.AppendUint64(c.offsets, c.n)
		return nil
	}
	var err error
	c.data, err = appendScalarJSON(c.data, c.t, raw)
	return err
}

// zero appends the value a NULL hides: 0, an empty string or array.
func (c *jsonColumn) zero() {
	switch c.t.Base {
	case "Nullable":
		c.nulls = append(c.nulls, 1)
		c.elems[0].zero()
	case "Array":
		c.offsets = binary.LittleEndian.AppendUint64(c.offsets, c.n)
	case "Tuple":
		for _, e := range c.elems {
			e.zero()
		}
	case "String":
		c.data = append(c.data, 0)
	default:
		c.data = append(c.data, make([]byte, c.t.Bytes)...)
	}
}

// appendTo appends the column's Native data.
func (c *jsonColumn) appendTo(b []byte) []byte {
	switch c.t.Base {
	case "Nullable":
		return c.elems[0].appendTo(append(b, c.nulls...))
	case "Array":
		return c.elems[0].appendTo(append(b, c.offsets...))
	case "Tuple":
		for _, e := range c.elems {
			b = e.appendTo(b)
		}
		return b
	}
	return append(b, c.data...)
}

func (c *jsonColumn) reset() {
	c.nulls, c.offsets, c.n, c.data = c.nulls[:0], c.offsets[:0], 0, c.data[:0]
	for _, e := range c.elems {
		e.reset()
	}
}

// appendTo appends the block in Native and empties it.
func (b *jsonBlock) appendTo(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b.cols)))
	dst = binary.AppendUvarint(dst, uint64(b.rows))
	for i, c := range b.cols {
		dst = appendString(appendString(dst, []byte(c.Name)), []byte(c.Type))
		if b.rows > 0 {
			dst = b.vals[i].appendTo(dst)
		}
		b.vals[i].reset()
	}
	b.rows = 0
	return dst
}
