package decode

import (
	"encoding/binary"
	"testing"

	"flowsift/internal/header"
)

// Structured fuzz targets: unlike FuzzDecode (arbitrary bytes, which rarely
// get past the outer checks), these build valid outer layers around the
// fuzzed part so that the mutator spends its time inside IPv4 options, IPv6
// extension header chains and nested tunnels.

// fzEth is an Ethernet header with ethertype typ.
func fzEth(typ uint16) []byte {
	b := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 0}
	binary.BigEndian.PutUint16(b[12:], typ)
	return b
}

// fzIPv4 is an IPv4 header of ihl 32-bit words (options = opts, padded or
// cut to fit) carrying proto, with total length tot.
func fzIPv4(ihl int, tot int, proto uint8, frag uint16, opts []byte) []byte {
	if ihl < 5 {
		ihl = 5
	}
	b := make([]byte, ihl*4)
	b[0] = 0x40 | byte(ihl&15)
	binary.BigEndian.PutUint16(b[2:], uint16(tot))
	binary.BigEndian.PutUint16(b[4:], 0x1234)
	binary.BigEndian.PutUint16(b[6:], frag)
	b[8] = 64
	b[9] = proto
	copy(b[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	copy(b[20:], opts)
	return b
}

// fzIPv6 is an IPv6 header with next header nh and payload length pl.
func fzIPv6(nh uint8, pl int) []byte {
	b := make([]byte, 40)
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(pl))
	b[6] = nh
	b[7] = 64
	b[23], b[39] = 1, 2
	return b
}

func fzUDP(sp, dp uint16, l int) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint16(b[0:], sp)
	binary.BigEndian.PutUint16(b[2:], dp)
	binary.BigEndian.PutUint16(b[4:], uint16(l))
	return b
}

func fzCat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// fzCheck decodes data as link type link and checks the invariants every
// consumer relies on: offsets and snapped lengths inside the capture and
// nested, the description bounded, views over the offsets safe.
func fzCheck(t *testing.T, d *Decoder, link uint32, data []byte, wire int) *Packet {
	t.Helper()
	if wire < len(data) {
		wire = len(data)
	}
	p := &Packet{Num: 1, CapLen: uint32(len(data)), WireLen: uint32(wire), LinkType: link, Data: data}
	d.Decode(p)
	n := len(data)
	for _, off := range [...]int{p.L3Off, p.L4Off, p.L7Off, p.L2Payload, p.IP6HHOff, p.IP6DOff} {
		if off < 0 || off > n {
			t.Fatalf("offset %d outside [0,%d] (desc %s)", off, n, p.Desc())
		}
	}
	if p.SnapL3Len < 0 || p.SnapL4Len < 0 || p.SnapL7Len < 0 || p.SnapL3Len > n ||
		p.SnapL7Len > p.SnapL4Len || p.SnapL4Len > p.SnapL3Len {
		t.Fatalf("snap lengths %d %d %d, caplen %d (desc %s)", p.SnapL3Len, p.SnapL4Len, p.SnapL7Len, n, p.Desc())
	}
	if len(p.Desc()) > MaxDesc {
		t.Fatalf("description %d bytes", len(p.Desc()))
	}
	if l7 := p.L7(); len(l7) > n {
		t.Fatalf("L7 %d bytes of %d", len(l7), n)
	}
	if p.IP6HHOff > 0 && p.IP6HHLen < 0 || p.IP6DOff > 0 && p.IP6DLen < 0 {
		t.Fatalf("negative IPv6 option lengths %d %d", p.IP6HHLen, p.IP6DLen)
	}
	_ = header.TCP(p.Data[p.L4Off:]).Options()
	_ = header.IPv4(p.Data[p.L3Off:]).Options()
	return p
}

