// Package capture reads classic pcap and pcapng capture files, optionally
// gzip-compressed, record by record without allocating in steady state.
//
// Where libpcap 1.10 (which Tranalyzer uses) has a defined behaviour for an
// odd file, this package copies it, including its error texts, so that the
// engine can print "[WRN] pcap_dispatch failed: MSG" lines like Tranalyzer:
//   - a pcap record longer than the file's snap length is cut to the snap
//     length (the rest is skipped) and delivered without error;
//   - pcapng: every interface must have the link type and snap length of
//     the first one (unless AllowMixedInterfaces), packets on an interface
//     whose IDB was refused are reported and skipped.
//
// Where libpcap would give up or read garbage (absurd lengths, corrupt
// blocks), this package reports a non-fatal *Error and resynchronises.
package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"

	"flowsift/internal/cacheline"
)

const (
	// bufSize is the bufio size: every normal record or block (up to
	// defaultMaxSnap) is served from it without copying. 512 KiB rather
	// than 1 MiB: the same speed, half a megabyte less resident (the
	// buffer is cycled through whole), docs/performance.md.
	bufSize = 512 << 10

	// defaultMaxSnap is libpcap's max_snaplen_for_dlt for almost all link
	// types; longer records are considered corrupt.
	defaultMaxSnap = 262144

	// resyncLimit bounds the bytes scanned when looking for the next valid
	// record after a corrupt one.
	resyncLimit = 16 << 20

	// maxOtherBlock bounds non-packet pcapng blocks, which are skipped or
	// parsed but never copied whole unless they are SHB/IDB.
	maxOtherBlock = 16 << 20
)

// Classic pcap magics as read in the file's byte order.
const (
	magicMicro = 0xa1b2c3d4
	magicNano  = 0xa1b23c4d
	magicKuz   = 0xa1b2cd34 // Alexey Kuznetzov's "modified" pcap: 24-byte record headers
)

// pcapng block types.
const (
	btSHB = 0x0A0D0D0A
	btIDB = 0x00000001
	btPB  = 0x00000002 // obsolete Packet Block
	btSPB = 0x00000003
	btNRB = 0x00000004
	btISB = 0x00000005
	btEPB = 0x00000006
	btSJE = 0x00000009 // systemd journal export
	btDSB = 0x0000000A
	btCB  = 0x00000BAD
	btCB2 = 0x40000BAD

	bomMagic = 0x1A2B3C4D
)

// Record is one captured frame.
type Record struct {
	TsSec    uint64 // seconds
	TsNsec   uint32 // nanoseconds (µs files ×1000)
	CapLen   uint32
	WireLen  uint32
	LinkType uint32 // LINKTYPE_* of the record's interface
	Data     []byte // captured bytes; valid until the next call to Next (reused buffer)
}

// Error describes a problem in a capture file. Non-fatal errors leave the
// File usable: the caller may keep calling Next.
type Error struct {
	File   string
	Record uint64 // 1-based number of the record being read; 0 for file-header problems
	Offset int64  // byte offset in the (uncompressed) stream where the problem starts
	Msg    string
	Fatal  bool
	Err    error // underlying I/O or gzip error, if any (see Unwrap)
}

// Error formats "FILE: record N at byte OFFSET: MSG", or "FILE: MSG" for
// problems with the file itself (Record 0).
func (e *Error) Error() string {
	if e.Record == 0 {
		return e.File + ": " + e.Msg
	}
	return e.File + ": record " + strconv.FormatUint(e.Record, 10) + " at byte " +
		strconv.FormatInt(e.Offset, 10) + ": " + e.Msg
}

// Unwrap gives access to the underlying error (e.g. fs.ErrNotExist).
func (e *Error) Unwrap() error { return e.Err }

