package sink

import (
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"sync"

	"flowsift/internal/column"
	"flowsift/internal/pqwrite"
)

// ParquetRowGroup is the number of rows per row group: large enough for
// column statistics to skip data, small enough to keep the writer's
// memory (one row group of compressed pages) bounded on any capture.
const ParquetRowGroup = 128 << 10

// Parquet is the Output of Parquet files. Each column becomes one field of
// its typed shape (column.Shape): unsigned integers and hex bit fields as
// unsigned integers of their width, signed ones as signed, floats as
// doubles, times as TIMESTAMP(NANOS, UTC), durations as doubles in seconds,
// strings, MACs and addresses as strings, compounds as groups of their
// parts, repeated columns as lists; empty cells are null. Pages are zstd
// compressed, column chunks carry statistics, and the key/value metadata
// holds the flowsift version, the command line and the column
// declarations.
type Parquet struct {
	shapes []column.Shape
	leaf   []int // index of each column's first leaf column
	nparts []int // parts of each column
	w      *pqwrite.Writer
	cols   []*pqwrite.Column
	info   []leafInfo
	cw     *countWriter
	st     replayState

	scratch []byte

	mu  sync.Mutex
	err error
}

// ParquetMeta is what a Parquet file records about its run.
type ParquetMeta struct {
	Version string
	CmdLine string
}

// NewParquet returns a Parquet Output for the columns on w.
func NewParquet(w io.Writer, cols []column.Column, meta ParquetMeta) (*Parquet, error) {
	shapes, err := column.Shapes(cols)
	if err != nil {
		return nil, err
	}
	p := &Parquet{shapes: shapes, cw: &countWriter{w: w}, st: replayState{col: -1}}
	var fields []*pqwrite.Node
	leaves := 0
	for i, s := range shapes {
		p.leaf = append(p.leaf, leaves)
		p.nparts = append(p.nparts, len(s.Parts))
		leaves += len(s.Parts)
		fields = append(fields, parquetNode(cols[i].Name, s))
	}
	type colMeta struct {
		Name        string `json:"name"`
		Type        string `json:"type"`
		Description string `json:"description"`
	}
	var cm []colMeta
	for _, c := range cols {
		cm = append(cm, colMeta{c.Name, c.Type, c.Desc})
	}
	desc, _ := json.Marshal(cm)
	p.w, err = pqwrite.New(p.cw, fields, "flowsift version "+meta.Version, [][2]string{
		{"flowsift.version", meta.Version},
		{"flowsift.command_line", meta.CmdLine},
		{"flowsift.columns", string(desc)},
	})
	if err != nil {
		return nil, err
	}
	p.w.RowGroupRows = ParquetRowGroup
	p.cols = p.w.Columns()
	for _, s := range shapes {
		for _, part := range s.Parts {
			lf := leafInfo{kind: part.Kind}
			switch part.Kind {
			case column.KindUint, column.KindHex, column.KindInt:
				lf.op = opInt32
				if part.Bits == 64 {
					lf.op = opInt64
				}
			case column.KindFloat32, column.KindFloat64:
				lf.op = opDouble
			}
			p.info = append(p.info, lf)
		}
	}
	return p, nil
}

// parquetNode is the schema node of a column of shape s: an optional
// scalar, an optional group of optional parts (a compound), or a list of
// optional elements of either (repeated).
func parquetNode(name string, s column.Shape) *pqwrite.Node {
	var elem *pqwrite.Node
	if s.Compound() {
		elem = &pqwrite.Node{Optional: true}
		for _, part := range s.Parts {
			elem.Children = append(elem.Children, parquetLeaf(part.Name, part))
		}
	} else {
		elem = parquetLeaf("", s.Parts[0])
	}
	if s.Repeated {
		elem.Name = "element"
		return &pqwrite.Node{Name: name, List: true, Children: []*pqwrite.Node{elem}}
	}
	elem.Name = name
	return elem
}

