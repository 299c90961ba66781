package capture

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
)

// pow10 holds 10^0 .. 10^19 (the largest that fits in uint64).
var pow10 = func() (p [20]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return
}()

// blockLimit is the largest acceptable total length for a block type.
func (f *File) blockLimit(typ uint32) uint32 {
	switch typ {
	case btEPB, btPB, btSPB:
		if f.sawIDB {
			// libpcap's MAX_BLOCKSIZE_FOR_SNAPLEN: headers + snap + 128 KiB of options.
			return 8 + 20 + maxSnap(f.linkType) + 131072 + 4
		}
	}
	return maxOtherBlock
}

func knownBlock(typ uint32) bool {
	switch typ {
	case btSHB, btIDB, btPB, btSPB, btNRB, btISB, btEPB, btSJE, btDSB, btCB, btCB2:
		return true
	}
	return false
}

// initNg reads the Section Header Block and the blocks up to the first
// Interface Description Block, like libpcap's pcap_ng_check_header.
func (f *File) initNg() error {
	f.bo = binary.LittleEndian
	for {
		typ, body, err := f.block()
		if err != nil {
			if err == io.EOF {
				return f.headerErr("the capture file has no Interface Description Blocks", nil)
			}
			e := err.(*Error)
			return f.headerErr(e.Msg, e.Err)
		}
		switch typ {
		case btIDB:
			if err := f.idb(body); err != nil {
				return f.headerErr(err.Msg, nil)
			}
			return nil
		case btEPB, btSPB, btPB:
			return f.headerErr("the capture file has a packet block before any Interface Description Blocks", nil)
		}
	}
}

// block reads the next block and returns its type and body (the bytes
// between the 8-byte header and the 4-byte trailer; nil for blocks that are
// skipped unread). SHBs are handled here (byte order, interface reset). It
// returns io.EOF at a clean end, or a *Error.
func (f *File) block() (uint32, []byte, error) {
	start := f.off
	h, err := f.br.Peek(12)
	if len(h) < 8 {
		if len(h) == 0 && err == io.EOF {
			f.done = true
			return 0, nil, io.EOF
		}
		f.discard(len(h))
		return 0, nil, f.ioFail(start, fmt.Sprintf("truncated pcapng dump file; tried to read 8 bytes, only got %d", len(h)), err)
	}
	typ := f.bo.Uint32(h)
	if typ == btSHB {
		if len(h) < 12 {
			f.discard(len(h))
			return 0, nil, f.ioFail(start, fmt.Sprintf("truncated pcapng dump file; tried to read 12 bytes, only got %d", len(h)), err)
		}
		switch bom := binary.LittleEndian.Uint32(h[8:]); bom {
		case bomMagic:
			f.bo = binary.LittleEndian
		case bits.ReverseBytes32(bomMagic):
			f.bo = binary.BigEndian
		default:
			f.discard(1)
			return 0, nil, f.resyncNg(start, "the file has a section with a bad byte order magic field")
		}
	}
	tl := f.bo.Uint32(h[4:])
	switch {
	case tl < 12:
		f.discard(1)
		return 0, nil, f.resyncNg(start, fmt.Sprintf("block in pcapng dump file has a length of %d < 12", tl))
	case tl%4 != 0:
		f.discard(1)
		return 0, nil, f.resyncNg(start, fmt.Sprintf("block in pcapng dump file has a length of %d that is not a multiple of 4", tl))
	case tl > f.blockLimit(typ):
		f.discard(1)
		return 0, nil, f.resyncNg(start, fmt.Sprintf("pcapng block size %d > maximum %d", tl, f.blockLimit(typ)))
	}
	n := int(tl)
	var b []byte
	switch {
	case n <= bufSize:
		b, err = f.br.Peek(n)
		if len(b) < n {
			f.discard(len(b))
			return 0, nil, f.ioFail(start, fmt.Sprintf("truncated pcapng dump file; tried to read %d bytes, only got %d", n, len(b)), err)
		}
		if f.bo.Uint32(b[n-4:]) != tl {
			f.discard(1)
			return 0, nil, f.resyncNg(start, "block total length in header and trailer don't match")
		}
		f.discard(n)
	case typ == btSHB || typ == btIDB || typ == btEPB || typ == btPB || typ == btSPB:
		b, err = f.readLarge(n)
		if len(b) < n {
			return 0, nil, f.ioFail(start, fmt.Sprintf("truncated pcapng dump file; tried to read %d bytes, only got %d", n, len(b)), err)
		}
		if f.bo.Uint32(b[n-4:]) != tl {
			return 0, nil, f.resyncNg(start, "block total length in header and trailer don't match")
		}
	default:
		// A big block we do not need: skip it without buffering it.
		k, err := f.skip(int64(n - 4))
		if k < int64(n-4) {
			return 0, nil, f.ioFail(start, fmt.Sprintf("truncated pcapng dump file; tried to read %d bytes, only got %d", n, k), err)
		}
		t, err := f.br.Peek(4)
		if len(t) < 4 {
			f.discard(len(t))
			return 0, nil, f.ioFail(start, fmt.Sprintf("truncated pcapng dump file; tried to read %d bytes, only got %d", n, k+int64(len(t))), err)
		}
		if f.bo.Uint32(t) != tl {
			return 0, nil, f.resyncNg(start, "block total length in header and trailer don't match")
		}
		f.discard(4)
		return typ, nil, nil
	}
	body := b[8 : n-4]
	if typ == btSHB {
		if err := f.shb(start, body); err != nil {
			return 0, nil, err
		}
	}
	return typ, body, nil
}

