package decode

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"flowsift/internal/header"
)

// Frame builders for hand-made packets.

var (
	macA = []byte{0x02, 0, 0, 0, 0, 0x0a}
	macB = []byte{0x02, 0, 0, 0, 0, 0x0b}
)

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func be16b(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

func eth(typ uint16) []byte { return cat(macB, macA, be16b(typ)) }

func vlan(tci, typ uint16) []byte { return cat(be16b(tci), be16b(typ)) }

// ipv4 builds a 20-byte IPv4 header (+opts) for a payload of plen bytes.
func ipv4(proto uint8, plen int, fragWord uint16, opts ...byte) []byte {
	hl := 20 + len(opts)
	h := make([]byte, 20)
	h[0] = 0x40 | byte(hl/4)
	h[1] = 0x10
	binary.BigEndian.PutUint16(h[2:], uint16(hl+plen))
	binary.BigEndian.PutUint16(h[4:], 0x1234)
	binary.BigEndian.PutUint16(h[6:], fragWord)
	h[8] = 64
	h[9] = proto
	copy(h[12:], []byte{10, 0, 0, 1})
	copy(h[16:], []byte{10, 0, 0, 2})
	return cat(h, opts)
}

// ipv6 builds a 40-byte IPv6 header for a payload of plen bytes.
func ipv6(nh uint8, plen int) []byte {
	h := make([]byte, 40)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(plen))
	h[6] = nh
	h[7] = 33
	h[8], h[9], h[23] = 0x20, 0x01, 1
	h[24], h[25], h[39] = 0x20, 0x01, 2
	return h
}

func tcp(sp, dp uint16, doff int) []byte {
	h := make([]byte, doff)
	binary.BigEndian.PutUint16(h[0:], sp)
	binary.BigEndian.PutUint16(h[2:], dp)
	h[12] = byte(doff/4) << 4
	h[13] = 0x18
	return h
}

func udp(sp, dp uint16, plen int) []byte {
	h := make([]byte, 8)
	binary.BigEndian.PutUint16(h[0:], sp)
	binary.BigEndian.PutUint16(h[2:], dp)
	binary.BigEndian.PutUint16(h[4:], uint16(8+plen))
	return h
}

func pad(b []byte, n int) []byte {
	for len(b) < n {
		b = append(b, 0)
	}
	return b
}

// decodeFrame decodes data as a full (unsnapped unless wire > len) frame.
func decodeFrame(t testing.TB, link uint32, data []byte, wire int) *Packet {
	t.Helper()
	d := NewDecoder(DefaultConfig())
	return decodeWith(d, link, data, wire)
}

func decodeWith(d *Decoder, link uint32, data []byte, wire int) *Packet {
	if wire == 0 {
		wire = len(data)
	}
	p := &Packet{Num: 1, CapLen: uint32(len(data)), WireLen: uint32(wire), LinkType: link, Data: data}
	d.Decode(p)
	return p
}

// checkInts compares named integer fields.
func checkInts(t *testing.T, got, want map[string]int) {
	t.Helper()
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %d, want %d", k, got[k], w)
		}
	}
}

func lengths(p *Packet) map[string]int {
	return map[string]int{
		"NumHdrs": int(p.NumHdrs), "Kind": int(p.Kind), "EthType": int(p.EthType),
		"L3Off": p.L3Off, "L3HdrLen": p.L3HdrLen, "L3Len": p.L3Len, "SnapL3Len": p.SnapL3Len,
		"L4Off": p.L4Off, "L4HdrLen": p.L4HdrLen, "L4Len": p.L4Len, "SnapL4Len": p.SnapL4Len,
		"L7Off": p.L7Off, "L7Len": p.L7Len, "SnapL7Len": p.SnapL7Len, "PktLen": int(p.PktLen),
		"PadLen": p.PadLen, "SrcPort": int(p.SrcPort), "DstPort": int(p.DstPort),
		"UDPLen": int(p.UDPLen), "Proto": int(p.Proto), "L2HdrLen": p.L2HdrLen,
		"FragOff": int(p.FragOff), "FragWord": int(p.FragWord), "IPID": int(p.IPID),
		"TTL": int(p.TTL), "ToS": int(p.ToS), "VLANID": int(p.VLANID), "NumVLAN": int(p.NumVLAN),
		"NumMPLS": int(p.NumMPLS), "IP6HHOff": p.IP6HHOff, "IP6HHLen": p.IP6HHLen,
		"IP6DOff": p.IP6DOff, "IP6DLen": p.IP6DLen, "L2Payload": p.L2Payload,
	}
}

