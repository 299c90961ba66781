package sink

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sync"
	"unicode/utf8"

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
	for i, s := range shapes {
		for _, part := range s.Parts {
			lf := leafInfo{kind: part.Kind, col: p.w.Columns()[len(p.leaves)]}
			lf.missing = lf.col.MaxDef() - 1
			lf.bytes = lf.col.Physical() == pqwrite.ByteArray
			if lf.bytes && (part.Kind == column.KindMAC || part.Kind == column.KindIP || cols[i].Text == column.TextContent) {
				lf.deferred = true
				lf.col.Expand = expandDeferred
			}
			// Strings repeat row after row (addresses, organisations,
			// header descriptions, and payloads: empty ones of ACKs,
			// protocol greetings, a stream's repeated records): each
			// is formatted and summarised once per row group, and
			// pages hold their indexes. Payloads that do not repeat
			// give their dictionary up early (pqwrite).
			lf.col.Dictionary = lf.bytes
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
	for i := range p.cols {
		c := &p.cols[i]
		if lf := &p.leaves[c.first]; c.nparts == 1 && lf.op != 0 && lf.col.MaxRep() == 0 {
			c.plainNum = lf
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

// Replay implements Output: the tape's values go to the column writer
// methods below, as if the plugins had called them.
func (p *Parquet) Replay(b []byte) {
	le := binary.LittleEndian
	for i := 0; i < len(b); {
		tag := b[i]
		i++
		switch tag {
		case tCol:
			p.Col()
		case tSub:
			p.Sub()
		case tRep:
			p.Rep()
		case tEndRow:
			p.EndRow()
		case tHeader:
			i += 4 + int(le.Uint32(b[i:]))
		case tHexBytes:
			n := int(le.Uint32(b[i:]))
			p.HexBytes(b[i+4 : i+4+n])
			i += 4 + n
		case tU, tI, tF64, tFixed9, tH:
			var u uint64
			if tag == tH {
				u = le.Uint64(b[i+1:])
				i += 9
			} else {
				u = le.Uint64(b[i:])
				i += 8
			}
			if !p.plainNum(u) {
				p.num(u)
			}
		case tF32:
			p.F32(math.Float32frombits(le.Uint32(b[i:])))
			i += 4
		case tTime:
			p.Time(le.Uint64(b[i:]), le.Uint32(b[i+8:]))
			i += 12
		case tDir:
			p.Dir(b[i])
			i++
		case tStr, tStrClass, tRaw, tContent:
			n := int(le.Uint32(b[i:]))
			s := b[i+4 : i+4+n]
			i += 4 + n
			switch tag {
			case tContent:
				p.Content(s)
			case tRaw:
				p.Raw(s)
			default:
				p.Str(s)
			}
		case tMAC:
			p.MAC([6]byte(b[i : i+6]))
			i += 6
		case tIP4, tIP6, tIPNone:
			ver, a, n := tapeIP(tag, b[i:])
			i += n
			p.IP(ver, &a)
		}
	}
}

// The column.Writer methods: a Parquet file alone may be written in place
// by the plugins (NewRows; the engine does so on one processor), without
// a tape. Definition levels: a plain
// column's value is at 1; a compound adds its group (2); a list adds its
// repeated level and optional element (2, or 3 for compounds); a missing
// value is one less, an empty cell or list 0.

// Col implements column.Writer. The cell before is complete unless it was
// empty or lacks parts (checked here: a call per cell costs more than the
// check).
func (p *Parquet) Col() {
	st := &p.st
	if uint(st.col) < uint(len(p.cols)) && (st.reps == 0 || st.set != p.cols[st.col].all) {
		p.endCell(st)
	}
	st.col++
	st.reps, st.part, st.set = 0, 0, 0
	st.plainNum = nil
	if c := st.col; uint(c) < uint(len(p.cols)) {
		st.plainNum = p.cols[c].plainNum
	}
}

// ColU implements column.Writer: Col and U, with the plain numeric
// column's short path. The cell check is Col's, written out again: as a
// function of its own it is too large to inline, and a call per cell is
// what this method saves.
func (p *Parquet) ColU(v uint64) {
	st := &p.st
	if uint(st.col) < uint(len(p.cols)) && (st.reps == 0 || st.set != p.cols[st.col].all) {
		p.endCell(st)
	}
	st.col++
	st.part = 0
	if c := st.col; uint(c) < uint(len(p.cols)) {
		if lf := p.cols[c].plainNum; lf != nil {
			st.reps, st.set = 1, 1
			st.plainNum = nil
			lf.col.PlainInt(lf.op == opInt32, v)
			return
		}
	}
	st.reps, st.set = 0, 0
	st.plainNum = nil
	p.num(v)
}

func (p *Parquet) ColI(v int64)              { p.ColU(uint64(v)) }
func (p *Parquet) ColH(v uint64, digits int) { p.ColU(v) }

// Sub implements column.Writer.
func (p *Parquet) Sub() {
	p.st.part++
	p.st.plainNum = nil
}

// Rep implements column.Writer.
func (p *Parquet) Rep() {
	st := &p.st
	if st.reps > 0 && uint(st.col) < uint(len(p.cols)) && st.set != p.cols[st.col].all {
		p.endRep(st)
	}
	st.reps++
	st.part, st.set = 0, 0
	st.plainNum = nil
}

// EndRow completes the row: the cells not written are empty.
func (p *Parquet) EndRow() {
	st := &p.st
	p.endCell(st)
	for st.col++; st.col < len(p.cols); st.col++ {
		st.reps = 0
		p.endCell(st)
	}
	p.w.EndRow()
	st.col = -1
	st.plainNum = nil
}

// WriteString takes the text file's header lines: nothing for Parquet.
func (p *Parquet) WriteString(string) {}

// leaf returns the leaf column of the value being written and its
// repetition level; nil when the declaration has no room for the value (a
// plugin bug).
func (p *Parquet) leaf() (*leafInfo, int) {
	st := &p.st
	st.plainNum = nil
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
	return lf, rl
}

// num writes a number given as its 64 bits (a float's are the float64's).
func (p *Parquet) num(u uint64) {
	lf, rl := p.leaf()
	if lf == nil {
		return
	}
	// Most values are integers of up to 32 bits.
	switch lf.op {
	case opInt32:
		lf.col.Int32(rl, int32(u))
	case opInt64, opDouble:
		lf.col.Int64(rl, int64(u))
	default: // a value the declaration does not type this way
		lf.col.Null(rl, lf.missing)
	}
}

// U implements column.Writer. Most values are the one value of a plain
// numeric column: they take the short way.
func (p *Parquet) U(v uint64) {
	if !p.plainNum(v) {
		p.num(v)
	}
}

// plainNum writes u and reports true when it is the value of a plain
// numeric column (inlined where it counts: U and Replay).
func (p *Parquet) plainNum(u uint64) bool {
	lf := p.st.plainNum
	if lf == nil {
		return false
	}
	p.st.plainNum = nil
	p.st.reps, p.st.set = 1, 1
	lf.col.PlainInt(lf.op == opInt32, u)
	return true
}

func (p *Parquet) I(v int64)         { p.U(uint64(v)) }
func (p *Parquet) H(v uint64, _ int) { p.U(v) }
func (p *Parquet) F64(v float64)     { p.U(math.Float64bits(v)) }
func (p *Parquet) Fixed9(v float64)  { p.U(math.Float64bits(v)) }
func (p *Parquet) F32(v float32)     { p.U(math.Float64bits(float64(v))) }

// Time implements column.Writer: a timestamp, or a duration in seconds.
func (p *Parquet) Time(sec uint64, nsec uint32) {
	lf, rl := p.leaf()
	if lf == nil {
		return
	}
	v := TypedValue{U: sec, N: nsec}
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

// beginBytes starts a value in a BYTE_ARRAY column and returns the leaf
// and the buffer to append it to (then lf.col.EndBytes); nil when there
// is no leaf or the leaf takes no strings (a null is written).
func (p *Parquet) beginBytes() (*leafInfo, []byte) {
	lf, rl := p.leaf()
	if lf == nil {
		return nil, nil
	}
	if !lf.bytes {
		lf.col.Null(rl, lf.missing)
		return nil, nil
	}
	return lf, lf.col.BeginBytes(rl)
}

// beginStr is beginBytes for a value appended as its text.
func (p *Parquet) beginStr() (*leafInfo, []byte) {
	lf, v := p.beginBytes()
	if lf != nil && lf.deferred {
		v = append(v, formText)
	}
	return lf, v
}

// Forms of a value in a deferred leaf: its first byte.
const (
	formText    byte = iota // the text itself
	formIP4                 // 4 bytes
	formIP6                 // 16 bytes
	formIPNone              // no address: "-"
	formMAC                 // 6 bytes
	formContent             // the payload, l7Content's text to be
)

// expandDeferred is a deferred leaf's pqwrite.Column.Expand: the values
// of a page in their forms, formatted.
func expandDeferred(dst, vals []byte) []byte {
	le := binary.LittleEndian
	for i := 0; i+4 <= len(vals); {
		n := int(le.Uint32(vals[i:]))
		v := vals[i+4 : i+4+n]
		i += 4 + n
		at := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		if len(v) > 0 {
			switch form, b := v[0], v[1:]; form {
			case formIP4:
				var a [16]byte
				copy(a[:4], b)
				dst = AppendIP(dst, 4, &a)
			case formIP6:
				dst = AppendIP(dst, 6, (*[16]byte)(b))
			case formIPNone:
				dst = AppendIP(dst, 0, &[16]byte{})
			case formMAC:
				dst = AppendMAC(dst, [6]byte(b))
			case formContent:
				dst = AppendContent(dst, b)
			default:
				dst = append(dst, b...)
			}
		}
		le.PutUint32(dst[at:], uint32(len(dst)-at-4))
	}
	return dst
}

func (p *Parquet) Dir(d byte) {
	if lf, v := p.beginStr(); lf != nil {
		lf.col.EndBytes(append(v, d))
	}
}

func (p *Parquet) Str(s []byte) {
	if lf, v := p.beginStr(); lf != nil {
		lf.col.EndBytes(AppendValidUTF8(v, s))
	}
}

func (p *Parquet) StrString(s string) {
	if lf, v := p.beginStr(); lf != nil {
		lf.col.EndBytes(appendValidUTF8String(v, s))
	}
}

// appendValidUTF8String is AppendValidUTF8 for a string, without
// converting the usual ASCII one.
func appendValidUTF8String(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return AppendValidUTF8(b, []byte(s))
		}
	}
	return append(b, s...)
}

func (p *Parquet) StrClass(s []byte)       { p.Str(s) }
func (p *Parquet) StrClassString(s string) { p.StrString(s) }

func (p *Parquet) Raw(s []byte) {
	if lf, v := p.beginStr(); lf != nil {
		lf.col.EndBytes(append(v, s...))
	}
}

func (p *Parquet) RawString(s string) {
	if lf, v := p.beginStr(); lf != nil {
		lf.col.EndBytes(append(v, s...))
	}
}

func (p *Parquet) Content(s []byte) {
	if lf, v := p.beginBytes(); lf != nil {
		if lf.deferred {
			lf.col.EndBytes(append(append(v, formContent), s...))
			return
		}
		lf.col.EndBytes(AppendContent(v, s))
	}
}

func (p *Parquet) MAC(m [6]byte) {
	if lf, v := p.beginBytes(); lf != nil {
		if lf.deferred {
			lf.col.EndBytes(append(append(v, formMAC), m[:]...))
			return
		}
		lf.col.EndBytes(AppendMAC(v, m))
	}
}

// IP implements column.Writer; a version other than 4 and 6 is "-".
func (p *Parquet) IP(ver uint8, a *[16]byte) {
	lf, v := p.beginBytes()
	if lf == nil {
		return
	}
	if !lf.deferred {
		if ver != 4 && ver != 6 {
			ver = 0
		}
		lf.col.EndBytes(AppendIP(v, ver, a))
		return
	}
	switch ver {
	case 4:
		v = append(append(v, formIP4), a[:4]...)
	case 6:
		v = append(append(v, formIP6), a[:]...)
	default:
		v = append(v, formIPNone)
	}
	lf.col.EndBytes(v)
}

// replaysHexBytes: Replay knows tHexBytes.
func (p *Parquet) replaysHexBytes() {}

// HexBytes implements column.HexBytesWriter: the values H(x, 2) of each
// byte, each after the first in a repetition of its own. A list of
// one-part integers (TCP and IP options) takes them in one call.
func (p *Parquet) HexBytes(s []byte) {
	if len(s) == 0 {
		return
	}
	st := &p.st
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
	column.WriteHexBytesEach(p, s)
}

// replayState is where Replay is in the row: column, repetitions
// started in its cell, part, and the parts written in this repetition.
type replayState struct {
	col, reps, part int
	set             uint64
	plainNum        *leafInfo // the column's plain numeric leaf until a value, Sub or Rep
}

// colInfo is what Replay needs of a column: its first leaf, its parts
// and the mask of a repetition with every part written.
type colInfo struct {
	first, nparts int32
	all           uint64
	plainNum      *leafInfo // the leaf of a plain numeric column (one part, not repeated), else nil
}

// leafInfo is what a value needs to know of its leaf column.
type leafInfo struct {
	col     *pqwrite.Column
	missing int // definition level of a missing value
	kind    column.Kind
	op      uint8 // how a number is written: opInt32, opInt64, opDouble, 0 (null)
	bytes   bool  // a BYTE_ARRAY column: strings, MACs, addresses
	// deferred: addresses and content are appended as their bytes and
	// formatted by the compression goroutine (expandDeferred); each value
	// starts with its form.
	deferred bool
}

const (
	opInt32 = iota + 1
	opInt64
	opDouble
)

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