// shb starts a new section: its interfaces replace the previous ones.
func (f *File) shb(start int64, body []byte) error {
	f.ifaces = f.ifaces[:0]
	if len(body) < 16 {
		return f.fail(false, start, fmt.Sprintf("block of type %d in pcapng dump file is too short", btSHB), nil)
	}
	if maj, min := f.bo.Uint16(body[4:]), f.bo.Uint16(body[6:]); maj != 1 {
		return f.fail(false, start, fmt.Sprintf("unsupported pcapng savefile version %d.%d", maj, min), nil)
	}
	return nil
}

// idbError is an IDB refusal (the interface is not added).
type idbError struct{ Msg string }

// idb adds an interface, or refuses it like libpcap 1.10.
func (f *File) idb(body []byte) *idbError {
	if len(body) < 8 {
		return &idbError{fmt.Sprintf("block of type %d in pcapng dump file is too short", btIDB)}
	}
	lt := uint32(f.bo.Uint16(body))
	rawSnap := f.bo.Uint32(body[4:])
	snap := adjustSnap(lt, rawSnap)
	if !f.sawIDB {
		f.sawIDB = true
		f.linkType, f.snaplen = lt, snap
	} else if !f.mixed {
		if lt != f.linkType {
			return &idbError{fmt.Sprintf("an interface has a type %d different from the type of the first interface", lt)}
		}
		if snap != f.snaplen {
			return &idbError{fmt.Sprintf("an interface has a snapshot length %d different from the snapshot length of the first interface", rawSnap)}
		}
	}
	ifc := iface{linkType: lt, snaplen: snap, res: 1e6, mul: 1000, div: 1}
	opts := body[8:]
	for len(opts) >= 4 {
		code, olen := f.bo.Uint16(opts), int(f.bo.Uint16(opts[2:]))
		if code == 0 {
			break
		}
		padded := (olen + 3) &^ 3
		if 4+padded > len(opts) {
			break // malformed options: keep what we have
		}
		v := opts[4 : 4+olen]
		switch {
		case code == 9 && olen == 1: // if_tsresol
			n := uint(v[0] & 0x7f)
			if v[0]&0x80 != 0 {
				if n > 63 {
					return &idbError{fmt.Sprintf("Interface Description Block if_tsresol option resolution 2^-%d is too high", n)}
				}
				ifc.res, ifc.mul, ifc.div = 1<<n, 0, 0
			} else {
				if n > 19 {
					return &idbError{fmt.Sprintf("Interface Description Block if_tsresol option resolution 10^-%d is too high", n)}
				}
				ifc.res = pow10[n]
				if n <= 9 {
					ifc.mul, ifc.div = pow10[9-n], 1
				} else {
					ifc.mul, ifc.div = 1, pow10[n-9]
				}
			}
		case code == 14 && olen == 8: // if_tsoffset (seconds, signed)
			ifc.offset = f.bo.Uint64(v)
		}
		opts = opts[4+padded:]
	}
	f.ifaces = append(f.ifaces, ifc)
	return nil
}