func checkDesc(t *testing.T, p *Packet, want string) {
	t.Helper()
	if string(p.Desc()) != want {
		t.Errorf("desc = %q, want %q", p.Desc(), want)
	}
}

func checkStatus(t *testing.T, p *Packet, want uint64) {
	t.Helper()
	if p.Status != want {
		t.Errorf("status = %#016x, want %#016x", p.Status, want)
	}
}

func TestEthernetIPv4TCPPadded(t *testing.T) {
	f := pad(cat(eth(0x0800), ipv4(6, 26, 0x4000), tcp(43000, 80, 20), []byte("hello!")), 60)
	p := decodeFrame(t, LinkEthernet, f, 0)
	checkDesc(t, p, "eth:ipv4:tcp")
	checkStatus(t, p, StatIPv4Pkt)
	checkInts(t, lengths(p), map[string]int{
		"NumHdrs": 3, "Kind": int(KindIPv4), "EthType": 0x0800, "L3Off": 14, "L3HdrLen": 20,
		"L3Len": 46, "SnapL3Len": 46, "L4Off": 34, "L4HdrLen": 20, "L4Len": 26, "SnapL4Len": 26,
		"L7Off": 54, "L7Len": 6, "SnapL7Len": 6, "PktLen": 6, "PadLen": 0, "SrcPort": 43000,
		"DstPort": 80, "Proto": 6, "L2HdrLen": 14, "FragWord": 0x4000, "IPID": 0x1234, "TTL": 64, "ToS": 0x10,
	})
	if !p.HasMAC || !bytes.Equal(p.SrcMAC[:], macA) || !bytes.Equal(p.DstMAC[:], macB) {
		t.Errorf("MACs %x %x", p.SrcMAC, p.DstMAC)
	}
	if string(p.L7()) != "hello!" {
		t.Errorf("L7 = %q", p.L7())
	}
	if p.SrcIP != [16]byte{10, 0, 0, 1} || p.DstIP != [16]byte{10, 0, 0, 2} {
		t.Errorf("IPs %v %v", p.SrcIP, p.DstIP)
	}
}

func TestEthernetPaddingCounted(t *testing.T) {
	// 2-byte ICMP payload in a 60-byte frame: 14 + 30 = 44 → 16 bytes pad.
	f := pad(cat(eth(0x0800), ipv4(1, 10, 0), make([]byte, 10)), 60)
	p := decodeFrame(t, LinkEthernet, f, 0)
	checkDesc(t, p, "eth:ipv4:icmp")
	checkInts(t, lengths(p), map[string]int{"L3Len": 30, "SnapL3Len": 30, "SnapL4Len": 10,
		"L4HdrLen": 8, "L7Len": 2, "SnapL7Len": 2, "PadLen": 16})
}

func TestQinQVLANZeroUDP(t *testing.T) {
	f := cat(eth(0x88a8), vlan(0xa064, 0x8100), vlan(0x2000, 0x0800), ipv4(17, 12, 0), udp(5353, 5353, 4), []byte("abcd"))
	p := decodeFrame(t, LinkEthernet, f, 0)
	checkDesc(t, p, "eth:vlan{2}:ipv4:udp")
	checkStatus(t, p, StatVLAN|StatVLANZero|StatIPv4Pkt)
	checkInts(t, lengths(p), map[string]int{"NumHdrs": 5, "VLANID": 0, "NumVLAN": 2, "L3Off": 22,
		"UDPLen": 12, "L7Len": 4, "SrcPort": 5353, "L2HdrLen": 22})
	if p.NumVLANTCI != 2 || p.VLANTCI[0] != 0xa064 || p.VLANTCI[1] != 0x2000 {
		t.Errorf("TCIs %d %x", p.NumVLANTCI, p.VLANTCI)
	}
}

