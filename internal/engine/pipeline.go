package engine

import (
	"errors"
	"io"
	"unsafe"

	"flowsift/internal/cacheline"
	"flowsift/internal/capture"
	"flowsift/internal/capture/live"
	"flowsift/internal/decode"
	"flowsift/internal/filter"
	"flowsift/internal/prefetch"
)

// The run is a pipeline over two cores:
//
//	reader goroutine: capture records → copied into a batch → decoded
//	main goroutine:   timeouts, flow table, plugins, rows recorded (sink.Async;
//	                  on one processor a Parquet packet file alone is filled
//	                  in place, sink.NewRows)
//	writer goroutines: rows formatted and written (one per file and format;
//	                  Parquet pages compressed on one more)
//
// Batches cycle between the reader and the main goroutine over two
// channels (one channel operation per batch, not per packet); each batch
// owns its packet structs and a data buffer the packets point into, so
// nothing is allocated per packet.

// batchPkts is the number of packets per batch (fewer with long frames:
// batchData fills first). Each batch costs a hand-off each way, and a
// wake-up: 512 took 0.94-0.97x the wall time of 256 in flow mode (128:
// 1.19x), 1024 no less than 512.
const batchPkts = 512

// batchData is the initial data buffer of a batch: a full-size record
// (snap length 262144) and its view reserve fit, so the buffer only grows
// for larger ones.
const batchData = 256<<10 + 4<<10

// viewReserve is room kept behind each frame for the stale bytes of its
// decode view (decode keeps 512); were it exceeded, append would still be
// correct, only a batch buffer would grow.
const viewReserve = 512

// nBatches is the number of batches in flight.
const nBatches = 4

type batch struct {
	pkts [batchPkts]decode.Packet
	n    int
	data []byte
	// warnings raised by decoding packet warnAt[i] are the lines
	// warnText[warnEnd[i-1]:warnEnd[i]] (the decoder's first-time warnings,
	// printed in order with the packets).
	warnAt   []int
	warnEnd  []int
	warnText []byte
	// err is a read error that follows the batch's packets; eof: the
	// reader is done with the file after this batch.
	err error
	eof bool
	// read is how far the reader was in the file when it sent the batch
	// (for the progress line; File is not read from two goroutines).
	read int64
	// tick: the live capture was idle at tickSec/tickNsec (flows that
	// timed out by then can be written).
	tick     bool
	tickSec  uint64
	tickNsec uint32
}

// reader reads and decodes one capture file into batches. It is written
// for every packet on the reader's processor: padded, so that nothing the
// main goroutine uses shares its lines (cacheline).
type reader struct {
	_          cacheline.Pad
	f          source
	filter     *filter.Filter              // packets it rejects are not processed at all
	swapper    interface{ Swapped() bool } // capture files: byte order for filter.Match
	pcapOut    *capture.NgWriter           // --write-pcap: frames that passed the filter
	dec        *decode.Decoder
	free, full chan *batch
	rec        capture.Record
	guard      decodeGuard // robust.go
	_          cacheline.Pad
}

func newBatches() (free, full chan *batch) {
	free = make(chan *batch, nBatches)
	full = make(chan *batch, nBatches)
	for i := 0; i < nBatches; i++ {
		free <- &batch{data: make([]byte, 0, batchData)}
	}
	return free, full
}

func (rd *reader) next() *batch {
	b := <-rd.free
	b.n = 0
	b.data = b.data[:0]
	b.warnAt = b.warnAt[:0]
	b.warnEnd = b.warnEnd[:0]
	b.warnText = b.warnText[:0]
	b.err = nil
	b.eof = false
	b.tick = false
	return b
}

