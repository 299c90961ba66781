// Package pqwrite writes Parquet files (Apache Parquet format 2): a schema
// of optional scalars, optional groups and lists, column values appended
// as typed values with their levels, PLAIN values with RLE levels in
// zstd-compressed version 1 data pages, column chunk statistics and
// key/value metadata. Memory is one row group of compressed pages plus one
// open page per column.
//
// It exists because flowsift writes every row of a capture, and a
// value-at-a-time generic writer costs more than formatting the text file
// (docs/formats.md); appending to typed column buffers does not.
package pqwrite

import (
	"encoding/binary"
	"io"
	"math"
	"math/bits"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Physical types.
const (
	Int32     = 1
	Int64     = 2
	Double    = 5
	ByteArray = 6
)

// Logical kinds of leaves.
type Logical uint8

const (
	Plain     Logical = iota
	Unsigned          // INTEGER(bits, unsigned)
	Signed            // INTEGER(bits, signed)
	String            // STRING (UTF-8)
	Timestamp         // TIMESTAMP(NANOS, UTC)
)

// Node is a schema node: a leaf (Children nil) or a group. Repeated nodes
// are expressed as List.
type Node struct {
	Name     string
	Optional bool
	List     bool // a LIST of Children[0] (the element), three-level form
	Physical int
	Logical  Logical
	Bits     int
	Children []*Node
}

// Column is the writer of one leaf: append its values, levels included.
type Column struct {
	w        *Writer
	path     []string
	physical int
	logical  Logical
	bits     int
	maxDef   int
	maxRep   int

	defs, reps []uint8
	vals       []byte
	nvals      int // level entries in the open page
	nulls      int64

	// The row group's compressed pages, their sizes and values.
	pages         []byte
	rawSize       int64
	numValues     int64
	stats         stats
	dataPageStart int64
}

// Writer writes one Parquet file.
type Writer struct {
	w      io.Writer
	off    int64
	err    error
	schema []*Node
	cols   []*Column
	zstd   *zstd.Encoder
	// The compression goroutine: pages in, bodies back for reuse.
	jobs       chan pageJob
	bodies     chan []byte
	pending    sync.WaitGroup
	compressed chan struct{}
	closed     bool
	rows       int64 // rows of the open row group
	groups     []rowGroup
	total      int64
	kv         [][2]string
	created    string
	// PageSize is the uncompressed size at which a column's page is
	// closed; RowGroupRows the rows per row group.
	PageSize     int
	RowGroupRows int64
}

type rowGroup struct {
	cols  []chunkMeta
	rows  int64
	bytes int64
}

type chunkMeta struct {
	offset, raw, compressed, values int64
	stats                           stats
}

// New returns a writer of a file with the given top-level fields.
func New(w io.Writer, fields []*Node, createdBy string, kv [][2]string) (*Writer, error) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true), zstd.WithEncoderCRC(false))
	if err != nil {
		return nil, err
	}
	wr := &Writer{w: w, schema: fields, zstd: enc, kv: kv, created: createdBy, PageSize: 32 << 10, RowGroupRows: 128 << 10,
		jobs: make(chan pageJob, 16), bodies: make(chan []byte, 20), compressed: make(chan struct{})}
	go wr.compress()
	for _, f := range fields {
		wr.addColumns(f, nil, 0, 0)
	}
	wr.write([]byte("PAR1"))
	if wr.err != nil {
		wr.Close()
		return nil, wr.err
	}
	return wr, nil
}

func (w *Writer) addColumns(n *Node, path []string, def, rep int) {
	path = append(append([]string(nil), path...), n.Name)
	if n.Optional {
		def++
	}
	if n.List {
		// group (LIST) { repeated group list { element } }
		w.addColumns(n.Children[0], append(path, "list"), def+1, rep+1)
		return
	}
	if n.Children != nil {
		for _, c := range n.Children {
			w.addColumns(c, path, def, rep)
		}
		return
	}
	// Room for a page and the rows until the next size check, so that the
	// buffers do not double past it.
	w.cols = append(w.cols, &Column{w: w, path: path, physical: n.Physical, logical: n.Logical, bits: n.Bits, maxDef: def, maxRep: rep,
		vals: make([]byte, 0, w.PageSize+w.PageSize/2), defs: make([]uint8, 0, w.PageSize/4)})
}

// Columns returns the leaf writers in schema order.
func (w *Writer) Columns() []*Column { return w.cols }

// Physical is the column's physical type.
func (c *Column) Physical() int { return c.physical }

// MaxDef and MaxRep are the column's maximum levels.
func (c *Column) MaxDef() int { return c.maxDef }
func (c *Column) MaxRep() int { return c.maxRep }

// Null appends a missing value with levels rep, def (def < MaxDef).
func (c *Column) Null(rep, def int) {
	c.defs = append(c.defs, uint8(def))
	if c.maxRep > 0 {
		c.reps = append(c.reps, uint8(rep))
	}
	c.nvals++
	c.nulls++
}

func (c *Column) level(rep int) {
	c.defs = append(c.defs, uint8(c.maxDef))
	if c.maxRep > 0 {
		c.reps = append(c.reps, uint8(rep))
	}
	c.nvals++
}

