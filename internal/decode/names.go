package decode

// Names appended to the header description for protocols the dissector does
// not decapsulate. Tables are fixed arrays/switches so lookups never
// allocate.

// etherTypeName names ethertypes (and SNAP protocol ids) that end
// dissection as an L2 flow. "" means unknown (UNK(0x....), bit 43).
func etherTypeName(t uint16) string {
	switch t {
	case 0x0000:
		return "wlccp" // GRE protocol 0 (golden various_gre)
	case 0x0101:
		return "pup"
	case 0x010b:
		return "stp" // Cisco PVST+ (SNAP)
	case 0x0200:
		return "xerox"
	case 0x0600:
		return "xns"
	case 0x0801:
		return "x75"
	case 0x0805:
		return "x25"
	case 0x0842:
		return "wol"
	case 0x2000:
		return "cdp"
	case 0x2003:
		return "vtp"
	case 0x2004:
		return "dtp"
	case 0x22f0:
		return "avtp"
	case 0x22f3:
		return "trill"
	case 0x6001, 0x6002: // DEC MOP dump/load and remote console
		return "dec_mop"
	case 0x6003:
		return "decnet"
	case 0x6004:
		return "lat"
	case 0x6558:
		return "teb"
	case 0x809b:
		return "atalk"
	case 0x8137, 0x8138:
		return "ipx"
	case 0x8863:
		return "pppoed"
	case 0x872d:
		return "wlccp"
	case 0x876b:
		return "tcpcomp"
	case 0x8808:
		return "flowctrl"
	case 0x8809:
		return "slow"
	case 0x880b:
		return "ppp"
	case 0x8819:
		return "cobranet"
	case 0x883e:
		return "wccp"
	case 0x884c:
		return "mpls"
	case 0x8870:
		return "jumbo"
	case 0x887b:
		return "homeplug"
	case 0x888e:
		return "eapol"
	case 0x8892:
		return "profinet"
	case 0x889a:
		return "hyperscsi"
	case 0x88a2:
		return "aoe"
	case 0x88a4:
		return "ethercat"
	case 0x88b5, 0x88b6:
		return "exp"
	case 0x88b7:
		return "oui"
	case 0x88b8:
		return "goose"
	case 0x88ba:
		return "sv"
	case 0x88c7:
		return "rsnpreauth"
	case 0x88cc:
		return "lldp"
	case 0x88cd:
		return "sercos"
	case 0x88e1:
		return "homeplugav"
	case 0x88e3:
		return "mrp"
	case 0x88e5:
		return "macsec"
	case 0x88e7:
		return "pbb"
	case 0x88f7:
		return "ptp"
	case 0x88f8:
		return "ncsi"
	case 0x88fb:
		return "prp"
	case 0x8902:
		return "cfm"
	case 0x8906:
		return "fcoe"
	case 0x8914:
		return "fip"
	case 0x8915:
		return "roce"
	case 0x891d:
		return "tte"
	case 0x892f:
		return "hsr"
	case 0x893a:
		return "ieee1905"
	case 0x9000:
		return "loop"
	case 0x9100, 0x9200:
		return "vlan"
	}
	return ""
}

// llcSAPName names LLC service access points (DSAP) of 802.3 frames.
func llcSAPName(sap uint8) string {
	switch sap {
	case 0x04, 0x05:
		return "sna"
	case 0x42:
		return "stp"
	case 0x7e:
		return "x25"
	case 0x80:
		return "xns"
	case 0x8e:
		return "bacnet"
	case 0xe0:
		return "ipx"
	case 0xf0:
		return "netbios"
	case 0xf4:
		return "lanman"
	case 0xfe:
		return "osi"
	}
	return ""
}

// ipProtoName names IP protocol numbers that are not dissected further.
// "" means unknown (UNK(n), bit 43).
func ipProtoName(p uint8) string {
	switch p {
	case 0:
		return "ipv6.hopopts"
	case 1:
		return "icmp"
	case 2:
		return "igmp"
	case 3:
		return "ggp"
	case 4:
		return "ipv4"
	case 5:
		return "st"
	case 6:
		return "tcp"
	case 8:
		return "egp"
	case 9:
		return "igp"
	case 17:
		return "udp"
	case 27:
		return "rdp"
	case 33:
		return "dccp"
	case 41:
		return "ipv6"
	case 43:
		return "ipv6.routing"
	case 44:
		return "ipv6.fraghdr"
	case 46:
		return "rsvp"
	case 47:
		return "gre"
	case 50:
		return "esp"
	case 51:
		return "ah"
	case 58:
		return "icmpv6"
	case 59:
		return "ipv6.nonxt"
	case 60:
		return "ipv6.dstopts"
	case 88:
		return "eigrp"
	case 89:
		return "ospf"
	case 94:
		return "ipip"
	case 97:
		return "etherip"
	case 98:
		return "encap"
	case 103:
		return "pim"
	case 108:
		return "ipcomp"
	case 112:
		return "vrrp"
	case 115:
		return "l2tp"
	case 132:
		return "sctp"
	case 135:
		return "ipv6.mobility"
	case 136:
		return "udplite"
	case 137:
		return "mpls"
	case 139:
		return "hip"
	case 140:
		return "shim6"
	case 143:
		return "ethernet"
	}
	return ""
}

// hexDigits are used to format UNK(0x....) and UNK(n) without fmt.
const hexDigits = "0123456789abcdef"