// FuzzIPv4Options: an IPv4 header of any IHL (including < 5 and past the
// capture), any option bytes, any total length and fragment word, then L4.
func FuzzIPv4Options(f *testing.F) {
	f.Add(uint8(5), uint16(40), uint8(6), uint16(0), []byte{}, []byte("\x00\x50\x01\xbb\x00\x00\x00\x01\x00\x00\x00\x00\x50\x02\xff\xff\x00\x00\x00\x00"))
	f.Add(uint8(15), uint16(100), uint8(17), uint16(0x2000), []byte{0x07, 0x27, 0x04}, []byte{0, 53, 0, 53, 0, 20})
	f.Add(uint8(6), uint16(24), uint8(1), uint16(0), []byte{0x94, 0x04, 0, 0}, []byte{8, 0})
	f.Add(uint8(3), uint16(0xffff), uint8(6), uint16(0x1fff), []byte{0x44, 0xff}, []byte{})
	f.Add(uint8(7), uint16(60), uint8(6), uint16(0), []byte{0x83, 0x03, 0x10, 0x01, 0x00, 0x44, 0x00}, []byte{1, 2})
	d := NewDecoder(DefaultConfig())
	f.Fuzz(func(t *testing.T, ihl uint8, tot uint16, proto uint8, frag uint16, opts, l4 []byte) {
		ip := fzIPv4(int(ihl&15), int(tot), proto, frag, opts)
		ip[0] = 0x40 | ihl&15 // may claim fewer words than built, or more than captured
		data := fzCat(fzEth(0x0800), ip, l4)
		fzCheck(t, d, LinkEthernet, data, 0)
		// The same packet snapped inside the options.
		if len(data) > 20 {
			fzCheck(t, d, LinkEthernet, data[:14+len(data[14:])/2], len(data))
		}
	})
}

// FuzzIPv6Ext: an IPv6 header followed by an arbitrary extension header
// chain (hop-by-hop, routing, fragment, destination options, AH, ESP,
// mobility, ... selected by first and the chain's own next-header bytes).
func FuzzIPv6Ext(f *testing.F) {
	tcp := []byte("\x00\x50\x01\xbb\x00\x00\x00\x01\x00\x00\x00\x00\x50\x02\xff\xff\x00\x00\x00\x00")
	f.Add(uint8(0), uint16(28), fzCat([]byte{6, 0, 1, 4, 0, 0, 0, 0}, tcp))                                            // HBH → TCP
	f.Add(uint8(44), uint16(16), []byte{17, 0, 0, 1, 0, 0, 0, 7, 0, 53, 0, 53, 0, 8, 0, 0})                            // fragment → UDP
	f.Add(uint8(44), uint16(16), []byte{17, 0, 0x10, 0, 0, 0, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8})                           // later fragment
	f.Add(uint8(60), uint16(0xffff), []byte{43, 255, 0, 0})                                                            // absurd length
	f.Add(uint8(0), uint16(48), []byte{60, 0, 0, 0, 0, 0, 0, 0, 43, 0, 0, 0, 0, 0, 0, 0, 51, 0, 0, 0, 0, 0, 0, 0, 59}) // chain
	f.Add(uint8(51), uint16(24), []byte{6, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0})                               // AH
	loop := make([]byte, 0, 800)
	for i := 0; i < 100; i++ {
		loop = append(loop, 60, 0, 1, 4, 0, 0, 0, 0) // 100 destination options headers
	}
	f.Add(uint8(60), uint16(len(loop)), loop)
	d := NewDecoder(DefaultConfig())
	f.Fuzz(func(t *testing.T, first uint8, pl uint16, chain []byte) {
		data := fzCat(fzEth(0x86dd), fzIPv6(first, int(pl)), chain)
		fzCheck(t, d, LinkEthernet, data, 0)
		fzCheck(t, d, LinkRaw, data[14:], 0)
		if len(chain) > 2 {
			fzCheck(t, d, LinkEthernet, data[:14+40+len(chain)/2], len(data))
		}
	})
}