// iface is a pcapng interface (or the single pcap "interface").
type iface struct {
	linkType uint32
	snaplen  uint32 // adjusted like libpcap: 0 or too large -> max for the link type
	res      uint64 // timestamp units per second
	mul, div uint64 // decimal resolution: nsec = frac*mul/div; both 0 for binary
	offset   uint64 // if_tsoffset seconds (two's complement added)
	// Kernel drop counters of the interface's last statistics block.
	haveDrops      bool
	ifDrop, osDrop uint64
}

// File reads one capture. Its reader updates it for every record, on
// another processor than the flow table's: padded, so that nothing else
// shares its cache lines (cacheline).
type File struct {
	_       cacheline.Pad
	name    string
	osf     *os.File
	gz      *gzip.Reader
	br      *bufio.Reader
	raw     *bufio.Reader // under gz, for a gzip file
	ended   atomic.Bool   // Next returned io.EOF: no read is in flight
	size    int64
	off     int64 // bytes consumed of the uncompressed stream
	gzipped bool
	ng      bool
	done    bool // set after a truncation or fatal error: Next returns io.EOF
	stop    *atomic.Bool
	recOff  int64  // byte offset of the last record delivered
	nrec    uint64 // records delivered

	linkType uint32 // first interface
	snaplen  uint32 // first interface, adjusted

	bo binary.ByteOrder

	// classic pcap
	nano    bool
	hdrLen  int
	swapLen uint8 // libpcap's lengths_swapped: 0 no, 1 maybe, 2 yes
	lastSec uint32
	haveTs  bool

	// pcapng
	ifaces  []iface
	sawIDB  bool // an IDB was seen in the file (fixes linkType/snaplen)
	mixed   bool // AllowMixedInterfaces
	scratch []byte
	_       cacheline.Pad
}

// Open opens a capture file ("-" is stdin) and reads its header.
func Open(path string) (*File, error) {
	if path == "-" {
		return NewReader("stdin", os.Stdin)
	}
	osf, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot open: " + errText(err), Fatal: true, Err: err}
	}
	st, err := osf.Stat()
	if err != nil {
		osf.Close()
		return nil, &Error{File: path, Msg: "cannot stat: " + errText(err), Fatal: true, Err: err}
	}
	if st.IsDir() {
		osf.Close()
		return nil, &Error{File: path, Msg: "is a directory", Fatal: true}
	}
	f := &File{name: path, osf: osf, size: st.Size()}
	if err := f.init(osf); err != nil {
		f.Close()
		return nil, err
	}
	if f.gzipped && st.Mode().IsRegular() && f.size >= 18 {
		// The report's "pcap bytes" and completion percentage are about the
		// uncompressed capture: use the gzip trailer's ISIZE (size mod 2^32
		// of the last member, exact for ordinary .gz files).
		var tr [4]byte
		if _, err := osf.ReadAt(tr[:], f.size-4); err == nil {
			f.size = int64(binary.LittleEndian.Uint32(tr[:]))
		}
	}
	return f, nil
}

