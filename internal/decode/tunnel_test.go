package decode

import (
	"encoding/binary"
	"testing"
)

// innerTCP is an IPv4/TCP packet used inside tunnels (payload "ab").
func innerTCP() []byte { return cat(ipv4(6, 22, 0), tcp(1111, 80, 20), []byte("ab")) }

func udpTunnel(sp, dp uint16, payload []byte) []byte {
	return cat(eth(0x0800), ipv4(17, 8+len(payload), 0), udp(sp, dp, len(payload)), payload)
}

func TestUDPTunnels(t *testing.T) {
	in := innerTCP()
	inner6 := cat(ipv6(58, 8), make([]byte, 8))
	innerEth := cat(macA, macB, be16b(0x0800), in)
	gtp := cat([]byte{0x30, 0xff}, be16b(uint16(len(in))), []byte{0, 0, 0, 1}, in)
	ayiya := cat([]byte{0x41, 0x52, 0x11, 41}, make([]byte, 4), make([]byte, 16), make([]byte, 20), inner6)
	l2tp := cat([]byte{0x00, 0x02, 0, 1, 0, 1, 0xff, 0x03}, be16b(0x0021), in)
	geneve := cat([]byte{0, 0, 0x65, 0x58, 0, 0, 1, 0}, innerEth)
	capwap := cat([]byte{0, 0x10, 0x02, 0x00, 0, 0, 0, 0}, innerEth) // HLEN 2, WBID 1, T clear: 802.3
	for _, tc := range []struct {
		name     string
		sp, dp   uint16
		payload  []byte
		desc     string
		status   uint64
		kind     uint8
		srcPort  int
		l3Len    int
		lastName string
	}{
		{"gtp", 40000, 2152, gtp, "eth:ipv4:udp:gtp:ipv4:tcp", StatIPv4Pkt | StatGTP, KindIPv4, 1111, 42, ""},
		{"ayiya", 5072, 5072, ayiya, "eth:ipv4:udp:ayiya:ipv6:icmpv6", StatIPv4Pkt | StatIPv6Pkt | StatAYIYA, KindIPv6, 0, 48, ""},
		{"l2tp", 1701, 1701, l2tp, "eth:ipv4:udp:l2tp:ppp:ipv4:tcp", StatIPv4Pkt | StatL2TP | StatPPP, KindIPv4, 1111, 42, ""},
		{"geneve", 40000, 6081, geneve, "eth:ipv4:udp:geneve:eth:ipv4:tcp", StatIPv4Pkt | StatGENEVE, KindIPv4, 1111, 42, ""},
		{"capwap", 40000, 5247, capwap, "eth:ipv4:udp:capwap.data:eth:ipv4:tcp", StatIPv4Pkt | StatCAPWAP, KindIPv4, 1111, 42, ""},
		{"vxlan-flags", 40000, 4789, cat([]byte{0xff, 0, 0, 0, 0, 0, 1, 0}, innerEth), "eth:ipv4:udp", StatIPv4Pkt, KindIPv4, 40000, 28 + 8 + len(innerEth), ""},
		{"udpencap-esp", 4500, 4500, []byte{0, 0, 1, 0, 0, 0, 0, 1}, "eth:ipv4:udp:udpencap:esp", StatIPv4Pkt | StatESP, KindIPv4, 4500, 36, ""},
		{"udpencap-isakmp", 4500, 4500, []byte{0, 0, 0, 0, 1, 2, 3, 4}, "eth:ipv4:udp:udpencap:isakmp", StatIPv4Pkt, KindIPv4, 4500, 36, ""},
		{"dtls1.2", 40000, 443, cat([]byte{22, 0xfe, 0xfd}, make([]byte, 10)), "eth:ipv4:udp:dtls1.2", StatIPv4Pkt | StatDTLS, KindIPv4, 40000, 41, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := decodeFrame(t, LinkEthernet, udpTunnel(tc.sp, tc.dp, tc.payload), 0)
			checkDesc(t, p, tc.desc)
			checkStatus(t, p, tc.status)
			checkInts(t, lengths(p), map[string]int{"Kind": int(tc.kind), "SrcPort": tc.srcPort, "L3Len": tc.l3Len})
		})
	}
}