func TestARPPadded(t *testing.T) {
	arp := []byte{0, 1, 8, 0, 6, 4, 0, 1}
	arp = append(arp, make([]byte, 20)...)
	p := decodeFrame(t, LinkEthernet, pad(cat(eth(0x0806), arp), 60), 0)
	checkDesc(t, p, "eth:arp")
	checkStatus(t, p, StatARP)
	checkInts(t, lengths(p), map[string]int{"NumHdrs": 2, "Kind": int(KindL2), "EthType": 0x0806,
		"SnapL3Len": 46, "SnapL4Len": 46, "SnapL7Len": 46, "L3Len": 0, "L7Len": 46, "PktLen": 46,
		"PadLen": 18, "L2Payload": 14})
}

func TestLLCSTPPadding(t *testing.T) {
	// 802.3 length 38: LLC (3) + 35-byte BPDU, frame padded to 60.
	f := pad(cat(macB, macA, be16b(38), []byte{0x42, 0x42, 0x03}, make([]byte, 35)), 60)
	d := NewDecoder(DefaultConfig())
	p := decodeWith(d, LinkEthernet, f, 0)
	checkDesc(t, p, "eth:llc:stp")
	checkInts(t, lengths(p), map[string]int{"Kind": int(KindL2), "EthType": 0x4242,
		"SnapL3Len": 43, "L7Len": 43, "PadLen": 8, "L7Off": 17})
	if d.Stats.LLC != 1 {
		t.Errorf("LLC = %d", d.Stats.LLC)
	}
}

func TestEthernetWithoutPayload(t *testing.T) {
	p := decodeFrame(t, LinkEthernet, eth(0x0800), 0)
	checkStatus(t, p, StatL2Snapped)
	if p.Kind != KindNone || p.Ignored {
		t.Errorf("kind %d ignored %v", p.Kind, p.Ignored)
	}
	p = decodeFrame(t, LinkEthernet, eth(0x0800)[:10], 0)
	if p.Kind != KindNone || !p.Ignored || p.NumHdrs != 0 || p.Status != StatL2Snapped {
		t.Errorf("short frame: kind %d ignored %v hdrs %d status %x", p.Kind, p.Ignored, p.NumHdrs, p.Status)
	}
}

func TestIHLShort(t *testing.T) {
	ip := ipv4(6, 20, 0)
	ip[0] = 0x43
	p := decodeFrame(t, LinkEthernet, cat(eth(0x0800), ip, tcp(1, 2, 20)), 0)
	checkStatus(t, p, StatIHLShort|StatIPv4Pkt)
	if p.Kind != KindNone {
		t.Errorf("kind %d", p.Kind)
	}
}

func TestIPvX(t *testing.T) {
	p := decodeFrame(t, LinkEthernet, cat(eth(0x0800), ipv6(59, 0)), 0)
	checkDesc(t, p, "eth:ipvx")
	checkStatus(t, p, StatIPvX)
	if p.Kind != KindL2 || p.EthType != 0x0800 {
		t.Errorf("kind %d type %x", p.Kind, p.EthType)
	}
}