func (f *File) nextNg(rec *Record) error {
	for {
		start := f.off
		typ, body, err := f.block()
		if err != nil {
			return err
		}
		var ifID, caplen, wirelen uint32
		var ts uint64
		var data []byte
		switch typ {
		case btIDB:
			if e := f.idb(body); e != nil {
				return f.fail(false, start, e.Msg, nil)
			}
			continue
		case btEPB, btPB:
			if len(body) < 20 {
				return f.fail(false, start, fmt.Sprintf("block of type %d in pcapng dump file is too short", typ), nil)
			}
			if typ == btEPB {
				ifID = f.bo.Uint32(body)
			} else {
				ifID = uint32(f.bo.Uint16(body))
			}
			ts = uint64(f.bo.Uint32(body[4:]))<<32 | uint64(f.bo.Uint32(body[8:]))
			caplen, wirelen = f.bo.Uint32(body[12:]), f.bo.Uint32(body[16:])
			data = body[20:]
		case btSPB:
			if len(body) < 4 {
				return f.fail(false, start, fmt.Sprintf("block of type %d in pcapng dump file is too short", typ), nil)
			}
			wirelen = f.bo.Uint32(body)
			caplen = wirelen
			if len(f.ifaces) > 0 && caplen > f.snapOf(0) {
				caplen = f.snapOf(0)
			}
			data = body[4:]
		case btISB:
			f.isb(body)
			continue
		default:
			continue // SHB (handled in block), NRB, custom, ...
		}
		if uint64(ifID) >= uint64(len(f.ifaces)) {
			return f.fail(false, start, fmt.Sprintf("a packet arrived on interface %d, but there's no Interface Description Block for that interface", ifID), nil)
		}
		ifc := &f.ifaces[ifID]
		if snap := f.snapOf(int(ifID)); caplen > snap {
			return f.fail(false, start, fmt.Sprintf("invalid packet capture length %d, bigger than snaplen of %d", caplen, snap), nil)
		}
		if uint64(caplen) > uint64(len(data)) {
			return f.fail(false, start, fmt.Sprintf("block of type %d in pcapng dump file is too short", typ), nil)
		}
		sec, frac := ts/ifc.res, ts%ifc.res
		var nsec uint64
		if ifc.div != 0 {
			nsec = frac * ifc.mul / ifc.div
		} else {
			// Binary resolution: floor(frac * 1e9 / 2^n), exactly, in 128 bits.
			hi, lo := bits.Mul64(frac, 1e9)
			nsec, _ = bits.Div64(hi, lo, ifc.res)
		}
		f.nrec++
		f.recOff = start
		rec.TsSec = sec + ifc.offset
		rec.TsNsec = uint32(nsec)
		rec.CapLen = caplen
		rec.WireLen = wirelen
		rec.LinkType = ifc.linkType
		rec.Data = data[:caplen:caplen]
		return nil
	}
}

// snapOf is the snap length packets of interface i are checked against:
// libpcap uses the first interface's for all of them.
func (f *File) snapOf(i int) uint32 {
	if f.mixed {
		return f.ifaces[i].snaplen
	}
	return f.snaplen
}

// resyncNg scans for the next block with a known type, a sane length and a
// matching trailer. msg describes the problem at offset start.
func (f *File) resyncNg(start int64, msg string) error {
	var skipped int64 = f.off - start
	for skipped < resyncLimit {
		w, err := f.br.Peek(bufSize)
		atEOF := err != nil
		if len(w) < 12 {
			f.discard(len(w))
			f.done = true
			return f.fail(false, start, msg+" (no valid block found after it)", nil)
		}
		found, restart := -1, false
		for i := 0; i+12 <= len(w); i++ {
			bo := f.bo
			typ := bo.Uint32(w[i:])
			if typ == btSHB {
				switch binary.LittleEndian.Uint32(w[i+8:]) {
				case bomMagic:
					bo = binary.LittleEndian
				case bits.ReverseBytes32(bomMagic):
					bo = binary.BigEndian
				default:
					continue
				}
			} else if !knownBlock(typ) {
				continue
			}
			tl := bo.Uint32(w[i+4:])
			if tl < 12 || tl%4 != 0 || tl > f.blockLimit(typ) || tl > bufSize {
				continue
			}
			if end := i + int(tl); end > len(w) {
				if !atEOF && i > 0 {
					found, restart = i, true
					break
				}
				continue
			}
			if bo.Uint32(w[i+int(tl)-4:]) == tl {
				found = i
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
			return f.fail(false, start, fmt.Sprintf("%s (skipped %d bytes to the next valid block)", msg, skipped), nil)
		}
		n := len(w) - 11
		if atEOF {
			n = len(w)
		}
		skipped += int64(n)
		f.discard(n)
	}
	f.done = true
	return f.fail(true, start, fmt.Sprintf("%s (no valid block found within %d bytes)", msg, resyncLimit), nil)
}

// isb keeps the kernel drop counters of an Interface Statistics Block
// (isb_ifdrop, isb_osdrop): cumulative, so the last block of an interface
// holds its totals. A malformed block is ignored, it carries no packets.
func (f *File) isb(body []byte) {
	if len(body) < 12 {
		return
	}
	id := f.bo.Uint32(body)
	if uint64(id) >= uint64(len(f.ifaces)) {
		return
	}
	ifc := &f.ifaces[id]
	for o := body[12:]; len(o) >= 4; {
		code, n := f.bo.Uint16(o), int(f.bo.Uint16(o[2:]))
		if code == 0 || 4+n > len(o) {
			return
		}
		if n == 8 && (code == 5 || code == 7) {
			v := f.bo.Uint64(o[4:])
			if code == 5 {
				ifc.ifDrop = v
			} else {
				ifc.osDrop = v
			}
			ifc.haveDrops = true
		}
		o = o[min(len(o), 4+(n+3)&^3):]
	}
}

// Drops returns the kernel drop counters of the Interface Statistics
// Blocks read so far, summed over interfaces (have is false without any).
func (f *File) Drops() (have bool, ifDrop, osDrop uint64) {
	for _, ifc := range f.ifaces {
		if ifc.haveDrops {
			have = true
			ifDrop += ifc.ifDrop
			osDrop += ifc.osDrop
		}
	}
	return
}
