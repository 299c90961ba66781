// Package pqwrite writes Parquet files (Apache Parquet format 2): a schema
// of optional scalars, optional groups and lists, column values appended
// as typed values with their levels, values PLAIN, DELTA_BINARY_PACKED
// (narrow 64-bit integers) or RLE_DICTIONARY (repeated strings, byte
// lists) with RLE levels in version 2 data pages (values zstd-compressed,
// levels not; lists in version 1 pages, levels compressed too), column
// chunk statistics and key/value metadata. Memory is one row group of
// compressed pages and dictionaries plus one open page per column.
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
	"unsafe"

	"flowsift/internal/hugepage"
	"flowsift/internal/prefetch"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go/encoding/delta"
)

// Encodings (parquet.thrift's Encoding).
const (
	encPlain   = 0
	encRLE     = 3
	encDelta   = 5 // DELTA_BINARY_PACKED
	encRLEDict = 8 // RLE_DICTIONARY
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
// A column that is not repeated takes exactly one value or null per row.
type Column struct {
	// The open page: values, levels run-length encoded as they come, level
	// entries, nulls and the row its first value belongs to. What every
	// value touches comes first (one cache line).
	vals      []byte
	maxRep    int
	full      uint8 // maxDef: the definition level of a present value
	open      int   // where the value BeginBytes started is
	defs      levelRuns
	reps      levelRuns
	nvals     int
	pageNulls int
	pageRow   int64
	nulls     int64       // of the row group: counted by the compression goroutine
	spare     chan []byte // value buffers back from the compression goroutine
	early     int         // bytes below PageSize at which its pages close

	w        *Writer
	path     []string
	physical int
	logical  Logical
	bits     int
	maxDef   int

	// Expand, when set, turns a page's values as they were appended into
	// their PLAIN encoding, in the compression goroutine: values may be
	// appended in a compact form (an address's bytes rather than its
	// text) and formatted off the writer's goroutine. Set it before the
	// first value.
	Expand func(dst, vals []byte) []byte

	// Dictionary, set before the first value, makes the column's pages
	// dictionary encoded (dict.go): for byte arrays that repeat, such
	// as addresses. Values are keyed by their bytes as appended, so
	// that Expand runs once per distinct value.
	Dictionary bool

	// bytes8: an unsigned list column of at most 8 bits (IP and TCP
	// options) keeps a byte per value, and its pages are dictionary
	// encoded against the dictionary 0..255 (bytes8Page): the packet
	// goroutine writes one append of the option bytes instead of a
	// store per byte, and the page's indexes are those bytes.
	bytes8 bool

	// The row group's compressed pages, their sizes, values and
	// statistics: written by the compression goroutine, on cache lines of
	// their own.
	_         [64]byte
	pages     blocks
	rawSize   int64
	numValues int64
	stats     stats
	encodings uint16 // of the row group's values: 1<<encPlain | ...
	int32Enc  int32Choice
	dict      dictionary
}

// levelRuns encodes levels in the RLE/bit-packing hybrid encoding (runs
// only) while they are appended: a value at the level of the run before
// it costs one comparison and one increment.
type levelRuns struct {
	b     []byte // complete runs
	cur   uint8  // level of the open run
	n     int    // its length
	width int    // bytes per level value
}

func (l *levelRuns) add(v uint8) {
	if v == l.cur {
		l.n++
		return
	}
	l.change(v)
}

// addRun appends n levels v.
func (l *levelRuns) addRun(v uint8, n int) {
	if n == 0 {
		return
	}
	if v != l.cur {
		l.closeRun()
		l.cur = v
	}
	l.n += n
}

// change starts a new run; not inlined, so that add is.
//
//go:noinline
func (l *levelRuns) change(v uint8) {
	l.closeRun()
	l.cur, l.n = v, 1
}

func (l *levelRuns) closeRun() {
	if l.n == 0 {
		return
	}
	l.b = binary.AppendUvarint(l.b, uint64(l.n)<<1)
	l.b = append(l.b, l.cur)
	if l.width == 2 {
		l.b = append(l.b, 0)
	}
	l.n = 0
}

// take appends the complete encoding to dst and starts a new one.
func (l *levelRuns) take(dst []byte) []byte {
	l.closeRun()
	dst = append(dst, l.b...)
	l.b = l.b[:0]
	return dst
}

// Writer writes one Parquet file.
type Writer struct {
	w      io.Writer
	off    int64
	err    error
	schema []*Node
	cols   []*Column
	zstd   *zstd.Encoder
	// The compression goroutine: pages in, pages back for reuse.
	jobs chan []*pageJob
	free chan *pageJob
	// pending are the pages closed since the last hand-off; lists are
	// the emptied lists back from the compression goroutine (a fixed set,
	// each with room for a page of every column and a row group's end).
	pending    []*pageJob
	lists      chan []*pageJob
	compressed chan struct{}
	closed     bool
	rows       int64 // rows of the open row group
	// spareBlocks are blocks of written row groups, for the next one.
	spareBlocks [][]byte
	groups      []rowGroup
	total       int64
	kv          [][2]string
	created     string
	// PageSize is the uncompressed size at which a column's page is
	// closed; RowGroupRows the rows per row group.
	PageSize     int
	RowGroupRows int64
	// prefetch is prefetchPages' list of addresses.
	prefetch []uintptr
	// The compression goroutine's buffers for dictionary pages.
	dictZ []byte
	dictH thrift
	// arena is the block of huge pages the value buffers are cut from
	// (valBuf), arenaUsed its bytes cut.
	arena     []byte
	arenaUsed int
}

type rowGroup struct {
	cols  []chunkMeta
	rows  int64
	bytes int64
}

type chunkMeta struct {
	offset, raw, compressed, values int64
	data                            int64 // offset of the first data page
	dict                            bool  // a dictionary page at offset
	stats                           stats
	encodings                       uint16
}

// New returns a writer of a file with the given top-level fields.
func New(w io.Writer, fields []*Node, createdBy string, kv [][2]string) (*Writer, error) {
	// The fastest level, and literals not entropy coded: a third less
	// compression time (a large share of a packet file's cost) for files
	// about 15 % larger.
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true), zstd.WithEncoderCRC(false), zstd.WithNoEntropyCompression(true))
	if err != nil {
		return nil, err
	}
	wr := &Writer{w: w, schema: fields, zstd: enc, kv: kv, created: createdBy, PageSize: 32 << 10, RowGroupRows: 128 << 10,
		jobs: make(chan []*pageJob, handOffs), lists: make(chan []*pageJob, handOffs+1), compressed: make(chan struct{})}
	for _, f := range fields {
		wr.addColumns(f, nil, 0, 0)
	}
	for _, c := range wr.cols {
		c.vals = wr.valBuf(wr.pageCap())
	}
	// Every page of the lists in flight comes back for reuse.
	wr.free = make(chan *pageJob, (handOffs+2)*(len(wr.cols)+1))
	wr.pending = make([]*pageJob, 0, len(wr.cols)+1)
	for range handOffs + 1 {
		wr.lists <- make([]*pageJob, 0, len(wr.cols)+1)
	}
	go wr.compress()
	wr.prefetch = make([]uintptr, 0, len(wr.cols))
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
		full: uint8(def), spare: make(chan []byte, maxSpares),
		// Columns of one type fill their pages at the same pace: closing
		// them at staggered sizes spreads the pages over the rows, and the
		// compression goroutine gets a steady flow instead of bursts.
		early: len(w.cols) * 37 % 16 * (w.PageSize / 32),
		defs:  levelRuns{width: levelWidth(def)}, reps: levelRuns{width: levelWidth(rep)}})
	if c := w.cols[len(w.cols)-1]; rep > 0 && n.Physical == Int32 && n.Logical == Unsigned && n.Bits > 0 && n.Bits <= 8 {
		c.bytes8 = true
	}
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
	if c.maxRep > 0 {
		c.reps.add(uint8(rep))
	} else {
		c.catchUp()
	}
	c.defs.add(uint8(def))
	c.nvals++
	c.pageNulls++
}

