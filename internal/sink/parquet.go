package sink

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
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
	cols   []colInfo
	leaves []leafInfo
	w      *pqwrite.Writer
	cw     *countWriter
	st     replayState

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
	p := &Parquet{cw: &countWriter{w: w}, st: replayState{col: -1}}
	var fields []*pqwrite.Node
	leaves := 0
	for i, s := range shapes {
		if len(s.Parts) > 64 {
			return nil, fmt.Errorf("column %s: more than 64 parts", cols[i].Name)
		}
		p.cols = append(p.cols, colInfo{first: int32(leaves), nparts: int32(len(s.Parts)), all: 1<<uint(len(s.Parts)) - 1})
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
	for _, s := range shapes {
		for _, part := range s.Parts {
			lf := leafInfo{kind: part.Kind, col: p.w.Columns()[len(p.leaves)]}
			lf.missing = lf.col.MaxDef() - 1
			lf.bytes = lf.col.Physical() == pqwrite.ByteArray
			switch part.Kind {
			case column.KindUint, column.KindHex, column.KindInt:
				lf.op = opInt32
				if part.Bits == 64 {
					lf.op = opInt64
				}
			case column.KindFloat32, column.KindFloat64:
				lf.op = opDouble
			}
			p.leaves = append(p.leaves, lf)
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
// without building Rows). Definition levels: a plain column's value is at
// 1; a compound adds its group (2); a list adds its repeated level and
// optional element (2, or 3 for compounds); a missing value is one less,
// an empty cell or list 0.
func (p *Parquet) Replay(b []byte) {
	le := binary.LittleEndian
	// The position in the row lives in a local copy here (the compiler
	// need not reload it through p after every call), in p.st between
	// tapes.
	st := p.st
	for i := 0; i < len(b); {
		tag := b[i]
		i++
		switch tag {
		case tCol:
			// The cell before is complete unless it was empty or lacks parts
			// (checked here: a call per cell costs more than the check).
			if uint(st.col) < uint(len(p.cols)) && (st.reps == 0 || st.set != p.cols[st.col].all) {
				p.endCell(&st)
			}
			st.col++
			st.reps, st.part, st.set = 0, 0, 0
			continue
		case tSub:
			st.part++
			continue
		case tRep:
			if st.reps > 0 && uint(st.col) < uint(len(p.cols)) && st.set != p.cols[st.col].all {
				p.endRep(&st)
			}
			st.reps++
			st.part, st.set = 0, 0
			continue
		case tEndRow:
			p.endCell(&st)
			for st.col++; st.col < len(p.cols); st.col++ {
				st.reps = 0
				p.endCell(&st)
			}
			p.w.EndRow()
			st.col = -1
			continue
		case tHeader:
			i += 4 + int(le.Uint32(b[i:]))
			continue
		case tHexBytes:
			n := int(le.Uint32(b[i:]))
			p.hexBytes(&st, b[i+4:i+4+n])
			i += 4 + n
			continue
		}
		// A value: its leaf column (none when the declaration has no room
		// for it: a plugin bug).
		var lf *leafInfo
		if uint(st.col) < uint(len(p.cols)) {
			c := &p.cols[st.col]
			if uint(st.part) < uint(c.nparts) {
				if st.reps == 0 {
					st.reps, st.set = 1, 0
				}
				st.set |= 1 << uint(st.part)
				lf = &p.leaves[int(c.first)+st.part]
			}
		}
		rl := 0
		if st.reps > 1 {
			rl = 1
		}
		switch tag {
		case tU, tI, tF64, tFixed9, tH:
			var u uint64
			if tag == tH {
				u = le.Uint64(b[i+1:])
				i += 9
			} else {
				u = le.Uint64(b[i:])
				i += 8
			}
			// Most values are integers of up to 32 bits: written here, the
			// others by num.
			if lf != nil && lf.op == opInt32 {
				lf.col.Int32(rl, int32(u))
			} else {
				p.num(lf, rl, u)
			}
		case tF32:
			p.num(lf, rl, math.Float64bits(float64(math.Float32frombits(le.Uint32(b[i:])))))
			i += 4
		case tTime:
			p.time(lf, rl, TypedValue{U: le.Uint64(b[i:]), N: le.Uint32(b[i+8:])})
			i += 12
		case tDir:
			if v := p.beginStr(lf, rl); v != nil {
				lf.col.EndBytes(append(v, b[i]))
			}
			i++
		case tStr, tStrClass, tRaw, tContent:
			n := int(le.Uint32(b[i:]))
			s := b[i+4 : i+4+n]
			i += 4 + n
			if v := p.beginStr(lf, rl); v != nil {
				switch tag {
				case tContent:
					v = AppendContent(v, s)
				case tRaw:
					v = append(v, s...)
				default:
					v = AppendValidUTF8(v, s)
				}
				lf.col.EndBytes(v)
			}
		case tMAC:
			if v := p.beginStr(lf, rl); v != nil {
				lf.col.EndBytes(AppendMAC(v, [6]byte(b[i:i+6])))
			}
			i += 6
		case tIP4, tIP6, tIPNone:
			ver, a, n := tapeIP(tag, b[i:])
			i += n
			if v := p.beginStr(lf, rl); v != nil {
				lf.col.EndBytes(AppendIP(v, ver, &a))
			}
		}
	}
	p.st = st
}

// replaysHexBytes: Replay knows tHexBytes.
func (p *Parquet) replaysHexBytes() {}

// hexBytes writes the bytes of a tHexBytes value: what the tape holds
// otherwise as a tH value per byte, each after the first in a repetition
// of its own. A list of one-part integers (TCP and IP options) takes
// them in one call.
func (p *Parquet) hexBytes(st *replayState, s []byte) {
	if len(s) == 0 {
		return
	}
	if uint(st.col) < uint(len(p.cols)) && st.part == 0 {
		c := &p.cols[st.col]
		lf := &p.leaves[c.first]
		if c.nparts == 1 && lf.op == opInt32 && lf.col.MaxRep() > 0 && (st.reps == 0 || st.set == 0) {
			rl := 0
			if st.reps > 1 {
				rl = 1
			}
			lf.col.Uint8s(rl, s)
			st.reps += len(s) - 1
			if st.reps < len(s) {
				st.reps = len(s)
			}
			st.set = 1
			return
		}
	}
	// Anything else, value by value as the tape would have it.
	var tape []byte
	for k, x := range s {
		if k > 0 {
			tape = append(tape, tRep)
		}
		tape = append(tape, tH, 2)
		tape = binary.LittleEndian.AppendUint64(tape, uint64(x))
	}
	saved := p.st
	p.st = *st
	p.Replay(tape)
	*st = p.st
	p.st = saved
}

// replayState is where Replay is in the row: column, repetitions
// started in its cell, part, and the parts written in this repetition.
type replayState struct {
	col, reps, part int
	set             uint64
}

// colInfo is what Replay needs of a column: its first leaf, its parts
// and the mask of a repetition with every part written.
type colInfo struct {
	first, nparts int32
	all           uint64
}

// leafInfo is what a value needs to know of its leaf column.
type leafInfo struct {
	col     *pqwrite.Column
	missing int // definition level of a missing value
	kind    column.Kind
	op      uint8 // how a number is written: opInt32, opInt64, opDouble, 0 (null)
	bytes   bool  // a BYTE_ARRAY column: strings, MACs, addresses
}

const (
	opInt32 = iota + 1
	opInt64
	opDouble
)

func (p *Parquet) num(lf *leafInfo, rl int, u uint64) {
	if lf == nil {
		return
	}
	switch lf.op {
	case opInt32:
		lf.col.Int32(rl, int32(u))
	case opInt64, opDouble: // a double's bits are the float64's
		lf.col.Int64(rl, int64(u))
	default: // a value the declaration does not type this way
		lf.col.Null(rl, lf.missing)
	}
}

func (p *Parquet) time(lf *leafInfo, rl int, v TypedValue) {
	if lf == nil {
		return
	}
	switch lf.kind {
	case column.KindDuration:
		lf.col.Double(rl, v.Seconds())
		return
	case column.KindTime:
		if ns, ok := v.TimeNanos(); ok {
			lf.col.Int64(rl, ns)
			return
		}
	}
	// beyond the years 1677..2262: no timestamp for it
	lf.col.Null(rl, lf.missing)
}

// beginStr starts a string value in a BYTE_ARRAY column and returns the
// buffer to append it to (then lf.col.EndBytes); nil when there is no
// leaf or the leaf takes no strings (a null is written).
func (p *Parquet) beginStr(lf *leafInfo, rl int) []byte {
	if lf == nil {
		return nil
	}
	if !lf.bytes {
		lf.col.Null(rl, lf.missing)
		return nil
	}
	return lf.col.BeginBytes(rl)
}

// endRep writes nulls for the parts the current repetition lacks.
func (p *Parquet) endRep(st *replayState) {
	if st.reps == 0 || uint(st.col) >= uint(len(p.cols)) {
		return
	}
	c := &p.cols[st.col]
	if st.set == c.all {
		return
	}
	rl := 0
	if st.reps > 1 {
		rl = 1
	}
	for part := 0; part < int(c.nparts); part++ {
		if st.set&(1<<uint(part)) == 0 {
			lf := &p.leaves[int(c.first)+part]
			lf.col.Null(rl, lf.missing)
		}
	}
}

// endCell completes the current cell: an empty one is null (or an empty
// list) in each of its leaves.
func (p *Parquet) endCell(st *replayState) {
	if uint(st.col) >= uint(len(p.cols)) {
		return
	}
	c := &p.cols[st.col]
	if st.reps > 0 {
		if st.set != c.all {
			p.endRep(st)
		}
		return
	}
	for part := 0; part < int(c.nparts); part++ {
		p.leaves[int(c.first)+part].col.Null(0, 0)
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