// Int32 appends a present INT32 value (unsigned ones as their bits).
func (c *Column) Int32(rep int, v int32) {
	c.level(rep)
	c.vals = binary.LittleEndian.AppendUint32(c.vals, uint32(v))
	if c.logical == Unsigned {
		c.stats.addUint(uint64(uint32(v)))
	} else {
		c.stats.addInt(int64(v))
	}
}

// Int64 appends a present INT64 value (unsigned ones as their bits).
func (c *Column) Int64(rep int, v int64) {
	c.level(rep)
	c.vals = binary.LittleEndian.AppendUint64(c.vals, uint64(v))
	if c.logical == Unsigned {
		c.stats.addUint(uint64(v))
	} else {
		c.stats.addInt(v)
	}
}

// Double appends a present DOUBLE value.
func (c *Column) Double(rep int, v float64) {
	c.level(rep)
	c.vals = binary.LittleEndian.AppendUint64(c.vals, math.Float64bits(v))
	c.stats.addFloat(v)
}

// Bytes appends a present BYTE_ARRAY value.
func (c *Column) Bytes(rep int, v []byte) {
	c.level(rep)
	c.vals = binary.LittleEndian.AppendUint32(c.vals, uint32(len(v)))
	c.vals = append(c.vals, v...)
	c.stats.addBytes(v)
}

// EndRow counts a complete row (every column has its values); pages and
// row groups are closed at row boundaries.
func (w *Writer) EndRow() {
	w.rows++
	if w.rows&255 == 0 {
		for _, c := range w.cols {
			if len(c.vals)+len(c.defs) >= w.PageSize {
				c.flushPage()
			}
		}
	}
	if w.rows >= w.RowGroupRows {
		w.flushRowGroup()
	}
}

// flushPage hands the open page to the compression goroutine, which adds
// it to the row group's pages (compression overlaps with the next rows).
func (c *Column) flushPage() {
	if c.nvals == 0 {
		return
	}
	w := c.w
	var body []byte
	select {
	case body = <-w.bodies:
	default:
	}
	body = body[:0]
	if c.maxRep > 0 {
		body = appendLevels(body, c.reps, c.maxRep)
	}
	if c.maxDef > 0 {
		body = appendLevels(body, c.defs, c.maxDef)
	}
	body = append(body, c.vals...)
	w.pending.Add(1)
	w.jobs <- pageJob{c: c, body: body, nvals: c.nvals}
	c.defs, c.reps, c.vals, c.nvals = c.defs[:0], c.reps[:0], c.vals[:0], 0
}

// pageJob is a page for the compression goroutine.
type pageJob struct {
	c     *Column
	body  []byte
	nvals int
}

// compress is the compression goroutine: page header and zstd frame,
// appended to the column's pages in the order the pages were closed.
func (w *Writer) compress() {
	defer close(w.compressed)
	var zbuf []byte
	h := &thrift{}
	for j := range w.jobs {
		zbuf = w.zstd.EncodeAll(j.body, zbuf[:0])
		h.b, h.last = h.b[:0], h.last[:0]
		h.begin()
		h.i32(1, 0) // DATA_PAGE
		h.i32(2, int32(len(j.body)))
		h.i32(3, int32(len(zbuf)))
		h.structField(5)
		h.i32(1, int32(j.nvals))
		h.i32(2, 0) // PLAIN
		h.i32(3, 3) // RLE
		h.i32(4, 3) // RLE
		h.end()
		h.end()
		c := j.c
		c.pages = append(c.pages, h.b...)
		c.pages = append(c.pages, zbuf...)
		c.rawSize += int64(len(h.b) + len(j.body))
		c.numValues += int64(j.nvals)
		select {
		case w.bodies <- j.body:
		default:
		}
		w.pending.Done()
	}
}

// appendLevels appends levels in the RLE/bit-packing hybrid encoding
// (runs only), with its 4-byte length prefix (data page version 1).
func appendLevels(b []byte, lv []uint8, max int) []byte {
	width := (bits.Len(uint(max)) + 7) / 8
	at := len(b)
	b = append(b, 0, 0, 0, 0)
	for i := 0; i < len(lv); {
		j := i + 1
		for j < len(lv) && lv[j] == lv[i] {
			j++
		}
		b = binary.AppendUvarint(b, uint64(j-i)<<1)
		b = append(b, lv[i])
		if width == 2 {
			b = append(b, 0)
		}
		i = j
	}
	binary.LittleEndian.PutUint32(b[at:], uint32(len(b)-at-4))
	return b
}

func (w *Writer) write(b []byte) {
	if w.err != nil {
		return
	}
	n, err := w.w.Write(b)
	w.off += int64(n)
	if err != nil {
		w.err = err
	}
}