// level records the levels of a present value. A column that is not
// repeated has one level per row: present values are counted when a null
// or the end of the page comes (catchUp), not one by one.
func (c *Column) level(rep int) {
	if c.maxRep > 0 {
		c.repLevel(rep)
	}
}

func (c *Column) repLevel(rep int) {
	c.reps.add(uint8(rep))
	c.defs.add(c.full)
	c.nvals++
}

// catchUp records the present values of a column that is not repeated:
// one per row of the page not yet recorded.
func (c *Column) catchUp() {
	if n := int(c.w.rows-c.pageRow) - c.nvals; n > 0 {
		c.defs.addRun(c.full, n)
		c.nvals += n
	}
}

// Int32 appends a present INT32 value (unsigned ones as their bits).
func (c *Column) Int32(rep int, v int32) {
	c.level(rep)
	if c.bytes8 {
		c.vals = append(c.vals, byte(v))
		return
	}
	c.vals = binary.LittleEndian.AppendUint32(c.vals, uint32(v))
}

// PlainInt appends a present INT32 (narrow) or INT64 value to a column
// that is not repeated (MaxRep 0): Int32 or Int64 without the level check.
func (c *Column) PlainInt(narrow bool, v uint64) {
	if narrow {
		c.vals = binary.LittleEndian.AppendUint32(c.vals, uint32(v))
	} else {
		c.vals = binary.LittleEndian.AppendUint64(c.vals, v)
	}
}

