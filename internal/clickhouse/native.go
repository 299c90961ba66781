package clickhouse

import (
	"encoding/binary"
	"fmt"

	"flowsift/internal/column"
	"flowsift/internal/sink"
)

// Native is ClickHouse's columnar format, the one its own client sends:
// the number of columns and rows (varints), then per column its name, its
// type and all its values. A Nullable column is its null map (a byte per
// row, 1 for NULL) followed by the values (zero under a NULL), an Array
// its cumulative sizes (UInt64) followed by the elements, a Tuple its
// elements one after the other. The server parses a column in one go
// instead of a value at a time: a batch of flow rows costs it less than
// half the CPU of the same rows in RowBinary (docs/clickhouse.md,
// throughput). The values are the RowBinary encoder's, byte for byte.

// nativeBatch holds the rows of one insert column by column, in the
// physical columns' order (Table.Cols). Each stream of a column (null
// map, values, array sizes) is compressed whenever stageBytes of it have
// gathered: the 30 MB of a batch of 50,000 flow rows are never held
// uncompressed (they compress to about 1.2 MB), so they are not faulted
// into fresh memory either, which cost more than encoding them.
type nativeBatch struct {
	cols []nativeColumn
	rows int
}

// stageBytes is how much of a stream gathers before it is compressed.
const stageBytes = 32 << 10

// nativeColumn is one physical column.
type nativeColumn struct {
	head    []byte // name and type
	array   bool
	offsets stream // Array: cumulative element counts, UInt64
	elems   uint64 // Array: elements so far
	leaves  []nativeLeaf
}

// nativeLeaf is a column of scalars: the column itself, a Tuple's
// element, or an Array's elements.
type nativeLeaf struct {
	nullable bool
	nulls    stream
	data     stream
}

// stream is a run of bytes of the Native block: compressed blocks (in
// ClickHouse's format), then bytes not yet compressed.
type stream struct {
	z   []byte // compressed blocks
	raw int    // bytes that z holds, uncompressed
	buf []byte // bytes after them
}

// spill compresses the staged bytes (the callers check that there are
// stageBytes of them, inline: this runs for every value).
func (s *stream) spill(c *compressor) {
	s.z = c.append(s.z, s.buf)
	s.raw += len(s.buf)
	s.buf = s.buf[:0]
}

func (s *stream) reset() { s.z, s.raw, s.buf = s.z[:0], 0, s.buf[:0] }

// NativeEncoder appends typed rows (sink.Row) of a table to a
// nativeBatch.
type NativeEncoder struct {
	t        *Table
	sensor   [4]byte
	capture  []byte // the captureFile value, encoded
	firstCol []int  // physical column of each declared column (its first, for Nested)
	comp     compressor
	// KeyZeroed counts sorting-key times written as 0 (Encoder.KeyZeroed).
	KeyZeroed uint64
}

// NewNativeEncoder returns an encoder of rows of t with the run's sensor
// and capture file.
func NewNativeEncoder(t *Table, sensor uint32, capture string) *NativeEncoder {
	e := &NativeEncoder{t: t, capture: appendString(nil, []byte(capture))}
	binary.LittleEndian.PutUint32(e.sensor[:], sensor)
	phys := 2
	for _, s := range t.Shapes {
		e.firstCol = append(e.firstCol, phys)
		if s.Repeated && s.Compound() {
			phys += len(s.Parts)
		} else {
			phys++
		}
	}
	return e
}

// newBatch returns an empty batch laid out for the encoder's table.
func (e *NativeEncoder) newBatch() *nativeBatch {
	b := &nativeBatch{cols: make([]nativeColumn, len(e.t.Cols))}
	for i, c := range e.t.Cols {
		col := &b.cols[i]
		col.head = appendString(appendString(nil, []byte(c.Name)), []byte(c.Type))
		// Every physical column is T, Nullable(T), Array(Nullable(T)) or
		// Tuple(Nullable(T1), …) (NewTable).
		typ, err := ParseType(c.Type)
		if err != nil {
			panic(fmt.Sprintf("column %s: %v", c.Name, err)) // NewTable's own types
		}
		if typ.Base == "Array" {
			col.array = true
			typ = typ.Elems[0]
		}
		elems := []*Type{typ}
		if typ.Base == "Tuple" {
			elems = typ.Elems
		}
		col.leaves = make([]nativeLeaf, len(elems))
		for k, et := range elems {
			col.leaves[k].nullable = et.Base == "Nullable"
		}
	}
	return b
}

// reset empties a batch, keeping its buffers.
func (b *nativeBatch) reset() {
	for i := range b.cols {
		c := &b.cols[i]
		c.offsets.reset()
		c.elems = 0
		for k := range c.leaves {
			c.leaves[k].nulls.reset()
			c.leaves[k].data.reset()
		}
	}
	b.rows = 0
}

