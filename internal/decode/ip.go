package decode

import (
	"strconv"

	"flowsift/internal/header"
)

// ipByVersion dissects an IP header whose version nibble decides the type
// (raw IP link types, MPLS).
func (d *Decoder) ipByVersion(off int) {
	if off >= d.n {
		d.p.Status |= StatL3Snapped
		return
	}
	switch header.U8(d.b, off) >> 4 {
	case 4:
		d.ipv4(off)
	case 6:
		d.ipv6(off)
	default:
		d.ipvx(header.EtherTypeIPv4, off)
	}
}

// ipByType dissects an IP header announced as IPv4 or IPv6 by an outer
// header; a disagreeing version nibble makes it IPvX.
func (d *Decoder) ipByType(off int, typ uint16) {
	if !d.deeper() {
		return
	}
	if off >= d.n {
		// The announced header is not captured at all.
		d.p.Status |= StatL3Snapped
		if typ == header.EtherTypeIPv4 {
			d.add("ipv4")
		} else {
			d.add("ipv6")
		}
		d.l2Flow(typ, off)
		return
	}
	ver := d.b[off] >> 4
	switch {
	case typ == header.EtherTypeIPv4 && ver == 4:
		d.ipv4(off)
	case typ == header.EtherTypeIPv6 && ver == 6:
		d.ipv6(off)
	default:
		d.ipvx(typ, off)
	}
}

// ipvx handles a bogus IP version: an L2 flow with bit 16.
func (d *Decoder) ipvx(typ uint16, off int) {
	d.add("ipvx")
	d.p.Status |= StatIPvX
	d.l2Flow(typ, off)
}

// tooManyIP reports (and describes) an IP header beyond the bound.
func (d *Decoder) tooManyIP(name string) bool {
	if d.ipHdrs < d.cfg.MaxIPHeaders {
		return false
	}
	d.add(name)
	return true
}

// resetL3 clears everything an inner IP header redefines.
func (d *Decoder) resetL3() {
	p := d.p
	p.L3Off, p.L3HdrLen, p.L3Len, p.SnapL3Len, p.LinkHdrLen = 0, 0, 0, 0, 0
	p.SrcIP, p.DstIP = [16]byte{}, [16]byte{}
	p.Proto, p.TTL, p.ToS, p.IPID = 0, 0, 0, 0
	p.FragOff, p.MoreFrags, p.HasFragHdr, p.FragWord = 0, false, false, 0
	p.IP6HHOff, p.IP6HHLen, p.IP6DOff, p.IP6DLen = 0, 0, 0, 0
	p.L4Off, p.L4HdrLen, p.L4Len, p.SnapL4Len = 0, 0, 0, 0
	p.SrcPort, p.DstPort, p.UDPLen = 0, 0, 0
	p.L7Off, p.L7Len, p.SnapL7Len, p.PktLen, p.PadLen = 0, 0, 0, 0, 0
}

// l3Lengths sets the L3 length fields (core.md §4.2) for an IP header at off
// with header length hl and IP length l3Len (already capped to the wire).
func (d *Decoder) l3Lengths(off, hl, l3Len int) {
	p := d.p
	capL3 := d.n - off
	snapL3 := l3Len
	if capL3 < l3Len {
		snapL3 = capL3
		p.Status |= StatL3SnapLen
	}
	if l3Len < header.IPv4MinSize {
		p.Status |= StatL3Snapped
	}
	// T2 keeps l3Len in 16 bits (jumbograms wrap, golden bigtcp-ipv6-hbh).
	l3 := l3Len & 0xffff
	p.L3Off = off
	p.L2HdrLen = off
	p.LinkHdrLen = off - d.lastEth
	p.L3HdrLen = hl
	p.L3Len = l3
	p.SnapL3Len = snapL3
	s4 := snapL3
	if l3 < s4 {
		s4 = l3
	}
	s4 -= hl
	if s4 < 0 {
		s4 = 0
	}
	p.SnapL4Len = s4
	p.L4Off = off + hl
	p.L4Len = l3 - hl
}