func TestIPv4LaterFragment(t *testing.T) {
	f := cat(eth(0x0800), ipv4(17, 24, 0x2000|185), make([]byte, 24))
	p := decodeFrame(t, LinkEthernet, f, 0)
	checkDesc(t, p, "eth:ipv4:udp")
	checkStatus(t, p, StatIPv4Pkt|StatStopDissect)
	checkInts(t, lengths(p), map[string]int{"FragOff": 185, "SrcPort": 0, "DstPort": 0,
		"L4HdrLen": 0, "L7Len": 24, "UDPLen": 0, "Proto": 17})
	if !p.MoreFrags || !p.IsLaterFragment() {
		t.Error("fragment flags")
	}
}

func TestIPv6LaterFragment(t *testing.T) {
	frag := []byte{17, 0, 0x05, 0xa9, 0xde, 0xad, 0xbe, 0xef} // offset 181, M set
	d := NewDecoder(DefaultConfig())
	p := decodeWith(d, LinkEthernet, cat(eth(0x86dd), ipv6(44, 8+32), frag, make([]byte, 32)), 0)
	checkDesc(t, p, "eth:ipv6:ipv6.fraghdr")
	checkStatus(t, p, StatIPv6Pkt)
	checkInts(t, lengths(p), map[string]int{"NumHdrs": 3, "Kind": int(KindIPv6), "FragOff": 181,
		"FragWord": 0x05a9, "L3HdrLen": 48, "L4HdrLen": 0, "L7Len": 32, "SrcPort": 0, "Proto": 17,
		"IPID": 0xdeadbeef})
	if !p.HasFragHdr || !p.MoreFrags {
		t.Error("fragment header flags")
	}
	if d.Stats.IPv6Frag != 2 {
		t.Errorf("IPv6Frag = %d, want 2 (walk + later fragment)", d.Stats.IPv6Frag)
	}
}

func TestIPv6HopByHopTCP(t *testing.T) {
	hbh := []byte{6, 0, 5, 2, 0, 0, 1, 0} // router alert + PadN
	f := cat(eth(0x86dd), ipv6(0, 8+32), hbh, tcp(40000, 443, 32))
	p := decodeFrame(t, LinkEthernet, f, 0)
	checkDesc(t, p, "eth:ipv6:ipv6.hopopts:tcp")
	checkInts(t, lengths(p), map[string]int{"L3HdrLen": 48, "L3Len": 80, "L4Off": 62, "L4HdrLen": 32,
		"L7Len": 0, "IP6HHOff": 56, "IP6HHLen": 6, "SrcPort": 40000, "DstPort": 443, "TTL": 33})
}

func TestIPv6ExtensionWalkBound(t *testing.T) {
	// Six hop-by-hop headers: only five are walked.
	var ext []byte
	for i := 0; i < 6; i++ {
		ext = append(ext, 0, 0, 1, 4, 0, 0, 0, 0)
	}
	f := cat(eth(0x86dd), ipv6(0, 48+8), ext, udp(1, 2, 0))
	p := decodeFrame(t, LinkEthernet, f, 0)
	checkDesc(t, p, "eth:ipv6"+strings.Repeat(":ipv6.hopopts", 5))
	checkInts(t, lengths(p), map[string]int{"NumHdrs": 7, "Proto": 0, "L3HdrLen": 80, "L4HdrLen": 0, "L7Len": 16})
}

func TestSnappedIPv4(t *testing.T) {
	f := cat(eth(0x0800), ipv4(6, 1480, 0), tcp(80, 50000, 20), make([]byte, 6))
	d := NewDecoder(DefaultConfig())
	p := decodeWith(d, LinkEthernet, f, 1514)
	checkStatus(t, p, StatIPv4Pkt|StatL3SnapLen)
	checkInts(t, lengths(p), map[string]int{"L3Len": 1500, "SnapL3Len": 46, "SnapL4Len": 26,
		"SnapL7Len": 6, "L7Len": 1460, "PktLen": 1460, "PadLen": 0})
	if got := string(d.Stats.SnapWarning); got != "snapL2Length: 60 - snapL3Length: 46 - IP length in header: 1500" {
		t.Errorf("warning %q", got)
	}
}

