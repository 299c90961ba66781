package decode

import (
	"strconv"

	"flowsift/internal/header"
)

// Link types (pcap LINKTYPE_/DLT_ values) the dissector understands.
const (
	LinkNull       = 0
	LinkEthernet   = 1
	LinkFDDI       = 10
	LinkRaw12      = 12
	LinkRaw14      = 14
	LinkPPP        = 9
	LinkPPPHDLC    = 50
	LinkRaw        = 101
	LinkCHDLC      = 104
	LinkIEEE80211  = 105
	LinkFrameRelay = 107
	LinkLoop       = 108
	LinkSLL        = 113
	LinkPrism      = 119
	LinkRadiotap   = 127
	LinkPPI        = 192
	LinkPPPDir     = 204
	LinkIPv4       = 228
	LinkIPv6       = 229
	LinkNFLOG      = 239
	LinkIPoIB      = 242
	LinkPKTAP      = 258
	LinkSLL2       = 276
	LinkSymantec   = 99
	// Juniper link types share a 4-byte magic + flags + extension header.
	LinkJuniperMLPPP    = 130
	LinkJuniperMLFR     = 131
	LinkJuniperES       = 132
	LinkJuniperGGSN     = 133
	LinkJuniperMFR      = 134
	LinkJuniperATM2     = 135
	LinkJuniperServices = 136
	LinkJuniperATM1     = 137
	LinkJuniperEther    = 178
	LinkJuniperPPP      = 179
	LinkJuniperFRelay   = 180
	LinkJuniperCHDLC    = 181
	LinkJuniperPPPoE    = 167
	LinkJuniperVP       = 183
	LinkJuniperST       = 200
)

// Config holds the run-time switches of the dissector. The defaults are
// Tranalyzer 0.9.3's: IPv4, IPv6 and L2 flows, every tunnel decapsulated.
type Config struct {
	L2Flows bool // non-IP frames become L2 flows (else KindNone)
	IPv4    bool // IPv4 flows
	IPv6    bool // IPv6 flows
	Tunnels bool // decapsulate GRE, IP-in-IP, UDP tunnels, ...
	// MaxIPHeaders bounds the IP headers a packet may traverse: T2 reads
	// the third IP header of a GRE-in-GRE packet only for its name, and
	// the flow is the second one (golden gre-within-gre).
	MaxIPHeaders int
	// MaxLayers bounds recursion through nested encapsulations.
	MaxLayers int
	// MaxIPv6Ext is the number of IPv6 extension headers walked.
	MaxIPv6Ext int
	// StaleBytes makes reads beyond the captured length see the bytes of
	// earlier records, like T2 on libpcap's reused buffer (else zeros).
	StaleBytes bool
	// RARPBodyIsPadding counts a RARP frame's whole Ethernet payload as
	// padding, like T2 (a 60-byte frame pads 46, not 18; docs/compat.md).
	RARPBodyIsPadding bool
	// L4Sums fills Packet.L4Sum: the transport checksum check (tcpFlags)
	// then reads the sum instead of the segment, which is in the decoding
	// goroutine's cache but not in the one of the goroutine that runs the
	// plugins.
	L4Sums bool
}

// DefaultConfig returns Tranalyzer 0.9.3's default dissector settings.
func DefaultConfig() Config {
	return Config{L2Flows: true, IPv4: true, IPv6: true, Tunnels: true,
		MaxIPHeaders: 2, MaxLayers: 16, MaxIPv6Ext: 5, StaleBytes: true,
		RARPBodyIsPadding: true}
}

// Stats are run-wide counters only the dissector can know; the engine
// prints them in the end report (core.md §13.3 items 21–22).
type Stats struct {
	LLC, GRE, LAPD, Teredo, AYIYA uint64
	MaxVLAN                       uint16 // most VLAN tags in one packet
	MaxMPLS                       uint16 // most MPLS labels in one packet
	IPv6Frag                      uint64 // header-walk count of core.md §6 "Counting"
	// SnapWarning is the first-time text of core.md §4.2 (without the
	// "[WRN] " prefix and colours); SnapWarned tells it was produced.
	SnapWarning []byte
	SnapWarned  bool
}