// flushRowGroup writes the open row group: each column's pages in turn.
func (w *Writer) flushRowGroup() {
	if w.rows == 0 {
		return
	}
	g := rowGroup{rows: w.rows}
	for _, c := range w.cols {
		c.flushPage()
	}
	w.pending.Wait()
	for _, c := range w.cols {
		m := chunkMeta{offset: w.off, raw: c.rawSize, compressed: int64(len(c.pages)), values: c.numValues, stats: c.stats}
		m.stats.nulls = c.nulls
		w.write(c.pages)
		g.cols = append(g.cols, m)
		g.bytes += c.rawSize
		c.pages, c.rawSize, c.numValues, c.nulls = c.pages[:0], 0, 0, 0
		c.stats = stats{}
	}
	w.total += w.rows
	w.rows = 0
	w.groups = append(w.groups, g)
}

// Err is the first write error.
func (w *Writer) Err() error { return w.err }

// Close writes the last row group and the footer, and stops the
// compression goroutine.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	w.flushRowGroup()
	close(w.jobs)
	<-w.compressed
	w.zstd.Close()
	if w.err != nil {
		return w.err
	}
	t := &thrift{}
	t.begin()
	t.i32(1, 1)
	t.list(2, ctStruct, countNodes(w.schema)+1)
	t.elemStruct()
	t.str(4, "schema")
	t.i32(5, int32(len(w.schema)))
	t.end()
	for _, n := range w.schema {
		writeSchema(t, n)
	}
	t.i64(3, w.total)
	t.list(4, ctStruct, len(w.groups))
	for _, g := range w.groups {
		t.elemStruct()
		t.list(1, ctStruct, len(g.cols))
		for i, m := range g.cols {
			c := w.cols[i]
			t.elemStruct()
			t.i64(2, m.offset)
			t.structField(3)
			t.i32(1, int32(c.physical))
			t.list(2, ctI32, 2)
			t.elemI32(0) // PLAIN
			t.elemI32(3) // RLE
			t.list(3, ctBinary, len(c.path))
			for _, p := range c.path {
				t.elemBin(p)
			}
			t.i32(4, 6) // ZSTD
			t.i64(5, m.values)
			t.i64(6, m.raw)
			t.i64(7, m.compressed)
			t.i64(9, m.offset)
			m.stats.write(t, 12, c)
			t.end()
			t.end()
		}
		t.i64(2, g.bytes)
		t.i64(3, g.rows)
		t.end()
	}
	if len(w.kv) > 0 {
		t.list(5, ctStruct, len(w.kv))
		for _, kv := range w.kv {
			t.elemStruct()
			t.str(1, kv[0])
			t.str(2, kv[1])
			t.end()
		}
	}
	t.str(6, w.created)
	// Column orders: statistics follow each column's logical type
	// (unsigned integers compare unsigned).
	t.list(7, ctStruct, len(w.cols))
	for range w.cols {
		t.elemStruct()
		t.emptyStruct(1)
		t.end()
	}
	t.end()
	w.write(t.b)
	w.write(binary.LittleEndian.AppendUint32(nil, uint32(len(t.b))))
	w.write([]byte("PAR1"))
	return w.err
}

func countNodes(ns []*Node) int {
	n := 0
	for _, x := range ns {
		n++
		if x.List {
			n += 1 + countNodes(x.Children)
		} else {
			n += countNodes(x.Children)
		}
	}
	return n
}

func repetition(optional bool) int32 {
	if optional {
		return 1
	}
	return 0
}

func writeSchema(t *thrift, n *Node) {
	t.elemStruct()
	switch {
	case n.List:
		t.i32(3, repetition(n.Optional))
		t.str(4, n.Name)
		t.i32(5, 1)
		t.i32(6, 3) // converted type LIST
		t.structField(10)
		t.emptyStruct(3) // logical type LIST
		t.end()
		t.end()
		// repeated group list { element }
		t.elemStruct()
		t.i32(3, 2) // REPEATED
		t.str(4, "list")
		t.i32(5, 1)
		t.end()
		writeSchema(t, n.Children[0])
		return
	case n.Children != nil:
		t.i32(3, repetition(n.Optional))
		t.str(4, n.Name)
		t.i32(5, int32(len(n.Children)))
		t.end()
		for _, c := range n.Children {
			writeSchema(t, c)
		}
		return
	}
	t.i32(1, int32(n.Physical))
	t.i32(3, repetition(n.Optional))
	t.str(4, n.Name)
	switch n.Logical {
	case Unsigned, Signed:
		// Converted types UINT_8..UINT_64 (11..14), INT_8..INT_64 (15..18).
		conv := int32(11)
		if n.Logical == Signed {
			conv = 15
		}
		t.i32(6, conv+int32(bits.TrailingZeros(uint(n.Bits))-3))
		t.structField(10)
		t.structField(10) // INTEGER
		t.i8(1, int8(n.Bits))
		t.boolean(2, n.Logical == Signed)
		t.end()
		t.end()
	case String:
		t.i32(6, 0) // UTF8
		t.structField(10)
		t.emptyStruct(1) // STRING
		t.end()
	case Timestamp:
		t.structField(10)
		t.structField(8) // TIMESTAMP
		t.boolean(1, true)
		t.structField(2)
		t.emptyStruct(3) // NANOS
		t.end()
		t.end()
		t.end()
	}
	t.end()
}