// run reads the file to its end (or to a fatal error) and sends the
// batches; the last one has eof set.
func (rd *reader) run() {
	b := rd.next()
	for {
		err := rd.f.Next(&rd.rec)
		if err == live.ErrIdle {
			b.tick, b.tickSec, b.tickNsec = true, rd.rec.TsSec, rd.rec.TsNsec
			rd.send(b)
			b = rd.next()
			continue
		}
		if err != nil {
			if err != io.EOF {
				b.err = err
				var ce *capture.Error
				if errors.As(err, &ce) && !ce.Fatal {
					rd.send(b)
					b = rd.next()
					continue
				}
			}
			b.eof = true
			rd.send(b)
			return
		}
		if rd.filter != nil && !rd.filter.Match(rd.rec.LinkType, rd.rec.Data, rd.rec.WireLen,
			rd.swapper != nil && rd.swapper.Swapped()) {
			continue
		}
		if rd.pcapOut != nil {
			rd.pcapOut.Write(&rd.rec)
		}
		n := len(rd.rec.Data)
		// Room for the frame and its stale tail (see below).
		need := n + viewReserve
		if b.n == batchPkts || len(b.data)+need > cap(b.data) {
			if b.n > 0 {
				rd.send(b)
				b = rd.next()
			}
			if need > cap(b.data) { // only for records beyond the usual snap length
				b.data = make([]byte, 0, need)
			}
		}
		rd.prefetchNext(b, need)
		start := len(b.data)
		b.data = append(b.data, rd.rec.Data...)
		p := &b.pkts[b.n]
		p.TsSec, p.TsNsec = rd.rec.TsSec, rd.rec.TsNsec
		p.CapLen, p.WireLen = rd.rec.CapLen, rd.rec.WireLen
		p.LinkType = rd.rec.LinkType
		// The capacity stops at the frame so appends cannot reach the next one.
		p.Data = b.data[start : start+n : start+n]
		if p.CapLen != 0 {
			rd.decode(p) // Decode with a panic safety net (robust.go)
			if len(p.View) > n {
				// The view of a short frame lives in the decoder and changes
				// with the next Decode: keep its tail behind the frame, so
				// View and Data share offsets in the batch buffer.
				b.data = append(b.data, p.View[n:]...)
				p.View = b.data[start:len(b.data):len(b.data)]
			}
			if w := rd.dec.TakeWarnings(); len(w) > 0 {
				b.warnText = append(b.warnText, w...)
				b.warnAt = append(b.warnAt, b.n)
				b.warnEnd = append(b.warnEnd, len(b.warnText))
			}
		}
		b.n++
	}
}

// prefetchNext asks for the memory the next frame will be written to:
// its packet struct and the start of its place in the batch buffer. The
// main goroutine read both when the batch went round last, on the other
// processor: without the hint, the reader stalled on line after line of
// them (flow mode: CPU time 0.885 → 0.776 s, docs/performance.md).
func (rd *reader) prefetchNext(b *batch, need int) {
	if b.n+1 < batchPkts {
		prefetch.WriteRange(uintptr(unsafe.Pointer(&b.pkts[b.n+1])), unsafe.Sizeof(b.pkts[0]))
	}
	if next := len(b.data) + need; next+nextFrameAhead <= cap(b.data) {
		prefetch.WriteRange(uintptr(unsafe.Pointer(unsafe.SliceData(b.data)))+uintptr(next), nextFrameAhead)
	}
}

// nextFrameAhead is how much of the next frame's place prefetchNext asks
// for: the headers, which the main goroutine reads; a longer payload is a
// sequential copy the processor follows by itself.
const nextFrameAhead = 256

// warnings returns the decoder warnings raised by packet i of the batch
// (usually none); w is the cursor over b.warnAt, advanced past packet i.
func (b *batch) warnings(i int, w *int) []byte {
	if *w >= len(b.warnAt) || b.warnAt[*w] != i {
		return nil
	}
	start := 0
	if *w > 0 {
		start = b.warnEnd[*w-1]
	}
	end := b.warnEnd[*w]
	*w++
	return b.warnText[start:end]
}

func (rd *reader) send(b *batch) {
	b.read = rd.f.BytesRead()
	rd.full <- b
}