// Decoder dissects frames. It holds per-run state only (counters, scratch
// buffers); it is not safe for concurrent use.
type Decoder struct {
	Stats Stats
	cfg   Config

	p     *Packet
	b     []byte // bytes dissected: the capture, extended by stale bytes
	n     int    // captured bytes
	wire  int    // on-wire bytes (≥ n)
	first bool

	// Header description under construction: built in a larger scratch
	// buffer, cut to MaxDesc when copied to the packet.
	desc     [512]byte
	dlen     int
	lastName string
	lastPos  int // where the last aggregatable name starts (after ':')
	lastCnt  int

	layers  int // encapsulation depth (recursion bound)
	ipHdrs  int // IP headers met
	haveIP  bool
	ethSeen bool
	// L2-flow length bases (basicStats columns of L2 packets).
	l2Snap int // end of the outermost Ethernet header: snapL3Len base
	l2Pad  int // start of the payload the padding is measured from
	l2Len  int // payload length known from the L2 protocol (ARP, 802.3)
	// stale mirrors libpcap's reused record buffer over its first
	// staleSize bytes: T2 reads some fields beyond the captured length
	// and then sees what earlier, longer records left there.
	stale     [staleSize]byte
	v6NoPorts bool // IPv6 ports unreadable: no bit 35
	sawGRE    bool // a GRE header was walked (counted once per packet)
	lastEth   int  // start of the last Ethernet header walked
	// Pending first-time warnings (TakeWarnings).
	warn       []byte
	warnedNull bool
	// MACs of the last Ethernet(-like) header walked.
	hasMAC   bool
	src, dst [6]byte
}

// commitMAC hands the current MACs to the packet.
func (d *Decoder) commitMAC() {
	if d.hasMAC {
		d.p.HasMAC = true
		d.p.SrcMAC, d.p.DstMAC = d.src, d.dst
	}
}

// NewDecoder returns a decoder with the given configuration.
func NewDecoder(cfg Config) *Decoder {
	if cfg.MaxIPHeaders <= 0 {
		cfg.MaxIPHeaders = 2
	}
	if cfg.MaxLayers <= 0 {
		cfg.MaxLayers = 16
	}
	if cfg.MaxIPv6Ext <= 0 {
		cfg.MaxIPv6Ext = 5
	}
	return &Decoder{cfg: cfg, Stats: Stats{SnapWarning: make([]byte, 0, 128)}, warn: make([]byte, 0, 256)}
}

// TakeWarnings returns the first-time warnings raised since the last call,
// one per line without the "[WRN] " prefix (e.g. the snap-length warning of
// core.md §4.2), and forgets them. T2 prints them while reading, so the
// engine should call this after Decode when it is non-empty. The result
// is valid until the next Decode.
func (d *Decoder) TakeWarnings() []byte {
	w := d.warn
	d.warn = d.warn[:0]
	return w
}

// Decode dissects p.Data. The caller sets Num, TsSec, TsNsec, CapLen,
// WireLen, LinkType and Data; every other field is reset and filled.
func (d *Decoder) Decode(p *Packet) {
	// Cleared in place, the record's fields kept: building the new value
	// aside and copying it would write the struct twice.
	num, sec, nsec, capLen, wireLen, linkType, data := p.Num, p.TsSec, p.TsNsec, p.CapLen, p.WireLen, p.LinkType, p.Data
	*p = Packet{}
	p.Num, p.TsSec, p.TsNsec, p.CapLen, p.WireLen, p.LinkType, p.Data = num, sec, nsec, capLen, wireLen, linkType, data
	d.p = p
	d.n = len(p.Data)
	d.b = d.view(p.Data)
	p.View = d.b
	d.wire = int(p.WireLen)
	if d.wire < d.n {
		d.wire = d.n
	}
	d.first = true
	d.dlen = 0
	d.lastName = ""
	d.lastCnt = 0
	d.layers = 0
	d.ipHdrs = 0
	d.haveIP = false
	d.ethSeen = false
	d.l2Snap, d.l2Pad, d.l2Len = 0, 0, 0
	d.hasMAC = false
	d.v6NoPorts = false
	d.sawGRE = false
	d.lastEth = 0

	if d.n > 0 {
		d.link()
	}
	d.finish()
	// A later fragment holds no transport header: its bytes are summed
	// with those of its datagram, by the plugin that reassembles them.
	if d.cfg.L4Sums && p.FragOff == 0 && p.L4Len > 0 && p.L4Off > 0 && p.SnapL4Len >= p.L4Len && p.L4Off+p.L4Len <= len(p.Data) {
		p.L4Sum, p.L4Summed = header.Sum(p.Data[p.L4Off:p.L4Off+p.L4Len]), true
	}
}

// staleSize bounds the emulation of reads beyond the capture: such reads
// happen in the headers of short frames (and in l7Content of L2 flows
// behind an inner Ethernet header, golden EoMPLS: up to 391 bytes).
const staleSize = 512

// view returns the bytes to dissect: a short capture continues with the
// bytes earlier records left in the buffer (zeros at first), as T2 reads
// them through libpcap (golden 11_scan_udp: empty UDP probes after a DTLS
// record are DTLS to T2). Lengths always come from d.n, the capture.
func (d *Decoder) view(data []byte) []byte {
	if !d.cfg.StaleBytes {
		return data
	}
	if len(data) >= staleSize {
		copy(d.stale[:], data[:staleSize])
		return data
	}
	copy(d.stale[:], data)
	return d.stale[:]
}

