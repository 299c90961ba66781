package clickhouse

import (
	"fmt"
	"strings"
)

// Type is a parsed ClickHouse type: the few that flowsift's tables use
// (integers, Float64, String, Nullable, Array, Tuple). The failed-batch
// file and clickhouse-send are driven by it: a batch not accepted is
// decoded, and the file's JSON rows encoded again (jsonBlock), in Native
// by the table's column types.
type Type struct {
	Base  string // UInt8..UInt64, Int8..Int64, Float64, String, Nullable, Array, Tuple
	Elems []*Type
	// Bytes is the width of an integer or Float64.
	Bytes  int
	Signed bool
}

// String is the type as ClickHouse prints it.
func (t *Type) String() string {
	if len(t.Elems) == 0 {
		return t.Base
	}
	parts := make([]string, len(t.Elems))
	for i, e := range t.Elems {
		parts[i] = e.String()
	}
	return t.Base + "(" + strings.Join(parts, ", ") + ")"
}

var scalarTypes = map[string]Type{
	"UInt8": {Bytes: 1}, "UInt16": {Bytes: 2}, "UInt32": {Bytes: 4}, "UInt64": {Bytes: 8},
	"Int8": {Bytes: 1, Signed: true}, "Int16": {Bytes: 2, Signed: true},
	"Int32": {Bytes: 4, Signed: true}, "Int64": {Bytes: 8, Signed: true},
	"Float64": {Bytes: 8}, "String": {},
}

// ParseType parses a type as system.columns prints it.
func ParseType(s string) (*Type, error) {
	p := typeParser{s: s}
	t, err := p.parse(0)
	if err != nil {
		return nil, err
	}
	if p.i != len(p.s) {
		return nil, fmt.Errorf("type %q: unexpected %q", s, p.s[p.i:])
	}
	return t, nil
}

type typeParser struct {
	s string
	i int
}

// maxTypeDepth bounds nesting: a type comes from a server, and a
// malicious one must not exhaust the stack.
const maxTypeDepth = 16

func (p *typeParser) parse(depth int) (*Type, error) {
	if depth > maxTypeDepth {
		return nil, fmt.Errorf("type %q nested too deeply", p.s)
	}
	p.space()
	start := p.i
	for p.i < len(p.s) && (isAlnum(p.s[p.i])) {
		p.i++
	}
	name := p.s[start:p.i]
	if sc, ok := scalarTypes[name]; ok {
		t := sc
		t.Base = name
		return &t, nil
	}
	switch name {
	case "Nullable", "Array", "Tuple":
	default:
		return nil, fmt.Errorf("type %q: unsupported type %q", p.s, name)
	}
	t := &Type{Base: name}
	if p.i >= len(p.s) || p.s[p.i] != '(' {
		return nil, fmt.Errorf("type %q: %s without its element type", p.s, name)
	}
	p.i++
	for {
		e, err := p.parse(depth + 1)
		if err != nil {
			return nil, err
		}
		t.Elems = append(t.Elems, e)
		p.space()
		if p.i >= len(p.s) {
			return nil, fmt.Errorf("type %q: missing ')'", p.s)
		}
		if p.s[p.i] == ')' {
			p.i++
			break
		}
		if p.s[p.i] != ',' || name != "Tuple" {
			return nil, fmt.Errorf("type %q: unexpected %q", p.s, p.s[p.i:])
		}
		p.i++
	}
	return t, nil
}

func (p *typeParser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}
