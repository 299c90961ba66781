package sink

import (
	"encoding/binary"
	"io"
	"math"
	"sync"
)

// Async is a column.Writer that moves text formatting and file writing off
// the calling goroutine. The caller records each value in a compact binary
// tape (a tag byte and the raw value); full tapes are handed over a channel
// to a formatting goroutine, which replays them into a Text; the Text's
// full buffers go to a third goroutine that writes them, so formatting and
// the write system calls overlap too. Rows come out in the order they were
// recorded. Tapes and buffers are recycled, so nothing is allocated per row
// once the pools are warm.
type Async struct {
	b     []byte // the tape being recorded (cur.b while recording)
	cur   *tape
	full  chan *tape
	free  chan *tape
	acks  chan error
	done  chan struct{}
	text  *Text
	ntape int

	// The write goroutine: full text buffers in, empty ones back.
	w       io.Writer
	bufFull chan []byte
	bufFree chan []byte
	bufDone chan struct{}
	nbuf    int

	mu      sync.Mutex
	err     error
	written int64
	closed  bool
}

// asyncBufs is the number of text buffers between formatting and writing.
const asyncBufs = 3

type tape struct {
	b    []byte
	sync bool // flush the Text and acknowledge after replaying
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
)

// NewAsync returns an Async writing to w and starts its writer goroutine.
// Close must be called to stop it.
func NewAsync(w io.Writer) *Async {
	a := &Async{
		full:    make(chan *tape, asyncTapes),
		free:    make(chan *tape, asyncTapes),
		acks:    make(chan error),
		done:    make(chan struct{}),
		text:    NewText(w),
		ntape:   asyncTapes,
		w:       w,
		bufFull: make(chan []byte, asyncBufs),
		bufFree: make(chan []byte, asyncBufs),
		bufDone: make(chan struct{}),
		nbuf:    asyncBufs,
	}
	for i := 0; i < asyncTapes; i++ {
		a.free <- &tape{b: make([]byte, 0, tapeFlush+32<<10)}
	}
	// The Text holds one buffer, the others wait in bufFree.
	for i := 1; i < asyncBufs; i++ {
		a.bufFree <- make([]byte, 0, flushAt+64<<10)
	}
	a.text.swap = a.swapBuf
	a.cur = <-a.free
	a.b = a.cur.b
	go a.write()
	go a.run()
	return a
}

// run is the formatting goroutine: replay every tape, then recycle it.
func (a *Async) run() {
	defer close(a.done)
	for tp := range a.full {
		replay(tp.b, a.text)
		sync := tp.sync
		if sync {
			a.text.Flush()
			a.drain()
		}
		tp.b = tp.b[:0]
		tp.sync = false
		a.free <- tp
		if sync {
			a.acks <- a.Err()
		}
	}
	close(a.bufFull)
	<-a.bufDone
}

// swapBuf is the Text's flush: the full buffer goes to the write goroutine
// and a written one comes back.
func (a *Async) swapBuf(b []byte) ([]byte, error) {
	a.bufFull <- b
	nb := <-a.bufFree
	return nb[:0], a.Err()
}

// drain waits until every buffer handed over is written.
func (a *Async) drain() {
	var held [asyncBufs]([]byte)
	n := 0
	for ; n < a.nbuf-1; n++ {
		held[n] = <-a.bufFree
	}
	for i := 0; i < n; i++ {
		a.bufFree <- held[i]
	}
}

// write is the write goroutine: it stops writing at the first error but
// keeps recycling buffers.
func (a *Async) write() {
	defer close(a.bufDone)
	for b := range a.bufFull {
		var n int
		var err error
		if a.Err() == nil {
			n, err = a.w.Write(b)
		}
		a.mu.Lock()
		a.written += int64(n)
		if err != nil && a.err == nil {
			a.err = err
		}
		a.mu.Unlock()
		a.bufFree <- b[:0]
	}
}

// handOff passes the current tape to the writer and takes a free one.
func (a *Async) handOff(sync bool) {
	a.cur.b = a.b
	a.cur.sync = sync
	a.full <- a.cur
	a.cur = <-a.free
	a.b = a.cur.b
}

// Flush waits until every recorded row is written to the underlying
// writer and returns the first write error.
func (a *Async) Flush() error {
	if a.closed {
		return a.Err()
	}
	a.handOff(true)
	return <-a.acks
}

// Close flushes and stops the writer goroutine.
func (a *Async) Close() error {
	if a.closed {
		return a.Err()
	}
	err := a.Flush()
	a.closed = true
	close(a.full)
	<-a.done
	return err
}

// Err returns the first write error seen so far (rows are written a few
// tapes behind the recorder).
func (a *Async) Err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// Written returns the bytes written to the underlying writer so far.
func (a *Async) Written() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.written
}

// WriteString records s verbatim (header lines).
func (a *Async) WriteString(s string) { a.bytes(tRaw, s) }

// EndRow terminates the current row; a full tape is handed over here, so
// tapes always hold whole rows.
func (a *Async) EndRow() {
	a.b = append(a.b, tEndRow)
	if len(a.b) >= tapeFlush {
		a.handOff(false)
	}
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
		case tStr, tStrClass, tRaw, tContent:
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
			default:
				t.Content(s)
			}
		case tMAC:
			t.MAC([6]byte(b[i : i+6]))
			i += 6
		case tIP4:
			var a [16]byte
			copy(a[:4], b[i:i+4])
			t.IP(4, &a)
			i += 4
		case tIP6:
			t.IP(6, (*[16]byte)(b[i:i+16]))
			i += 16
		case tIPNone:
			t.IP(0, nil)
		case tEndRow:
			t.EndRow()
		}
	}
}