// snapWarn records the first-time snap-length warning (core.md §4.2).
func (d *Decoder) snapWarn(outer bool, l3Off, ipLen int) {
	if d.Stats.SnapWarned {
		return
	}
	d.Stats.SnapWarned = true
	w := d.Stats.SnapWarning[:0]
	if outer {
		w = append(w, "Outer -- "...)
	}
	w = append(w, "snapL2Length: "...)
	w = strconv.AppendInt(w, int64(d.n), 10)
	w = append(w, " - snapL3Length: "...)
	w = strconv.AppendInt(w, int64(d.n-l3Off), 10)
	w = append(w, " - IP length in header: "...)
	w = strconv.AppendInt(w, int64(ipLen), 10)
	d.Stats.SnapWarning = w
	d.warn = append(append(d.warn, w...), '\n')
}

// ipv4 dissects an IPv4 header at off (version already checked).
func (d *Decoder) ipv4(off int) {
	p := d.p
	b := d.b
	if d.tooManyIP("ipv4") {
		return
	}
	if off >= d.n { // only stale bytes there (e.g. a Teredo guess)
		p.Status |= StatL3Snapped
		return
	}
	ip := header.IPv4(b[off:])
	ihl := int(ip.IHL())
	if ihl < 5 {
		d.add("ipv4")
		p.Status |= StatIHLShort | StatIPv4Pkt
		p.Kind = KindNone
		d.haveIP = true // nothing after this may define a flow
		return
	}
	d.ipHdrs++
	d.add("ipv4")
	p.Status |= StatIPv4Pkt
	hl := ihl * 4
	tl := int(ip.TotalLength())
	l3Len := d.enterIP(off, tl, tl == 0, false)
	d.l3Lengths(off, hl, l3Len)
	src, dst := ip.SrcAddr(), ip.DstAddr()
	copy(p.SrcIP[:4], src[:])
	copy(p.DstIP[:4], dst[:])
	p.TTL = ip.TTL()
	p.ToS = ip.TOS()
	p.IPID = uint32(ip.ID())
	p.FragWord = ip.FlagsFragOff()
	p.FragOff = p.FragWord & header.IPv4OffsetMask
	p.MoreFrags = p.FragWord&header.IPv4FlagMF != 0
	p.Proto = ip.Protocol()
	if p.FragOff != 0 {
		// Later fragment: protocol name only, no L4 header (core.md §6).
		// Bit 43 only for the outermost IP header (golden teardrop vs.
		// eth-ip-gre-ppp-max-ip-packet, fragments inside GRE).
		if d.ipHdrs == 1 {
			p.Status |= StatStopDissect
		}
		d.addProtoName(p.Proto)
		d.l7Lengths(0)
		return
	}
	d.l4(p.Proto, false)
}

