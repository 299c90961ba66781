package sink

import (
	"encoding/binary"
	"math"
	"net/netip"
	"slices"

	"flowsift/internal/column"
)

// Recorder is a column.Writer that keeps rows in memory instead of writing
// text: values go to one growing binary tape (the encoding of Async), so a
// recorded row costs no allocation once the tape has grown; Table decodes
// the tape into typed values after the run. It serves analyses that need
// the rows (flowsift explain) without files. Only the columns named by Keep
// are recorded: the others cost a counter increment.
type Recorder struct {
	b        []byte
	rowStart int
	col      int  // index of the current column in the row
	on       bool // the current column is kept
	keep     []bool
	// When KeepCol ≥ 0, only rows whose column KeepCol (0-based) holds the
	// unsigned value KeepValue are kept (one flow's packets). KeepCol must
	// be a kept column.
	KeepCol   int
	KeepValue uint64
	// OnRow, when set, receives each row as it ends, decoded into a Table
	// of that one row (reused): nothing is kept, memory stays one row.
	OnRow      func(row *Table)
	full, free chan []byte
	done       chan struct{}
}

// NewRecorder returns a Recorder keeping every row and, of cols, the
// columns named in want (all when want is nil).
func NewRecorder(cols []column.Column, want []string) *Recorder {
	r := &Recorder{KeepCol: -1, col: -1, keep: make([]bool, len(cols))}
	for i, c := range cols {
		r.keep[i] = want == nil
		for _, w := range want {
			if c.Name == w {
				r.keep[i] = true
			}
		}
	}
	return r
}

func (r *Recorder) op(tag byte) {
	if r.on {
		r.b = append(r.b, tag)
	}
}
func (r *Recorder) u64(tag byte, v uint64) {
	if r.on {
		r.b = binary.LittleEndian.AppendUint64(append(r.b, tag), v)
	}
}
func (r *Recorder) str(tag byte, s string) {
	if r.on {
		b := binary.LittleEndian.AppendUint32(append(r.b, tag), uint32(len(s)))
		r.b = append(b, s...)
	}
}
func (r *Recorder) strB(tag byte, s []byte) {
	if r.on {
		b := binary.LittleEndian.AppendUint32(append(r.b, tag), uint32(len(s)))
		r.b = append(b, s...)
	}
}

// Col starts the next column; every column leaves its mark on the tape so
// that decoding finds the kept ones by position.
func (r *Recorder) Col() {
	r.col++
	r.on = r.col < len(r.keep) && r.keep[r.col]
	r.b = append(r.b, tCol)
}

func (r *Recorder) Sub()                    {}
func (r *Recorder) Rep()                    { r.op(tRep) }
func (r *Recorder) Dir(d byte)              { r.u64(tU, uint64(d)) }
func (r *Recorder) U(v uint64)              { r.u64(tU, v) }
func (r *Recorder) I(v int64)               { r.u64(tI, uint64(v)) }
func (r *Recorder) F64(v float64)           { r.u64(tF64, math.Float64bits(v)) }
func (r *Recorder) Fixed9(v float64)        { r.u64(tFixed9, math.Float64bits(v)) }
func (r *Recorder) Str(s []byte)            { r.strB(tStr, s) }
func (r *Recorder) StrString(s string)      { r.str(tStr, s) }
func (r *Recorder) StrClass(s []byte)       { r.strB(tStrClass, s) }
func (r *Recorder) StrClassString(s string) { r.str(tStrClass, s) }
func (r *Recorder) Raw(s []byte)            { r.strB(tRaw, s) }
func (r *Recorder) RawString(s string)      { r.str(tRaw, s) }

// Content is not kept: no analysis reads payload bytes.
func (r *Recorder) Content([]byte) {}

func (r *Recorder) H(v uint64, digits int) { r.u64(tU, v) }
func (r *Recorder) F32(v float32)          { r.u64(tF64, math.Float64bits(float64(v))) }

func (r *Recorder) ColU(v uint64)             { r.Col(); r.U(v) }
func (r *Recorder) ColI(v int64)              { r.Col(); r.I(v) }
func (r *Recorder) ColH(v uint64, digits int) { r.Col(); r.H(v, digits) }

func (r *Recorder) Time(sec uint64, nsec uint32) {
	if r.on {
		b := binary.LittleEndian.AppendUint64(append(r.b, tTime), sec)
		r.b = binary.LittleEndian.AppendUint32(b, nsec)
	}
}
func (r *Recorder) MAC(m [6]byte) {
	if r.on {
		r.b = append(append(r.b, tMAC), m[:]...)
	}
}
func (r *Recorder) IP(ver uint8, a *[16]byte) {
	if !r.on {
		return
	}
	switch ver {
	case 4:
		r.b = append(append(r.b, tIP4), a[:4]...)
	case 6:
		r.b = append(append(r.b, tIP6), a[:]...)
	default:
		r.op(tIPNone)
	}
}

