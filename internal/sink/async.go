package sink

import (
	"encoding/binary"
	"io"
	"math"
	"sync"
	"sync/atomic"

	"flowsift/internal/column"
)

// Async is a column.Writer that moves formatting and file writing off the
// calling goroutine. The caller records each value in a compact binary
// tape (a tag byte and the raw value); full tapes are handed to one
// goroutine per Output (text, CSV, JSON Lines, Parquet), which replays
// them in its own format, so one recorded row reaches every format. A tape
// is recycled when every output is done with it. Rows come out in the
// order they were recorded; nothing is allocated per row once the pools
// are warm.
type Async struct {
	b     []byte // the tape being recorded (cur.b while recording)
	cur   *tape
	held  *tape // a full tape not yet handed over (see handOff)
	outs  []Output
	fulls []chan *tape
	free  chan *tape
	acks  chan error
	done  chan struct{}
	wg    sync.WaitGroup

	// hexBytesTag: every output replays tHexBytes (text, CSV, Parquet),
	// so a byte list may be recorded as one entry.
	hexBytesTag bool

	mu       sync.Mutex
	err      error
	closeErr []error
	closed   bool
}

// Output is one format's consumer of tapes. Its methods are called from
// its own goroutine only; Err and Written may be called from any.
type Output interface {
	// Replay formats the rows of a tape.
	Replay(tape []byte)
	// Flush makes every replayed row reach the underlying writer.
	Flush() error
	// Close flushes and completes the file (a Parquet footer, the end of a
	// compressed stream); it does not close the underlying writer.
	Close() error
	// Err is the first write error so far.
	Err() error
	// Written is the number of bytes handed to the underlying writer.
	Written() int64
}

type tape struct {
	b    []byte
	sync bool         // flush the outputs and acknowledge after replaying
	refs atomic.Int32 // outputs still replaying this tape
}

// tapeFlush is the tape size at which a row end hands the tape over.
const tapeFlush = 128 << 10

// asyncTapes is the number of tapes: enough for the recorder to run ahead
// of the writer without holding much memory.
const asyncTapes = 4

// Value tags of the tape.
const (
	tCol byte = iota
	tSub
	tRep
	tDir
	tU
	tI
	tH
	tF32
	tF64
	tTime
	tStr
	tStrClass
	tMAC
	tIP4
	tIP6
	tIPNone
	tFixed9
	tRaw
	tContent
	tEndRow
	tHeader   // verbatim text outside rows (the text file's header line)
	tHexBytes // repeated 2-digit hex bytes; recorded only when every output replays it
)

// hexBytesReplayer is an Output whose replay knows tHexBytes.
type hexBytesReplayer interface{ replaysHexBytes() }

func (o *TextOutput) replaysHexBytes() {}

// NewAsync returns an Async writing text to w and starts its goroutines.
// Close must be called to stop them.
func NewAsync(w io.Writer) *Async { return NewAsyncOutputs(NewTextOutput(w)) }

// NewAsyncOutputs returns an Async that feeds every recorded row to each
// of outs, and starts one goroutine per output. Close must be called.
func NewAsyncOutputs(outs ...Output) *Async {
	a := &Async{
		outs:     outs,
		free:     make(chan *tape, asyncTapes),
		acks:     make(chan error, len(outs)),
		done:     make(chan struct{}),
		closeErr: make([]error, len(outs)),
	}
	for i := 0; i < asyncTapes; i++ {
		a.free <- &tape{b: make([]byte, 0, tapeFlush+32<<10)}
	}
	a.cur = <-a.free
	a.b = a.cur.b
	a.hexBytesTag = true
	for _, o := range outs {
		if _, ok := o.(hexBytesReplayer); !ok {
			a.hexBytesTag = false
		}
	}
	for i, o := range outs {
		ch := make(chan *tape, asyncTapes)
		a.fulls = append(a.fulls, ch)
		a.wg.Add(1)
		go a.run(i, o, ch)
	}
	go func() { a.wg.Wait(); close(a.done) }()
	return a
}

// run is output i's goroutine: replay every tape, recycle it when the
// last output is done with it, complete the file at the end.
func (a *Async) run(i int, o Output, ch chan *tape) {
	defer a.wg.Done()
	for tp := range ch {
		o.Replay(tp.b)
		sync := tp.sync
		var err error
		if sync {
			err = o.Flush()
		}
		if tp.refs.Add(-1) == 0 {
			tp.b = tp.b[:0]
			tp.sync = false
			a.free <- tp
		}
		if sync {
			a.acks <- err
		}
	}
	err := o.Close()
	a.mu.Lock()
	a.closeErr[i] = err
	a.mu.Unlock()
}