// NewReader reads a capture from a stream (Size is 0).
func NewReader(name string, r io.Reader) (*File, error) {
	f := &File{name: name}
	if err := f.init(r); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// readBuffers keeps the read buffers of closed files for the next Open: a
// run over many captures (-R) would otherwise allocate and clear a read
// buffer per file (two with gzip): with 1 MiB buffers, 1.7 GB and 133
// collections for the corpus's 173 captures read ten times.
var readBuffers struct {
	sync.Mutex
	free []*bufio.Reader
}

// keptReadBuffers: a gzip file's two, or two plain files read at once.
const keptReadBuffers = 2

func newReadBuffer(r io.Reader) *bufio.Reader {
	readBuffers.Lock()
	if n := len(readBuffers.free); n > 0 {
		br := readBuffers.free[n-1]
		readBuffers.free = readBuffers.free[:n-1]
		readBuffers.Unlock()
		br.Reset(r)
		return br
	}
	readBuffers.Unlock()
	// The Reader's indices change with every record: padded like File.
	pr := &paddedReader{Reader: *bufio.NewReaderSize(r, bufSize)}
	return &pr.Reader
}

type paddedReader struct {
	_ cacheline.Pad
	bufio.Reader
	_ cacheline.Pad
}

func recycleReadBuffer(br *bufio.Reader) {
	if br == nil {
		return
	}
	br.Reset(nil) // no reference to the closed file
	readBuffers.Lock()
	if len(readBuffers.free) < keptReadBuffers {
		readBuffers.free = append(readBuffers.free, br)
	}
	readBuffers.Unlock()
}

func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// AllowMixedInterfaces makes pcapng interfaces with a link type or snap
// length different from the first one usable (libpcap 1.10 refuses them,
// and so does this package by default, to match Tranalyzer).
func (f *File) AllowMixedInterfaces(allow bool) { f.mixed = allow }

// LastRecord returns the number (1-based) and byte offset of the last
// record Next delivered, for messages about it after the fact.
func (f *File) LastRecord() (num uint64, off int64) { return f.nrec, f.recOff }

// SetStop makes Next return io.EOF once *stop is true (the run was
// interrupted); one atomic load per record.
func (f *File) SetStop(stop *atomic.Bool) { f.stop = stop }

// Swapped reports whether the current section's byte order is not the
// host's (libpcap's "swapped"; its filter compiler depends on it for the
// host-order family word of DLT_NULL).
func (f *File) Swapped() bool {
	return f.bo != nil && (f.bo == binary.ByteOrder(binary.BigEndian)) != hostBigEndian
}

var hostBigEndian = binary.NativeEndian.Uint16([]byte{0, 1}) == 1

// LinkType is the LINKTYPE_ value of the first interface.
func (f *File) LinkType() uint32 { return f.linkType }

// Snaplen is the snap length of the first interface (pcapng) or of the file
// header (pcap), adjusted like libpcap: 0 or above the link type's maximum
// becomes that maximum (262144 for most).
func (f *File) Snaplen() uint32 { return f.snaplen }

// Format is "pcap" or "pcapng", with " (gzip)" appended if compressed.
func (f *File) Format() string {
	s := "pcap"
	if f.ng {
		s = "pcapng"
	}
	if f.gzipped {
		s += " (gzip)"
	}
	return s
}

// BytesRead is the number of bytes of the uncompressed stream consumed.
func (f *File) BytesRead() int64 { return f.off }

// Size is the size of the capture: the file size on disk, or for gzip files
// the uncompressed size recorded in the gzip trailer; 0 for streams.
func (f *File) Size() int64 { return f.size }

// Close releases the file.
func (f *File) Close() error {
	var err error
	if f.gz != nil {
		err = f.gz.Close()
		f.gz = nil
	}
	if f.osf != nil {
		if e := f.osf.Close(); err == nil {
			err = e
		}
		f.osf = nil
	}
	f.done = true // Next returns io.EOF from now on, without its buffers
	// Only a file read to its end gives its buffers back: one closed while
	// a reader may still be blocked in a read (an interrupted run reading
	// a pipe) leaves them to that reader.
	if f.ended.Load() {
		recycleReadBuffer(f.br)
		recycleReadBuffer(f.raw)
	}
	f.br, f.raw = nil, nil
	return err
}

func (f *File) fail(fatal bool, off int64, msg string, err error) *Error {
	if fatal {
		f.done = true
	}
	return &Error{File: f.name, Record: f.nrec + 1, Offset: off, Msg: msg, Fatal: fatal, Err: err}
}

func (f *File) headerErr(msg string, err error) *Error {
	return &Error{File: f.name, Msg: msg, Fatal: true, Err: err}
}

func (f *File) init(r io.Reader) error {
	f.br = newReadBuffer(r)
	m, err := f.br.Peek(2)
	if len(m) == 2 && m[0] == 0x1f && m[1] == 0x8b {
		gz, err := gzip.NewReader(f.br)
		if err != nil {
			return f.headerErr("invalid gzip stream: "+err.Error(), err)
		}
		f.gz = gz
		f.gzipped = true
		f.raw, f.br = f.br, newReadBuffer(gz)
	} else if len(m) == 0 {
		if err != nil && err != io.EOF {
			return f.headerErr("unreadable: "+errText(err), err)
		}
		return f.headerErr("empty file", nil)
	}
	m, err = f.br.Peek(4)
	if len(m) < 4 {
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return f.headerErr("unreadable: "+errText(err), err)
		}
		if len(m) == 0 {
			return f.headerErr("empty file", nil)
		}
		return f.headerErr("not a pcap or pcapng file (only "+strconv.Itoa(len(m))+" bytes)", nil)
	}
	if binary.LittleEndian.Uint32(m) == btSHB {
		f.ng = true
		return f.initNg()
	}
	for _, bo := range [2]binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		switch bo.Uint32(m) {
		case magicMicro, magicNano, magicKuz:
			f.bo = bo
			return f.initPcap()
		}
	}
	return f.headerErr("not a pcap or pcapng file", nil)
}

