// Package column declares output columns and the Writer that every sink
// implements. A plugin declares each of its columns once (name, type code,
// description); the headers file, the text sink's header line and any other
// writer are driven by those declarations, and the plugin fills a row by
// calling Writer methods in declaration order.
package column

import "strings"

// Column is one output column as declared by the plugin that owns it.
type Column struct {
	Name string
	// Type is Tranalyzer's type code as printed in the headers file:
	// "U64", "H16", "F", "U64.U32", compounds joined by '_' ("H8_H32"),
	// repetitive columns ending in ":R" ("U16:R").
	Type string
	Desc string
	// Duration marks a U64.U32 column that holds a length of time, not a
	// date (the typed writers give it in seconds, not as a timestamp).
	Duration bool
	// Text is the column's text form where it is not the type's usual one
	// (the packet file prints some D columns with %.9f, some strings raw).
	// The typed writers need it to keep every text cell reproducible.
	Text TextForm
}

// Repeated reports whether the column holds 0..n repetitions (":R").
func (c Column) Repeated() bool { return strings.HasSuffix(c.Type, ":R") }

// Writer receives one row, column by column. Col starts the next column;
// value methods append to the current column; Sub and Rep separate the
// parts of a compound and the repetitions of a repetitive column.
//
// Value methods by type code: C → Dir; U8..U64 → U; I8..I64 → I;
// H8..H64 → H with 2/4/8/16 digits; F → F32; D → F64; U64.U32 → Time;
// S → Str; SC → StrClass; MAC → MAC; IP4/IP6/IPX → IP.
// The packet file uses a few text forms of its own (Fixed9 for "%.9f",
// Raw for unquoted strings, Content for l7Content).
type Writer interface {
	Col()
	Sub()
	Rep()
	Dir(b byte)
	U(v uint64)
	I(v int64)
	H(v uint64, digits int)
	F32(v float32)
	F64(v float64)
	Time(sec uint64, nsec uint32)
	Str(s []byte)
	StrString(s string)
	StrClass(s []byte)
	StrClassString(s string)
	MAC(m [6]byte)
	// IP writes an address: ver 4 uses a[:4], ver 6 the 16 bytes, any other
	// ver writes "-" (IPX of an L2 flow).
	IP(ver uint8, a *[16]byte)
	Fixed9(v float64)
	Raw(s []byte)
	RawString(s string)
	Content(b []byte)
	// ColU, ColI and ColH start the next column and write one value: Col
	// then U, I or H, in one call. Most packet columns are one number, and
	// a packet row has some seventy of them: the per-packet path makes
	// half as many interface calls.
	ColU(v uint64)
	ColI(v int64)
	ColH(v uint64, digits int)
}

// HexBytesWriter is implemented by writers with a faster path for a
// repeated column of bytes (TCP and IP options): the same cells as H(b, 2)
// for each byte, separated by Rep.
type HexBytesWriter interface {
	HexBytes(b []byte)
}

// WriteHexBytes writes b as repeated 2-digit hex values, through the
// writer's fast path when it has one.
func WriteHexBytes(w Writer, b []byte) {
	if hw, ok := w.(HexBytesWriter); ok {
		hw.HexBytes(b)
		return
	}
	WriteHexBytesEach(w, b)
}

// WriteHexBytesEach writes b as repeated 2-digit hex values one byte at a
// time: the form every fast path must match.
func WriteHexBytesEach(w Writer, b []byte) {
	for i, c := range b {
		if i > 0 {
			w.Rep()
		}
		w.H(uint64(c), 2)
	}
}

// Names returns the column names in order.
func Names(cols []Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}
