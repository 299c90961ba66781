package pcapgen

import (
	"fmt"
	"io"
)

// DissectCase is one hand-built frame exercising one dissector path that
// the shared corpus does not reach. The decode tests check flowsift's
// dissection of it against the expected header description and against
// tshark's recorded dissection of the same bytes (tools/tshark-dissect.sh).
type DissectCase struct {
	Name string
	Link uint32 // pcap link type
	Data []byte
}

// WritePcap writes the case as a one-record pcap file.
func (c DissectCase) WritePcap(w io.Writer) error {
	pw, err := NewWriter(w, c.Link, 65535)
	if err != nil {
		return err
	}
	if err := pw.WritePacket(1700000000, 0, c.Data, 0); err != nil {
		return err
	}
	return pw.Flush()
}

// Addresses of the hand-built frames.
var (
	dcMAC1    = [6]byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x01}
	dcMAC2    = [6]byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x02}
	dcBSSID   = [6]byte{0x00, 0x1a, 0x1e, 0x00, 0x00, 0x10}
	dcClient  = [6]byte{0x00, 0x16, 0xea, 0x00, 0x00, 0x20}
	dcGateway = [6]byte{0x00, 0x11, 0x22, 0x33, 0x44, 0xfe}
	dcBcast   = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	dcOuter1  = [4]byte{172, 16, 0, 2}
	dcOuter2  = [4]byte{172, 16, 0, 1}
	dcInner1  = [4]byte{192, 168, 10, 20}
	dcInner2  = [4]byte{10, 20, 30, 40}
	dcV6a     = [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 0x0a}
	dcV6b     = [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 0x0b}
)

// Inner packets carried by the tunnels.
func dcTCP4() []byte {
	return IPv4(6, dcInner1, dcInner2, TCP(49152, 443, 0x02, nil))
}
func dcUDP6() []byte {
	return IPv6(17, dcV6a, dcV6b, UDP(5353, 5353, []byte("mdns")))
}
func dcInnerEth() []byte { return Eth(dcMAC2, dcMAC1, 0x0800, dcTCP4()) }

// dcEth wraps an L3 payload of type typ in Ethernet.
func dcEth(typ uint16, payload []byte) []byte { return Eth(dcMAC2, dcMAC1, typ, payload) }

// dcUDP4 is Ethernet/IPv4/UDP between the outer addresses.
func dcUDP4(sp, dp uint16, payload []byte) []byte {
	return dcEth(0x0800, IPv4(17, dcOuter1, dcOuter2, UDP(sp, dp, payload)))
}

// dcIP4 is Ethernet/IPv4 carrying proto between the outer addresses.
func dcIP4(proto uint8, payload []byte) []byte {
	return dcEth(0x0800, IPv4(proto, dcOuter1, dcOuter2, payload))
}

// dcPad pads a frame to the 60-byte Ethernet minimum.
func dcPad(b []byte) []byte {
	for len(b) < 60 {
		b = append(b, 0)
	}
	return b
}

// dcWLAN is a QoS data frame from a station to its AP carrying payload
// behind LLC/SNAP type typ.
func dcWLAN(typ uint16, payload []byte) []byte {
	return WLANData(8, WLANToDS, [4][6]byte{dcBSSID, dcClient, dcGateway}, 0, SNAP(typ, payload))
}

// GRE is a GRE header (no options) for protocol proto.
func GRE(flags, proto uint16, payload []byte) []byte { return Cat(Be16(flags), Be16(proto), payload) }