// maxSnap is libpcap's max_snaplen_for_dlt.
func maxSnap(lt uint32) uint32 {
	switch DLT(lt) {
	case 231: // DBUS
		return 128 << 20
	case 279: // EBHSCR
		return 8 << 20
	case 249: // USBPCAP
		return 1 << 20
	}
	return defaultMaxSnap
}

// adjustSnap is libpcap's pcap_adjust_snapshot.
func adjustSnap(lt, snap uint32) uint32 {
	if m := maxSnap(lt); snap == 0 || snap > m {
		return m
	}
	return snap
}

func (f *File) initPcap() error {
	h, err := f.br.Peek(24)
	if len(h) < 24 {
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return f.headerErr("unreadable: "+errText(err), err)
		}
		return f.headerErr("truncated pcap file header ("+strconv.Itoa(len(h))+" of 24 bytes)", nil)
	}
	magic := f.bo.Uint32(h)
	vmaj, vmin := f.bo.Uint16(h[4:]), f.bo.Uint16(h[6:])
	if vmaj < 2 {
		return f.headerErr("archaic pcap savefile format", nil)
	}
	if !(vmaj == 2 && vmin <= 4 || vmaj == 543 && vmin == 0) {
		return f.headerErr(fmt.Sprintf("unsupported pcap savefile version %d.%d", vmaj, vmin), nil)
	}
	switch {
	case vmaj == 543 || vmin < 3:
		f.swapLen = 2
	case vmin == 3:
		f.swapLen = 1
	}
	f.nano = magic == magicNano
	f.hdrLen = 16
	if magic == magicKuz {
		f.hdrLen = 24
	}
	f.linkType = f.bo.Uint32(h[20:]) & LinkTypeMask
	f.snaplen = adjustSnap(f.linkType, f.bo.Uint32(h[16:]))
	f.discard(24)
	return nil
}

// discard consumes n bytes that are known to be buffered (after a Peek).
func (f *File) discard(n int) {
	d, _ := f.br.Discard(n)
	f.off += int64(d)
}