// finish copies the description to the packet and applies the flow-kind
// switches.
func (d *Decoder) finish() {
	p := d.p
	if d.dlen > MaxDesc {
		copy(p.desc[:], d.desc[:MaxDesc-3])
		copy(p.desc[MaxDesc-3:], "...")
		p.descLen = MaxDesc
		p.Status |= StatDescOverrun
	} else {
		p.descLen = copy(p.desc[:], d.desc[:d.dlen])
	}
	switch p.Kind {
	case KindL2:
		if !d.cfg.L2Flows {
			p.Kind = KindNone
		}
	case KindIPv4:
		if !d.cfg.IPv4 {
			p.Kind = KindNone
		}
	case KindIPv6:
		if !d.cfg.IPv6 {
			p.Kind = KindNone
		}
	}
	// Offsets never point past the capture, so views such as
	// header.TCP(p.Data[p.L4Off:]) are always safe (they read zeros).
	n := len(p.Data)
	p.L3Off = min(p.L3Off, n)
	p.L4Off = min(p.L4Off, n)
	p.L7Off = min(p.L7Off, n)
	p.L2Payload = min(p.L2Payload, n)
	p.IP6HHOff = min(p.IP6HHOff, n)
	p.IP6DOff = min(p.IP6DOff, n)
	if p.NumVLAN > d.Stats.MaxVLAN {
		d.Stats.MaxVLAN = p.NumVLAN
	}
	if d.sawGRE {
		d.Stats.GRE++
	}
	if p.NumMPLS > d.Stats.MaxMPLS {
		d.Stats.MaxMPLS = p.NumMPLS
	}
}

// ---- header description -------------------------------------------------

func (d *Decoder) put(s string) {
	d.dlen += copy(d.desc[d.dlen:], s)
}

// add appends one header name (":name", no colon for the first one).
func (d *Decoder) add(name string) {
	d.p.NumHdrs++
	if !d.first {
		d.put(":")
	}
	d.first = false
	d.lastName = ""
	d.put(name)
}

// addAgg appends a name that aggregates with an identical predecessor into
// name{n} (VLAN and MPLS stacks).
func (d *Decoder) addAgg(name string) {
	if d.lastName == name && d.lastCnt > 0 {
		d.p.NumHdrs++
		d.lastCnt++
		d.dlen = d.lastPos + len(name)
		d.put("{")
		var b [20]byte
		d.dlen += copy(d.desc[d.dlen:], strconv.AppendInt(b[:0], int64(d.lastCnt), 10))
		d.put("}")
		return
	}
	d.add(name)
	d.lastName = name
	d.lastPos = d.dlen - len(name)
	d.lastCnt = 1
}

// addUnknown16 appends UNK(0xhhhh) and raises "stop dissecting".
func (d *Decoder) addUnknown16(v uint16) {
	var b [16]byte
	b[0], b[1], b[2], b[3], b[4], b[5] = 'U', 'N', 'K', '(', '0', 'x'
	b[6] = hexDigits[v>>12]
	b[7] = hexDigits[v>>8&15]
	b[8] = hexDigits[v>>4&15]
	b[9] = hexDigits[v&15]
	b[10] = ')'
	d.addBytes(b[:11])
	d.p.Status |= StatStopDissect
}

// addUnknown8 appends UNK(n) (decimal) and raises "stop dissecting".
func (d *Decoder) addUnknown8(v uint8) {
	var b [16]byte
	s := append(b[:0], "UNK("...)
	s = strconv.AppendUint(s, uint64(v), 10)
	s = append(s, ')')
	d.addBytes(s)
	d.p.Status |= StatStopDissect
}

func (d *Decoder) addBytes(s []byte) {
	d.p.NumHdrs++
	if !d.first {
		d.put(":")
	}
	d.first = false
	d.lastName = ""
	d.dlen += copy(d.desc[d.dlen:], s)
}

// deeper guards recursion through nested encapsulations.
func (d *Decoder) deeper() bool {
	d.layers++
	if d.layers > d.cfg.MaxLayers {
		d.p.Status |= StatStopDissect
		return false
	}
	return true
}

// ---- link layer -----------------------------------------------------------