// handOff passes the current tape to the outputs and takes a free one.
//
// Full tapes go out two at a time (one is held back until the next is
// full): an output goroutine that keeps up then wakes once per two tapes.
// A sync hand-off (Flush) sends everything at once.
func (a *Async) handOff(sync bool) {
	a.cur.b = a.b
	a.cur.sync = sync
	a.cur.refs.Store(int32(len(a.outs)))
	if !sync && a.held == nil {
		a.held = a.cur
	} else {
		if a.held != nil {
			a.send(a.held)
			a.held = nil
		}
		a.send(a.cur)
	}
	a.cur = <-a.free
	a.b = a.cur.b
}

func (a *Async) send(tp *tape) {
	for _, ch := range a.fulls {
		ch <- tp
	}
}

// Flush waits until every recorded row is written to the underlying
// writers and returns the first write error.
func (a *Async) Flush() error {
	if a.closed {
		return a.Err()
	}
	a.handOff(true)
	var first error
	for range a.outs {
		if err := <-a.acks; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		return first
	}
	return a.Err()
}

// Close flushes, completes every output and stops the goroutines.
func (a *Async) Close() error {
	if a.closed {
		return a.Err()
	}
	err := a.Flush()
	a.closed = true
	for _, ch := range a.fulls {
		close(ch)
	}
	<-a.done
	a.mu.Lock()
	for _, e := range a.closeErr {
		if e != nil && a.err == nil {
			a.err = e
		}
	}
	a.mu.Unlock()
	if err != nil {
		return err
	}
	return a.Err()
}

// Err returns the first write error seen so far (rows are written a few
// tapes behind the recorder).
func (a *Async) Err() error {
	a.mu.Lock()
	err := a.err
	a.mu.Unlock()
	if err != nil {
		return err
	}
	for _, o := range a.outs {
		if err := o.Err(); err != nil {
			return err
		}
	}
	return nil
}

// Written returns the bytes written to the underlying writers so far.
func (a *Async) Written() int64 {
	var n int64
	for _, o := range a.outs {
		n += o.Written()
	}
	return n
}

// WriteString records s verbatim (header lines of the text file; the
// other formats ignore it).
func (a *Async) WriteString(s string) { a.bytes(tHeader, s) }

// EndRow terminates the current row; a full tape is handed over here, so
// tapes always hold whole rows.
func (a *Async) EndRow() {
	a.b = append(a.b, tEndRow)
	if len(a.b) >= tapeFlush {
		a.handOff(false)
	}
	prefetchTail(a.b)
}

func (a *Async) op(tag byte) { a.b = append(a.b, tag) }
func (a *Async) u64(tag byte, v uint64) {
	a.b = binary.LittleEndian.AppendUint64(append(a.b, tag), v)
}

// bytes records a length-prefixed byte string (string or []byte).
func (a *Async) bytes(tag byte, s string) {
	b := append(a.b, tag)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
	a.b = append(b, s...)
}

func (a *Async) bytesB(tag byte, s []byte) {
	b := append(a.b, tag)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
	a.b = append(b, s...)
}

func (a *Async) Col()                    { a.op(tCol) }
func (a *Async) Sub()                    { a.op(tSub) }
func (a *Async) Rep()                    { a.op(tRep) }
func (a *Async) Dir(d byte)              { a.b = append(a.b, tDir, d) }
func (a *Async) U(v uint64)              { a.u64(tU, v) }
func (a *Async) I(v int64)               { a.u64(tI, uint64(v)) }
func (a *Async) F64(v float64)           { a.u64(tF64, math.Float64bits(v)) }
func (a *Async) Fixed9(v float64)        { a.u64(tFixed9, math.Float64bits(v)) }
func (a *Async) Str(s []byte)            { a.bytesB(tStr, s) }
func (a *Async) StrString(s string)      { a.bytes(tStr, s) }
func (a *Async) StrClass(s []byte)       { a.bytesB(tStrClass, s) }
func (a *Async) StrClassString(s string) { a.bytes(tStrClass, s) }
func (a *Async) Raw(s []byte)            { a.bytesB(tRaw, s) }
func (a *Async) RawString(s string)      { a.bytes(tRaw, s) }
func (a *Async) Content(s []byte)        { a.bytesB(tContent, s) }