// Tunnel layer kinds FuzzTunnels stacks (one byte of layers each).
const (
	tIPIP = iota
	tIP6in4
	tGRE
	tGRETEB
	tVXLAN
	tGENEVE
	tTeredo
	tGTP
	tL2TP
	tAYIYA
	tMPLS
	tVLAN
	tPPPoE
	tEtherIP
	tCAPWAP
	tIP4in6
	tCAPWAPWLAN
	tKinds
)

// fzWrap puts one encapsulation of the given kind around inner, which is
// an IPv4/IPv6 packet (ip=true) or an Ethernet frame; it returns the
// wrapped bytes and whether they are an IP packet.
func fzWrap(kind int, inner []byte, ip bool, v byte) ([]byte, bool) {
	innerIP4 := ip && len(inner) > 0 && inner[0]>>4 == 4
	ipProto, ethType := uint8(4), uint16(0x0800)
	if ip && !innerIP4 {
		ipProto, ethType = 41, 0x86dd
	}
	if !ip {
		ethType = 0x6558
	}
	ip4 := func(proto uint8, pay []byte) []byte {
		return fzCat(fzIPv4(5, 20+len(pay), proto, 0, nil), pay)
	}
	udp4 := func(sp, dp uint16, pay []byte) []byte {
		return ip4(17, fzCat(fzUDP(sp, dp, 8+len(pay)), pay))
	}
	switch kind {
	case tIPIP:
		if !ip {
			return ip4(97, fzCat([]byte{0x30, 0}, inner)), true // EtherIP
		}
		return ip4(ipProto, inner), true
	case tIP6in4, tIP4in6:
		if !ip {
			return fzCat(fzIPv6(97, 2+len(inner)), []byte{0x30, 0}, inner), true
		}
		return fzCat(fzIPv6(ipProto, len(inner)), inner), true
	case tGRE:
		return ip4(47, fzCat([]byte{0, 0, byte(ethType >> 8), byte(ethType)}, inner)), true
	case tGRETEB:
		if ip {
			inner = fzCat(fzEth(ethType), inner)
		}
		return ip4(47, fzCat([]byte{0x20, 0, 0x65, 0x58, 0, 0, 0, v}, inner)), true
	case tVXLAN, tGENEVE:
		if ip {
			inner = fzCat(fzEth(ethType), inner)
		}
		if kind == tVXLAN {
			return udp4(40000, 4789, fzCat([]byte{0x08, 0, 0, 0, 0, 0, v, 0}, inner)), true
		}
		return udp4(40000, 6081, fzCat([]byte{0, 0, 0x65, 0x58, 0, 0, v, 0}, inner)), true
	case tTeredo:
		return udp4(3544, 40000, inner), true
	case tGTP:
		return udp4(2152, 2152, fzCat([]byte{0x30, 0xff, byte(len(inner) >> 8), byte(len(inner)), 0, 0, 0, v}, inner)), true
	case tL2TP:
		// L2TPv2 data message carrying PPP.
		pppProto := []byte{0, 0x21}
		if ip && !innerIP4 {
			pppProto = []byte{0, 0x57}
		}
		return udp4(1701, 1701, fzCat([]byte{0x00, 0x02, 0, v, 0, 1, 0xff, 0x03}, pppProto, inner)), true
	case tAYIYA:
		return udp4(5072, 5072, fzCat([]byte{0x11, 0x52, ipProto, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24}, inner)), true
	case tMPLS:
		if !ip {
			return fzCat(fzEth(0x8847), []byte{0, 0, 0x11, 64}, fzEth(0x0800)[:0], inner), false
		}
		return fzCat(fzEth(0x8847), []byte{0, 0, 0x11, 64}, inner), false
	case tVLAN:
		if ip {
			return fzCat(fzEth(0x8100), []byte{0, v, byte(ethType >> 8), byte(ethType)}, inner), false
		}
		return fzCat(fzEth(0x8100), []byte{0, v}, inner[12:]), false
	case tPPPoE:
		pp := []byte{0, 0x21}
		if ip && !innerIP4 {
			pp = []byte{0, 0x57}
		}
		if !ip {
			return fzCat(fzEth(0x8864), []byte{0x11, 0, 0, v, 0, 2}, []byte{0x00, 0x31}, inner), false
		}
		return fzCat(fzEth(0x8864), []byte{0x11, 0, 0, v, byte((len(inner) + 2) >> 8), byte(len(inner) + 2)}, pp, inner), false
	case tEtherIP:
		if ip {
			inner = fzCat(fzEth(ethType), inner)
		}
		return ip4(97, fzCat([]byte{0x30, 0}, inner)), true
	case tCAPWAP:
		if ip {
			inner = fzCat(fzEth(ethType), inner)
		}
		return udp4(40000, 5247, fzCat([]byte{0x00, 0x10, 0x02, 0x00, 0, 0, 0, 0}, inner)), true
	case tCAPWAPWLAN:
		if !ip { // an Ethernet frame goes as 802.3 (T clear)
			return udp4(40000, 5247, fzCat([]byte{0x00, 0x10, 0x02, 0x00, 0, 0, 0, 0}, inner)), true
		}
		wlan := fzCat([]byte{0x88, 0x01, 0, 0}, make([]byte, 18), []byte{0, 0, v, 0}, []byte{0xaa, 0xaa, 0x03, 0, 0, 0, byte(ethType >> 8), byte(ethType)})
		return udp4(40000, 5247, fzCat([]byte{0x00, 0x10, 0x03, 0x00, 0, 0, 0, 0}, wlan, inner)), true
	}
	return inner, ip
}