// ipv6 dissects an IPv6 header at off (version already checked) and walks
// its extension headers.
func (d *Decoder) ipv6(off int) {
	p := d.p
	b := d.b
	if d.tooManyIP("ipv6") {
		return
	}
	if off >= d.n {
		p.Status |= StatL3Snapped
		return
	}
	ip := header.IPv6(b[off:])
	d.ipHdrs++
	d.add("ipv6")
	p.Status |= StatIPv6Pkt
	pl := int(ip.PayloadLength())
	l3Len := d.enterIP(off, pl+header.IPv6MinSize, pl == 0, true)
	src, dst := ip.SrcAddr(), ip.DstAddr()
	p.SrcIP, p.DstIP = src, dst
	p.TTL = ip.HopLimit()
	p.ToS = ip.TrafficClass()

	// Extension header walk (core.md §4.3). Reads beyond the capture see
	// zeros, like T2's zeroed buffer (golden ip6-trunc).
	capL3 := d.n - off
	if capL3 > l3Len {
		capL3 = l3Len
	}
	nh := ip.NextHeader()
	hl := header.IPv6MinSize
	for ext := 0; ; ext++ {
		// The walk ends when fewer than 8 captured bytes remain; a
		// negative remainder (capture ends inside the fixed header) does
		// not stop it.
		if rem := capL3 - hl; rem >= 0 && rem < 8 {
			d.l3Lengths(off, hl, l3Len)
			p.Proto = nh
			d.l7Lengths(0)
			return
		}
		if !isIPv6Ext(nh) {
			break
		}
		if ext >= d.cfg.MaxIPv6Ext {
			d.l3Lengths(off, hl, l3Len)
			p.Proto = nh
			d.l7Lengths(0)
			return
		}
		eo := off + hl
		switch nh {
		case header.IPProtoHopOpts, header.IPProtoDstOpts, header.IPProtoRouting:
			e := header.IPv6Ext(sliceFrom(b, eo))
			el := e.Length()
			switch nh {
			case header.IPProtoHopOpts:
				d.add("ipv6.hopopts")
				if p.IP6HHOff == 0 {
					p.IP6HHOff, p.IP6HHLen = eo+2, el-2
				}
			case header.IPProtoDstOpts:
				d.add("ipv6.dstopts")
				if p.IP6DOff == 0 {
					p.IP6DOff, p.IP6DLen = eo+2, el-2
				}
			default:
				d.add("ipv6.routing")
			}
			nh = e.NextHeader()
			hl += el
		case header.IPProtoFragment:
			f := header.IPv6Fragment(sliceFrom(b, eo))
			d.add("ipv6.fraghdr")
			p.HasFragHdr = true
			p.FragWord = f.OffsetWord()
			p.FragOff = f.FragmentOffset()
			p.MoreFrags = f.More()
			p.IPID = f.ID()
			d.Stats.IPv6Frag++
			if p.FragOff != 0 || p.MoreFrags {
				d.Stats.IPv6Frag++
			}
			nh = f.NextHeader()
			hl += header.IPv6FragmentSize
			if p.FragOff != 0 {
				// Later fragment: the walk ends at the fragment header
				// (no bit 43, golden ipv6_fragments).
				d.l3Lengths(off, hl, l3Len)
				p.Proto = nh
				d.l7Lengths(0)
				return
			}
		case header.IPProtoAH:
			e := header.IPv6Ext(sliceFrom(b, eo))
			d.add("ah")
			p.Status |= StatAH
			nh = e.NextHeader()
			hl += (int(header.U8(b, eo+1)) + 2) * 4
		}
	}
	d.l3Lengths(off, hl, l3Len)
	p.Proto = nh
	d.l4(nh, true)
}

// isIPv6Ext reports the extension headers walked by the IPv6 dissector.
func isIPv6Ext(nh uint8) bool {
	switch nh {
	case header.IPProtoHopOpts, header.IPProtoDstOpts, header.IPProtoRouting,
		header.IPProtoFragment, header.IPProtoAH:
		return true
	}
	return false
}

// sliceFrom returns b[off:] or an empty slice when off is beyond b.
func sliceFrom(b []byte, off int) []byte {
	if off < 0 || off >= len(b) {
		return nil
	}
	return b[off:]
}

// addProtoName appends the table name of an IP protocol or UNK(n).
func (d *Decoder) addProtoName(proto uint8) {
	if name := ipProtoName(proto); name != "" {
		d.add(name)
	} else {
		d.addUnknown8(proto)
	}
}

// l7Lengths completes the lengths once the L4 header length is known.
func (d *Decoder) l7Lengths(l4hdr int) {
	p := d.p
	p.L4HdrLen = l4hdr
	p.L7Off = p.L4Off + l4hdr
	if p.SnapL4Len < l4hdr && p.SnapL3Len < p.L3Len {
		p.Status |= StatL4Snapped
	}
	s7 := p.SnapL4Len - l4hdr
	if s7 < 0 {
		s7 = 0
	}
	p.SnapL7Len = s7
	p.L7Len = p.L3Len - p.L3HdrLen - l4hdr
	// A negative IPv4 L7 length gives plugins 0 and bit 35; IPv6 keeps
	// the wrapped 16-bit value and no bit (golden fragmented-syn,
	// tcp-malformed vs. ip6-trunc, ipv6_invalid_length: l7BytesSnt 65516).
	if p.L7Len < 0 && p.Kind == KindIPv4 {
		p.PktLen = 0
		p.Status |= StatL4Snapped
	} else {
		p.PktLen = uint16(p.L7Len)
	}
	if p.WireLen <= 64 {
		p.PadLen = d.wire - (p.L3Off + p.L3Len)
	} else {
		p.PadLen = 0
	}
}

