//go:build linux

package live

import (
	"bytes"
	"encoding/binary"
	"io"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"

	"flowsift/internal/capture"
)

// entry is one frame as the kernel lays it out in a TPACKET_V3 block.
type entry struct {
	sec, nsec uint32
	status    uint32
	vlanTCI   uint32
	vlanTPID  uint16
	pkttype   uint8
	hatype    uint16
	protocol  uint16
	addr      []byte
	data      []byte // from the MAC header (SOCK_RAW) or network header (SOCK_DGRAM)
	wireExtra uint32 // tp_len - len(data)
}

// fakeRing builds a ring of one block holding entries, handed to user
// space, and a handle reading it (no socket: fd -1).
func fakeRing(t *testing.T, cooked bool, entries []entry) *Handle {
	t.Helper()
	const bs = 1 << 16
	ring := make([]byte, 2*bs)
	ne := binary.NativeEndian
	off := 48 // after the block descriptor
	first := off
	for i, e := range entries {
		p := ring[off:]
		dataOff := hdrLen + 32 // tpacket3_hdr, sockaddr_ll, padding
		next := 0
		if i < len(entries)-1 {
			next = (dataOff + len(e.data) + 15) &^ 15
		}
		ne.PutUint32(p[0:], uint32(next))
		ne.PutUint32(p[4:], e.sec)
		ne.PutUint32(p[8:], e.nsec)
		ne.PutUint32(p[12:], uint32(len(e.data)))
		ne.PutUint32(p[16:], uint32(len(e.data))+e.wireExtra)
		ne.PutUint32(p[20:], e.status|tpStatusUser)
		ne.PutUint16(p[24:], uint16(dataOff))
		ne.PutUint16(p[26:], uint16(dataOff))
		ne.PutUint32(p[32:], e.vlanTCI)
		ne.PutUint16(p[36:], e.vlanTPID)
		sll := p[hdrLen:]
		binary.BigEndian.PutUint16(sll[2:], e.protocol)
		ne.PutUint16(sll[8:], e.hatype)
		sll[10] = e.pkttype
		sll[11] = uint8(len(e.addr))
		copy(sll[12:20], e.addr)
		copy(p[dataOff:], e.data)
		off += next
	}
	ne.PutUint32(ring[8:], tpStatusUser) // block status
	ne.PutUint32(ring[12:], uint32(len(entries)))
	ne.PutUint32(ring[16:], uint32(first))
	h := &Handle{name: "fake", fd: -1, ring: ring, nBlocks: 2, blockSize: bs, snaplen: DefaultSnaplen,
		linkType: linkEthernet, drainLeft: -1, closed: true}
	if cooked {
		h.cooked, h.linkType = true, linkSLL
	}
	var stop atomic.Bool
	stop.Store(true) // read what is in the ring, then end (no poll on fd -1)
	h.SetStop(&stop)
	return h
}

func readRing(t *testing.T, h *Handle) []capture.Record {
	var out []capture.Record
	for {
		var rec capture.Record
		err := h.Next(&rec)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		rec.Data = append([]byte(nil), rec.Data...)
		out = append(out, rec)
	}
}

func TestRingFrames(t *testing.T) {
	eth := append(bytes.Repeat([]byte{0xaa}, 6), bytes.Repeat([]byte{0xbb}, 6)...)
	ipv4 := append(append([]byte(nil), eth...), 0x08, 0x00, 0x45, 0, 0, 20)
	h := fakeRing(t, false, []entry{
		{sec: 10, nsec: 5, data: ipv4, hatype: arphrdEther},
		// VLAN offload: the kernel took tag 100 (priority 3) off.
		{sec: 11, nsec: 6, data: ipv4, status: tpStatusVLANValid, vlanTCI: 3<<13 | 100, hatype: arphrdEther, wireExtra: 40},
		// An 802.1ad outer tag with its TPID.
		{sec: 12, data: ipv4, status: tpStatusVLANValid | tpStatusVLANTPIDValid, vlanTCI: 7, vlanTPID: 0x88a8, hatype: arphrdEther},
		// A frame leaving through a loopback interface: seen again on the way in.
		{sec: 13, data: ipv4, pkttype: unix.PACKET_OUTGOING, hatype: arphrdLoopback},
		{sec: 14, data: ipv4, pkttype: unix.PACKET_HOST, hatype: arphrdLoopback},
	})
	recs := readRing(t, h)
	if len(recs) != 4 {
		t.Fatalf("%d records, want 4 (the outgoing loopback copy skipped)", len(recs))
	}
	if r := recs[0]; r.TsSec != 10 || r.TsNsec != 5 || !bytes.Equal(r.Data, ipv4) || r.CapLen != 18 || r.WireLen != 18 || r.LinkType != 1 {
		t.Errorf("plain frame: %+v", r)
	}
	tagged := append(append(append([]byte(nil), eth...), 0x81, 0x00, 0x60, 100), ipv4[12:]...)
	if r := recs[1]; !bytes.Equal(r.Data, tagged) || r.CapLen != 22 || r.WireLen != 18+40+4 {
		t.Errorf("VLAN tag not put back: % x (caplen %d, wire %d)", r.Data, r.CapLen, r.WireLen)
	}
	if r := recs[2]; !bytes.Equal(r.Data[12:16], []byte{0x88, 0xa8, 0, 7}) {
		t.Errorf("802.1ad tag: % x", r.Data[:16])
	}
	if recs[3].TsSec != 14 {
		t.Errorf("loopback: got the frame of second %d", recs[3].TsSec)
	}
	if n, _ := h.LastRecord(); n != 4 {
		t.Errorf("LastRecord %d", n)
	}
}

func TestRingCookedAndSnaplen(t *testing.T) {
	ip := []byte{0x45, 0, 0, 28, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	h := fakeRing(t, true, []entry{{sec: 1, data: ip, pkttype: unix.PACKET_OUTGOING, hatype: arphrdEther,
		protocol: 0x0800, addr: []byte{1, 2, 3, 4, 5, 6}, wireExtra: 8}})
	h.snaplen = 30
	recs := readRing(t, h)
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	want := append([]byte{0, 4, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00}, ip[:14]...)
	if r := recs[0]; !bytes.Equal(r.Data, want) || r.CapLen != 30 || r.WireLen != 16+20+8 || r.LinkType != linkSLL {
		t.Errorf("cooked frame: % x caplen %d wire %d link %d\nwant % x", r.Data, r.CapLen, r.WireLen, r.LinkType, want)
	}
}

func TestRingAllocs(t *testing.T) {
	eth := make([]byte, 60)
	entries := make([]entry, 100)
	for i := range entries {
		entries[i] = entry{sec: uint32(i), data: eth, hatype: arphrdEther, status: tpStatusVLANValid, vlanTCI: 5}
	}
	h := fakeRing(t, false, entries)
	var rec capture.Record
	h.Next(&rec) // the VLAN buffer grows once
	if n := testing.AllocsPerRun(50, func() {
		h.inBlock, h.left, h.off = true, 1, 48
		h.Next(&rec)
	}); n != 0 {
		t.Errorf("%v allocations per frame", n)
	}
}

func TestOpenNoSuchInterface(t *testing.T) {
	_, err := Open(Options{Interface: "nosuch0"})
	if _, ok := err.(*NoInterfaceError); !ok || err.Error() != "nosuch0: no such network interface" {
		t.Fatalf("got %v", err)
	}
}