func (d *Decoder) link() {
	p := d.p
	b := d.b
	switch p.LinkType & 0x03ffffff {
	case LinkEthernet:
		d.ethernet(0)
	case LinkNull, LinkLoop:
		p.Status |= StatNoEthernet
		d.add("null")
		if d.n < 4 {
			p.Status |= StatL2Snapped
			return
		}
		// NULL stores the family in host order, LOOP in network order;
		// accept either by looking at the non-zero half.
		fam := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
		if fam > 0xffff {
			fam = header.Be32(b, 0)
		}
		switch fam {
		case 2:
			d.ipByType(4, header.EtherTypeIPv4)
		case 10, 24, 28, 30:
			d.ipByType(4, header.EtherTypeIPv6)
		default:
			// Other families make no flow and raise no bit, only a
			// first-time warning (golden null_loopback #3).
			if !d.warnedNull {
				d.warnedNull = true
				d.warn = append(d.warn, "Null/Loopback header: unhandled family "...)
				d.warn = strconv.AppendUint(d.warn, uint64(fam), 10)
				d.warn = append(d.warn, '\n')
			}
		}
	case LinkRaw, LinkRaw12, LinkRaw14:
		p.Status |= StatNoEthernet
		d.add("raw")
		d.ipByVersion(0)
	case LinkIPv4:
		p.Status |= StatNoEthernet
		d.first = false // T2 writes no prefix: the description starts ":ipv4"
		d.ipByType(0, header.EtherTypeIPv4)
	case LinkIPv6:
		p.Status |= StatNoEthernet
		d.first = false
		d.ipByType(0, header.EtherTypeIPv6)
	case LinkSLL:
		d.add("sll")
		if d.n < 16 {
			p.Status |= StatL2Snapped
			return
		}
		// T2 takes the first 12 bytes of the cooked header as MACs
		// (basicFlow.md §1.3).
		d.hasMAC = true
		copy(d.dst[:], b[0:6])
		copy(d.src[:], b[6:12])
		d.l2Snap, d.l2Pad = 16, 16
		d.etherType(header.Be16(b, 14), 16)
	case LinkSLL2:
		d.add("sll2")
		if d.n < 20 {
			p.Status |= StatL2Snapped
			return
		}
		// The cooked v2 header carries only the sender's link address.
		if b[11] == 6 {
			d.hasMAC = true
			copy(d.src[:], b[12:18])
		}
		d.l2Snap, d.l2Pad = 20, 20
		d.etherType(header.Be16(b, 0), 20)
	case LinkPPP, LinkPPPHDLC, LinkPPPDir:
		p.Status |= StatNoEthernet | StatPPP
		off := 0
		if p.LinkType == LinkPPPDir {
			off = 1
		}
		d.add("ppp")
		if header.Be16(b, off) == 0xff03 {
			off += 2
		}
		if header.U8(b, off) == 0x0f || header.U8(b, off) == 0x8f {
			// Cisco HDLC framing in a PPP capture.
			d.add("chdlc")
			d.etherType(header.Be16(b, off+2), off+4)
			return
		}
		d.ppp(off)
	case LinkCHDLC, LinkJuniperCHDLC:
		p.Status |= StatNoEthernet
		d.add("chdlc")
		if d.n < 4 {
			p.Status |= StatL2Snapped
			return
		}
		d.etherType(header.Be16(b, 2), 4)
	case LinkFrameRelay:
		p.Status |= StatNoEthernet
		d.add("fr")
		d.frameRelay(0)
	case LinkPPI:
		d.add("ppi")
		hl := int(header.U8(b, 2)) | int(header.U8(b, 3))<<8
		dlt := uint32(header.U8(b, 4)) | uint32(header.U8(b, 5))<<8 | uint32(header.U8(b, 6))<<16 | uint32(header.U8(b, 7))<<24
		if hl < 8 || hl > d.n {
			p.Status |= StatL2Snapped
			return
		}
		d.inner(dlt, hl)
	case LinkRadiotap, LinkIEEE80211, LinkPrism:
		d.wirelessLink()
	case LinkNFLOG:
		d.add("nflog")
		d.nflog()
	case LinkPKTAP:
		d.add("pktap")
		// Header length (little endian) then the DLT of the payload.
		if d.n < 8 {
			p.Status |= StatL2Snapped
			return
		}
		hl := int(b[0]) | int(b[1])<<8 | int(b[2])<<16 | int(b[3])<<24
		dlt := uint32(b[4]) | uint32(b[5])<<8 | uint32(b[6])<<16 | uint32(b[7])<<24
		if hl < 8 || hl > d.n {
			p.Status |= StatL2Snapped
			return
		}
		d.inner(dlt, hl)
	case LinkIPoIB:
		d.add("ipoib")
		p.Status |= StatNoEthernet
		// RFC 4391 encapsulation header (type + reserved), preceded in
		// Linux captures by a 40-byte pseudo header holding the
		// destination QPN/GID (as Wireshark decodes it).
		hl := 4
		if d.n >= 44 && header.Be16(b, 42) == 0 && isIPoIBType(header.Be16(b, 40)) && !isIPoIBType(header.Be16(b, 0)) {
			hl = 44
		}
		if d.n < hl {
			p.Status |= StatL2Snapped
			return
		}
		d.l2Snap, d.l2Pad = hl, hl
		d.etherType(header.Be16(b, hl-4), hl)
	case LinkFDDI:
		d.add("fddi")
		d.fddi()
	case LinkSymantec:
		d.symantec()
	case LinkJuniperEther, LinkJuniperPPP, LinkJuniperPPPoE, LinkJuniperMLPPP,
		LinkJuniperMLFR, LinkJuniperES, LinkJuniperGGSN, LinkJuniperMFR,
		LinkJuniperATM2, LinkJuniperServices, LinkJuniperATM1,
		LinkJuniperFRelay, LinkJuniperVP, LinkJuniperST:
		d.add("juniper")
		d.juniper()
	default:
		p.Status |= StatStopDissect
	}
}