func TestTotalLengthZero(t *testing.T) {
	ip := ipv4(6, 20, 0)
	ip[2], ip[3] = 0, 0
	p := decodeFrame(t, LinkEthernet, cat(eth(0x0800), ip, tcp(1, 2, 20)), 0)
	checkStatus(t, p, StatIPv4Pkt|StatPayloadLen)
	checkInts(t, lengths(p), map[string]int{"L3Len": 40, "L7Len": 0})
}

func TestNegativeL7(t *testing.T) {
	// Data offset 10 (40 bytes) in a 24-byte TCP segment: l7 = −16.
	f := cat(eth(0x0800), ipv4(6, 24, 0), tcp(12345, 80, 20), make([]byte, 4))
	f[14+20+12] = 0xa0
	p := decodeFrame(t, LinkEthernet, f, 0)
	checkStatus(t, p, StatIPv4Pkt|StatL4Snapped)
	checkInts(t, lengths(p), map[string]int{"L4HdrLen": 40, "L7Len": -16, "PktLen": 0, "SnapL7Len": 0})
}

func TestGREInnerIPv4(t *testing.T) {
	inner := cat(ipv4(17, 8+3, 0), udp(1000, 2000, 3), []byte("xyz"))
	gre := cat([]byte{0x20, 0, 0x08, 0}, []byte{0, 0, 0, 7}) // key present
	f := cat(eth(0x0800), ipv4(47, len(gre)+len(inner), 0), gre, inner)
	d := NewDecoder(DefaultConfig())
	p := decodeWith(d, LinkEthernet, f, 0)
	checkDesc(t, p, "eth:ipv4:gre:ipv4:udp")
	checkStatus(t, p, StatGRE|StatIPv4Pkt)
	checkInts(t, lengths(p), map[string]int{"L3Off": 42, "L2HdrLen": 42, "L3Len": 31, "Proto": 17,
		"SrcPort": 1000, "L7Len": 3, "UDPLen": 11})
	if d.Stats.GRE != 1 {
		t.Errorf("GRE = %d", d.Stats.GRE)
	}
}

func TestGREInnerARPKeepsOuterFlow(t *testing.T) {
	arp := pad([]byte{0, 1, 8, 0, 6, 4, 0, 1}, 28)
	gre := []byte{0, 0, 0x65, 0x58}
	f := cat(eth(0x0800), ipv4(47, 4+14+28, 0), gre, eth(0x0806), arp)
	p := decodeFrame(t, LinkEthernet, f, 0)
	checkDesc(t, p, "eth:ipv4:gre:eth:arp")
	checkStatus(t, p, StatGRE|StatIPv4Pkt|StatStopDissect)
	checkInts(t, lengths(p), map[string]int{"Kind": int(KindIPv4), "EthType": 0x0800, "Proto": 47,
		"L4HdrLen": 4, "L7Len": 42, "L3Off": 14})
}

func TestNestedGREBounded(t *testing.T) {
	// 50 GRE-in-IPv4 levels: only two IP headers define anything.
	payload := cat(ipv4(1, 8, 0), make([]byte, 8))
	for i := 0; i < 50; i++ {
		payload = cat(ipv4(47, 4+len(payload), 0), []byte{0, 0, 8, 0}, payload)
	}
	p := decodeFrame(t, LinkEthernet, cat(eth(0x0800), payload), 0)
	checkDesc(t, p, "eth:ipv4:gre:ipv4:gre:ipv4")
	checkInts(t, lengths(p), map[string]int{"NumHdrs": 6, "L3Off": 38, "Proto": 47, "L4HdrLen": 4})
}