// l4 dissects the L4 protocol proto at p.L4Off of the current IP header.
func (d *Decoder) l4(proto uint8, v6 bool) {
	p := d.p
	b := d.b
	l4 := sliceFrom(b, p.L4Off)
	l4Avail := p.L3Len - p.L3HdrLen // L4 bytes by the IP length
	switch proto {
	case header.IPProtoTCP:
		d.add("tcp")
		// The data offset is used unless the capture is snapped inside
		// the TCP header; an IP packet too short for the header still
		// reads it (golden 10_frag_crafted_ipv4 #77: 8-byte first
		// fragment, offset read past the capture).
		hl := header.TCP(l4).HeaderLength()
		if p.SnapL4Len < header.TCPMinSize && p.SnapL3Len < p.L3Len {
			hl = header.TCPMinSize
		}
		if d.portsOK(v6, l4Avail, 20, 40) {
			t := header.TCP(l4)
			p.SrcPort, p.DstPort = t.SrcPort(), t.DstPort()
			d.ssdp()
		} else if !d.v6NoPorts {
			p.Status |= StatL4Snapped
		}
		d.l7Lengths(hl)
	case header.IPProtoUDP, header.IPProtoUDPLite:
		if proto == header.IPProtoUDP {
			d.add("udp")
		} else {
			d.add("udplite")
		}
		d.l7Lengths(header.UDPSize)
		if d.portsOK(v6, l4Avail, 8, 28) {
			u := header.UDP(l4)
			p.SrcPort, p.DstPort = u.SrcPort(), u.DstPort()
			p.UDPLen = u.Length()
			d.udpPayload()
		} else if !d.v6NoPorts {
			p.Status |= StatL4Snapped
		}
	case header.IPProtoICMP:
		d.add("icmp")
		d.l7Lengths(8)
	case header.IPProtoICMPv6:
		d.add("icmpv6")
		d.l7Lengths(8)
	case header.IPProtoIGMP:
		d.add("igmp")
		d.l7Lengths(8)
		switch t := header.U8(l4, 0); {
		case t == 0x13:
			d.add("dvmrp")
		case t == 0x14:
			d.add("pim")
		case t >= 0xfc:
			d.add("rgmp")
		}
	case header.IPProtoSCTP:
		d.add("sctp")
		p.Status |= StatSCTP
		if d.portsOK(v6, l4Avail, 12, 36) {
			s := header.SCTP(l4)
			p.SrcPort, p.DstPort = s.SrcPort(), s.DstPort()
		} else if !d.v6NoPorts {
			p.Status |= StatL4Snapped
		}
		d.l7Lengths(12)
	case header.IPProtoOSPF:
		d.add("ospf")
		if header.U8(l4, 0) == 2 {
			d.l7Lengths(24)
		} else {
			d.l7Lengths(16)
		}
	case header.IPProtoESP:
		d.add("esp")
		p.Status |= StatESP
		d.l7Lengths(8)
	case header.IPProtoAH:
		// IPv4 AH: name, then the protocol it protects.
		d.add("ah")
		p.Status |= StatAH
		ahl := (int(header.U8(l4, 1)) + 2) * 4
		d.l7Lengths(ahl)
		d.addProtoName(header.U8(l4, 0))
	case header.IPProtoGRE:
		d.gre()
	case header.IPProtoIPIP, header.IPProtoIPv6:
		p.Status |= StatIPinIP
		if !d.cfg.Tunnels {
			d.addProtoName(proto)
			d.l7Lengths(8)
			return
		}
		if proto == header.IPProtoIPIP {
			d.l7Lengths(int(header.U8(l4, 0)&0x0f) * 4)
			d.ipByType(p.L4Off, header.EtherTypeIPv4)
		} else {
			d.l7Lengths(header.IPv6MinSize)
			d.ipByType(p.L4Off, header.EtherTypeIPv6)
		}
	case header.IPProtoEtherIP:
		d.add("etherip")
		p.Status |= StatEtherIP
		d.l7Lengths(2)
		if d.cfg.Tunnels {
			d.ethernet(p.L4Off + 2)
		}
	case header.IPProtoL2TP:
		d.add("l2tp")
		p.Status |= StatL2TP
		d.l7Lengths(8)
	case header.IPProtoPIM:
		d.add("pim")
		d.l7Lengths(8)
		// PIMv2 register messages carry the multicast packet after an
		// 8-byte header (PIM header + register flags).
		if d.cfg.Tunnels && header.U8(l4, 0) == 0x21 {
			d.ipByVersion(p.L4Off + 8)
		}
	case header.IPProtoNoNext:
		// No name (golden Teredo "…:teredo:ipv6"), no L4 header.
		d.l7Lengths(0)
	default:
		d.addProtoName(proto)
		if v6 {
			d.l7Lengths(0) // IPv6: unknown next header has no L4 length
		} else {
			d.l7Lengths(8)
		}
	}
}