func TestIPTunnels(t *testing.T) {
	in := innerTCP()
	// IPv6 in IPv4 (6in4).
	in6 := cat(ipv6(6, 20), tcp(2222, 443, 20))
	p := decodeFrame(t, LinkEthernet, cat(eth(0x0800), ipv4(41, len(in6), 0), in6), 0)
	checkDesc(t, p, "eth:ipv4:ipv6:tcp")
	checkStatus(t, p, StatIPv4Pkt|StatIPv6Pkt|StatIPinIP)
	checkInts(t, lengths(p), map[string]int{"Kind": int(KindIPv6), "L3Off": 34, "EthType": 0x86dd, "SrcPort": 2222})

	// IPv4 in IPv6 (4in6).
	p = decodeFrame(t, LinkEthernet, cat(eth(0x86dd), ipv6(4, len(in)), in), 0)
	checkDesc(t, p, "eth:ipv6:ipv4:tcp")
	checkStatus(t, p, StatIPv4Pkt|StatIPv6Pkt|StatIPinIP)
	checkInts(t, lengths(p), map[string]int{"Kind": int(KindIPv4), "L3Off": 54})

	// EtherIP.
	ethip := cat([]byte{0x30, 0}, macA, macB, be16b(0x0800), in)
	p = decodeFrame(t, LinkEthernet, cat(eth(0x0800), ipv4(97, len(ethip), 0), ethip), 0)
	checkDesc(t, p, "eth:ipv4:etherip:eth:ipv4:tcp")
	checkStatus(t, p, StatIPv4Pkt|StatEtherIP)
	checkInts(t, lengths(p), map[string]int{"L3Off": 50, "SrcPort": 1111})

	// GRE/PPP (PPTP) and compressed PPP.
	pptp := cat([]byte{0x30, 0x01, 0x88, 0x0b, 0, 0, 0, 0, 0, 0, 0, 1}, []byte{0xff, 0x03, 0, 0x21}, in)
	p = decodeFrame(t, LinkEthernet, cat(eth(0x0800), ipv4(47, len(pptp), 0), pptp), 0)
	checkDesc(t, p, "eth:ipv4:gre:ppp:ipv4:tcp")
	checkStatus(t, p, StatIPv4Pkt|StatGRE|StatPPP)
	comp := cat([]byte{0x30, 0x01, 0x88, 0x0b, 0, 0, 0, 0, 0, 0, 0, 1}, []byte{0xfd, 1, 2, 3})
	p = decodeFrame(t, LinkEthernet, cat(eth(0x0800), ipv4(47, len(comp), 0), comp), 0)
	checkDesc(t, p, "eth:ipv4:gre:ppp:comp_data")
	checkStatus(t, p, StatIPv4Pkt|StatGRE|StatPPP|StatPPPCompressed)
	checkInts(t, lengths(p), map[string]int{"Kind": int(KindIPv4), "Proto": 47, "L4HdrLen": 12})

	// GRE/ERSPAN type II and WCCP.
	erspan := cat([]byte{0x10, 0, 0x88, 0xbe, 0, 0, 0, 1}, make([]byte, 8), macA, macB, be16b(0x0800), in)
	p = decodeFrame(t, LinkEthernet, cat(eth(0x0800), ipv4(47, len(erspan), 0), erspan), 0)
	checkDesc(t, p, "eth:ipv4:gre:erspan:eth:ipv4:tcp")
	checkStatus(t, p, StatIPv4Pkt|StatGRE|StatERSPAN)
	wccp := cat([]byte{0, 0, 0x88, 0x3e}, []byte{0, 0, 0, 0}, in)
	p = decodeFrame(t, LinkEthernet, cat(eth(0x0800), ipv4(47, len(wccp), 0), wccp), 0)
	checkDesc(t, p, "eth:ipv4:gre:wccp:ipv4:tcp")
	checkStatus(t, p, StatIPv4Pkt|StatGRE|StatWCCP)

	// IPv4 AH then TCP; ESP.
	ah := cat([]byte{6, 4, 0, 0}, make([]byte, 20))
	p = decodeFrame(t, LinkEthernet, cat(eth(0x0800), ipv4(51, len(ah)+20, 0), ah, tcp(1, 2, 20)), 0)
	checkDesc(t, p, "eth:ipv4:ah:tcp")
	checkStatus(t, p, StatIPv4Pkt|StatAH)
	checkInts(t, lengths(p), map[string]int{"L4HdrLen": 24, "L7Len": 20})
	p = decodeFrame(t, LinkEthernet, cat(eth(0x0800), ipv4(50, 16, 0), make([]byte, 16)), 0)
	checkDesc(t, p, "eth:ipv4:esp")
	checkStatus(t, p, StatIPv4Pkt|StatESP)
}

