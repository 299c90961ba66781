package sink

import (
	"encoding/json"
	"io"
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
	w      *pqwrite.Writer
	cols   []*pqwrite.Column
	cw     *countWriter
	rb     *RowBuilder

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
	p := &Parquet{shapes: shapes, cw: &countWriter{w: w}, rb: NewRowBuilder(shapes)}
	var fields []*pqwrite.Node
	leaves := 0
	for i, s := range shapes {
		p.leaf = append(p.leaf, leaves)
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

// Replay implements Output.
func (p *Parquet) Replay(tape []byte) { p.rb.Replay(tape, p.row) }

// row appends a row's values to the column writers. Definition levels:
// a plain column's value is at 1; a compound adds its group (2); a list
// adds its repeated level and optional element (2, or 3 for compounds);
// a missing value is one less, an empty cell or list 0.
func (p *Parquet) row(r *Row) {
	for c, s := range p.shapes {
		cell := r.Cells[c]
		np := len(s.Parts)
		for part := 0; part < np; part++ {
			col := p.cols[p.leaf[c]+part]
			if cell.Reps == 0 {
				col.Null(0, 0)
				continue
			}
			def := col.MaxDef()
			for rep := 0; rep < int(cell.Reps); rep++ {
				rl := 0
				if rep > 0 {
					rl = 1
				}
				p.value(col, s.Parts[part], r.Vals[int(cell.Start)+rep*np+part], r, rl, def)
			}
		}
	}
	p.w.EndRow()
}

func (p *Parquet) value(col *pqwrite.Column, part column.Part, v Value, r *Row, rl, def int) {
	if v.Kind == 0 {
		col.Null(rl, def-1)
		return
	}
	switch part.Kind {
	case column.KindUint, column.KindHex, column.KindInt:
		if part.Bits == 64 {
			col.Int64(rl, int64(v.U))
		} else {
			col.Int32(rl, int32(v.U))
		}
	case column.KindFloat32, column.KindFloat64:
		col.Double(rl, v.Float())
	case column.KindDuration:
		col.Double(rl, v.Seconds())
	case column.KindTime:
		ns, ok := v.TimeNanos()
		if !ok { // beyond the years 1677..2262: no timestamp for it
			col.Null(rl, def-1)
			return
		}
		col.Int64(rl, ns)
	default:
		col.Bytes(rl, r.Str(v))
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