// teredoOff skips Teredo authentication and origin indication headers.
func (d *Decoder) teredoOff(pay []byte) int {
	o := 0
	for o+2 <= len(pay) {
		switch header.Be16(pay, o) {
		case 0x0001: // authentication
			o += 4 + int(header.U8(pay, o+2)) + int(header.U8(pay, o+3)) + 9
			continue
		case 0x0000: // origin indication
			o += 8
			continue
		}
		break
	}
	return o
}

// teredo recognises a Teredo packet: a UDP payload that starts with an
// IPv6 header, on port 3544 or between Teredo addresses (golden
// gmail.pcapng: Teredo between two ephemeral ports).
func (d *Decoder) teredo(pay []byte, sp, dp uint16) bool {
	o := d.teredoOff(pay)
	if o+header.IPv6MinSize > len(pay) || pay[o]>>4 != 6 {
		return false
	}
	if sp == 3544 || dp == 3544 {
		return true
	}
	// Otherwise one address must be a Teredo address (2001:0::/32): rules
	// out DNS ids 0x6xxx and BitTorrent "d1:a…" (golden Teredo, gmail).
	ip := pay[o:]
	return (header.Be32(ip, 8) == 0x20010000 || header.Be32(ip, 24) == 0x20010000) &&
		int(header.Be16(ip, 4))+header.IPv6MinSize <= len(ip)
}

// portsOK tells whether the ports may be read: IPv6 needs min4 bytes of L4,
// IPv4 an IP length of at least min3 (core.md §4.2).
func (d *Decoder) portsOK(v6 bool, l4Avail, min4, min3 int) bool {
	if v6 {
		if l4Avail < min4 {
			// IPv6: no bit 35 for unreadable ports (golden
			// ipv6_invalid_length); undo the caller's bit.
			d.v6NoPorts = true
		}
		return l4Avail >= min4
	}
	return d.p.L3Len >= min3
}

// ssdp appends ":ssdp" for port 1900 against a port above 1024.
func (d *Decoder) ssdp() {
	p := d.p
	if (p.DstPort == 1900 && p.SrcPort > 1024) || (p.SrcPort == 1900 && p.DstPort > 1024) {
		d.add("ssdp")
		p.Status |= StatSSDP
	}
}

