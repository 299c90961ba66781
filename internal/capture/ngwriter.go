package capture

import (
	"bufio"
	"encoding/binary"
	"os"
)

// NgWriter writes a pcapng file of one interface: section header,
// interface description (nanosecond timestamps), one enhanced packet
// block per record and, at Close, the interface's statistics. Host byte
// order, as pcapng writers do; readers handle both.
type NgWriter struct {
	f   *os.File
	w   *bufio.Writer
	err error
	buf []byte
}

// pcapng option codes.
const (
	optEnd        = 0
	optShbUserApp = 4
	optIfName     = 2
	optIfTsresol  = 9
	optIsbStart   = 2
	optIsbEnd     = 3
	optIsbIfRecv  = 4
	optIsbIfDrop  = 5
)

var ne = binary.NativeEndian

var zeros [4]byte

// CreateNg creates path and writes the section header and the interface
// description block.
func CreateNg(path string, linkType, snaplen uint32, ifName, app string) (*NgWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := &NgWriter{f: f, w: bufio.NewWriterSize(f, 1<<20)}
	// SHB: byte-order magic, version 1.0, section length unknown.
	body := ne.AppendUint32(nil, bomMagic)
	body = ne.AppendUint16(body, 1)
	body = ne.AppendUint16(body, 0)
	body = ne.AppendUint64(body, ^uint64(0))
	body = appendOpt(body, optShbUserApp, []byte(app))
	body = appendOpt(body, optEnd, nil)
	w.block(btSHB, body)
	body = ne.AppendUint16(nil, uint16(linkType))
	body = ne.AppendUint16(body, 0)
	body = ne.AppendUint32(body, snaplen)
	body = appendOpt(body, optIfName, []byte(ifName))
	body = appendOpt(body, optIfTsresol, []byte{9})
	body = appendOpt(body, optEnd, nil)
	w.block(btIDB, body)
	return w, w.err
}

func appendOpt(b []byte, code uint16, val []byte) []byte {
	b = ne.AppendUint16(b, code)
	b = ne.AppendUint16(b, uint16(len(val)))
	b = append(b, val...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func (w *NgWriter) block(typ uint32, body []byte) {
	if w.err != nil {
		return
	}
	total := uint32(12 + len(body))
	w.buf = ne.AppendUint32(w.buf[:0], typ)
	w.buf = ne.AppendUint32(w.buf, total)
	w.buf = append(w.buf, body...)
	w.buf = ne.AppendUint32(w.buf, total)
	_, w.err = w.w.Write(w.buf)
}

func nsTimestamp(b []byte, sec uint64, nsec uint32) []byte {
	ts := sec*1e9 + uint64(nsec)
	b = ne.AppendUint32(b, uint32(ts>>32))
	return ne.AppendUint32(b, uint32(ts))
}

// Write appends rec as an enhanced packet block (no allocation once the
// buffer has grown to the largest frame).
func (w *NgWriter) Write(rec *Record) {
	if w.err != nil {
		return
	}
	n := len(rec.Data)
	pad := (4 - n%4) % 4
	total := uint32(32 + n + pad)
	b := ne.AppendUint32(w.buf[:0], btEPB)
	b = ne.AppendUint32(b, total)
	b = ne.AppendUint32(b, 0) // interface 0
	b = nsTimestamp(b, rec.TsSec, rec.TsNsec)
	b = ne.AppendUint32(b, uint32(n))
	b = ne.AppendUint32(b, rec.WireLen)
	b = append(b, rec.Data...)
	b = append(b, zeros[:pad]...)
	b = ne.AppendUint32(b, total)
	w.buf = b
	_, w.err = w.w.Write(b)
}

// Err is the first write error.
func (w *NgWriter) Err() error { return w.err }

// Stats are an interface statistics block's counters and times.
type NgStats struct {
	StartSec, EndSec   uint64
	StartNsec, EndNsec uint32
	Received, Dropped  uint64
}

// Close writes the interface statistics block and closes the file.
func (w *NgWriter) Close(st *NgStats) error {
	if st != nil {
		body := ne.AppendUint32(nil, 0)
		body = nsTimestamp(body, st.EndSec, st.EndNsec)
		var v []byte
		v = nsTimestamp(v[:0], st.StartSec, st.StartNsec)
		body = appendOpt(body, optIsbStart, v)
		body = appendOpt(body, optIsbEnd, nsTimestamp(nil, st.EndSec, st.EndNsec))
		body = appendOpt(body, optIsbIfRecv, ne.AppendUint64(nil, st.Received))
		body = appendOpt(body, optIsbIfDrop, ne.AppendUint64(nil, st.Dropped))
		body = appendOpt(body, optEnd, nil)
		w.block(btISB, body)
	}
	if w.err == nil {
		w.err = w.w.Flush()
	}
	if err := w.f.Close(); w.err == nil {
		w.err = err
	}
	return w.err
}
