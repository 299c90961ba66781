package sink

import (
	"io"
	"sync"
)

// TextOutput is the Output of the text file (or, NewCSVOutput, the CSV
// file): it replays tapes into a Text whose full buffers go to a write
// goroutine, so formatting and the write system calls overlap.
type TextOutput struct {
	text *Text
	w    io.Writer

	bufFull chan []byte
	bufFree chan []byte
	bufDone chan struct{}
	nbuf    int
	closed  bool
	held    []byte // a full buffer not yet handed to the writer (swapBuf)

	mu      sync.Mutex
	err     error
	written int64
}

// asyncBufs is the number of text buffers between formatting and writing.
const asyncBufs = 3

// NewTextOutput returns the text Output on w and starts its write
// goroutine (stopped by Close).
func NewTextOutput(w io.Writer) *TextOutput {
	o := &TextOutput{
		text:    NewText(w),
		w:       w,
		bufFull: make(chan []byte, asyncBufs),
		bufFree: make(chan []byte, asyncBufs),
		bufDone: make(chan struct{}),
		nbuf:    asyncBufs,
	}
	// The Text holds one buffer, the others wait in bufFree.
	for i := 1; i < asyncBufs; i++ {
		o.bufFree <- make([]byte, 0, flushAt+64<<10)
	}
	o.text.swap = o.swapBuf
	go o.write()
	return o
}

// NewCSVOutput returns an Output writing RFC 4180 CSV to w: a header row
// of names, then the text file's cells, comma-separated and quoted where
// needed. The text file's header line (Async.WriteString) is not written.
func NewCSVOutput(w io.Writer, names []string) *TextOutput {
	o := NewTextOutput(w)
	o.text.csv = true
	for i, n := range names {
		if i > 0 {
			o.text.buf = append(o.text.buf, ',')
		}
		o.text.buf = appendCSVField(o.text.buf, n)
	}
	o.text.buf = append(o.text.buf, '\r', '\n')
	return o
}

// Replay implements Output.
func (o *TextOutput) Replay(tape []byte) { replay(tape, o.text) }

// Flush implements Output: every buffer handed over is written.
func (o *TextOutput) Flush() error {
	o.text.Flush()
	o.sendHeld()
	o.drain()
	return o.Err()
}

// Close implements Output: flush and stop the write goroutine.
func (o *TextOutput) Close() error {
	if o.closed {
		return o.Err()
	}
	o.closed = true
	err := o.Flush()
	close(o.bufFull)
	<-o.bufDone
	return err
}

// Err implements Output.
func (o *TextOutput) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// Written implements Output.
func (o *TextOutput) Written() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.written
}

// swapBuf is the Text's flush: the full buffer goes to the write goroutine
// and a written one comes back.
// swapBuf hands full buffers to the writer two at a time: the writer,
// faster than the formatting, then wakes once per two buffers.
func (o *TextOutput) swapBuf(b []byte) ([]byte, error) {
	if o.held == nil {
		o.held = b
	} else {
		o.bufFull <- o.held
		o.bufFull <- b
		o.held = nil
	}
	nb := <-o.bufFree
	return nb[:0], o.Err()
}

// sendHeld hands over the buffer swapBuf holds back.
func (o *TextOutput) sendHeld() {
	if o.held != nil {
		o.bufFull <- o.held
		o.held = nil
	}
}

// drain waits until every buffer handed over is written.
func (o *TextOutput) drain() {
	var held [asyncBufs][]byte
	n := 0
	for ; n < o.nbuf-1; n++ {
		held[n] = <-o.bufFree
	}
	for i := 0; i < n; i++ {
		o.bufFree <- held[i]
	}
}

// write is the write goroutine: it stops writing at the first error but
// keeps recycling buffers.
func (o *TextOutput) write() {
	defer close(o.bufDone)
	for b := range o.bufFull {
		var n int
		var err error
		if o.Err() == nil {
			n, err = o.w.Write(b)
		}
		o.mu.Lock()
		o.written += int64(n)
		if err != nil && o.err == nil {
			o.err = err
		}
		o.mu.Unlock()
		o.bufFree <- b[:0]
	}
}