func TestL2Types(t *testing.T) {
	for _, tc := range []struct {
		typ    uint16
		body   []byte
		desc   string
		status uint64
	}{
		{0x8035, pad([]byte{0, 1, 8, 0, 6, 4, 0, 3}, 28), "eth:rarp", StatRARP},
		{0x88cc, make([]byte, 30), "eth:lldp", StatLLDP},
		{0x8863, make([]byte, 30), "eth:pppoed", StatPPPoED},
		{0x8809, cat([]byte{1}, make([]byte, 40)), "eth:slow:lacp", 0},
		{0x88f7, make([]byte, 44), "eth:ptp", 0},
		{0x9000, make([]byte, 46), "eth:loop", 0},
	} {
		p := decodeFrame(t, LinkEthernet, cat(eth(tc.typ), tc.body), 0)
		checkDesc(t, p, tc.desc)
		checkStatus(t, p, tc.status)
		if p.Kind != KindL2 || p.EthType != tc.typ {
			t.Errorf("%s: kind %d type %#x", tc.desc, p.Kind, p.EthType)
		}
	}
	// SNAP/CDP inside a VLAN keeps the SNAP protocol id as type.
	snap := cat([]byte{0xaa, 0xaa, 0x03, 0, 0, 0x0c}, be16b(0x2000), make([]byte, 40))
	p := decodeFrame(t, LinkEthernet, cat(eth(0x8100), vlan(100, uint16(len(snap))), snap), 0)
	checkDesc(t, p, "eth:vlan:llc:cdp")
	checkInts(t, lengths(p), map[string]int{"EthType": 0x2000, "SnapL3Len": 40, "L7Len": 40, "L7Off": 26})
	// PPPoE with a non-IP (compressed 0x21) protocol: L2 flow of type 0x8864.
	f := cat(eth(0x8864), []byte{0x11, 0, 0, 1, 0, 23}, []byte{0x21}, ipv4(6, 2, 0))
	p = decodeFrame(t, LinkEthernet, f, 0)
	checkDesc(t, p, "eth:pppoes:ppp:UNK(0x4521)")
	checkStatus(t, p, StatPPPoES|StatStopDissect)
	checkInts(t, lengths(p), map[string]int{"Kind": int(KindL2), "EthType": 0x8864, "L7Len": len(f) - 14})
	// Ethernet over MPLS with control word: small types are not LLC.
	eo := cat(eth(0x8847), []byte{0, 0, 1, 64}, []byte{0, 0, 0, 0}, macA, macB, be16b(0x0026), make([]byte, 38))
	p = decodeFrame(t, LinkEthernet, eo, 0)
	checkDesc(t, p, "eth:mpls:pwethcw:eth:UNK(0x0026)")
	checkInts(t, lengths(p), map[string]int{"Kind": int(KindL2), "EthType": 0x0026, "SnapL3Len": len(eo) - 14, "L7Len": 38, "L7Off": 36})
}

