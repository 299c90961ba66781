package sink

import (
	"encoding/binary"
	"math"
	"net/netip"

	"flowsift/internal/column"
)

// Recorder is a column.Writer that keeps rows in memory instead of writing
// text: values go to one growing binary tape (the encoding of Async), so a
// recorded row costs no allocation once the tape has grown; Table decodes
// the tape into typed cells after the run. It serves analyses that need
// the rows (flowsift explain) without files.
type Recorder struct {
	b        []byte
	rowStart int
	// When KeepCol ≥ 0, only rows whose column KeepCol (0-based) holds the
	// unsigned value KeepValue are kept (one flow's packets).
	KeepCol   int
	KeepValue uint64
}

// NewRecorder returns a Recorder keeping every row.
func NewRecorder() *Recorder { return &Recorder{KeepCol: -1} }

func (r *Recorder) op(tag byte) { r.b = append(r.b, tag) }
func (r *Recorder) u64(tag byte, v uint64) {
	r.b = binary.LittleEndian.AppendUint64(append(r.b, tag), v)
}
func (r *Recorder) str(tag byte, s string) {
	b := binary.LittleEndian.AppendUint32(append(r.b, tag), uint32(len(s)))
	r.b = append(b, s...)
}
func (r *Recorder) strB(tag byte, s []byte) {
	b := binary.LittleEndian.AppendUint32(append(r.b, tag), uint32(len(s)))
	r.b = append(b, s...)
}

func (r *Recorder) Col()                    { r.op(tCol) }
func (r *Recorder) Sub()                    { r.op(tSub) }
func (r *Recorder) Rep()                    { r.op(tRep) }
func (r *Recorder) Dir(d byte)              { r.b = append(r.b, tDir, d) }
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
func (r *Recorder) Content([]byte) { r.op(tContent) }

func (r *Recorder) H(v uint64, digits int) {
	r.b = binary.LittleEndian.AppendUint64(append(r.b, tH, byte(digits)), v)
}
func (r *Recorder) F32(v float32) {
	r.b = binary.LittleEndian.AppendUint32(append(r.b, tF32), math.Float32bits(v))
}
func (r *Recorder) Time(sec uint64, nsec uint32) {
	b := binary.LittleEndian.AppendUint64(append(r.b, tTime), sec)
	r.b = binary.LittleEndian.AppendUint32(b, nsec)
}
func (r *Recorder) MAC(m [6]byte) { r.b = append(append(r.b, tMAC), m[:]...) }
func (r *Recorder) IP(ver uint8, a *[16]byte) {
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
			return
		}
	}
	r.b = append(r.b, tEndRow)
	r.rowStart = len(r.b)
}

// Value is one recorded value. Kind is the writer method that wrote it:
// 'D' Dir, 'U', 'I', 'H', 'F' (F32, F64, Fixed9), 'T' Time, 'S' (Str,
// StrClass, Raw), 'M' MAC, 'A' IP address ('-' when none), 'C' content.
type Value struct {
	Kind byte
	U    uint64 // U, H, Dir (the byte), Time seconds
	I    int64
	F    float64 // F; Time as seconds
	S    string
	Addr netip.Addr
	Nsec uint32
}

// Cell is one column of a row: its repetitions, each with its compound parts.
type Cell [][]Value

// Table is the decoded content of a Recorder.
type Table struct {
	Columns []column.Column
	Rows    [][]Cell
	index   map[string]int
}

// Table decodes the recorded rows; cols are the columns they were written with.
func (r *Recorder) Table(cols []column.Column) *Table {
	t := &Table{Columns: cols, index: make(map[string]int, len(cols))}
	for i, c := range cols {
		if _, dup := t.index[c.Name]; !dup {
			t.index[c.Name] = i
		}
	}
	b := r.b[:r.rowStart]
	for len(b) > 0 {
		end := rowEnd(b)
		t.Rows = append(t.Rows, decodeRow(b[:end], -1))
		b = b[end:]
		if len(b) > 0 && b[0] == tEndRow {
			b = b[1:]
		}
	}
	return t
}

// Col returns the index of the named column, or -1.
func (t *Table) Col(name string) int {
	if i, ok := t.index[name]; ok {
		return i
	}
	return -1
}

// Value returns the first value of the named column of row i (zero Value
// when absent).
func (t *Table) Value(row int, name string) Value {
	c := t.Col(name)
	if c < 0 || c >= len(t.Rows[row]) {
		return Value{}
	}
	cell := t.Rows[row][c]
	if len(cell) == 0 || len(cell[0]) == 0 {
		return Value{}
	}
	return cell[0][0]
}

// Cell returns the named cell of row i (nil when absent).
func (t *Table) Cell(row int, name string) Cell {
	c := t.Col(name)
	if c < 0 || c >= len(t.Rows[row]) {
		return nil
	}
	return t.Rows[row][c]
}

// rowEnd returns the offset of the tEndRow that closes the first row of b.
func rowEnd(b []byte) int {
	for i := 0; i < len(b); {
		tag := b[i]
		if tag == tEndRow {
			return i
		}
		i += 1 + valueSize(tag, b[i+1:])
	}
	return len(b)
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

// decodeRow decodes one row's tape into cells, stopping after max cells
// (max < 0: all).
func decodeRow(b []byte, max int) []Cell {
	le := binary.LittleEndian
	var cells []Cell
	var cur Cell
	flush := func() {
		if cur != nil {
			cells = append(cells, cur)
		}
	}
	add := func(v Value) {
		if cur == nil {
			cur = Cell{nil}
		}
		cur[len(cur)-1] = append(cur[len(cur)-1], v)
	}
	for i := 0; i < len(b); {
		tag := b[i]
		i++
		switch tag {
		case tCol:
			flush()
			if max >= 0 && len(cells) >= max {
				return cells
			}
			cur = Cell{nil}
		case tSub:
		case tRep:
			cur = append(cur, nil)
		case tDir:
			add(Value{Kind: 'D', U: uint64(b[i])})
		case tU:
			add(Value{Kind: 'U', U: le.Uint64(b[i:])})
		case tI:
			add(Value{Kind: 'I', I: int64(le.Uint64(b[i:]))})
		case tH:
			add(Value{Kind: 'H', U: le.Uint64(b[i+1:])})
		case tF32:
			add(Value{Kind: 'F', F: float64(math.Float32frombits(le.Uint32(b[i:])))})
		case tF64, tFixed9:
			add(Value{Kind: 'F', F: math.Float64frombits(le.Uint64(b[i:]))})
		case tTime:
			s, ns := le.Uint64(b[i:]), le.Uint32(b[i+8:])
			add(Value{Kind: 'T', U: s, Nsec: ns, F: float64(s) + float64(ns)/1e9})
		case tStr, tStrClass, tRaw:
			n := int(le.Uint32(b[i:]))
			add(Value{Kind: 'S', S: string(b[i+4 : i+4+n])})
		case tContent:
			add(Value{Kind: 'C'})
		case tMAC:
			add(Value{Kind: 'M', S: string(b[i : i+6])})
		case tIP4:
			add(Value{Kind: 'A', Addr: netip.AddrFrom4([4]byte(b[i : i+4]))})
		case tIP6:
			add(Value{Kind: 'A', Addr: netip.AddrFrom16([16]byte(b[i : i+16]))})
		case tIPNone:
			add(Value{Kind: 'A'})
		}
		i += valueSize(tag, b[i:])
	}
	flush()
	return cells
}
