package sink

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/parquet-go/parquet-go/encoding"

	"flowsift/internal/column"
)

// ParquetRowGroup is the number of rows per row group: large enough for
// column statistics to skip data, small enough to keep the writer's
// memory (one compressed row group) bounded on any capture.
const ParquetRowGroup = 128 << 10

// parquetBatch is the number of rows handed to the Parquet writer at once.
const parquetBatch = 256

// Parquet is the Output of Parquet files. Each column becomes one field of
// its typed shape (column.Shape): unsigned integers and hex bit fields as
// unsigned integers of their width, signed ones as signed, floats as
// doubles, times as TIMESTAMP(NANOS, UTC), durations as doubles in seconds,
// strings, MACs and addresses as strings, compounds as groups of their
// parts, repeated columns as lists; empty cells are null. Pages are zstd
// compressed and carry statistics; the key/value metadata holds the
// flowsift version, the command line and the column declarations.
type Parquet struct {
	shapes []column.Shape
	leaf   []int // index of each column's first leaf column
	w      *parquet.Writer
	cw     *countWriter
	rb     *RowBuilder

	rows  []parquet.Row
	arena []byte
	n     int

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
	root := &orderedGroup{}
	p := &Parquet{shapes: shapes, cw: &countWriter{w: w}, rb: NewRowBuilder(shapes)}
	leaves := 0
	for i, s := range shapes {
		p.leaf = append(p.leaf, leaves)
		leaves += len(s.Parts)
		root.add(cols[i].Name, parquetNode(s))
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
	p.w = parquet.NewWriter(p.cw,
		parquet.NewSchema("flowsift", root),
		parquet.Compression(&zstd.Codec{Level: zstd.SpeedDefault}),
		parquet.MaxRowsPerRowGroup(ParquetRowGroup),
		parquet.CreatedBy("flowsift", meta.Version, ""),
		parquet.KeyValueMetadata("flowsift.version", meta.Version),
		parquet.KeyValueMetadata("flowsift.command_line", meta.CmdLine),
		parquet.KeyValueMetadata("flowsift.columns", string(desc)),
	)
	p.rows = make([]parquet.Row, parquetBatch)
	return p, nil
}

// parquetNode is the schema node of a column of shape s.
func parquetNode(s column.Shape) parquet.Node {
	var elem parquet.Node
	if s.Compound() {
		g := &orderedGroup{}
		for _, part := range s.Parts {
			g.add(part.Name, parquet.Optional(parquetLeaf(part.Kind, part.Bits)))
		}
		elem = parquet.Optional(g)
	} else {
		elem = parquet.Optional(parquetLeaf(s.Parts[0].Kind, s.Parts[0].Bits))
	}
	if s.Repeated {
		return parquet.List(elem)
	}
	return elem
}

func parquetLeaf(k column.Kind, bits int) parquet.Node {
	switch k {
	case column.KindUint, column.KindHex:
		return parquet.Uint(bits)
	case column.KindInt:
		return parquet.Int(bits)
	case column.KindFloat32, column.KindFloat64, column.KindDuration:
		return parquet.Leaf(parquet.DoubleType)
	case column.KindTime:
		return parquet.Timestamp(parquet.Nanosecond)
	}
	return parquet.String()
}

// Replay implements Output.
func (p *Parquet) Replay(tape []byte) { p.rb.Replay(tape, p.row) }

// Levels of a leaf (see parquetNode): a plain column is optional (definition
// level 1 when present); a compound adds its optional group; a list adds
// its repeated level and optional element.
func (p *Parquet) row(r *Row) {
	if p.n == len(p.rows) {
		p.writeBatch()
	}
	vals := p.rows[p.n][:0]
	for c, s := range p.shapes {
		cell := r.Cells[c]
		np := len(s.Parts)
		for part := 0; part < np; part++ {
			leaf := p.leaf[c] + part
			if !s.Repeated {
				if cell.Reps == 0 {
					vals = append(vals, parquet.Value{}.Level(0, 0, leaf))
					continue
				}
				v := r.Vals[int(cell.Start)+part]
				d := 1
				if s.Compound() {
					d = 2
				}
				vals = append(vals, p.value(s.Parts[part], v, r, 0, d, leaf))
				continue
			}
			if cell.Reps == 0 {
				vals = append(vals, parquet.Value{}.Level(0, 0, leaf))
				continue
			}
			d := 2
			if s.Compound() {
				d = 3
			}
			for rep := 0; rep < int(cell.Reps); rep++ {
				rl := 0
				if rep > 0 {
					rl = 1
				}
				v := r.Vals[int(cell.Start)+rep*np+part]
				vals = append(vals, p.value(s.Parts[part], v, r, rl, d, leaf))
			}
		}
	}
	p.rows[p.n] = vals
	p.n++
}

// value is the parquet value of v at repetition level rl; d is the
// definition level of a present value (a missing one is one less).
func (p *Parquet) value(part column.Part, v Value, r *Row, rl, d, leaf int) parquet.Value {
	if v.Kind == 0 {
		return parquet.Value{}.Level(rl, d-1, leaf)
	}
	var pv parquet.Value
	switch part.Kind {
	case column.KindUint, column.KindHex, column.KindInt:
		if part.Bits == 64 {
			pv = parquet.Int64Value(int64(v.U))
		} else {
			pv = parquet.Int32Value(int32(v.U))
		}
	case column.KindFloat32, column.KindFloat64:
		pv = parquet.DoubleValue(v.Float())
	case column.KindDuration:
		pv = parquet.DoubleValue(v.Seconds())
	case column.KindTime:
		ns, ok := v.TimeNanos()
		if !ok { // beyond the years 1677..2262: no timestamp for it
			return parquet.Value{}.Level(rl, d-1, leaf)
		}
		pv = parquet.Int64Value(ns)
	default:
		off := len(p.arena)
		p.arena = append(p.arena, r.Str(v)...)
		pv = parquet.ByteArrayValue(p.arena[off:len(p.arena):len(p.arena)])
	}
	return pv.Level(rl, d, leaf)
}

// writeBatch hands the collected rows to the writer. The arena is reused
// afterwards: the writer has copied the byte arrays.
func (p *Parquet) writeBatch() {
	if p.n > 0 && p.Err() == nil {
		if _, err := p.w.WriteRows(p.rows[:p.n]); err != nil {
			p.setErr(err)
		}
	}
	p.n = 0
	p.arena = p.arena[:0]
}

func (p *Parquet) setErr(err error) {
	p.mu.Lock()
	if p.err == nil {
		p.err = err
	}
	p.mu.Unlock()
}

// Flush implements Output: the rows so far are handed to the writer
// (they reach the file with their row group).
func (p *Parquet) Flush() error {
	p.writeBatch()
	return p.Err()
}

// Close implements Output: the last row group and the footer are written.
func (p *Parquet) Close() error {
	p.writeBatch()
	if p.Err() == nil {
		if err := p.w.Close(); err != nil {
			p.setErr(err)
		}
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

// orderedGroup is a Parquet group whose fields keep their declaration
// order (parquet.Group sorts them by name): the file's columns are in the
// text file's order.
type orderedGroup struct {
	names  []string
	nodes  []parquet.Node
	fields []parquet.Field
}

// add appends a field (before the group is used).
func (g *orderedGroup) add(name string, n parquet.Node) {
	g.names = append(g.names, name)
	g.nodes = append(g.nodes, n)
	g.fields = append(g.fields, &orderedField{Node: n, name: name})
}

type orderedField struct {
	parquet.Node
	name string
}

func (f *orderedField) Name() string { return f.name }

func (f *orderedField) Value(base reflect.Value) reflect.Value {
	panic("flowsift: Parquet rows are built directly, not from Go values")
}

func (g *orderedGroup) ID() int { return 0 }
func (g *orderedGroup) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "group {")
	for i, n := range g.names {
		fmt.Fprintf(&b, " %s: %v;", n, g.nodes[i])
	}
	b.WriteString(" }")
	return b.String()
}
func (g *orderedGroup) Type() parquet.Type          { return parquet.Group{}.Type() }
func (g *orderedGroup) Optional() bool              { return false }
func (g *orderedGroup) Repeated() bool              { return false }
func (g *orderedGroup) Required() bool              { return true }
func (g *orderedGroup) Leaf() bool                  { return false }
func (g *orderedGroup) Encoding() encoding.Encoding { return nil }
func (g *orderedGroup) Compression() compress.Codec { return nil }
func (g *orderedGroup) GoType() reflect.Type        { return g.group().GoType() }
func (g *orderedGroup) group() parquet.Group {
	m := parquet.Group{}
	for i, n := range g.names {
		m[n] = g.nodes[i]
	}
	return m
}
func (g *orderedGroup) Fields() []parquet.Field { return g.fields }