func TestDescriptionOverrun(t *testing.T) {
	// Ethernet over MPLS pseudowires nested until the depth bound.
	inner := cat(eth(0x0800), ipv4(1, 8, 0), make([]byte, 8))
	for i := 0; i < 30; i++ {
		inner = cat(eth(0x8847), []byte{0, 0, 1, 64}, []byte{0, 0, 0, 0}, inner)
	}
	p := decodeFrame(t, LinkEthernet, inner, 0)
	if p.Status&StatDescOverrun == 0 || len(p.Desc()) != MaxDesc || !strings.HasSuffix(string(p.Desc()), "...") {
		t.Errorf("desc %q (%d) status %x", p.Desc(), len(p.Desc()), p.Status)
	}
	if !strings.HasPrefix(string(p.Desc()), "eth:mpls:pwethcw:eth:mpls:pwethcw:eth:") {
		t.Errorf("desc %q", p.Desc())
	}
}

func TestMPLSStack(t *testing.T) {
	f := cat(eth(0x8847), []byte{0, 0x10, 0, 64, 0, 0x20, 1, 64}, ipv4(1, 8, 0), make([]byte, 8))
	d := NewDecoder(DefaultConfig())
	p := decodeWith(d, LinkEthernet, f, 0)
	checkDesc(t, p, "eth:mpls{2}:ipv4:icmp")
	checkStatus(t, p, StatMPLSUcast|StatIPv4Pkt)
	checkInts(t, lengths(p), map[string]int{"NumHdrs": 5, "NumMPLS": 2, "L3Off": 22})
	if d.Stats.MaxMPLS != 2 {
		t.Errorf("MaxMPLS %d", d.Stats.MaxMPLS)
	}
}

func TestPPPoESession(t *testing.T) {
	f := cat(eth(0x8864), []byte{0x11, 0, 0, 1, 0, 42}, be16b(0x0021), ipv4(6, 20, 0), tcp(1025, 80, 20))
	p := decodeFrame(t, LinkEthernet, f, 0)
	checkDesc(t, p, "eth:pppoes:ppp:ipv4:tcp")
	checkStatus(t, p, StatPPPoES|StatIPv4Pkt)
	checkInts(t, lengths(p), map[string]int{"L3Off": 22, "NumHdrs": 5})
}

func TestRawIPv4LinkType(t *testing.T) {
	p := decodeFrame(t, LinkIPv4, cat(ipv4(6, 20, 0), tcp(12345, 514, 20)), 0)
	checkDesc(t, p, ":ipv4:tcp")
	checkStatus(t, p, StatNoEthernet|StatIPv4Pkt)
	checkInts(t, lengths(p), map[string]int{"NumHdrs": 2, "L3Off": 0, "L3Len": 40})
	p = decodeFrame(t, LinkRaw, cat(ipv6(17, 8), udp(53, 53, 0)), 0)
	checkDesc(t, p, "raw:ipv6:udp")
	checkStatus(t, p, StatNoEthernet|StatIPv6Pkt)
}

func TestLinuxSLL(t *testing.T) {
	sll := []byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 9, 0, 1, 0, 0, 0x08, 0x00}
	p := decodeFrame(t, LinkSLL, cat(sll, ipv4(17, 8, 0), udp(520, 520, 0)), 0)
	checkDesc(t, p, "sll:ipv4:udp")
	checkInts(t, lengths(p), map[string]int{"L3Off": 16, "SrcPort": 520})
	// T2's quirk: the first 12 bytes of the cooked header are the MACs.
	if !p.HasMAC || p.DstMAC != [6]byte{0, 0, 0, 1, 0, 6} || p.SrcMAC != [6]byte{2, 0, 0, 9, 0, 1} {
		t.Errorf("MACs %x %x", p.SrcMAC, p.DstMAC)
	}
}