// Int64 appends a present INT64 value (unsigned ones as their bits).
func (c *Column) Int64(rep int, v int64) {
	c.level(rep)
	c.vals = binary.LittleEndian.AppendUint64(c.vals, uint64(v))
}

// Double appends a present DOUBLE value.
func (c *Column) Double(rep int, v float64) { c.Int64(rep, int64(math.Float64bits(v))) }

// Bytes appends a present BYTE_ARRAY value.
func (c *Column) Bytes(rep int, v []byte) {
	c.level(rep)
	c.vals = append(binary.LittleEndian.AppendUint32(c.vals, uint32(len(v))), v...)
}

// Uint8s appends present INT32 values of a repeated column, one per byte
// of b: the first at repetition level rep, the others continuing its list
// (level 1).
func (c *Column) Uint8s(rep int, b []byte) {
	c.reps.add(uint8(rep))
	c.reps.addRun(1, len(b)-1)
	c.defs.addRun(c.full, len(b))
	c.nvals += len(b)
	if c.bytes8 {
		c.vals = append(c.vals, b...)
		return
	}
	for _, x := range b {
		c.vals = binary.LittleEndian.AppendUint32(c.vals, uint32(x))
	}
}

// BeginBytes starts a present BYTE_ARRAY value that the caller appends to
// the returned buffer and hands to EndBytes: a value formatted in place,
// without a copy.
func (c *Column) BeginBytes(rep int) []byte {
	c.level(rep)
	c.open = len(c.vals)
	return append(c.vals, 0, 0, 0, 0)
}

// EndBytes completes the value BeginBytes started; b is its buffer with
// the value appended.
func (c *Column) EndBytes(b []byte) {
	binary.LittleEndian.PutUint32(b[c.open:], uint32(len(b)-c.open-4))
	c.vals = b
}

// EndRow counts a complete row (every column has its values); pages and
// row groups are closed at row boundaries.
func (w *Writer) EndRow() {
	w.rows++
	if w.rows&(prefetchRows-1) == 0 {
		w.prefetchPages()
	}
	if w.rows&255 == 0 {
		for _, c := range w.cols {
			if len(c.vals)+len(c.defs.b)+len(c.reps.b) >= w.PageSize-c.early {
				c.flushPage()
			}
		}
		w.handOff()
	}
	if w.rows >= w.RowGroupRows {
		w.flushRowGroup()
	}
}

// Every prefetchRows rows the writer asks for the cache line
// prefetchAhead bytes past the end of each column's open page. A row
// appends to some fifty pages (a packet file), each its own stream of
// writes: too many streams for the processor's prefetchers, so nearly
// every new line of a page was a cache miss on the writing goroutine,
// waited for value after value. Asked for a few rows ahead, the lines
// are there when the values come (packet mode with Parquet: 0.91× the
// wall time, docs/performance.md).
const (
	prefetchRows  = 4 // a power of two
	prefetchAhead = 128
)

// prefetchPages asks for the next lines of the open pages.
func (w *Writer) prefetchPages() {
	a := w.prefetch[:0]
	for _, c := range w.cols {
		if n := len(c.vals) + prefetchAhead; n < cap(c.vals) {
			a = append(a, uintptr(unsafe.Pointer(unsafe.SliceData(c.vals)))+uintptr(n))
		}
	}
	prefetch.Write(a)
}

// pageCap is the capacity of a page's value buffer: room for a page and
// the rows until the next size check, so that it does not grow past it.
func (w *Writer) pageCap() int { return w.PageSize + w.PageSize/2 }