// symantecHdrSize is the length of the Symantec firewall link header.
const symantecHdrSize = 44

// symantec dissects a Symantec Enterprise Firewall frame: a 44-byte header
// with the ethertype at offset 6 (as tcpdump and tshark read it).
func (d *Decoder) symantec() {
	p := d.p
	d.add("symantec")
	p.Status |= StatNoEthernet
	if d.n < symantecHdrSize {
		p.Status |= StatL2Snapped
		return
	}
	d.l2Snap, d.l2Pad = symantecHdrSize, symantecHdrSize
	d.etherType(header.Be16(d.b, 6), symantecHdrSize)
}

// isIPoIBType reports the ethertypes IPoIB carries.
func isIPoIBType(t uint16) bool {
	return t == header.EtherTypeIPv4 || t == header.EtherTypeIPv6 || t == header.EtherTypeARP || t == header.EtherTypeRARP
}

// inner dissects the payload of an encapsulating pseudo header (PPI, PKTAP)
// according to the payload's link type.
func (d *Decoder) inner(dlt uint32, off int) {
	if !d.deeper() {
		return
	}
	b := d.b
	switch dlt {
	case LinkEthernet:
		d.ethernet(off)
	case LinkIEEE80211:
		d.wlan(off)
	case LinkRaw, LinkRaw12, LinkRaw14:
		d.p.Status |= StatNoEthernet
		d.ipByVersion(off)
	case LinkNull, LinkLoop:
		d.p.Status |= StatNoEthernet
		fam := uint32(header.U8(b, off)) | uint32(header.U8(b, off+1))<<8
		if fam == 0 {
			fam = uint32(header.Be16(b, off+2))
		}
		if fam == 2 {
			d.ipByType(off+4, header.EtherTypeIPv4)
		} else {
			d.ipByType(off+4, header.EtherTypeIPv6)
		}
	case LinkPPP:
		d.p.Status |= StatNoEthernet | StatPPP
		d.ppp(off)
	default:
		d.p.Status |= StatStopDissect
	}
}

// juniper skips the Juniper pseudo header (magic "MGC", flags, optional
// extension TLVs) and dissects what the flags say follows.
func (d *Decoder) juniper() {
	p := d.p
	b := d.b
	if d.n < 4 || b[0] != 'M' || b[1] != 'G' || b[2] != 'C' {
		p.Status |= StatStopDissect
		return
	}
	off := 4
	if b[3]&0x80 != 0 { // extensions present
		off += 2 + int(header.Be16(b, 4))
	}
	// Flag 0x01 only tells the direction; 0x02 says there is no L2
	// header but a 4-byte protocol word before IP (as tshark reads it).
	if b[3]&0x02 != 0 {
		p.Status |= StatNoEthernet
		d.ipByVersion(off + 4)
		return
	}
	switch p.LinkType {
	case LinkJuniperEther, LinkJuniperPPPoE: // PPPoE: an Ethernet frame follows
		d.ethernet(off)
	case LinkJuniperPPP:
		p.Status |= StatNoEthernet | StatPPP
		d.add("ppp")
		if header.Be16(b, off) == 0xff03 { // address and control
			off += 2
		}
		d.ppp(off)
	default:
		p.Status |= StatNoEthernet
		d.ipByVersion(off)
	}
}

// nflog walks the NFLOG TLVs to the payload TLV (type 9).
func (d *Decoder) nflog() {
	p := d.p
	b := d.b
	p.Status |= StatNoEthernet
	if d.n < 4 {
		p.Status |= StatL2Snapped
		return
	}
	fam := b[0]
	off := 4
	for off+4 <= d.n {
		tl := int(b[off]) | int(b[off+1])<<8 // little endian
		typ := int(b[off+2]) | int(b[off+3])<<8
		if tl < 4 {
			break
		}
		if typ&0x7fff == 9 {
			start := off + 4
			switch fam {
			case 2:
				d.ipByType(start, header.EtherTypeIPv4)
			case 10:
				d.ipByType(start, header.EtherTypeIPv6)
			default:
				d.ipByVersion(start)
			}
			return
		}
		off += (tl + 3) &^ 3
	}
	p.Status |= StatStopDissect
}