// DissectCases returns the hand-built frames, in a fixed order.
func DissectCases() []DissectCase {
	var cs []DissectCase
	add := func(name string, link uint32, data []byte) {
		cs = append(cs, DissectCase{name, link, data})
	}
	tcp4 := dcTCP4()
	arp := Cat([]byte{0, 1, 8, 0, 6, 4, 0, 3}, dcMAC1[:], make([]byte, 4), dcMAC1[:], make([]byte, 4))

	// Issue 16's three cases.
	capwapWLAN := CAPWAP(1, CAPWAPFlagT, dcBSSID[:], nil, 0, 0, dcWLAN(0x0800, tcp4))
	add("capwap-data-wlan", 1, Eth(dcMAC2, dcMAC1, 0x8100, VLAN(100, 0x8100, VLAN(200, 0x0800,
		IPv4(17, dcOuter1, dcOuter2, UDP(5247, 5247, capwapWLAN))))))
	add("rarp", 1, dcPad(dcEth(0x8035, arp)))
	add("dec-mop-rc", 1, dcPad(Eth([6]byte{0xab, 0, 0, 2, 0, 0}, dcMAC1, 0x6002, []byte{0x04, 0x00, 0x07, 0x01, 0x00, 0x00})))
	add("dec-mop-dl", 1, dcPad(Eth([6]byte{0xab, 0, 0, 1, 0, 0}, dcMAC1, 0x6001, []byte{0x04, 0x00, 0x08, 0x01, 0x00, 0x00})))

	// CAPWAP variants.
	add("capwap-data-eth", 1, dcUDP4(5247, 5247, CAPWAP(1, 0, nil, nil, 0, 0, dcInnerEth())))
	add("capwap-data-wlan-wsi", 1, dcUDP4(12345, 5247, CAPWAP(1, CAPWAPFlagT, dcBSSID[:], []byte{0xc8, 0x00, 0x00, 0x00}, 0, 0,
		WLANData(0, WLANFromDS, [4][6]byte{dcClient, dcBSSID, dcGateway}, 0, SNAP(0x86dd, dcUDP6())))))
	// A 144-byte 802.11 frame in two fragments of 80 and 64 bytes.
	big := dcWLAN(0x0800, IPv4(6, dcInner1, dcInner2, TCP(49152, 443, 0x18, make([]byte, 70))))
	add("capwap-data-frag1", 1, dcUDP4(5247, 5247, CAPWAP(1, CAPWAPFlagT|CAPWAPFlagF, nil, nil, 7, 0, big[:80])))
	add("capwap-data-frag2", 1, dcUDP4(5247, 5247, CAPWAP(1, CAPWAPFlagT|CAPWAPFlagF|CAPWAPFlagL, nil, nil, 7, 10, big[80:])))
	add("capwap-data-keepalive", 1, dcUDP4(5247, 5247, CAPWAP(1, CAPWAPFlagK, nil, nil, 0, 0, []byte{0, 6, 0x00, 0x23, 0x00, 0x02, 0x01, 0x02})))
	add("capwap-control", 1, dcUDP4(5246, 5246, CAPWAP(0, 0, nil, nil, 0, 0, []byte{0, 0, 0, 1, 1, 0, 0, 0, 0})))
	add("lwapp", 1, dcUDP4(12222, 12222, []byte{0, 0, 0, 0, 0, 0, 0, 0}))

	// 802.11 link types.
	radiotap := []byte{0, 0, 8, 0, 0, 0, 0, 0}
	add("radiotap-qos-data", 127, Cat(radiotap, dcWLAN(0x0800, tcp4)))
	add("wlan-data-fromds-ipv6", 105, WLANData(0, WLANFromDS, [4][6]byte{dcClient, dcBSSID, dcGateway}, 0, SNAP(0x86dd, dcUDP6())))
	add("wlan-wds-qos-htc", 105, WLANData(8, WLANToDS|WLANFromDS|WLANOrder, [4][6]byte{dcBSSID, dcMAC1, dcGateway, dcClient}, 0, SNAP(0x0800, tcp4)))
	add("wlan-protected", 105, WLANData(8, WLANToDS|WLANProtect, [4][6]byte{dcBSSID, dcClient, dcGateway}, 0, make([]byte, 24)))
	add("wlan-null", 105, WLANData(4, WLANToDS, [4][6]byte{dcBSSID, dcClient, dcBSSID}, 0, nil))
	add("wlan-beacon", 105, Cat([]byte{0x80, 0, 0, 0}, dcBcast[:], dcBSSID[:], dcBSSID[:], []byte{0x10, 0}, make([]byte, 12)))
	add("wlan-arp", 105, WLANData(0, WLANFromDS, [4][6]byte{dcBcast, dcBSSID, dcClient}, 0, SNAP(0x0806, arp)))
	prism := Cat(Le32(0x44), Le32(144), make([]byte, 136))
	add("prism", 119, Cat(prism, dcWLAN(0x0800, tcp4)))
	add("ppi-eth", 192, Cat([]byte{0, 0}, Le16(8), Le32(1), dcEth(0x0800, tcp4)))
	add("ppi-wlan", 192, Cat([]byte{0, 0}, Le16(8), Le32(105), dcWLAN(0x0800, tcp4)))

	// Other link types.
	add("null-ipv4", 0, Cat(Le32(2), tcp4))
	add("loop-ipv6", 108, Cat(Be32(24), dcUDP6()))
	add("raw-ipv6", 101, dcUDP6())
	add("linktype-ipv4", 228, tcp4)
	add("linktype-ipv6", 229, dcUDP6())
	add("ppp", 9, Cat([]byte{0xff, 0x03}, Be16(0x0021), tcp4))
	add("ppp-hdlc-ipv6", 50, Cat([]byte{0xff, 0x03}, Be16(0x0057), dcUDP6()))
	add("ppp-dir", 204, Cat([]byte{0x01, 0xff, 0x03}, Be16(0x0021), tcp4))
	add("ppp-lcp", 9, Cat([]byte{0xff, 0x03}, Be16(0xc021), []byte{1, 1, 0, 4}))
	add("chdlc", 104, Cat([]byte{0x0f, 0x00}, Be16(0x0800), tcp4))
	add("frame-relay", 107, Cat([]byte{0x18, 0x41, 0x03, 0xcc}, tcp4))
	add("frame-relay-snap", 107, Cat([]byte{0x18, 0x41, 0x03, 0x00, 0x80, 0, 0, 0}, Be16(0x86dd), dcUDP6()))
	add("juniper-ether-in", 178, Cat([]byte{'M', 'G', 'C', 0x01}, dcEth(0x0800, tcp4)))
	add("juniper-ether-out", 178, Cat([]byte{'M', 'G', 'C', 0x00}, dcEth(0x0800, tcp4)))
	add("juniper-no-l2", 178, Cat([]byte{'M', 'G', 'C', 0x02}, Le32(2), tcp4))
	add("juniper-pppoe", 167, Cat([]byte{'M', 'G', 'C', 0x01}, dcEth(0x8864, Cat([]byte{0x11, 0x00, 0x00, 0x01}, Be16(uint16(2+len(tcp4))), Be16(0x0021), tcp4))))
	add("juniper-ether-ext", 178, Cat([]byte{'M', 'G', 'C', 0x81}, Be16(4), []byte{1, 2, 0, 5}, dcEth(0x0800, tcp4)))
	add("juniper-ppp", 179, Cat([]byte{'M', 'G', 'C', 0x01}, []byte{0xff, 0x03}, Be16(0x0021), tcp4))
	add("symantec", 99, Cat(dcOuter1[:], []byte{0, 0}, Be16(0x0800), make([]byte, 36), tcp4))

	// Ethernet extensions.
	isl := Cat([]byte{0x01, 0x00, 0x0c, 0x00, 0x00, 0x00}, dcMAC1[:], Be16(uint16(14+len(tcp4)+4)),
		[]byte{0xaa, 0xaa, 0x03}, dcMAC1[:3], Be16(0x00c8), Be16(0), make([]byte, 2))
	add("isl", 1, Cat(isl, dcEth(0x0800, tcp4), make([]byte, 4))) // frame CRC
	add("vlan-9100", 1, Eth(dcMAC2, dcMAC1, 0x9100, VLAN(300, 0x0800, tcp4)))

	// Ethertypes.
	add("aarp", 1, dcPad(dcEth(0x80f3, Cat([]byte{0, 1, 0x80, 0x9b, 6, 4, 0, 1}, dcMAC1[:], make([]byte, 4), make([]byte, 10)))))
	add("mpls-multicast", 1, dcEth(0x8848, Cat([]byte{0x00, 0x01, 0x01, 0x40}, tcp4)))
	add("pppoe-discovery", 1, dcPad(dcEth(0x8863, []byte{0x11, 0x09, 0, 0, 0, 4, 0x01, 0x01, 0, 0})))
	add("lldp", 1, dcPad(Eth([6]byte{0x01, 0x80, 0xc2, 0, 0, 0x0e}, dcMAC1, 0x88cc,
		Cat([]byte{0x02, 0x07, 0x04}, dcMAC1[:], []byte{0x04, 0x07, 0x03}, dcMAC1[:], []byte{0x06, 0x02, 0x00, 0x78, 0, 0}))))
	slow := [6]byte{0x01, 0x80, 0xc2, 0, 0, 0x02}
	add("slow-lacp", 1, dcPad(Eth(slow, dcMAC1, 0x8809, Cat([]byte{0x01, 0x01, 0x01, 0x14}, make([]byte, 106)))))
	add("slow-marker", 1, dcPad(Eth(slow, dcMAC1, 0x8809, Cat([]byte{0x02, 0x01, 0x01, 0x10}, make([]byte, 106)))))
	add("slow-oampdu", 1, dcPad(Eth(slow, dcMAC1, 0x8809, Cat([]byte{0x03, 0x00, 0x50, 0x00}, make([]byte, 42)))))
	add("slow-ossp", 1, dcPad(Eth(slow, dcMAC1, 0x8809, Cat([]byte{0x0a, 0x00, 0x19, 0x58, 0x00, 0x01, 0x10}, make([]byte, 40)))))
	// Types below 1501 are 802.3 lengths on Ethernet: SNAP carries them.
	add("snap-pup", 1, dcPad(dcEth(46, SNAP(0x0101, make([]byte, 38)))))
	add("snap-xerox", 1, dcPad(dcEth(46, SNAP(0x0200, make([]byte, 38)))))
	for _, t := range dcNamedEtherTypes {
		add(fmt.Sprintf("ethertype-%04x", t), 1, dcPad(dcEth(t, make([]byte, 46))))
	}

	// 802.2 LLC.
	add("llc-ip", 1, dcEth(uint16(3+len(tcp4)), Cat([]byte{0x06, 0x06, 0x03}, tcp4)))
	for _, sap := range []byte{0x04, 0x7e, 0x80, 0x8e, 0xe0, 0xf0, 0xf4, 0xfe} {
		add(fmt.Sprintf("llc-sap-%02x", sap), 1, dcPad(dcEth(20, Cat([]byte{sap, sap, 0x03}, make([]byte, 17)))))
	}

	// IP protocols and extension headers.
	add("igmp-dvmrp", 1, dcIP4(2, []byte{0x13, 0x01, 0, 0, 0, 0, 0x0c, 0xff}))
	add("igmp-pimv1", 1, dcIP4(2, []byte{0x14, 0x00, 0, 0, 0x10, 0, 0, 0}))
	add("igmp-rgmp", 1, Eth([6]byte{0x01, 0x00, 0x5e, 0, 0, 0x19}, dcMAC1, 0x0800, IPv4(2, dcOuter1, [4]byte{224, 0, 0, 25}, []byte{0xff, 0, 0, 0, 0xe0, 1, 1, 1})))
	add("sctp", 1, dcIP4(132, Cat(Be16(5000), Be16(36412), make([]byte, 8), []byte{1, 0, 0, 20}, make([]byte, 16))))
	add("ospf2", 1, dcIP4(89, Cat([]byte{2, 1, 0, 44}, dcOuter1[:], make([]byte, 16), make([]byte, 20))))
	add("esp", 1, dcIP4(50, Cat(Be32(0x1000), Be32(1), make([]byte, 24))))
	add("ah-tcp", 1, dcIP4(51, Cat([]byte{6, 4, 0, 0}, Be32(0x1000), Be32(1), make([]byte, 12), TCP(1234, 80, 0x10, nil))))
	add("ipv6-ah-udp", 1, dcEth(0x86dd, IPv6(51, dcV6a, dcV6b, Cat([]byte{17, 4, 0, 0}, Be32(0x1000), Be32(1), make([]byte, 12), UDP(53, 53, []byte{0, 1, 0, 0})))))
	add("ipip", 1, dcIP4(4, tcp4))
	add("6in4", 1, dcIP4(41, dcUDP6()))
	add("4in6", 1, dcEth(0x86dd, IPv6(4, dcV6a, dcV6b, tcp4)))
	add("etherip", 1, dcIP4(97, Cat([]byte{0x30, 0x00}, dcInnerEth())))
	add("l2tpv3-ip", 1, dcIP4(115, Cat(Be32(0x100), make([]byte, 8))))
	add("pim-register", 1, dcIP4(103, Cat([]byte{0x21, 0, 0, 0, 0, 0, 0, 0}, tcp4)))
	add("ipv6-nonext", 1, dcEth(0x86dd, IPv6(59, dcV6a, dcV6b, nil)))
	add("ipv4-unknown-proto", 1, dcIP4(253, make([]byte, 8)))
	for _, p := range []uint8{3, 5, 8, 9, 27, 33, 46, 88, 98, 108, 112, 135, 136, 137, 139, 140, 143} {
		add(fmt.Sprintf("ipproto-%d", p), 1, dcIP4(p, make([]byte, 28)))
	}
	add("tcp-ssdp", 1, dcIP4(6, TCP(50000, 1900, 0x02, nil)))

	// GRE payloads.
	add("gre-teb", 1, dcIP4(47, GRE(0, 0x6558, dcInnerEth())))
	add("gre-erspan3", 1, dcIP4(47, GRE(0x1000, 0x22eb, Cat(Be32(1), []byte{0x20, 0x64, 0x00, 0x01}, Be32(0), Be32(0), dcInnerEth()))))
	add("gre-wccp", 1, dcIP4(47, GRE(0, 0x883e, Cat([]byte{0, 0, 0, 0}, tcp4))))
	add("gre-mpls", 1, dcIP4(47, GRE(0, 0x8847, Cat([]byte{0x00, 0x01, 0x01, 0x40}, tcp4))))
	add("gre-ipv6", 1, dcIP4(47, GRE(0, 0x86dd, dcUDP6())))
	add("gre-ppp-compressed", 1, dcIP4(47, GRE(0x3001, 0x880b, Cat(Be16(4), Be16(0), Be32(1), []byte{0xff, 0x03, 0x00, 0xfd, 1, 2, 3, 4}))))
	add("gre-key-seq", 1, dcIP4(47, GRE(0x3000, 0x0800, Cat(Be32(42), Be32(7), tcp4))))
	add("gre-checksum", 1, dcIP4(47, GRE(0x8000, 0x0800, Cat(Be32(0), tcp4))))
	add("gre-unknown", 1, dcIP4(47, GRE(0, 0x8909, make([]byte, 8))))

	// UDP-carried protocols.
	add("geneve", 1, dcUDP4(40000, 6081, Cat([]byte{0, 0, 0x65, 0x58, 0, 0, 1, 0}, dcInnerEth())))
	add("geneve-ipv4", 1, dcUDP4(40000, 6081, Cat([]byte{0, 0, 0x08, 0x00, 0, 0, 1, 0}, tcp4)))
	add("gtp-u", 1, dcUDP4(2152, 2152, Cat([]byte{0x30, 0xff}, Be16(uint16(len(tcp4))), Be32(1), tcp4)))
	add("gtp-u-ext", 1, dcUDP4(2152, 2152, Cat([]byte{0x34, 0xff}, Be16(uint16(len(tcp4)+8)), Be32(1), []byte{0, 0, 0, 0x85}, []byte{1, 0x10, 0x01, 0x00}, tcp4)))
	add("gtp-c", 1, dcUDP4(2123, 2123, []byte{0x48, 0x20, 0, 8, 0, 0, 0, 0, 0, 0, 1, 0}))
	add("ayiya", 1, dcUDP4(5072, 5072, Cat([]byte{0x41, 0x52, 0x11, 41}, Be32(0), make([]byte, 16), make([]byte, 20), dcUDP6())))
	add("l2tpv2", 1, dcUDP4(1701, 1701, Cat([]byte{0x00, 0x02, 0, 1, 0, 1, 0xff, 0x03}, Be16(0x0021), tcp4)))
	add("l2tpv2-control", 1, dcUDP4(1701, 1701, []byte{0xc8, 0x02, 0, 12, 0, 1, 0, 0, 0, 0, 0, 0}))
	add("teredo-origin", 1, dcUDP4(3544, 40000, Cat([]byte{0, 0}, Be16(0xffff^40000), []byte{0x53, 0xef, 0xff, 0xfd}, dcUDP6())))
	add("teredo-auth", 1, dcUDP4(3544, 40000, Cat([]byte{0, 1, 0, 0}, make([]byte, 9), dcUDP6())))
	add("l2tpv2-len-seq", 1, dcUDP4(1701, 1701, Cat([]byte{0x48, 0x02}, Be16(uint16(16+len(tcp4))), []byte{0, 1, 0, 1, 0, 5, 0, 3, 0xff, 0x03}, Be16(0x0021), tcp4)))
	add("udpencap-esp", 1, dcUDP4(4500, 4500, Cat(Be32(0x1000), Be32(1), make([]byte, 16))))
	add("udpencap-isakmp", 1, dcUDP4(4500, 4500, Cat(Be32(0), make([]byte, 8), make([]byte, 8), []byte{0x21, 0x20, 0x22, 0x08}, Be32(0), Be32(28))))
	add("dtls1.2", 1, dcUDP4(40000, 4433, Cat([]byte{22, 0xfe, 0xfd}, make([]byte, 8), Be16(4), []byte{1, 0, 0, 0})))
	return cs
}

// dcNamedEtherTypes are the ethertypes named by a table, without a
// dissector of their own, that the corpus does not carry.
var dcNamedEtherTypes = []uint16{0x0600, 0x0801, 0x0805, 0x0842, 0x2003,
	0x22f0, 0x22f3, 0x6003, 0x6004, 0x809b, 0x8137, 0x872d, 0x876b, 0x8808, 0x8819,
	0x887b, 0x888e, 0x8892, 0x889a, 0x88a2, 0x88a4, 0x88b5, 0x88b7, 0x88b8, 0x88ba,
	0x88c7, 0x88cd, 0x88e1, 0x88e3, 0x88e5, 0x88e7, 0x88f7, 0x88f8, 0x88fb, 0x8902,
	0x8906, 0x8914, 0x8915, 0x891d, 0x892f, 0x893a}