// EndRow closes the row, or drops it when it does not pass KeepCol.
func (r *Recorder) EndRow() {
	if r.KeepCol >= 0 {
		if v, ok := firstU(r.b[r.rowStart:], r.KeepCol); !ok || v != r.KeepValue {
			r.b = r.b[:r.rowStart]
			r.col, r.on = -1, false
			return
		}
	}
	r.col, r.on = -1, false
	r.b = append(r.b, tEndRow)
	r.rowStart = len(r.b)
	if r.OnRow != nil && len(r.b) >= streamTape {
		r.handOff()
	}
}

// streamTape is the tape size at which a streaming recorder hands its rows
// to the decoding goroutine.
const streamTape = 256 << 10

func (r *Recorder) handOff() {
	r.full <- r.b
	r.b = (<-r.free)[:0]
	r.rowStart = 0
}

// Close hands the last rows of a streaming recorder over and waits until
// OnRow has seen every row. A recorder that keeps its rows needs no Close.
func (r *Recorder) Close() {
	if r.OnRow == nil || r.full == nil {
		return
	}
	r.handOff()
	close(r.full)
	<-r.done
	r.full = nil
}

// Stream makes the recorder hand every row to fn (OnRow) instead of
// keeping it: full tapes go to a goroutine that decodes them row by row
// into a reused one-row Table, so decoding overlaps the run and memory
// stays a few tapes. cols are the columns of the rows; Close ends it.
func (r *Recorder) Stream(cols []column.Column, fn func(row *Table)) {
	r.OnRow = fn
	r.full, r.free, r.done = make(chan []byte, 2), make(chan []byte, 3), make(chan struct{})
	for i := 0; i < 2; i++ {
		r.free <- make([]byte, 0, streamTape+64<<10)
	}
	go func() {
		defer close(r.done)
		t := newTable(cols)
		for tape := range r.full {
			for b := tape; len(b) > 0; {
				t.vals, t.off, t.rows = t.vals[:0], t.off[:0], 0
				end := t.decodeRow(b)
				fn(t)
				b = nextRow(b, end)
			}
			r.free <- tape[:0]
		}
	}()
}

func newTable(cols []column.Column) *Table {
	t := &Table{Columns: cols, index: make(map[string]int, len(cols)), ncol: len(cols)}
	for i, c := range cols {
		if _, dup := t.index[c.Name]; !dup {
			t.index[c.Name] = i
		}
	}
	return t
}

// Value is one recorded value. Kind says what it is: 'U' unsigned
// (U, H, Dir), 'I' signed, 'F' floating point (F32, F64, Fixed9), 'T' time,
// 'S' string (Str, StrClass, Raw), 'M' MAC, 'A' IP address (invalid for
// "-"), 'R' the separator of two repetitions of a cell.
type Value struct {
	Kind byte
	U    uint64 // U, H, Dir (the byte), Time seconds
	I    int64
	F    float64 // F; Time as seconds
	S    string
	Addr netip.Addr
	Nsec uint32
}

// Table is the decoded content of a Recorder: the kept columns' values of
// every row in one array, found through per-row column offsets.
type Table struct {
	Columns []column.Column
	index   map[string]int
	ncol    int
	vals    []Value
	off     []int32 // row i, column c: vals[off[i*(ncol+1)+c] : off[i*(ncol+1)+c+1]]
	rows    int
}

// Table decodes the recorded rows; cols are the columns they were written with.
func (r *Recorder) Table(cols []column.Column) *Table {
	t := newTable(cols)
	for b := r.b[:r.rowStart]; len(b) > 0; {
		b = nextRow(b, t.decodeRow(b))
	}
	return t
}

// Each decodes the recorded rows one at a time into a Table holding just
// that row (row 0), reused from row to row: memory stays that of one row.
func (r *Recorder) Each(cols []column.Column, fn func(row *Table)) {
	t := newTable(cols)
	for b := r.b[:r.rowStart]; len(b) > 0; {
		t.vals, t.off, t.rows = t.vals[:0], t.off[:0], 0
		end := t.decodeRow(b)
		fn(t)
		b = nextRow(b, end)
	}
}

// Len returns the number of rows.
func (t *Table) Len() int { return t.rows }

// Col returns the index of the named column, or -1.
func (t *Table) Col(name string) int {
	if i, ok := t.index[name]; ok {
		return i
	}
	return -1
}