// skip consumes up to n bytes, returning how many were skipped.
func (f *File) skip(n int64) (int64, error) {
	var done int64
	for done < n {
		c := n - done
		if c > bufSize {
			c = bufSize
		}
		d, err := f.br.Discard(int(c))
		done += int64(d)
		f.off += int64(d)
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// readLarge consumes n bytes into f.scratch, growing it as data actually
// arrives so a lying length field cannot make us allocate much more than
// the input holds.
func (f *File) readLarge(n int) ([]byte, error) {
	f.scratch = f.scratch[:0]
	for len(f.scratch) < n {
		want := n - len(f.scratch)
		if want > bufSize {
			want = bufSize
		}
		if cap(f.scratch)-len(f.scratch) < want {
			ns := make([]byte, len(f.scratch), 2*cap(f.scratch)+want)
			copy(ns, f.scratch)
			f.scratch = ns
		}
		m, err := io.ReadFull(f.br, f.scratch[len(f.scratch):len(f.scratch)+want])
		f.scratch = f.scratch[:len(f.scratch)+m]
		f.off += int64(m)
		if err != nil {
			return f.scratch, err
		}
	}
	return f.scratch, nil
}

// read consumes n bytes and returns them; the slice is valid until the next
// read from f.br. A short result comes with the reader's error.
func (f *File) read(n int) ([]byte, error) {
	if n > bufSize {
		return f.readLarge(n)
	}
	b, err := f.br.Peek(n)
	f.discard(len(b))
	return b, err
}

// isEOF tells whether err just means the stream ended (possibly mid-record).
func isEOF(err error) bool { return err == nil || err == io.EOF || err == io.ErrUnexpectedEOF }

// Next reads the next record into rec. It returns io.EOF at the end of the
// file, or an *Error; after a non-fatal *Error the caller may call Next
// again.
func (f *File) Next(rec *Record) error {
	if f.done || f.stop != nil && f.stop.Load() {
		f.ended.Store(true)
		return io.EOF
	}
	var err error
	if f.ng {
		err = f.nextNg(rec)
	} else {
		err = f.nextPcap(rec)
	}
	if err == io.EOF {
		f.ended.Store(true)
	}
	return err
}

// ioFail reports a short read: a truncated file is a non-fatal error (the
// next call returns io.EOF), any other read error (gzip corruption, I/O)
// is fatal.
func (f *File) ioFail(off int64, msg string, err error) error {
	f.done = true
	if isEOF(err) {
		return f.fail(false, off, msg, nil)
	}
	return f.fail(true, off, msg+": "+errText(err), err)
}

func (f *File) nextPcap(rec *Record) error {
	start := f.off
	h, err := f.br.Peek(f.hdrLen)
	if len(h) < f.hdrLen {
		if len(h) == 0 && err == io.EOF {
			f.done = true
			return io.EOF
		}
		f.discard(len(h))
		return f.ioFail(start, fmt.Sprintf("truncated dump file; tried to read %d header bytes, only got %d", f.hdrLen, len(h)), err)
	}
	sec, frac := f.bo.Uint32(h), f.bo.Uint32(h[4:])
	caplen, wirelen := f.bo.Uint32(h[8:]), f.bo.Uint32(h[12:])
	if f.swapLen == 2 || f.swapLen == 1 && caplen > wirelen {
		caplen, wirelen = wirelen, caplen
	}
	if max := maxSnap(f.linkType); caplen > max {
		var msg string
		if caplen > f.snaplen {
			msg = fmt.Sprintf("invalid packet capture length %d, bigger than snaplen of %d", caplen, f.snaplen)
		} else {
			msg = fmt.Sprintf("invalid packet capture length %d, bigger than maximum of %d", caplen, max)
		}
		f.discard(1)
		return f.resyncPcap(start, msg)
	}
	f.discard(f.hdrLen)
	// libpcap cuts records longer than the snap length (seen in the corpus:
	// trunc-hdr.pcap has snaplen 1 and an 8-byte record).
	keep := caplen
	if keep > f.snaplen {
		keep = f.snaplen
	}
	data, err := f.read(int(keep))
	if uint32(len(data)) < keep {
		return f.ioFail(start, fmt.Sprintf("truncated dump file; tried to read %d captured bytes, only got %d", caplen, len(data)), err)
	}
	if keep < caplen {
		// Skipping may refill bufio's buffer, which data points into.
		data = f.own(data)
		n, err := f.skip(int64(caplen - keep))
		if n < int64(caplen-keep) {
			return f.ioFail(start, fmt.Sprintf("truncated dump file; tried to read %d captured bytes, only got %d", caplen, int64(keep)+n), err)
		}
	}
	f.nrec++
	f.recOff = start
	f.lastSec, f.haveTs = sec, true
	if f.nano {
		rec.TsSec = uint64(sec) + uint64(frac/1e9)
		rec.TsNsec = frac % 1e9
	} else {
		rec.TsSec = uint64(sec) + uint64(frac/1e6)
		rec.TsNsec = frac % 1e6 * 1000
	}
	rec.CapLen = keep
	rec.WireLen = wirelen
	rec.LinkType = f.linkType
	rec.Data = data
	return nil
}

// own copies data into f.scratch unless it already lives there.
func (f *File) own(data []byte) []byte {
	if len(data) > 0 && cap(f.scratch) > 0 && &data[0] == &f.scratch[:1][0] {
		return data
	}
	if cap(f.scratch) < len(data) {
		f.scratch = make([]byte, len(data))
	}
	f.scratch = f.scratch[:len(data)]
	copy(f.scratch, data)
	return f.scratch
}

// plausiblePcap tells whether w holds a believable record header (and
// optionally, lastSec-wise, a believable timestamp).
func (f *File) plausiblePcap(w []byte, checkTs bool, ref uint32) (caplen uint32, ok bool) {
	sec, frac := f.bo.Uint32(w), f.bo.Uint32(w[4:])
	caplen, wirelen := f.bo.Uint32(w[8:]), f.bo.Uint32(w[12:])
	if f.swapLen == 2 || f.swapLen == 1 && caplen > wirelen {
		caplen, wirelen = wirelen, caplen
	}
	maxFrac := uint32(1e6)
	if f.nano {
		maxFrac = 1e9
	}
	if frac >= maxFrac || caplen == 0 || caplen > wirelen || caplen > defaultMaxSnap || wirelen > 1<<24 ||
		f.snaplen >= 64 && caplen > f.snaplen { // a tiny snaplen is not trusted (records get cut to it)
		return 0, false
	}
	// "Close" to the reference time: up to an hour back, a week forward.
	if checkTs && (sec+3600 < ref || sec > ref+7*86400) {
		return 0, false
	}
	return caplen, true
}

// resyncPcap looks for the next plausible record header: valid lengths, a
// timestamp close to the last good record, and a second plausible header
// (or the end of the file) right after it. msg describes the bad record at
// offset start; the returned error is non-fatal unless nothing was found.
func (f *File) resyncPcap(start int64, msg string) error {
	hl := f.hdrLen
	var skipped int64 = 1
	for skipped < resyncLimit {
		w, err := f.br.Peek(bufSize)
		atEOF := err != nil
		if len(w) < hl {
			skipped += int64(len(w))
			f.discard(len(w))
			f.done = true
			return f.fail(false, start, msg+" (no valid record found after it)", nil)
		}
		found, restart := -1, false
		for i := 0; i+hl <= len(w); i++ {
			ref := f.lastSec
			caplen, ok := f.plausiblePcap(w[i:], f.haveTs, ref)
			if !ok {
				continue
			}
			j := i + hl + int(caplen)
			if j+hl <= len(w) {
				if _, ok := f.plausiblePcap(w[j:], true, f.bo.Uint32(w[i:])); ok {
					found = i
					break
				}
				continue
			}
			if atEOF {
				if j == len(w) {
					found = i
					break
				}
				continue
			}
			// The following header is beyond the window: move the window.
			if i > 0 {
				found, restart = i, true
				break
			}
		}
		if restart {
			skipped += int64(found)
			f.discard(found)
			continue
		}
		if found >= 0 {
			skipped += int64(found)
			f.discard(found)
			return f.fail(false, start, fmt.Sprintf("%s (skipped %d bytes to the next valid record)", msg, skipped), nil)
		}
		n := len(w) - hl + 1
		if atEOF {
			n = len(w)
		}
		skipped += int64(n)
		f.discard(n)
	}
	f.done = true
	return f.fail(true, start, fmt.Sprintf("%s (no valid record found within %d bytes)", msg, resyncLimit), nil)
}