// gre dissects a GRE header at p.L4Off and its payload.
func (d *Decoder) gre() {
	p := d.p
	b := d.b
	d.add("gre")
	p.Status |= StatGRE
	d.sawGRE = true
	off := p.L4Off
	g := header.GRE(sliceFrom(b, off))
	hl := g.HeaderLength()
	d.l7Lengths(hl)
	if !d.cfg.Tunnels || d.n-off < 4 {
		return
	}
	proto := g.Protocol()
	in := off + hl
	switch proto {
	case header.EtherTypeIPv4, header.EtherTypeIPv6:
		d.ipByType(in, proto)
	case header.EtherTypePPP:
		d.add("ppp")
		p.Status |= StatPPP
		if in >= d.n {
			return
		}
		// PPP in PPTP: optional address/control, 1- or 2-byte protocol.
		if header.Be16(b, in) == 0xff03 {
			in += 2
		}
		pp := uint16(header.U8(b, in))
		if pp&1 == 0 {
			pp = header.Be16(b, in)
			in += 2
		} else {
			in++
		}
		switch pp {
		case 0x0021:
			d.ipByType(in, header.EtherTypeIPv4)
		case 0x0057:
			d.ipByType(in, header.EtherTypeIPv6)
		default:
			d.add("comp_data")
			p.Status |= StatPPPCompressed
		}
	case header.EtherTypeTEB:
		d.ethernet(in)
	case header.EtherTypeERSPAN, header.EtherTypeERSPAN3:
		d.erspan(proto, in, g.Flags()&header.GREFlagSeq == 0)
	case header.EtherTypeWCCP:
		d.add("wccp")
		p.Status |= StatWCCP
		// WCCPv2 redirect header (4 bytes) unless IPv4 follows directly.
		if header.U8(b, in)>>4 != 4 {
			in += 4
		}
		d.ipByVersion(in)
	case header.EtherTypeMPLSUC, header.EtherTypeMPLSMC:
		d.mpls(in, proto == header.EtherTypeMPLSMC)
	default:
		// Not decapsulated: stop dissecting (golden various_gre
		// "gre:wlccp" has bit 43 like "gre:UNK(0x8909)").
		p.Status |= StatStopDissect
		if name := etherTypeName(proto); name != "" {
			d.add(name)
		} else {
			d.addUnknown16(proto)
		}
	}
}

// udpPayload recognises UDP-based tunnels and protocols by port.
func (d *Decoder) udpPayload() {
	p := d.p
	b := d.b
	sp, dp := p.SrcPort, p.DstPort
	in := p.L4Off + header.UDPSize
	pay := sliceFrom(b, in)
	if d.cfg.Tunnels && p.FragOff == 0 {
		switch {
		case dp == 4789: // VXLAN
			// Only the plain I flag (golden vxlan-non-zero-reserved: flags
			// 0xff are not VXLAN to T2).
			if len(pay) >= 8 && pay[0] == 0x08 {
				d.add("vxlan")
				p.Status |= StatVXLAN
				d.ethernet(in + 8)
				return
			}
		case dp == 6081: // GENEVE
			// T2 leaves GENEVE with options alone (golden
			// geneve-many-options).
			if len(pay) >= 8 && pay[0]&0x3f == 0 {
				d.add("geneve")
				p.Status |= StatGENEVE
				gl := 8 + int(pay[0]&0x3f)*4
				switch header.Be16(pay, 2) {
				case header.EtherTypeTEB:
					d.ethernet(in + gl)
				case header.EtherTypeIPv4, header.EtherTypeIPv6:
					d.ipByType(in+gl, header.Be16(pay, 2))
				}
				return
			}
		case sp == 2152 || dp == 2152: // GTP-U
			if len(pay) >= 8 && pay[0]>>5 == 1 {
				d.add("gtp")
				p.Status |= StatGTP
				gl := 8
				if pay[0]&7 != 0 {
					gl = 12
					// Extension headers chain.
					for nt := header.U8(pay, 11); nt != 0 && gl < len(pay); {
						el := int(pay[gl]) * 4
						if el == 0 {
							break
						}
						nt = header.U8(pay, gl+el-1)
						gl += el
					}
				}
				if pay[1] == 0xff {
					d.ipByVersion(in + gl)
				}
				return
			}
		case sp == 2123 || dp == 2123:
			d.add("gtp")
			p.Status |= StatGTP
			return
		case d.teredo(pay, sp, dp):
			d.add("teredo")
			p.Status |= StatTeredo
			d.Stats.Teredo++
			d.ipv6(in + d.teredoOff(pay))
			return
		case sp == 5072 || dp == 5072: // AYIYA
			if len(pay) >= 4 {
				d.add("ayiya")
				p.Status |= StatAYIYA
				d.Stats.AYIYA++
				// Identity of 2^IDLen bytes, signature of SigLen words,
				// next header in byte 3.
				al := 8 + 1<<(pay[0]>>4) + 4*int(pay[1]>>4)
				switch pay[3] {
				case header.IPProtoIPv6:
					d.ipByType(in+al, header.EtherTypeIPv6)
				case header.IPProtoIPIP:
					d.ipByType(in+al, header.EtherTypeIPv4)
				}
				return
			}
		case sp == 1701 || dp == 1701: // L2TP
			d.l2tp(in)
			return
		case sp == capwapPortControl || dp == capwapPortControl:
			d.capwap(in, false)
			return
		case sp == capwapPortData || dp == capwapPortData:
			d.capwap(in, true)
			return
		case sp == 12222 || dp == 12222 || sp == 12223 || dp == 12223: // LWAPP
			d.add("lwapp")
			p.Status |= StatCAPWAP
			return
		}
	}
	if sp == 4500 || dp == 4500 {
		d.add("udpencap")
		if len(pay) >= 4 && header.Be32(pay, 0) != 0 {
			d.add("esp")
			p.Status |= StatESP
		} else {
			d.add("isakmp")
		}
		return
	}
	if (dp == 1900 && sp > 1024) || (sp == 1900 && dp > 1024) {
		d.add("ssdp")
		p.Status |= StatSSDP
		return
	}
	// DTLS record: content type 20..25, version 0xfeff (1.0) or 0xfefd (1.2).
	if len(pay) >= 13 && pay[0] >= 20 && pay[0] <= 25 && pay[1] == 0xfe {
		switch pay[2] {
		case 0xff:
			d.add("dtls1.0")
			p.Status |= StatDTLS
		case 0xfd:
			d.add("dtls1.2")
			p.Status |= StatDTLS
		}
	}
}