// valBuf returns an empty value buffer of capacity n. Each row appends
// to every column's page, so a row touches as many memory pages as the
// file has columns (some ninety in a packet file): too many for the TLB
// with 4 KiB pages, and the row goroutine waited on its misses. Page
// buffers are therefore cut from blocks of huge pages when the columns'
// pages span at least one (packet mode with Parquet: 1.11x the text
// run's wall time before, 1.09x after, for 10 MB more resident memory;
// docs/performance.md). Buffers of another size (a column of long
// strings) come from the heap.
func (w *Writer) valBuf(n int) []byte {
	if n != w.pageCap() || len(w.cols)*n < hugepage.Size {
		return make([]byte, 0, n)
	}
	if w.arenaUsed+n > len(w.arena) {
		w.arena, w.arenaUsed = hugepage.Block(arenaBytes), 0
	}
	b := w.arena[w.arenaUsed : w.arenaUsed : w.arenaUsed+n]
	w.arenaUsed += n
	return b
}

// maxSpares is room for every value buffer a column can have but its
// open one: a page in each list of pages (one is being filled, handOffs
// wait, one is being compressed; a list holds at most one page of a
// column). So a buffer coming back is never dropped, which matters for
// those cut from a block: a dropped one would keep its whole block
// alive for as long as any other buffer of the block circulates, and
// new ones would be cut in its place.
const maxSpares = handOffs + 2

// arenaBytes is the size of a block of value buffers: one huge page, so
// that a file's last block wastes less than one.
const arenaBytes = hugepage.Size

func levelWidth(max int) int { return (bits.Len(uint(max)) + 7) / 8 }

// flushPage hands the open page to the compression goroutine, which adds
// it to the row group's pages (compression overlaps with the next rows).
// The value buffer changes hands, it is not copied: a version 2 data page
// keeps its levels out of the compressed part.
func (c *Column) flushPage() {
	if c.maxRep == 0 {
		c.catchUp()
	}
	if c.nvals == 0 {
		return
	}
	w := c.w
	var j *pageJob
	select {
	case j = <-w.free:
	default:
		j = &pageJob{}
	}
	j.c, j.nvals, j.nulls, j.rows = c, c.nvals, c.pageNulls, int(w.rows-c.pageRow)
	j.levels = c.reps.take(j.levels[:0])
	j.repLen = len(j.levels)
	j.levels = c.defs.take(j.levels)
	// The buffer goes back to its column: a column of long strings keeps
	// its large one.
	j.vals = c.vals
	select {
	case c.vals = <-c.spare:
		c.vals = c.vals[:0]
	default:
		c.vals = w.valBuf(max(w.pageCap(), cap(j.vals)))
	}
	c.nvals, c.pageNulls, c.pageRow = 0, 0, w.rows
	w.pending = append(w.pending, j)
}

// encodePage takes a page's values, as appended, into the statistics and
// returns them in the page's encoding (in s's buffers) with that
// encoding: a byte list against the dictionary 0..255, a dictionary
// column's indexes while its dictionary has room, else the values
// expanded (Expand) and PLAIN or, for narrow 64-bit integers, delta
// encoded.
func (c *Column) encodePage(vals []byte, s *scratch) ([]byte, int32) {
	if c.bytes8 && len(vals) > 0 {
		c.stats.addBytes(vals)
		s.encoded = bytes8Page(s.encoded[:0], vals)
		c.dict.used = true
		return s.encoded, encRLEDict
	}
	if c.Dictionary && len(vals) > 0 {
		if b, ok := c.dict.encodePage(c, s.encoded[:0], vals); ok {
			s.encoded = b
			return b, encRLEDict
		}
	}
	if c.Expand != nil {
		s.expanded = c.Expand(s.expanded[:0], vals)
		vals = s.expanded
	}
	enc := c.pageEncoding(c.stats.add(c, vals))
	if enc == encDelta {
		if c.physical == Int32 {
			s.encoded = deltaEncode32(s.encoded[:0], vals, &s.ints32)
		} else {
			s.encoded = deltaEncode64(s.encoded[:0], vals, &s.ints)
		}
		vals = s.encoded
	}
	return vals, enc
}