func TestTeredoAndVXLAN(t *testing.T) {
	in6 := cat(ipv6(59, 0))
	f := cat(eth(0x0800), ipv4(17, 8+len(in6), 0), udp(3544, 40000, len(in6)), in6)
	d := NewDecoder(DefaultConfig())
	p := decodeWith(d, LinkEthernet, f, 0)
	checkDesc(t, p, "eth:ipv4:udp:teredo:ipv6")
	checkStatus(t, p, StatIPv4Pkt|StatIPv6Pkt|StatTeredo|StatPayloadLen)
	checkInts(t, lengths(p), map[string]int{"Kind": int(KindIPv6), "Proto": 59, "L3Len": 40, "L7Len": 0})
	if d.Stats.Teredo != 1 {
		t.Errorf("Teredo %d", d.Stats.Teredo)
	}

	innerEth := cat([]byte{2, 0, 0, 0, 0, 0xee}, []byte{2, 0, 0, 0, 0, 0xff}, be16b(0x0800), ipv4(6, 20, 0), tcp(1, 2, 20))
	vx := []byte{0x08, 0, 0, 0, 0, 0, 1, 0}
	f = cat(eth(0x0800), ipv4(17, 8+8+len(innerEth), 0), udp(50000, 4789, 8+len(innerEth)), vx, innerEth)
	p = decodeFrame(t, LinkEthernet, f, 0)
	checkDesc(t, p, "eth:ipv4:udp:vxlan:eth:ipv4:tcp")
	checkStatus(t, p, StatIPv4Pkt|StatVXLAN)
	// The MACs are those of the Ethernet header carrying the flow's IP.
	if p.SrcMAC != [6]byte{2, 0, 0, 0, 0, 0xff} {
		t.Errorf("src MAC %x", p.SrcMAC)
	}
}

func TestSSDPAndUnknownProto(t *testing.T) {
	p := decodeFrame(t, LinkEthernet, cat(eth(0x0800), ipv4(17, 8, 0), udp(50000, 1900, 0)), 0)
	checkDesc(t, p, "eth:ipv4:udp:ssdp")
	checkStatus(t, p, StatIPv4Pkt|StatSSDP)
	p = decodeFrame(t, LinkEthernet, cat(eth(0x0800), ipv4(253, 8, 0), make([]byte, 8)), 0)
	checkDesc(t, p, "eth:ipv4:UNK(253)")
	checkStatus(t, p, StatIPv4Pkt|StatStopDissect)
	checkInts(t, lengths(p), map[string]int{"L4HdrLen": 8, "L7Len": 0, "Proto": 253})
	p = decodeFrame(t, LinkEthernet, pad(cat(eth(0x1234), []byte{1, 2, 3}), 60), 0)
	checkDesc(t, p, "eth:UNK(0x1234)")
	checkStatus(t, p, StatStopDissect)
	checkInts(t, lengths(p), map[string]int{"Kind": int(KindL2), "EthType": 0x1234, "PadLen": 46})
}

func TestHeaderViewsTruncated(t *testing.T) {
	// Accessors on short slices return zero values instead of panicking.
	// One byte of IPv4: the total length reads 0 (bit 47, l3Len = wire),
	// l3Len < 20 (bit 34), protocol 0 reads as a named protocol with an
	// 8-byte L4 header that does not fit (l7 = 1 − 20 − 8, bit 35).
	p := decodeFrame(t, LinkEthernet, cat(eth(0x0800), []byte{0x45}), 0)
	checkStatus(t, p, StatIPv4Pkt|StatPayloadLen|StatL3Snapped|StatL4Snapped)
	checkInts(t, lengths(p), map[string]int{"Kind": int(KindIPv4), "L3Len": 1, "SnapL3Len": 1, "SnapL4Len": 0, "Proto": 0, "L7Len": -27})
}