// fzTunnel builds the nested packet described by layers (outermost last
// applied) around payload and returns an Ethernet frame.
func fzTunnel(layers []byte, payload []byte) []byte {
	b := fzCat(fzIPv4(5, 20+8+len(payload), 17, 0, nil), fzUDP(1234, 53, 8+len(payload)), payload)
	ip := true
	for i := len(layers) - 1; i >= 0; i-- {
		b, ip = fzWrap(int(layers[i])%tKinds, b, ip, layers[i])
	}
	if ip {
		typ := uint16(0x0800)
		if b[0]>>4 == 6 {
			typ = 0x86dd
		}
		return fzCat(fzEth(typ), b)
	}
	return b
}

// FuzzTunnels: up to 64 nested encapsulations (IP-in-IP, GRE, VXLAN,
// GENEVE, Teredo, GTP, L2TP, AYIYA, MPLS, VLAN, PPPoE, EtherIP, CAPWAP
// with an 802.3 or an 802.11 frame),
// then the fuzzer flips bytes of the assembled frame at chosen places.
func FuzzTunnels(f *testing.F) {
	f.Add([]byte{tIPIP}, []byte("x"), uint16(0), uint8(0))
	f.Add([]byte{tVXLAN, tGRE, tVLAN}, []byte("abc"), uint16(20), uint8(0xff))
	f.Add([]byte{tTeredo}, []byte{}, uint16(0), uint8(0))
	f.Add([]byte{tGTP, tL2TP, tAYIYA, tPPPoE, tMPLS}, []byte("q"), uint16(60), uint8(0x45))
	deep := make([]byte, 50)
	for i := range deep {
		deep[i] = byte(i % tKinds)
	}
	f.Add(deep, []byte("deep"), uint16(0), uint8(0))
	d := NewDecoder(DefaultConfig())
	f.Fuzz(func(t *testing.T, layers, payload []byte, at uint16, x uint8) {
		if len(layers) > 64 || len(payload) > 2048 {
			return
		}
		data := fzTunnel(layers, payload)
		fzCheck(t, d, LinkEthernet, data, 0)
		if int(at) < len(data) {
			data[at] ^= x
			fzCheck(t, d, LinkEthernet, data, 0)
			fzCheck(t, d, LinkEthernet, data[:at], len(data))
		}
	})
}

