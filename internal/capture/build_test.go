package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// Builders for hand-made capture files.

type pcapB struct {
	bo     order
	b      []byte
	hdrLen int
}

func newPcap(bo order, magic uint32, vmaj, vmin uint16, snap, lt uint32) *pcapB {
	p := &pcapB{bo: bo, hdrLen: 16}
	if magic == magicKuz {
		p.hdrLen = 24
	}
	p.b = bo.AppendUint32(p.b, magic)
	p.b = bo.AppendUint16(p.b, vmaj)
	p.b = bo.AppendUint16(p.b, vmin)
	p.b = bo.AppendUint32(p.b, 0) // thiszone
	p.b = bo.AppendUint32(p.b, 0) // sigfigs
	p.b = bo.AppendUint32(p.b, snap)
	p.b = bo.AppendUint32(p.b, lt)
	return p
}

// rec appends a record header with the given fields followed by data.
func (p *pcapB) rec(sec, frac, caplen, wire uint32, data []byte) *pcapB {
	p.b = p.bo.AppendUint32(p.b, sec)
	p.b = p.bo.AppendUint32(p.b, frac)
	p.b = p.bo.AppendUint32(p.b, caplen)
	p.b = p.bo.AppendUint32(p.b, wire)
	if p.hdrLen == 24 {
		p.b = append(p.b, 1, 0, 0, 0, 8, 0, 0, 0) // ifindex, protocol, pkt_type, pad
	}
	p.b = append(p.b, data...)
	return p
}

type ngB struct {
	bo order
	b  []byte
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func (n *ngB) block(typ uint32, body []byte) *ngB {
	body = pad4(append([]byte(nil), body...))
	tl := uint32(12 + len(body))
	n.b = n.bo.AppendUint32(n.b, typ)
	n.b = n.bo.AppendUint32(n.b, tl)
	n.b = append(n.b, body...)
	n.b = n.bo.AppendUint32(n.b, tl)
	return n
}

func (n *ngB) shb(bo order) *ngB {
	n.bo = bo
	var body []byte
	body = bo.AppendUint32(body, bomMagic)
	body = bo.AppendUint16(body, 1)
	body = bo.AppendUint16(body, 0)
	body = bo.AppendUint64(body, ^uint64(0))
	return n.block(btSHB, body)
}

func (n *ngB) opt(code uint16, val []byte) []byte {
	var o []byte
	o = n.bo.AppendUint16(o, code)
	o = n.bo.AppendUint16(o, uint16(len(val)))
	return pad4(append(o, val...))
}

func (n *ngB) idb(lt uint16, snap uint32, opts ...[]byte) *ngB {
	var body []byte
	body = n.bo.AppendUint16(body, lt)
	body = n.bo.AppendUint16(body, 0)
	body = n.bo.AppendUint32(body, snap)
	for _, o := range opts {
		body = append(body, o...)
	}
	if len(opts) > 0 {
		body = append(body, 0, 0, 0, 0)
	}
	return n.block(btIDB, body)
}

func (n *ngB) epb(ifID uint32, ts uint64, caplen, wire uint32, data []byte) *ngB {
	var body []byte
	body = n.bo.AppendUint32(body, ifID)
	body = n.bo.AppendUint32(body, uint32(ts>>32))
	body = n.bo.AppendUint32(body, uint32(ts))
	body = n.bo.AppendUint32(body, caplen)
	body = n.bo.AppendUint32(body, wire)
	return n.block(btEPB, append(body, data...))
}

func (n *ngB) pb(ifID uint16, ts uint64, caplen, wire uint32, data []byte) *ngB {
	var body []byte
	body = n.bo.AppendUint16(body, ifID)
	body = n.bo.AppendUint16(body, 0) // drops
	body = n.bo.AppendUint32(body, uint32(ts>>32))
	body = n.bo.AppendUint32(body, uint32(ts))
	body = n.bo.AppendUint32(body, caplen)
	body = n.bo.AppendUint32(body, wire)
	return n.block(btPB, append(body, data...))
}

func (n *ngB) spb(wire uint32, data []byte) *ngB {
	body := n.bo.AppendUint32(nil, wire)
	return n.block(btSPB, append(body, data...))
}

// got is a record copied out of the reader.
type got struct {
	sec      uint64
	nsec     uint32
	caplen   uint32
	wire     uint32
	linkType uint32
	data     string
}

// readAll reads every record, collecting non-fatal errors; it fails the
// test on a fatal error if !allowFatal, and on a runaway loop.
func readAll(t testing.TB, f *File) (recs []got, errs []*Error) {
	t.Helper()
	var r Record
	for i := 0; ; i++ {
		if i > 1<<22 {
			t.Fatalf("Next did not reach EOF")
		}
		err := f.Next(&r)
		if err == io.EOF {
			return
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Next returned %T %v, want *Error", err, err)
			}
			errs = append(errs, e)
			continue
		}
		if int(r.CapLen) != len(r.Data) {
			t.Fatalf("record %d: CapLen %d but len(Data) %d", len(recs)+1, r.CapLen, len(r.Data))
		}
		recs = append(recs, got{r.TsSec, r.TsNsec, r.CapLen, r.WireLen, r.LinkType, string(r.Data)})
	}
}

func openBytes(t testing.TB, b []byte) *File {
	t.Helper()
	f, err := NewReader("test", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	return f
}

func errMsgs(errs []*Error) []string {
	var s []string
	for _, e := range errs {
		s = append(s, e.Msg)
	}
	return s
}

// order is what binary.LittleEndian and binary.BigEndian both implement.
type order interface {
	binary.ByteOrder
	binary.AppendByteOrder
}