// size is the number of bytes the batch's values take uncompressed.
func (b *nativeBatch) size() int {
	n := 0
	for i := range b.cols {
		c := &b.cols[i]
		n += c.offsets.raw + len(c.offsets.buf)
		for k := range c.leaves {
			l := &c.leaves[k]
			n += l.nulls.raw + len(l.nulls.buf) + l.data.raw + len(l.data.buf)
		}
	}
	return n
}

// writeTo writes the batch in Native, compressed, to w.
func (b *nativeBatch) writeTo(w *blockWriter) {
	var hdr []byte
	hdr = binary.AppendUvarint(hdr, uint64(len(b.cols)))
	hdr = binary.AppendUvarint(hdr, uint64(b.rows))
	w.write(hdr)
	for i := range b.cols {
		c := &b.cols[i]
		w.write(c.head)
		if b.rows == 0 {
			continue
		}
		if c.array {
			w.stream(&c.offsets)
		}
		for k := range c.leaves {
			if c.leaves[k].nullable {
				w.stream(&c.leaves[k].nulls)
			}
			w.stream(&c.leaves[k].data)
		}
	}
}

// Append adds row to the batch.
func (e *NativeEncoder) Append(b *nativeBatch, row *sink.Row) {
	b.rows++
	cols := b.cols
	for c := 0; c < 2; c++ {
		d := &cols[c].leaves[0].data
		if c == 0 {
			d.buf = append(d.buf, e.sensor[:]...)
		} else {
			d.buf = append(d.buf, e.capture...)
		}
		if len(d.buf) >= stageBytes {
			d.spill(&e.comp)
		}
	}
	shapes := e.t.Shapes
	var none sink.TypedValue
	for c := range shapes {
		s := &shapes[c]
		cell := row.Cells[c]
		reps := int(cell.Reps)
		vals := row.Vals[cell.Start:]
		col := &cols[e.firstCol[c]]
		switch {
		case s.Repeated && s.Compound():
			// Nested: one array column per part.
			n := len(s.Parts)
			for p := range s.Parts {
				pc := &cols[e.firstCol[c]+p]
				e.appendSize(pc, reps)
				for rep := 0; rep < reps; rep++ {
					e.appendNullable(&pc.leaves[0], &s.Parts[p], &vals[rep*n+p], row)
				}
			}
		case s.Compound():
			for p := range s.Parts {
				v := &none
				if reps > 0 {
					v = &vals[p]
				}
				e.appendNullable(&col.leaves[p], &s.Parts[p], v, row)
			}
		case s.Repeated:
			e.appendSize(col, reps)
			for rep := 0; rep < reps; rep++ {
				e.appendNullable(&col.leaves[0], &s.Parts[0], &vals[rep], row)
			}
		default:
			v := &none
			if reps > 0 {
				v = &vals[0]
			}
			l := &col.leaves[0]
			if !l.nullable {
				var ok bool
				if l.data.buf, ok = appendValue(l.data.buf, &s.Parts[0], v, row); !ok {
					e.KeyZeroed++
					l.data.buf = appendZero(l.data.buf, &s.Parts[0])
				}
				if len(l.data.buf) >= stageBytes {
					l.data.spill(&e.comp)
				}
				continue
			}
			e.appendNullable(l, &s.Parts[0], v, row)
		}
	}
}

// appendSize appends the cumulative size of an array of n elements.
func (e *NativeEncoder) appendSize(c *nativeColumn, n int) {
	c.elems += uint64(n)
	c.offsets.buf = binary.LittleEndian.AppendUint64(c.offsets.buf, c.elems)
	if len(c.offsets.buf) >= stageBytes {
		c.offsets.spill(&e.comp)
	}
}

// appendNullable appends a Nullable value: NULL for a missing value or a
// time outside Int64 nanoseconds (as RowBinary), with a zero under it.
func (e *NativeEncoder) appendNullable(l *nativeLeaf, p *column.Part, v *sink.TypedValue, row *sink.Row) {
	var ok bool
	if l.data.buf, ok = appendValue(l.data.buf, p, v, row); ok {
		l.nulls.buf = append(l.nulls.buf, 0)
	} else {
		l.nulls.buf = append(l.nulls.buf, 1)
		l.data.buf = appendZero(l.data.buf, p)
	}
	if len(l.nulls.buf) >= stageBytes {
		l.nulls.spill(&e.comp)
	}
	if len(l.data.buf) >= stageBytes {
		l.data.spill(&e.comp)
	}
}

// AppendJSONRowsNative decodes Native blocks of columns cols (their
// parsed types), one after the other as an insert sends them, and appends
// their rows as JSON objects, a line each, as AppendJSONRow does for
// RowBinary (the failed-batch file). Every block's columns must be cols,
// in order, with the same types. It returns the number of rows.
func AppendJSONRowsNative(b []byte, cols []Col, types []*Type, data []byte) ([]byte, int, error) {
	d := decoder{data: data}
	rows := 0
	for d.i < len(d.data) {
		var n int
		var err error
		if b, n, err = d.jsonBlock(b, cols, types); err != nil {
			return b, rows, err
		}
		rows += n
	}
	return b, rows, nil
}