func TestLinkTypes(t *testing.T) {
	in := innerTCP()
	le32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	for _, tc := range []struct {
		name   string
		link   uint32
		frame  []byte
		desc   string
		status uint64
		l3Off  int
	}{
		{"null", LinkNull, cat(le32(2), in), "null:ipv4:tcp", StatNoEthernet | StatIPv4Pkt, 4},
		{"loop", LinkLoop, cat([]byte{0, 0, 0, 24}, ipv6(59, 0)), "null:ipv6", StatNoEthernet | StatIPv6Pkt | StatPayloadLen, 4},
		{"ppp", LinkPPP, cat([]byte{0xff, 0x03, 0, 0x21}, in), "ppp:ipv4:tcp", StatNoEthernet | StatPPP | StatIPv4Pkt, 4},
		{"ppp-dir", LinkPPPDir, cat([]byte{1, 0xff, 0x03, 0, 0x21}, in), "ppp:ipv4:tcp", StatNoEthernet | StatPPP | StatIPv4Pkt, 5},
		{"chdlc", LinkCHDLC, cat([]byte{0x0f, 0, 0x08, 0}, in), "chdlc:ipv4:tcp", StatNoEthernet | StatIPv4Pkt, 4},
		{"fr", LinkFrameRelay, cat([]byte{0x18, 0x41, 0x03, 0xcc}, in), "fr:ipv4:tcp", StatNoEthernet | StatIPv4Pkt, 4},
		{"ipv6", LinkIPv6, cat(ipv6(17, 8), udp(1, 2, 0)), ":ipv6:udp", StatNoEthernet | StatIPv6Pkt, 0},
		{"sll2", LinkSLL2, cat(be16b(0x0800), []byte{0, 0, 0, 0, 0, 1, 0, 1, 0, 6}, macA, []byte{0, 0}, in), "sll2:ipv4:tcp", StatIPv4Pkt, 20},
		{"nflog", LinkNFLOG, cat([]byte{2, 0, 0, 0}, []byte{8, 0, 1, 0, 0, 0, 0, 0}, le16(uint16(4+len(in))), []byte{9, 0}, in), "nflog:ipv4:tcp", StatNoEthernet | StatIPv4Pkt, 16},
		{"pktap", LinkPKTAP, cat(le32(12), le32(1), le32(0), eth(0x0800), in), "pktap:eth:ipv4:tcp", StatIPv4Pkt, 26},
		{"ipoib", LinkIPoIB, cat(be16b(0x0800), []byte{0, 0}, in), "ipoib:ipv4:tcp", StatNoEthernet | StatIPv4Pkt, 4},
		{"fddi", LinkFDDI, cat([]byte{0x50}, macB, macA, []byte{0xaa, 0xaa, 3, 0, 0, 0}, be16b(0x0800), in), "fddi:llc:ipv4:tcp", StatIPv4Pkt, 21},
		{"ppi", LinkPPI, cat([]byte{0, 0, 8, 0}, le32(1), eth(0x0800), in), "ppi:eth:ipv4:tcp", StatIPv4Pkt, 22},
		{"radiotap", LinkRadiotap, cat([]byte{0, 0, 8, 0, 0, 0, 0, 0}, []byte{0x08, 0x01, 0, 0}, macB, macA, macB, []byte{0, 0}, []byte{0xaa, 0xaa, 3, 0, 0, 0}, be16b(0x0800), in), "radiotap:wlan:llc:ipv4:tcp", StatIPv4Pkt, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := decodeFrame(t, tc.link, tc.frame, 0)
			checkDesc(t, p, tc.desc)
			checkStatus(t, p, tc.status)
			checkInts(t, lengths(p), map[string]int{"L3Off": tc.l3Off})
		})
	}
}

func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }

func TestIGMPPIMISL(t *testing.T) {
	p := decodeFrame(t, LinkEthernet, pad(cat(eth(0x0800), ipv4(2, 8, 0), []byte{0x13, 0, 0, 0, 0, 0, 0, 0}), 60), 0)
	checkDesc(t, p, "eth:ipv4:igmp:dvmrp")
	checkInts(t, lengths(p), map[string]int{"L7Len": 0, "PadLen": 18})

	in := innerTCP()
	reg := cat([]byte{0x21, 0, 0, 0, 0, 0, 0, 0}, in)
	p = decodeFrame(t, LinkEthernet, cat(eth(0x0800), ipv4(103, len(reg), 0), reg), 0)
	checkDesc(t, p, "eth:ipv4:pim:ipv4:tcp")
	checkInts(t, lengths(p), map[string]int{"L3Off": 42, "SrcPort": 1111})

	isl := cat([]byte{0x01, 0, 0x0c, 0, 0}, make([]byte, 21))
	p = decodeFrame(t, LinkEthernet, cat(isl, eth(0x0800), in), 0)
	checkDesc(t, p, "isl:eth:ipv4:tcp")
	checkInts(t, lengths(p), map[string]int{"L3Off": 40})
	if p.SrcMAC != [6]byte(macA) {
		t.Errorf("MAC %x", p.SrcMAC)
	}
}