// pageEncoding is the encoding of a page of the column's values whose
// integers span span: DELTA_BINARY_PACKED for 64-bit integers that span
// less than 32 bits (packet numbers, flow indexes, times, counters), and
// for 32-bit integers where the chunk's first page chose it (int32Choice);
// PLAIN otherwise. zstd without entropy coding of literals (New) is slow
// on narrow 64-bit values, whose upper bytes repeat value after value: a
// page of consecutive numbers took 163 µs PLAIN and 4 µs delta encoded,
// and 0.6 % of the size. Wider spans stay PLAIN (docs/performance.md).
func (c *Column) pageEncoding(span uint64) int32 {
	if c.physical == Int64 && c.maxRep == 0 && span < 1<<32 {
		return encDelta
	}
	if c.physical == Int32 && c.maxRep == 0 && c.int32Enc == int32Delta {
		return encDelta
	}
	return encPlain
}

// int32Choice is the encoding of a column chunk's 32-bit integer pages,
// chosen on its first page by compressing that page both ways and keeping
// the smaller: zstd without entropy coding of literals (New) cannot
// shrink values narrower than their 32 bits (checksums, IP IDs: a page of
// them compressed to 0.9-1.0 of its size), and bit packing can (about
// 0.53 for 16-bit values); values that repeat (lengths, flags) compress
// better PLAIN. The trial costs one more compression per column and row
// group, and the choice depends on the values alone.
type int32Choice uint8

const (
	int32Undecided int32Choice = iota
	int32Plain
	int32Delta
)

// trialInt32 decides the encoding of c's INT32 pages on the page whose
// PLAIN values vals compressed to zbuf: it returns the page's values,
// encoding and compressed values, DELTA_BINARY_PACKED when that
// compresses smaller.
func (w *Writer) trialInt32(c *Column, vals, zbuf []byte, s *scratch) ([]byte, int32, []byte) {
	c.int32Enc = int32Plain
	s.trial = deltaEncode32(s.trial[:0], vals, &s.ints32)
	z := w.zstd.EncodeAll(s.trial, s.ztrial[:0])
	if len(z) >= len(zbuf) {
		s.ztrial = z
		return vals, encPlain, zbuf
	}
	c.int32Enc = int32Delta
	s.ztrial = zbuf // its buffer, for the next trial
	return s.trial, encDelta, z
}

// deltaEncode64 returns the page's little-endian 64-bit values vals
// DELTA_BINARY_PACKED, in dst's memory (grown if need be); ints is
// scratch for a big-endian host.
func deltaEncode64(dst, vals []byte, ints *[]int64) []byte {
	var d delta.BinaryPackedEncoding
	dst, _ = d.EncodeInt64(dst, hostInts(vals, ints))
	return dst
}

// deltaEncode32 is deltaEncode64 for 32-bit values.
func deltaEncode32(dst, vals []byte, ints *[]int32) []byte {
	var d delta.BinaryPackedEncoding
	dst, _ = d.EncodeInt32(dst, hostInts(vals, ints))
	return dst
}

// hostInts returns the little-endian values vals as T: the buffer itself
// on a little-endian host (value buffers are allocated as []byte of at
// least 8 bytes: aligned for the integers they hold, in the host's
// order), else converted into *scratch.
func hostInts[T int32 | int64](vals []byte, scratch *[]T) []T {
	var z T
	w := int(unsafe.Sizeof(z))
	if littleEndianHost {
		return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(vals))), len(vals)/w)
	}
	v := (*scratch)[:0]
	for i := 0; i+w <= len(vals); i += w {
		if w == 4 {
			v = append(v, T(int32(binary.LittleEndian.Uint32(vals[i:]))))
		} else {
			v = append(v, T(int64(binary.LittleEndian.Uint64(vals[i:]))))
		}
	}
	*scratch = v
	return v
}

// littleEndianHost: the page buffers' little-endian values can be read
// as the host's integers (a variable, so that tests take the other path).
var littleEndianHost = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// handOffs is how many lists of pages may wait for the compression
// goroutine: its lag behind the rows, and so the pages in memory, stay
// bounded.
const handOffs = 4

// handOff sends the pages closed since the last hand-off to the
// compression goroutine as one list: one wake-up for the pages of a size
// check instead of one per page (packet mode with Parquet: 0.95-0.98x the
// wall time, docs/performance.md). Of the handOffs+2 lists, at most
// handOffs wait and one is compressed, so one comes back.
func (w *Writer) handOff() {
	if len(w.pending) == 0 {
		return
	}
	w.jobs <- w.pending
	w.pending = <-w.lists
}