// FuzzWireless: an 802.11 frame of any frame control, flags and body on
// the 802.11 and radiotap link types and inside a CAPWAP data packet whose
// first header word (HLEN, WBID, T/F/K flags) and fragment word are fuzzed.
func FuzzWireless(f *testing.F) {
	ipTCP := fzCat(fzIPv4(5, 40, 6, 0, nil), []byte("\x00\x50\x01\xbb\x00\x00\x00\x01\x00\x00\x00\x00\x50\x02\xff\xff\x00\x00\x00\x00"))
	snap := fzCat([]byte{0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00}, ipTCP)
	f.Add(uint32(0x00100300), uint16(0), uint8(0x88), uint8(0x01), fzCat(make([]byte, 20), []byte{0, 0}, snap))    // QoS data to DS
	f.Add(uint32(0x00180300|0x10), uint16(0), uint8(0x08), uint8(0x03), fzCat(make([]byte, 26), snap))             // WDS, radio MAC
	f.Add(uint32(0x00100380), uint16(8), uint8(0x88), uint8(0x81), fzCat(make([]byte, 20), []byte{0x80, 0}, snap)) // later fragment, HTC, A-MSDU
	f.Add(uint32(0x01100300), uint16(0), uint8(0x80), uint8(0x00), make([]byte, 30))                               // DTLS preamble, beacon
	f.Add(uint32(0x00000308), uint16(0), uint8(0x48), uint8(0x41), []byte{})                                       // HLEN 0, keep-alive, null data
	d := NewDecoder(DefaultConfig())
	f.Fuzz(func(t *testing.T, capwap uint32, frag uint16, fc, flags uint8, body []byte) {
		if len(body) > 2048 {
			return
		}
		wlan := fzCat([]byte{fc, flags, 0, 0}, body)
		fzCheck(t, d, LinkIEEE80211, wlan, 0)
		fzCheck(t, d, LinkRadiotap, fzCat([]byte{0, 0, 8, 0, 0, 0, 0, 0}, wlan), 0)
		hdr := binary.BigEndian.AppendUint32(nil, capwap)
		hdr = binary.BigEndian.AppendUint16(append(hdr, 0, 1), frag)
		pay := fzCat(hdr, make([]byte, max(0, 4*int(capwap>>19&0x1f)-8)), wlan) // optional fields up to HLEN
		data := fzCat(fzEth(0x0800), fzIPv4(5, 28+len(pay), 17, 0, nil), fzUDP(5247, 5247, 8+len(pay)), pay)
		fzCheck(t, d, LinkEthernet, data, 0)
		fzCheck(t, d, LinkEthernet, data[:len(data)/2], len(data))
	})
}

// TestTunnels50Deep: 50 nested tunnels of each kind decode without panic,
// stop at the dissection bound with bit 43 (stop dissecting) or at the IP
// header bound, and keep the description within MaxDesc.
func TestTunnels50Deep(t *testing.T) {
	d := NewDecoder(DefaultConfig())
	for k := 0; k < tKinds; k++ {
		layers := make([]byte, 50)
		for i := range layers {
			layers[i] = byte(k)
		}
		p := fzCheck(t, d, LinkEthernet, fzTunnel(layers, []byte("payload")), 0)
		if p.NumHdrs == 0 {
			t.Errorf("kind %d: no headers", k)
		}
		// VLAN stacks are a loop, not a recursion: they are walked whole
		// (the description aggregates them as vlan{50}).
		if k != tVLAN && p.Status&(StatStopDissect|StatDescOverrun) == 0 && p.Kind != KindNone && p.Proto == 17 && p.DstPort == 53 {
			t.Errorf("kind %d: 50 layers dissected down to the inner UDP/53 (desc %s)", k, p.Desc())
		}
	}
}