// fddi dissects an FDDI frame: FC byte, two MACs, then LLC/SNAP.
func (d *Decoder) fddi() {
	p := d.p
	b := d.b
	if d.n < 13 {
		p.Status |= StatL2Snapped
		return
	}
	fc := b[0]
	d.hasMAC = true
	copy(d.dst[:], b[1:7])
	copy(d.src[:], b[7:13])
	d.l2Snap, d.l2Pad = 13, 13
	if fc&0xf0 != 0x50 { // only async LLC frames carry data
		p.Status |= StatStopDissect
		d.l2Flow(uint16(fc), 13)
		return
	}
	d.llc(13, -1)
}

// frameRelay dissects a Q.922 address + NLPID / SNAP payload.
func (d *Decoder) frameRelay(off int) {
	p := d.p
	b := d.b
	if d.n-off < 4 {
		p.Status |= StatL2Snapped
		return
	}
	off += 2
	if b[off] == 0x03 { // UI
		off++
	}
	if header.U8(b, off) == 0 { // padding
		off++
	}
	switch header.U8(b, off) {
	case 0xcc:
		d.ipByType(off+1, header.EtherTypeIPv4)
	case 0x8e:
		d.ipByType(off+1, header.EtherTypeIPv6)
	case 0x80: // SNAP
		d.etherType(header.Be16(b, off+4), off+6)
	default:
		p.Status |= StatStopDissect
	}
}

// ppp dissects a PPP protocol field (1 or 2 bytes) at off.
func (d *Decoder) ppp(off int) {
	p := d.p
	b := d.b
	if off >= d.n {
		p.Status |= StatL2Snapped
		return
	}
	proto := uint16(b[off])
	if proto&1 == 0 { // two-byte protocol field
		proto = header.Be16(b, off)
		off += 2
	} else {
		off++
	}
	switch proto {
	case 0x0021:
		d.ipByType(off, header.EtherTypeIPv4)
	case 0x0057:
		d.ipByType(off, header.EtherTypeIPv6)
	case 0x0281, 0x0283:
		d.mpls(off, proto == 0x0283)
	default:
		// Non-IP PPP (LCP, compressed TCP/IP, ...) creates no flow
		// (golden PPP_TCP_compression).
		d.addUnknown16(proto)
		p.Kind = KindNone
	}
}

// ---- Ethernet and ethertypes ---------------------------------------------

// ethernet dissects an Ethernet II / 802.3 header at off (with VLANs).
func (d *Decoder) ethernet(off int) { d.ethernetLLC(off, true) }

// ethernetLLC dissects Ethernet; llc=false treats small type values as
// ethertypes (Ethernet over MPLS, golden EoMPLS: UNK(0x0026)).
func (d *Decoder) ethernetLLC(off int, llc bool) {
	p := d.p
	b := d.b
	if !d.deeper() {
		return
	}
	outer := !d.ethSeen
	d.ethSeen = true
	if d.n-off >= 6 && outer {
		// ISL (Cisco) and 802.3br preemption headers precede Ethernet.
		// ISL: destination 01-00-0c-00-00 or 03-00-0c-00-00.
		if off == 0 && d.n >= 26+14 && (b[0] == 0x01 || b[0] == 0x03) && b[1] == 0x00 && b[2] == 0x0c && b[3] == 0x00 && b[4] == 0x00 {
			d.add("isl")
			off += 26
		} else if off == 0 && d.n >= 8+14 && b[0] == 0x55 && b[1] == 0x55 && b[2] == 0x55 && b[3] == 0x55 && b[4] == 0x55 && b[5] == 0x55 && b[6] == 0x55 {
			d.add("fpp")
			off += 8
		}
	}
	if d.n-off < header.EthernetMinSize {
		p.Status |= StatL2Snapped
		if off == 0 {
			// Shorter than the link header: T2 skips the frame before
			// dissecting (golden trunc-hdr: 0 headers, not counted as a
			// packet without flow).
			p.Ignored = true
			return
		}
		d.add("eth")
		return
	}
	d.add("eth")
	eth := header.Ethernet(b[off:])
	// The MACs are those of the last Ethernet header before the header
	// that defines the flow (golden vxlan-inner-tcp-bad-checksum, EoMPLS,
	// erspan): committed by l2Flow and the IP dissectors.
	d.lastEth = off
	d.hasMAC = true
	d.dst = eth.DstAddr()
	d.src = eth.SrcAddr()
	typ := eth.Type()
	off += header.EthernetMinSize
	nv := uint16(0)
	for header.IsVLANTPID(typ) {
		if d.n-off < header.VLANSize {
			p.Status |= StatL2Snapped
			break
		}
		v := header.VLAN(b[off:])
		tci := v.TCI()
		if p.NumVLANTCI < MaxVLANRecorded && int(p.NumVLANTCI) == int(nv) {
			p.VLANTCI[p.NumVLANTCI] = tci
			p.NumVLANTCI++
		}
		nv++
		p.NumVLAN++
		p.VLANID = tci & 0x0fff
		if p.VLANID == 0 {
			p.Status |= StatVLANZero
		}
		p.Status |= StatVLAN
		d.addAgg("vlan")
		typ = v.Type()
		off += header.VLANSize
	}
	if outer {
		d.l2Snap = off
	}
	d.l2Pad = off
	if off >= d.n {
		// Nothing after the type field: no flow (core.md §4.1).
		p.Status |= StatL2Snapped
		p.EthType = typ
		return
	}
	if llc && (typ <= 1500 || typ == header.EtherTypeJumbo) {
		length := -1
		if typ <= 1500 {
			length = int(typ)
		}
		d.llc(off, length)
		return
	}
	d.etherType(typ, off)
}