func TestViewKeepsStaleBytes(t *testing.T) {
	d := NewDecoder(DefaultConfig())
	long := cat(eth(0x0800), ipv4(17, 13, 0), udp(40000, 443, 5), []byte{22, 0xfe, 0xff, 1, 2})
	p := decodeWith(d, LinkEthernet, long, 0)
	checkDesc(t, p, "eth:ipv4:udp:dtls1.0")
	// An empty UDP probe right after: T2 reads the DTLS bytes the previous
	// frame left past the capture (golden 11_scan_udp).
	short := cat(eth(0x0800), ipv4(17, 8, 0), udp(40000, 43, 0))
	p = decodeWith(d, LinkEthernet, short, 0)
	checkDesc(t, p, "eth:ipv4:udp:dtls1.0")
	if len(p.Data) != 42 || len(p.View) < 47 || !bytes.Equal(p.View[42:47], []byte{22, 0xfe, 0xff, 1, 2}) {
		t.Errorf("view %d bytes: % x", len(p.View), p.View[42:47])
	}
	cfg := DefaultConfig()
	cfg.StaleBytes = false
	d = NewDecoder(cfg)
	decodeWith(d, LinkEthernet, long, 0)
	p = decodeWith(d, LinkEthernet, short, 0)
	checkDesc(t, p, "eth:ipv4:udp")
}

func TestDecodeNoAllocs(t *testing.T) {
	frames := [][]byte{
		pad(cat(eth(0x0800), ipv4(6, 26, 0x4000), tcp(43000, 80, 20), []byte("hello!")), 60),
		cat(eth(0x86dd), ipv6(0, 8+32), []byte{6, 0, 5, 2, 0, 0, 1, 0}, tcp(40000, 443, 32)),
		cat(eth(0x8847), []byte{0, 0x10, 0, 64, 0, 0x20, 1, 64}, ipv4(1, 8, 0), make([]byte, 8)),
		cat(eth(0x0800), ipv4(253, 8, 0), make([]byte, 8)),
	}
	d := NewDecoder(DefaultConfig())
	var p Packet
	allocs := testing.AllocsPerRun(100, func() {
		for _, f := range frames {
			p = Packet{CapLen: uint32(len(f)), WireLen: uint32(len(f)), LinkType: LinkEthernet, Data: f}
			d.Decode(&p)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run", allocs)
	}
}

// TestL4Sums: with Config.L4Sums the decoder sums exactly the L4 bytes
// (not the Ethernet padding behind them), and only when all of them were
// captured and the packet is not a later fragment; without it, or for a
// frame without L4 bytes, nothing.
func TestL4Sums(t *testing.T) {
	seg := cat(tcp(43000, 80, 20), []byte("hello"))
	f := pad(cat(eth(0x0800), ipv4(6, len(seg), 0x4000), seg), 60)
	f[len(f)-1] = 0xee // padding: must not count
	cfg := DefaultConfig()
	cfg.L4Sums = true
	d := NewDecoder(cfg)
	p := decodeWith(d, LinkEthernet, f, 0)
	want := uint64(0)
	for i := 0; i+1 < len(seg); i += 2 {
		want += uint64(seg[i])<<8 | uint64(seg[i+1])
	}
	want += uint64(seg[len(seg)-1]) << 8 // odd length: high byte of a last word
	if !p.L4Summed || header.Fold(p.L4Sum) != header.Fold(want) {
		t.Errorf("L4Sum %#x summed %v, want %#x", header.Fold(p.L4Sum), p.L4Summed, header.Fold(want))
	}
	// Snapped inside the segment: no sum.
	p = decodeWith(d, LinkEthernet, f[:14+20+22], len(f))
	if p.L4Summed || p.L4Sum != 0 {
		t.Errorf("snapped segment summed: %#x", p.L4Sum)
	}
	// A later fragment: no transport header, no sum.
	p = decodeWith(d, LinkEthernet, cat(eth(0x0800), ipv4(6, len(seg), 0x0001), seg), 0)
	if p.FragOff == 0 || p.L4Summed {
		t.Errorf("later fragment (offset %d) summed: %v", p.FragOff, p.L4Summed)
	}
	// Cleared for the next packet, off without the option.
	p = decodeWith(d, LinkEthernet, cat(eth(0x0806), make([]byte, 28)), 0)
	if p.L4Summed {
		t.Error("ARP frame has an L4 sum")
	}
	if p := decodeFrame(t, LinkEthernet, f, 0); p.L4Summed {
		t.Error("summed without Config.L4Sums")
	}
}