// tapeIP decodes the payload at b of a tIP4, tIP6 or tIPNone entry: the
// IP version (0: no address), the address and the payload's size.
func tapeIP(tag byte, b []byte) (ver uint8, a [16]byte, n int) {
	switch tag {
	case tIP4:
		copy(a[:4], b[:4])
		return 4, a, 4
	case tIP6:
		copy(a[:], b[:16])
		return 6, a, 16
	}
	return 0, a, 0
}

// HexBytes implements column.HexBytesWriter: one tag for the whole list
// instead of a Rep and an H per byte.
func (a *Async) HexBytes(b []byte) {
	if !a.hexBytesTag {
		column.WriteHexBytesEach(a, b)
		return
	}
	a.bytesB(tHexBytes, b)
}

func (a *Async) ColU(v uint64) {
	a.b = binary.LittleEndian.AppendUint64(append(a.b, tCol, tU), v)
}

func (a *Async) ColI(v int64) {
	a.b = binary.LittleEndian.AppendUint64(append(a.b, tCol, tI), uint64(v))
}

func (a *Async) ColH(v uint64, digits int) {
	a.b = binary.LittleEndian.AppendUint64(append(a.b, tCol, tH, byte(digits)), v)
}

func (a *Async) H(v uint64, digits int) {
	b := append(a.b, tH, byte(digits))
	a.b = binary.LittleEndian.AppendUint64(b, v)
}

func (a *Async) F32(v float32) {
	a.b = binary.LittleEndian.AppendUint32(append(a.b, tF32), math.Float32bits(v))
}

func (a *Async) Time(sec uint64, nsec uint32) {
	b := binary.LittleEndian.AppendUint64(append(a.b, tTime), sec)
	a.b = binary.LittleEndian.AppendUint32(b, nsec)
}

func (a *Async) MAC(m [6]byte) { a.b = append(append(a.b, tMAC), m[:]...) }

func (a *Async) IP(ver uint8, addr *[16]byte) {
	switch ver {
	case 4:
		a.b = append(append(a.b, tIP4), addr[:4]...)
	case 6:
		a.b = append(append(a.b, tIP6), addr[:]...)
	default:
		a.op(tIPNone)
	}
}

// replay formats a tape into t. Tapes are produced by Async only, so the
// decoding trusts their layout.
func replay(b []byte, t *Text) {
	le := binary.LittleEndian
	for i := 0; i < len(b); {
		tag := b[i]
		i++
		switch tag {
		case tCol:
			t.Col()
		case tSub:
			t.Sub()
		case tRep:
			t.Rep()
		case tDir:
			t.Dir(b[i])
			i++
		case tU:
			t.U(le.Uint64(b[i:]))
			i += 8
		case tI:
			t.I(int64(le.Uint64(b[i:])))
			i += 8
		case tH:
			t.H(le.Uint64(b[i+1:]), int(b[i]))
			i += 9
		case tF32:
			t.F32(math.Float32frombits(le.Uint32(b[i:])))
			i += 4
		case tF64:
			t.F64(math.Float64frombits(le.Uint64(b[i:])))
			i += 8
		case tFixed9:
			t.Fixed9(math.Float64frombits(le.Uint64(b[i:])))
			i += 8
		case tTime:
			t.Time(le.Uint64(b[i:]), le.Uint32(b[i+8:]))
			i += 12
		case tStr, tStrClass, tRaw, tContent, tHeader, tHexBytes:
			n := int(le.Uint32(b[i:]))
			s := b[i+4 : i+4+n]
			i += 4 + n
			switch tag {
			case tStr:
				t.Str(s)
			case tStrClass:
				t.StrClass(s)
			case tRaw:
				t.Raw(s)
			case tHeader:
				if !t.csv {
					t.Raw(s)
				}
			case tHexBytes:
				t.HexBytes(s)
			default:
				t.Content(s)
			}
		case tMAC:
			t.MAC([6]byte(b[i : i+6]))
			i += 6
		case tIP4, tIP6, tIPNone:
			ver, a, n := tapeIP(tag, b[i:])
			t.IP(ver, &a)
			i += n
		case tEndRow:
			t.EndRow()
		}
	}
}