// llc dissects an 802.2 LLC header (and SNAP) at off; length is the 802.3
// length field (-1 if unknown) used for padding.
func (d *Decoder) llc(off, length int) {
	p := d.p
	b := d.b
	d.add("llc")
	d.Stats.LLC++
	if length >= 0 {
		d.l2Len = length
	}
	if d.n-off < 3 {
		p.Status |= StatL2Snapped
		d.l2Flow(0, off)
		return
	}
	dsap, ssap := b[off], b[off+1]
	// For L2 flows the captured lengths start after the LLC header of the
	// outermost frame (golden packet-c: STP snapL3Len = caplen − 17).
	outer := off == d.l2Snap
	sap16 := uint16(dsap)<<8 | uint16(ssap)
	hl := 3
	if b[off+2]&3 != 3 { // I/S frames have a 2-byte control field
		hl = 4
	}
	if dsap == 0xaa && ssap == 0xaa {
		if d.n-off < 8 {
			p.Status |= StatL2Snapped
			d.l2Flow(sap16, off)
			return
		}
		pid := header.Be16(b, off+6)
		if outer {
			d.l2Snap = off + 8
		}
		d.etherType(pid, off+8)
		return
	}
	if outer {
		d.l2Snap = off + hl
	}
	if dsap == 0x06 && ssap == 0x06 {
		d.ipByType(off+hl, header.EtherTypeIPv4)
		return
	}
	if name := llcSAPName(dsap); name != "" {
		d.add(name)
	} else {
		d.addUnknown16(sap16)
	}
	d.l2Flow(sap16, off+hl)
}

// etherType dispatches on an ethertype whose payload starts at off.
func (d *Decoder) etherType(typ uint16, off int) {
	p := d.p
	b := d.b
	if !d.deeper() {
		return
	}
	switch typ {
	case header.EtherTypeIPv4, header.EtherTypeIPv6:
		d.ipByType(off, typ)
	case header.EtherTypeARP, header.EtherTypeAARP:
		if typ == header.EtherTypeARP {
			d.add("arp")
		} else {
			d.add("aarp")
		}
		d.l2Bit(StatARP)
		d.l2Len = d.arpLen(off)
		d.l2Flow(typ, off)
	case header.EtherTypeRARP:
		d.add("rarp")
		d.l2Bit(StatRARP)
		if !d.cfg.RARPBodyIsPadding {
			d.l2Len = d.arpLen(off)
		}
		d.l2Flow(typ, off)
	case header.EtherTypeMPLSUC, header.EtherTypeMPLSMC:
		d.mpls(off, typ == header.EtherTypeMPLSMC)
	case header.EtherTypePPPoED:
		d.add("pppoed")
		d.l2Bit(StatPPPoED)
		d.l2Flow(typ, off)
	case header.EtherTypePPPoES:
		d.add("pppoes")
		p.Status |= StatPPPoES
		d.add("ppp") // no bit 13 for PPPoE (golden pppoe-session-http)
		// A non-IP session payload stays an L2 flow of the PPPoE type.
		p.EthType = typ
		d.pppoeSession(off + header.PPPoESize)
	case header.EtherTypeLLDP:
		d.add("lldp")
		d.l2Bit(StatLLDP)
		d.l2Flow(typ, off)
	case header.EtherTypeERSPAN, header.EtherTypeERSPAN3:
		d.erspan(typ, off, false)
	case header.EtherTypeTEB:
		d.ethernet(off)
	case header.EtherTypeSlow:
		d.add("slow")
		switch header.U8(b, off) {
		case 1:
			d.add("lacp")
		case 2:
			d.add("marker")
		case 3:
			d.add("oampdu")
		case 10:
			d.add("ossp")
		}
		d.l2Flow(typ, off)
	default:
		if header.IsVLANTPID(typ) {
			// A tag seen after an encapsulation (e.g. MPLS pseudowire).
			d.add("vlan")
			d.l2Flow(typ, off)
			return
		}
		if name := etherTypeName(typ); name != "" {
			d.add(name)
			d.l2Bit(0) // inside an IP tunnel: stop dissecting
		} else {
			d.addUnknown16(typ)
		}
		d.l2Flow(typ, off)
	}
}