// jsonBlock decodes one Native block (AppendJSONRowsNative).
func (d *decoder) jsonBlock(b []byte, cols []Col, types []*Type) ([]byte, int, error) {
	ncols, err := d.uvarint()
	if err != nil {
		return b, 0, err
	}
	nrows, err := d.uvarint()
	if err != nil {
		return b, 0, err
	}
	if ncols != uint64(len(cols)) || len(cols) == 0 {
		return b, 0, fmt.Errorf("Native block of %d columns, want %d", ncols, len(cols))
	}
	views := make([]*nativeView, len(cols))
	for i, c := range cols {
		name, err := d.str()
		if err != nil {
			return b, 0, err
		}
		typ, err := d.str()
		if err != nil {
			return b, 0, err
		}
		if string(name) != c.Name || string(typ) != c.Type {
			return b, 0, fmt.Errorf("Native column %d is %q %q, want %s %s", i, name, typ, c.Name, c.Type)
		}
		if nrows == 0 {
			continue
		}
		if views[i], err = d.view(types[i], nrows, 0); err != nil {
			return b, 0, fmt.Errorf("column %s: %w", c.Name, err)
		}
	}
	for r := 0; r < int(nrows); r++ {
		b = append(b, '{')
		for i, c := range cols {
			b = appendJSONKey(b, i, c.Name)
			b = views[i].json(b, r)
		}
		b = append(b, '}', '\n')
	}
	return b, int(nrows), nil
}

// nativeView is a decoded Native column of type t: its values in place.
type nativeView struct {
	t       *Type
	nulls   []byte        // Nullable
	offsets []uint64      // Array: cumulative sizes
	fixed   []byte        // integers, Float64: t.Bytes per value
	strs    [][]byte      // String
	elems   []*nativeView // Nullable, Array: one; Tuple: one per element
}

func (d *decoder) str() ([]byte, error) {
	n, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(d.data)-d.i) {
		return nil, errShort
	}
	return d.take(int(n))
}

// view decodes n values of type t. Every value takes a byte at least, so
// n is checked against the bytes left before anything is allocated.
func (d *decoder) view(t *Type, n uint64, depth int) (*nativeView, error) {
	if depth > maxTypeDepth {
		return nil, fmt.Errorf("type nested too deeply")
	}
	left := uint64(len(d.data) - d.i)
	if n > left {
		return nil, errShort
	}
	v := &nativeView{t: t}
	switch t.Base {
	case "Nullable":
		v.nulls, _ = d.take(int(n))
		e, err := d.view(t.Elems[0], n, depth+1)
		if err != nil {
			return nil, err
		}
		v.elems = []*nativeView{e}
	case "Array":
		if n > left/8 {
			return nil, errShort
		}
		raw, _ := d.take(int(8 * n))
		v.offsets = make([]uint64, n)
		var prev uint64
		for k := range v.offsets {
			o := binary.LittleEndian.Uint64(raw[8*k:])
			if o < prev {
				return nil, fmt.Errorf("Array offsets decrease")
			}
			v.offsets[k], prev = o, o
		}
		var total uint64
		if n > 0 {
			total = v.offsets[n-1]
		}
		e, err := d.view(t.Elems[0], total, depth+1)
		if err != nil {
			return nil, err
		}
		v.elems = []*nativeView{e}
	case "Tuple":
		for _, et := range t.Elems {
			e, err := d.view(et, n, depth+1)
			if err != nil {
				return nil, err
			}
			v.elems = append(v.elems, e)
		}
	case "String":
		v.strs = make([][]byte, n)
		for k := range v.strs {
			s, err := d.str()
			if err != nil {
				return nil, err
			}
			v.strs[k] = s
		}
	default:
		if n > left/uint64(t.Bytes) {
			return nil, errShort
		}
		v.fixed, _ = d.take(int(n) * t.Bytes)
	}
	return v, nil
}

// json appends value r of the column as JSON.
func (v *nativeView) json(b []byte, r int) []byte {
	switch v.t.Base {
	case "Nullable":
		if v.nulls[r] != 0 {
			return append(b, "null"...)
		}
		return v.elems[0].json(b, r)
	case "Array":
		start := uint64(0)
		if r > 0 {
			start = v.offsets[r-1]
		}
		b = append(b, '[')
		for k := start; k < v.offsets[r]; k++ {
			if k > start {
				b = append(b, ',')
			}
			b = v.elems[0].json(b, int(k))
		}
		return append(b, ']')
	case "Tuple":
		b = append(b, '[')
		for k, e := range v.elems {
			if k > 0 {
				b = append(b, ',')
			}
			b = e.json(b, r)
		}
		return append(b, ']')
	case "String":
		return appendJSONBytes(b, v.strs[r])
	}
	return appendJSONNumber(b, v.t, v.fixed[r*v.t.Bytes:(r+1)*v.t.Bytes])
}