// l2tp dissects an L2TPv2 header over UDP and the PPP inside.
func (d *Decoder) l2tp(in int) {
	p := d.p
	b := d.b
	d.add("l2tp")
	p.Status |= StatL2TP
	f := header.Be16(b, in)
	if f&0x8000 != 0 || f&0x000f != 2 { // control message or not v2
		return
	}
	o := in + 2
	if f&0x4000 != 0 { // length
		o += 2
	}
	o += 4             // tunnel + session id
	if f&0x0800 != 0 { // sequence
		o += 4
	}
	if f&0x0200 != 0 { // offset
		o += 2 + int(header.Be16(b, o))
	}
	d.add("ppp")
	p.Status |= StatPPP
	if header.Be16(b, o) == 0xff03 {
		o += 2
	}
	switch header.Be16(b, o) {
	case 0x0021:
		d.ipByType(o+2, header.EtherTypeIPv4)
	case 0x0057:
		d.ipByType(o+2, header.EtherTypeIPv6)
	}
}

// enterIP makes the IP header at off the packet's innermost one and returns
// its l3Len (core.md §4.2/§4.3): the length the header claims, or the
// on-wire length when the length field is 0 (bit 47) or claims more. Only a
// zero field raises bit 47 (golden reassembly, ipv6_invalid_length).
func (d *Decoder) enterIP(off, claimed int, zeroField, v6 bool) int {
	p := d.p
	wireL3 := d.wire - off
	l3Len := claimed
	if zeroField {
		l3Len = wireL3
		p.Status |= StatPayloadLen
	} else if claimed > wireL3 {
		l3Len = wireL3
	}
	d.resetL3()
	d.commitMAC()
	d.haveIP = true
	if v6 {
		p.Kind = KindIPv6
		p.EthType = header.EtherTypeIPv6
	} else {
		p.Kind = KindIPv4
		p.EthType = header.EtherTypeIPv4
	}
	if d.n-off < l3Len {
		d.snapWarn(v6, off, claimed)
	}
	return l3Len
}