// Cell returns the values of the named cell of row i, repetitions separated
// by Kind 'R' values (nil when absent or not kept).
func (t *Table) Cell(row int, name string) []Value {
	return t.CellAt(row, t.Col(name))
}

// CellAt is Cell by column index (Col), for readers of many rows that
// look their columns up once.
func (t *Table) CellAt(row, col int) []Value {
	if col < 0 || col >= t.ncol || row < 0 || row >= t.rows {
		return nil
	}
	base := row * (t.ncol + 1)
	return t.vals[t.off[base+col]:t.off[base+col+1]]
}

// Value returns the first value of the named cell of row i (zero Value
// when absent).
func (t *Table) Value(row int, name string) Value {
	if v := t.Cell(row, name); len(v) > 0 {
		return v[0]
	}
	return Value{}
}

// decodeRow appends the row at the start of b to the table and returns
// the offset of the tEndRow that closes it (len(b) when there is none):
// one pass finds the row's end and decodes it.
func (t *Table) decodeRow(b []byte) int {
	le := binary.LittleEndian
	base := len(t.off)
	t.off = slices.Grow(t.off, t.ncol+1)[:base+t.ncol+1]
	col := -1
	i := 0
	for i < len(b) {
		tag := b[i]
		if tag == tEndRow {
			break
		}
		i++
		// Each case steps over its payload itself (valueSize is no inlined
		// call): this loop runs for every kept value of every row.
		switch tag {
		case tCol:
			if col < t.ncol {
				col++
				t.off[base+col] = int32(len(t.vals))
			}
		case tRep:
			t.vals = append(t.vals, Value{Kind: 'R'})
		case tU:
			t.vals = append(t.vals, Value{Kind: 'U', U: le.Uint64(b[i:])})
			i += 8
		case tI:
			t.vals = append(t.vals, Value{Kind: 'I', I: int64(le.Uint64(b[i:]))})
			i += 8
		case tF64, tFixed9:
			t.vals = append(t.vals, Value{Kind: 'F', F: math.Float64frombits(le.Uint64(b[i:]))})
			i += 8
		case tTime:
			s, ns := le.Uint64(b[i:]), le.Uint32(b[i+8:])
			t.vals = append(t.vals, Value{Kind: 'T', U: s, Nsec: ns, F: float64(s) + float64(ns)/1e9})
			i += 12
		case tStr, tStrClass, tRaw:
			n := int(le.Uint32(b[i:]))
			t.vals = append(t.vals, Value{Kind: 'S', S: string(b[i+4 : i+4+n])})
			i += 4 + n
		case tMAC:
			t.vals = append(t.vals, Value{Kind: 'M', S: string(b[i : i+6])})
			i += 6
		case tIP4:
			t.vals = append(t.vals, Value{Kind: 'A', Addr: netip.AddrFrom4([4]byte(b[i : i+4]))})
			i += 4
		case tIP6:
			t.vals = append(t.vals, Value{Kind: 'A', Addr: netip.AddrFrom16([16]byte(b[i : i+16]))})
			i += 16
		case tIPNone:
			t.vals = append(t.vals, Value{Kind: 'A'})
		default:
			t.vals = append(t.vals, Value{})
			i += valueSize(tag, b[i:])
		}
	}
	// Columns after the last one seen (and the end offset) are empty.
	for c := col + 1; c <= t.ncol; c++ {
		t.off[base+c] = int32(len(t.vals))
	}
	t.rows++
	return i
}

// nextRow returns b after the row that ends at end (and its tEndRow).
func nextRow(b []byte, end int) []byte {
	b = b[end:]
	if len(b) > 0 && b[0] == tEndRow {
		b = b[1:]
	}
	return b
}

// firstU returns the first unsigned value of column col of a row's tape
// without decoding the row (no allocation: it runs for every packet).
func firstU(b []byte, col int) (uint64, bool) {
	n := -1
	for i := 0; i < len(b); {
		tag := b[i]
		if tag == tCol {
			n++
		} else if n == col && tag == tU {
			return binary.LittleEndian.Uint64(b[i+1:]), true
		} else if n > col {
			break
		}
		i += 1 + valueSize(tag, b[i+1:])
	}
	return 0, false
}

// valueSize is the payload size after a tag.
func valueSize(tag byte, rest []byte) int {
	switch tag {
	case tDir:
		return 1
	case tU, tI, tF64, tFixed9:
		return 8
	case tH:
		return 9
	case tF32:
		return 4
	case tTime:
		return 12
	case tStr, tStrClass, tRaw:
		return 4 + int(binary.LittleEndian.Uint32(rest))
	case tMAC:
		return 6
	case tIP4:
		return 4
	case tIP6:
		return 16
	}
	return 0
}
