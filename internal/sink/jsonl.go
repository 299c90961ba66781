package sink

import (
	"bytes"
	"io"
	"strconv"
	"sync"
	"unicode/utf8"

	"flowsift/internal/column"
)

// JSONL is the Output of JSON Lines files: one object per row, keys the
// column names in order (like Tranalyzer's JSON sink). Values are typed
// (column.Shape): integers and hex bit fields as numbers (hex as "0x..."
// strings with HexStrings), floats, times and durations as numbers with
// the text file's digits (a whole float gets ".0", so that it reads as a
// float), strings, MACs and addresses as strings,
// compounds as arrays of their parts, repeated columns as arrays, empty
// cells as null. Non-finite floats, which JSON has no number for, are the
// strings "nan", "-nan", "inf" and "-inf".
type JSONL struct {
	w      io.Writer
	shapes []column.Shape
	keys   [][]byte // `{"name":` for the first column, `,"name":` after
	hex    bool
	rb     *RowBuilder
	buf    []byte

	mu      sync.Mutex
	err     error
	written int64
}

// NewJSONL returns a JSON Lines Output for the columns on w.
func NewJSONL(w io.Writer, cols []column.Column, hexStrings bool) (*JSONL, error) {
	shapes, err := column.Shapes(cols)
	if err != nil {
		return nil, err
	}
	j := &JSONL{w: w, shapes: shapes, hex: hexStrings, rb: NewRowBuilder(shapes), buf: make([]byte, 0, flushAt+64<<10)}
	for i, c := range cols {
		k := []byte{','}
		if i == 0 {
			k[0] = '{'
		}
		k = AppendJSONString(k, []byte(c.Name))
		j.keys = append(j.keys, append(k, ':'))
	}
	return j, nil
}

// Replay implements Output.
func (j *JSONL) Replay(tape []byte) { j.rb.Replay(tape, j.row) }

func (j *JSONL) row(r *Row) {
	b := j.buf
	for c, s := range j.shapes {
		b = append(b, j.keys[c]...)
		b = j.appendCell(b, s, r, c)
	}
	j.buf = append(b, '}', '\n')
	if len(j.buf) >= flushAt {
		j.Flush()
	}
}

func (j *JSONL) appendCell(b []byte, s column.Shape, r *Row, c int) []byte {
	reps := int(r.Cells[c].Reps)
	if !s.Repeated {
		if reps == 0 {
			return append(b, "null"...)
		}
		return j.appendRep(b, s, r, c, 0)
	}
	b = append(b, '[')
	for rep := 0; rep < reps; rep++ {
		if rep > 0 {
			b = append(b, ',')
		}
		b = j.appendRep(b, s, r, c, rep)
	}
	return append(b, ']')
}

func (j *JSONL) appendRep(b []byte, s column.Shape, r *Row, c, rep int) []byte {
	if !s.Compound() {
		return j.appendValue(b, s, s.Parts[0], r.Part(j.shapes, c, rep, 0), r)
	}
	b = append(b, '[')
	for p := range s.Parts {
		if p > 0 {
			b = append(b, ',')
		}
		b = j.appendValue(b, s, s.Parts[p], r.Part(j.shapes, c, rep, p), r)
	}
	return append(b, ']')
}

func (j *JSONL) appendValue(b []byte, s column.Shape, p column.Part, v TypedValue, r *Row) []byte {
	if v.Kind == 0 {
		return append(b, "null"...)
	}
	switch p.Kind {
	case column.KindUint:
		return strconv.AppendUint(b, v.U, 10)
	case column.KindInt:
		return strconv.AppendInt(b, v.Int(), 10)
	case column.KindHex:
		if j.hex {
			b = append(b, '"')
			b = AppendHex(b, v.U, p.Bits/4)
			return append(b, '"')
		}
		return strconv.AppendUint(b, v.U, 10)
	case column.KindFloat32, column.KindFloat64:
		if !isFinite(v.Float()) {
			b = append(b, '"')
			b = appendNonFinite(b, v.Float())
			return append(b, '"')
		}
		n := len(b)
		b = AppendPartText(b, s, p, v, r)
		if p.Kind == column.KindFloat32 && !bytes.ContainsAny(b[n:], ".e") {
			// %.7g prints whole numbers without a point: keep the number a
			// float to readers that infer types (pandas, DuckDB).
			b = append(b, '.', '0')
		}
		return b
	case column.KindTime, column.KindDuration:
		return AppendTime(b, v.U, v.N)
	}
	return AppendJSONString(b, r.Str(v))
}

// Flush implements Output.
func (j *JSONL) Flush() error {
	if len(j.buf) > 0 && j.Err() == nil {
		n, err := j.w.Write(j.buf)
		j.mu.Lock()
		j.written += int64(n)
		if err != nil && j.err == nil {
			j.err = err
		}
		j.mu.Unlock()
	}
	j.buf = j.buf[:0]
	return j.Err()
}

// Close implements Output.
func (j *JSONL) Close() error { return j.Flush() }

// Err implements Output.
func (j *JSONL) Err() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

// Written implements Output.
func (j *JSONL) Written() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.written
}

// AppendJSONString appends s as a JSON string (RFC 8259): quote,
// backslash and control characters escaped, invalid UTF-8 as U+FFFD.
func AppendJSONString(b []byte, s []byte) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && n <= 1 {
				b = append(b, "\ufffd"...)
			} else {
				b = append(b, s[i:i+n]...)
			}
			i += n
			continue
		}
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
	}
	return append(b, '"')
}
