package column

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind is the typed meaning of one part of a column value: what the typed
// writers (JSON Lines, Parquet, and later database sinks) make of it.
type Kind uint8

const (
	KindChar     Kind = iota + 1 // C: one character (flow direction)
	KindUint                     // U8..U64
	KindInt                      // I8..I64
	KindHex                      // H8..H64: a bit field, an unsigned integer of its width
	KindFloat32                  // F: a float printed with %.7g
	KindFloat64                  // D: a double printed with %.6f (or %.9f, TextFixed9)
	KindTime                     // U64.U32: a date, seconds and nanoseconds since 1970
	KindDuration                 // U64.U32 marked Duration: a length of time
	KindString                   // S, SC
	KindMAC                      // MAC
	KindIP                       // IP4, IP6, IPX
)

// TextForm names a text form that differs from the type's usual one.
type TextForm uint8

const (
	TextDefault TextForm = iota
	// TextFixed9: a D value printed with %.9f (packet file times).
	TextFixed9
	// TextRaw: a string printed as is, neither quoted nor sanitised
	// (packet file strings).
	TextRaw
	// TextContent: l7Content's escaped text (core.md §11); its typed value
	// is that text.
	TextContent
)

// Part is one element of a compound type ("H8_H32" has two).
type Part struct {
	// Name is the part's field name: the column name split at '_' when it
	// has one piece per part ("ipToSDscp_ecn" → "ipToSDscp", "ecn"),
	// otherwise "_1", "_2", ...
	Name string
	Kind Kind
	// Bits is the width of an integer or hex part (8, 16, 32, 64).
	Bits int
	// Quoted: an S string, written "..." in the text file.
	Quoted bool
}

// Shape is the typed layout of a column: its parts (one for a plain type)
// and whether it repeats.
type Shape struct {
	Parts    []Part
	Repeated bool
	Text     TextForm
}

// Compound reports whether a value has more than one part.
func (s Shape) Compound() bool { return len(s.Parts) > 1 }

// Shape parses the column's type code into its typed layout.
func (c Column) Shape() (Shape, error) {
	t := strings.TrimSuffix(c.Type, ":R")
	codes := strings.Split(t, "_")
	names := strings.Split(c.Name, "_")
	if len(names) != len(codes) {
		names = nil
	}
	s := Shape{Repeated: c.Repeated(), Text: c.Text}
	for i, code := range codes {
		p, err := parsePart(code)
		if err != nil {
			return Shape{}, fmt.Errorf("column %s: type %q: %v", c.Name, c.Type, err)
		}
		if p.Kind == KindTime && c.Duration {
			p.Kind = KindDuration
		}
		if names != nil {
			p.Name = names[i]
		} else {
			p.Name = "_" + strconv.Itoa(i+1)
		}
		s.Parts = append(s.Parts, p)
	}
	if s.Text == TextFixed9 && (len(s.Parts) != 1 || s.Parts[0].Kind != KindFloat64) {
		return Shape{}, fmt.Errorf("column %s: %%.9f text form on type %q", c.Name, c.Type)
	}
	return s, nil
}

func parsePart(code string) (Part, error) {
	switch code {
	case "C":
		return Part{Kind: KindChar}, nil
	case "F":
		return Part{Kind: KindFloat32}, nil
	case "D":
		return Part{Kind: KindFloat64}, nil
	case "U64.U32":
		return Part{Kind: KindTime}, nil
	case "S":
		return Part{Kind: KindString, Quoted: true}, nil
	case "SC":
		return Part{Kind: KindString}, nil
	case "MAC":
		return Part{Kind: KindMAC}, nil
	case "IP4", "IP6", "IPX":
		return Part{Kind: KindIP}, nil
	}
	if len(code) >= 2 {
		var k Kind
		switch code[0] {
		case 'U':
			k = KindUint
		case 'I':
			k = KindInt
		case 'H':
			k = KindHex
		}
		if b, err := strconv.Atoi(code[1:]); err == nil && k != 0 && (b == 8 || b == 16 || b == 32 || b == 64) {
			return Part{Kind: k, Bits: b}, nil
		}
	}
	return Part{}, fmt.Errorf("unknown type code %q", code)
}

// Shapes parses every column's shape.
func Shapes(cols []Column) ([]Shape, error) {
	out := make([]Shape, len(cols))
	for i, c := range cols {
		s, err := c.Shape()
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}