// blocks is a column's compressed pages of the open row group, in blocks
// of blockSize: appending never copies what is already there.
type blocks struct {
	list [][]byte
	size int64
}

const blockSize = 32 << 10

func (bs *blocks) append(b []byte, spare *[][]byte) {
	bs.size += int64(len(b))
	for len(b) > 0 {
		if len(bs.list) == 0 || len(bs.list[len(bs.list)-1]) == blockSize {
			var nb []byte
			if n := len(*spare); n > 0 {
				nb, *spare = (*spare)[n-1][:0], (*spare)[:n-1]
			} else {
				nb = make([]byte, 0, blockSize)
			}
			bs.list = append(bs.list, nb)
		}
		last := &bs.list[len(bs.list)-1]
		k := min(len(b), blockSize-len(*last))
		*last = append(*last, b[:k]...)
		b = b[k:]
	}
}

// reset empties bs, its blocks going to spare.
func (bs *blocks) reset(spare *[][]byte) {
	*spare = append(*spare, bs.list...)
	bs.list, bs.size = bs.list[:0], 0
}

// pageJob is a page for the compression goroutine: levels (repetition
// then definition) and PLAIN values.
type pageJob struct {
	c                          *Column
	levels, vals               []byte
	repLen, nvals, nulls, rows int
	groupRows                  int64 // with c nil: the end of a row group of this many rows
}

// compress is the compression goroutine: statistics, page header, levels
// and the zstd frame, appended to the column's pages in the order the
// pages were closed.
func (w *Writer) compress() {
	defer close(w.compressed)
	s := &scratch{}
	for list := range w.jobs {
		for _, j := range list {
			w.compressPage(j, s)
		}
		clear(list)
		w.lists <- list[:0]
	}
}

// scratch is the compression goroutine's reusable buffers.
type scratch struct {
	zbuf, body, expanded, encoded []byte
	trial, ztrial                 []byte  // trialInt32's delta encoding, compressed
	ints                          []int64 // deltaEncode64 on a big-endian host
	ints32                        []int32 // deltaEncode32 on a big-endian host
	h                             thrift
}