// l2Bit raises the status bit of an L2 protocol, or "stop dissecting" when
// the frame sits inside an IP tunnel (golden erspan: GRE-carried ARP gives
// bit 43, not bit 6).
func (d *Decoder) l2Bit(bit uint64) {
	if d.haveIP {
		d.p.Status |= StatStopDissect
	} else {
		d.p.Status |= bit
	}
}

// pppoeSession dissects the PPP protocol after a PPPoE session header.
func (d *Decoder) pppoeSession(off int) {
	p := d.p
	b := d.b
	if d.n-off < 2 {
		p.Status |= StatL2Snapped
		d.l2Flow(header.EtherTypePPPoES, off)
		return
	}
	proto := header.Be16(b, off)
	switch proto {
	case 0x0021:
		d.ipByType(off+2, header.EtherTypeIPv4)
	case 0x0057:
		d.ipByType(off+2, header.EtherTypeIPv6)
	default:
		// T2 prints the field byte-swapped (golden pppoe-session-http:
		// a compressed 0x21 protocol before 0x45 shows UNK(0x4521)).
		d.addUnknown16(proto<<8 | proto>>8)
		// T2 accounts these from the Ethernet payload (golden
		// pppoe-session-http): the PPPoE header is not skipped.
		d.l2Flow(header.EtherTypePPPoES, d.l2Pad)
	}
}

// arpLen is the ARP packet length from its address sizes.
func (d *Decoder) arpLen(off int) int {
	b := d.b
	if d.n-off < 6 {
		return 0
	}
	return 8 + 2*int(b[off+4]) + 2*int(b[off+5])
}

// mpls walks an MPLS label stack at off.
func (d *Decoder) mpls(off int, mcast bool) {
	p := d.p
	b := d.b
	if mcast {
		p.Status |= StatMPLSMcast
	} else {
		p.Status |= StatMPLSUcast
	}
	for {
		if d.n-off < 4 {
			d.addAgg("mpls")
			p.NumMPLS++
			p.Status |= StatL2Snapped
			d.l2Flow(header.EtherTypeMPLSUC, off)
			return
		}
		d.addAgg("mpls")
		p.NumMPLS++
		bos := header.MPLS(b[off:]).BottomOfStack()
		off += 4
		if bos {
			break
		}
	}
	if off >= d.n {
		p.Status |= StatL2Snapped
		d.l2Flow(header.EtherTypeMPLSUC, off)
		return
	}
	switch b[off] >> 4 {
	case 4:
		d.ipByType(off, header.EtherTypeIPv4)
	case 6:
		d.ipByType(off, header.EtherTypeIPv6)
	case 0:
		d.add("pwethcw")
		d.ethernetLLC(off+4, false)
	default:
		d.ethernet(off)
	}
}

// erspan dissects an ERSPAN header (type I/II via 0x88be, III via 0x22eb)
// and the mirrored Ethernet frame. seq reports the GRE sequence flag
// (type I has no ERSPAN header and no sequence number).
func (d *Decoder) erspan(typ uint16, off int, noSeq bool) {
	p := d.p
	b := d.b
	d.add("erspan")
	p.Status |= StatERSPAN
	switch {
	case typ == header.EtherTypeERSPAN3:
		hl := 12
		if header.U8(b, off+11)&1 != 0 { // optional subheader
			hl += 8
		}
		off += hl
	case noSeq:
		// Type I: no ERSPAN header.
	default:
		off += 8
	}
	d.ethernet(off)
}

// l2Flow marks the packet as an L2 flow (unless an enclosing IP header
// already defines the flow) and fills the L2 length fields
// (basicStats.md §3).
func (d *Decoder) l2Flow(typ uint16, off int) {
	p := d.p
	if d.haveIP {
		return
	}
	p.Kind = KindL2
	d.commitMAC()
	p.EthType = typ
	p.L2Payload = off
	p.L2HdrLen = off
	snap := d.n - d.l2Snap
	if snap < 0 {
		snap = 0
	}
	p.SnapL3Len, p.SnapL4Len, p.SnapL7Len = snap, snap, snap
	p.L3Len = 0
	p.L7Len = d.wire - off
	if p.L7Len < 0 {
		p.L7Len = 0
	}
	p.PktLen = uint16(p.L7Len)
	p.L7Off = off
	if p.WireLen <= 64 {
		p.PadLen = d.wire - d.l2Pad - d.l2Len
		if p.PadLen < 0 {
			p.PadLen = 0
		}
	}
}