func parquetLeaf(name string, p column.Part) *pqwrite.Node {
	n := &pqwrite.Node{Name: name, Optional: true, Bits: p.Bits}
	switch p.Kind {
	case column.KindUint, column.KindHex, column.KindInt:
		n.Logical = pqwrite.Unsigned
		if p.Kind == column.KindInt {
			n.Logical = pqwrite.Signed
		}
		n.Physical = pqwrite.Int32
		if p.Bits == 64 {
			n.Physical = pqwrite.Int64
		}
	case column.KindFloat32, column.KindFloat64, column.KindDuration:
		n.Physical = pqwrite.Double
	case column.KindTime:
		n.Physical, n.Logical = pqwrite.Int64, pqwrite.Timestamp
	default:
		n.Physical, n.Logical = pqwrite.ByteArray, pqwrite.String
	}
	return n
}

// Replay implements Output. The tape goes straight into the column
// writers, value by value (the typed-value conversions of RowBuilder,
// without building Rows: Parquet output is as fast as text that way).
// Definition levels: a plain column's value is at 1; a compound adds its
// group (2); a list adds its repeated level and optional element (2, or 3
// for compounds); a missing value is one less, an empty cell or list 0.
func (p *Parquet) Replay(b []byte) {
	le := binary.LittleEndian
	st := &p.st
	for i := 0; i < len(b); {
		tag := b[i]
		i++
		switch tag {
		case tCol:
			p.endCell()
			st.col++
			st.reps, st.part, st.set = 0, 0, 0
			continue
		case tSub:
			st.part++
			continue
		case tRep:
			p.endRep()
			st.reps++
			st.part, st.set = 0, 0
			continue
		case tEndRow:
			p.endCell()
			for st.col++; st.col < len(p.shapes); st.col++ {
				st.reps = 0
				p.endCell()
			}
			p.w.EndRow()
			st.col = -1
			continue
		}
		// A value: its leaf column.
		col, lf := p.valueLeaf()
		switch tag {
		case tDir:
			p.str(col, b[i:i+1])
			i++
		case tU, tI, tH, tF64, tFixed9:
			p.num(col, lf, le.Uint64(b[i+btoi(tag == tH):]))
			i += 8 + btoi(tag == tH)
		case tF32:
			p.num(col, lf, math.Float64bits(float64(math.Float32frombits(le.Uint32(b[i:])))))
			i += 4
		case tTime:
			v := TypedValue{U: le.Uint64(b[i:]), N: le.Uint32(b[i+8:])}
			i += 12
			p.time(col, lf, v)
		case tStr, tStrClass, tRaw, tContent, tHeader:
			n := int(le.Uint32(b[i:]))
			s := b[i+4 : i+4+n]
			i += 4 + n
			switch tag {
			case tHeader:
				continue
			case tContent:
				p.scratch = AppendContent(p.scratch[:0], s)
				p.str(col, p.scratch)
			case tRaw:
				p.str(col, s)
			default:
				p.scratch = AppendValidUTF8(p.scratch[:0], s)
				p.str(col, p.scratch)
			}
		case tMAC:
			p.scratch = AppendMAC(p.scratch[:0], [6]byte(b[i:i+6]))
			p.str(col, p.scratch)
			i += 6
		case tIP4, tIP6, tIPNone:
			var a [16]byte
			ver := uint8(0)
			switch tag {
			case tIP4:
				copy(a[:4], b[i:i+4])
				ver = 4
				i += 4
			case tIP6:
				copy(a[:], b[i:i+16])
				ver = 6
				i += 16
			}
			p.scratch = AppendIP(p.scratch[:0], ver, &a)
			p.str(col, p.scratch)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// replayState is where Replay is in the row: column, repetitions
// started in its cell, part, and the parts written in this repetition.
type replayState struct {
	col, reps, part int
	set             uint64
}

// leafInfo is what a value needs to know of its leaf column.
type leafInfo struct {
	kind column.Kind
	op   uint8 // how a number is written: opInt32, opInt64, opDouble, 0 (null)
}

const (
	opInt32 = iota + 1
	opInt64
	opDouble
)

// valueLeaf returns the column writer of the value about to be written
// (nil when the declaration has no room for it: a plugin bug), starting
// the cell's first repetition if needed.
func (p *Parquet) valueLeaf() (*pqwrite.Column, *leafInfo) {
	st := &p.st
	if uint(st.col) >= uint(len(p.nparts)) || st.part >= p.nparts[st.col] {
		return nil, nil
	}
	if st.reps == 0 {
		st.reps, st.set = 1, 0
	}
	st.set |= 1 << uint(st.part)
	k := p.leaf[st.col] + st.part
	return p.cols[k], &p.info[k]
}

// rl is the repetition level of the current repetition.
func (p *Parquet) rl() int {
	if p.st.reps > 1 {
		return 1
	}
	return 0
}

func (p *Parquet) num(col *pqwrite.Column, lf *leafInfo, u uint64) {
	if col == nil {
		return
	}
	switch lf.op {
	case opInt32:
		col.Int32(p.rl(), int32(u))
	case opInt64:
		col.Int64(p.rl(), int64(u))
	case opDouble:
		col.Double(p.rl(), math.Float64frombits(u))
	default: // a value the declaration does not type this way
		col.Null(p.rl(), col.MaxDef()-1)
	}
}

func (p *Parquet) time(col *pqwrite.Column, lf *leafInfo, v TypedValue) {
	if col == nil {
		return
	}
	switch lf.kind {
	case column.KindDuration:
		col.Double(p.rl(), v.Seconds())
		return
	case column.KindTime:
		if ns, ok := v.TimeNanos(); ok {
			col.Int64(p.rl(), ns)
			return
		}
	}
	// beyond the years 1677..2262: no timestamp for it
	col.Null(p.rl(), col.MaxDef()-1)
}

func (p *Parquet) str(col *pqwrite.Column, s []byte) {
	if col == nil {
		return
	}
	if col.Physical() != pqwrite.ByteArray {
		col.Null(p.rl(), col.MaxDef()-1)
		return
	}
	col.Bytes(p.rl(), s)
}

// endRep writes nulls for the parts the current repetition lacks.
func (p *Parquet) endRep() {
	st := &p.st
	if st.reps == 0 || st.col < 0 || st.col >= len(p.shapes) {
		return
	}
	np := len(p.shapes[st.col].Parts)
	if st.set == 1<<uint(np)-1 {
		return
	}
	for part := 0; part < np; part++ {
		if st.set&(1<<uint(part)) == 0 {
			col := p.cols[p.leaf[st.col]+part]
			col.Null(p.rl(), col.MaxDef()-1)
		}
	}
}

// endCell completes the current cell: an empty one is null (or an empty
// list) in each of its leaves.
func (p *Parquet) endCell() {
	st := &p.st
	if st.col < 0 || st.col >= len(p.shapes) {
		return
	}
	if st.reps > 0 {
		p.endRep()
		return
	}
	for part := range p.shapes[st.col].Parts {
		p.cols[p.leaf[st.col]+part].Null(0, 0)
	}
}

// Flush implements Output. Rows reach the file with their row group:
// a Parquet file is readable only once closed.
func (p *Parquet) Flush() error { return p.Err() }

// Close implements Output: the last row group and the footer are written.
func (p *Parquet) Close() error {
	if err := p.w.Close(); err != nil {
		p.mu.Lock()
		if p.err == nil {
			p.err = err
		}
		p.mu.Unlock()
	}
	return p.Err()
}

// Err implements Output.
func (p *Parquet) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		return p.cw.Err()
	}
	return p.err
}

// Written implements Output.
func (p *Parquet) Written() int64 { return p.cw.Written() }

// countWriter counts the bytes written through it and keeps the first
// error, for any goroutine to read.
type countWriter struct {
	w   io.Writer
	mu  sync.Mutex
	n   int64
	err error
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.mu.Lock()
	c.n += int64(n)
	if err != nil && c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
	return n, err
}

func (c *countWriter) Written() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func (c *countWriter) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