// compressPage compresses one page, or, with j.c nil, writes the row
// group its pages complete.
func (w *Writer) compressPage(j *pageJob, s *scratch) {
	c := j.c
	if c == nil {
		w.writeRowGroup(j.groupRows)
		return
	}
	zbuf, body, h := s.zbuf, s.body, &s.h
	c.nulls += int64(j.nulls)
	vals, enc := c.encodePage(j.vals, s)
	h.b, h.last = h.b[:0], h.last[:0]
	h.begin()
	var raw, levels int
	if c.maxRep > 0 {
		// Lists: a version 1 page, levels compressed with the values.
		// Their repetition levels alternate with every row (0, then 1
		// for each further element): uncompressed they would outweigh
		// the compressed values.
		le := binary.LittleEndian
		body = le.AppendUint32(body[:0], uint32(j.repLen))
		body = append(body, j.levels[:j.repLen]...)
		body = le.AppendUint32(body, uint32(len(j.levels)-j.repLen))
		body = append(body, j.levels[j.repLen:]...)
		body = append(body, vals...)
		zbuf = w.zstd.EncodeAll(body, zbuf[:0])
		raw = len(body)
		h.i32(1, 0) // DATA_PAGE
		h.i32(2, int32(len(body)))
		h.i32(3, int32(len(zbuf)))
		h.structField(5)
		h.i32(1, int32(j.nvals))
		h.i32(2, enc)
		h.i32(3, encRLE)
		h.i32(4, encRLE)
		h.end()
	} else {
		// A version 2 page: the levels (a run or a few) stay
		// uncompressed, the values are compressed from their own
		// buffer.
		compressed := len(vals) > 0
		zbuf = zbuf[:0]
		if compressed {
			zbuf = w.zstd.EncodeAll(vals, zbuf)
			if enc == encPlain && c.physical == Int32 && c.int32Enc == int32Undecided {
				vals, enc, zbuf = w.trialInt32(c, vals, zbuf, s)
			}
		}
		levels = len(j.levels)
		raw = levels + len(vals)
		h.i32(1, 3) // DATA_PAGE_V2
		h.i32(2, int32(raw))
		h.i32(3, int32(levels+len(zbuf)))
		h.structField(8)
		h.i32(1, int32(j.nvals))
		h.i32(2, int32(j.nulls))
		h.i32(3, int32(j.rows))
		h.i32(4, enc)
		h.i32(5, int32(len(j.levels)-j.repLen))
		h.i32(6, int32(j.repLen))
		h.boolean(7, compressed)
		h.end()
	}
	h.end()
	c.encodings |= 1 << enc
	c.pages.append(h.b, &w.spareBlocks)
	c.pages.append(j.levels[:levels], &w.spareBlocks)
	c.pages.append(zbuf, &w.spareBlocks)
	c.rawSize += int64(len(h.b) + raw)
	c.numValues += int64(j.nvals)
	s.zbuf, s.body = zbuf, body
	select {
	case c.spare <- j.vals:
	default:
	}
	j.c, j.vals = nil, nil
	select {
	case w.free <- j:
	default:
	}
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

// flushRowGroup closes the open row group: its last pages, then its end,
// go to the compression goroutine, which writes the row group once it has
// compressed them (writeRowGroup); the rows of the next one go on
// meanwhile.
func (w *Writer) flushRowGroup() {
	if w.rows == 0 {
		return
	}
	for _, c := range w.cols {
		c.flushPage()
		c.pageRow = 0
	}
	w.pending = append(w.pending, &pageJob{groupRows: w.rows})
	w.handOff()
	w.rows = 0
}

// writeRowGroup writes a row group of rows rows whose pages are all
// compressed: each column's pages in turn. It runs in the compression
// goroutine, which owns the pages, statistics and the file from there on.
func (w *Writer) writeRowGroup(rows int64) {
	g := rowGroup{rows: rows}
	for _, c := range w.cols {
		m := chunkMeta{offset: w.off, raw: c.rawSize, compressed: c.pages.size, values: c.numValues, stats: c.stats, encodings: c.encodings}
		m.stats.nulls = c.nulls
		if c.dict.used {
			// The dictionary page comes first; its values are PLAIN.
			raw, written := w.writeDictPage(c)
			m.dict, m.raw, m.compressed = true, m.raw+raw, m.compressed+written
			m.encodings |= 1 << encPlain
		}
		m.data = w.off
		for _, b := range c.pages.list {
			w.write(b)
		}
		c.pages.reset(&w.spareBlocks)
		g.cols = append(g.cols, m)
		g.bytes += m.raw
		c.rawSize, c.numValues, c.nulls, c.encodings = 0, 0, 0, 0
		c.int32Enc = int32Undecided
		c.dict.reset()
		c.stats = stats{}
	}
	w.total += rows
	w.groups = append(w.groups, g)
}

// writeDictPage writes column c's dictionary page (header, then its PLAIN
// values zstd-compressed) and returns its size uncompressed and written.
func (w *Writer) writeDictPage(c *Column) (raw, written int64) {
	vals, n := c.dict.vals, len(c.dict.ends)
	if c.bytes8 {
		vals, n = byteDict[:], len(byteDict)/4
	}
	w.dictZ = w.zstd.EncodeAll(vals, w.dictZ[:0])
	h := &w.dictH
	h.b, h.last = h.b[:0], h.last[:0]
	h.begin()
	h.i32(1, 2) // DICTIONARY_PAGE
	h.i32(2, int32(len(vals)))
	h.i32(3, int32(len(w.dictZ)))
	h.structField(7)
	h.i32(1, int32(n))
	h.i32(2, encPlain)
	h.end()
	h.end()
	w.write(h.b)
	w.write(w.dictZ)
	return int64(len(h.b) + len(vals)), int64(len(h.b) + len(w.dictZ))
}

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
			// The encodings of the chunk's pages: values, then levels.
			t.list(2, ctI32, bits.OnesCount16(m.encodings)+1)
			for _, e := range [...]int32{encPlain, encRLEDict, encDelta} {
				if m.encodings&(1<<e) != 0 {
					t.elemI32(e)
				}
			}
			t.elemI32(encRLE)
			t.list(3, ctBinary, len(c.path))
			for _, p := range c.path {
				t.elemBin(p)
			}
			t.i32(4, 6) // ZSTD
			t.i64(5, m.values)
			t.i64(6, m.raw)
			t.i64(7, m.compressed)
			t.i64(9, m.data)
			if m.dict {
				t.i64(11, m.offset)
			}
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
