// Package decode dissects a captured frame into a Packet: the layers walked,
// the header description, the innermost IP header and L4 ports, the lengths
// the plugins account with, and the flowStat bits the dissection raised
// (spec core.md §4). A Packet is reused for every frame: decoding allocates
// nothing.
package decode

// Status bits (flowStat, core.md §8) raised by dissection.
const (
	StatInverted      uint64 = 1 << 0
	StatNoEthernet    uint64 = 1 << 1
	StatL2Flow        uint64 = 1 << 2
	StatPPPoED        uint64 = 1 << 3
	StatPPPoES        uint64 = 1 << 4
	StatLLDP          uint64 = 1 << 5
	StatARP           uint64 = 1 << 6
	StatRARP          uint64 = 1 << 7
	StatVLAN          uint64 = 1 << 8
	StatMPLSUcast     uint64 = 1 << 9
	StatMPLSMcast     uint64 = 1 << 10
	StatL2TP          uint64 = 1 << 11
	StatGRE           uint64 = 1 << 12
	StatPPP           uint64 = 1 << 13
	StatIPv4Flow      uint64 = 1 << 14
	StatIPv6Flow      uint64 = 1 << 15
	StatIPvX          uint64 = 1 << 16
	StatIPinIP        uint64 = 1 << 17
	StatEtherIP       uint64 = 1 << 18
	StatTeredo        uint64 = 1 << 19
	StatAYIYA         uint64 = 1 << 20
	StatGTP           uint64 = 1 << 21
	StatVXLAN         uint64 = 1 << 22
	StatCAPWAP        uint64 = 1 << 23
	StatSCTP          uint64 = 1 << 24
	StatSSDP          uint64 = 1 << 25
	StatERSPAN        uint64 = 1 << 26
	StatWCCP          uint64 = 1 << 27
	StatSIP           uint64 = 1 << 28
	StatGENEVE        uint64 = 1 << 29
	StatAH            uint64 = 1 << 30
	StatESP           uint64 = 1 << 31
	StatL2Snapped     uint64 = 1 << 32
	StatL3SnapLen     uint64 = 1 << 33
	StatL3Snapped     uint64 = 1 << 34
	StatL4Snapped     uint64 = 1 << 35
	StatFrag          uint64 = 1 << 36
	StatFragError     uint64 = 1 << 37
	StatFragMissing   uint64 = 1 << 38
	StatFragPending   uint64 = 1 << 39
	StatAutopilot     uint64 = 1 << 42
	StatStopDissect   uint64 = 1 << 43
	StatDupIPID       uint64 = 1 << 44
	StatPPPCompressed uint64 = 1 << 45
	StatIHLShort      uint64 = 1 << 46
	StatPayloadLen    uint64 = 1 << 47
	StatDescOverrun   uint64 = 1 << 48
	StatLand          uint64 = 1 << 50
	StatTimeJump      uint64 = 1 << 51
	StatTor           uint64 = 1 << 56
	StatVLANZero      uint64 = 1 << 57
	StatIPv4Pkt       uint64 = 1 << 58
	StatIPv6Pkt       uint64 = 1 << 59
	StatDTLS          uint64 = 1 << 61
	StatCapReduced    uint64 = 1 << 63
)

// Flow kinds of a decoded packet.
const (
	KindNone uint8 = iota // no flow: dropped by the dissector (counts only globally)
	KindL2                // layer-2 flow keyed by MACs and ethertype
	KindIPv4
	KindIPv6
)

// MaxDesc is the longest header description kept (core.md §4.4).
const MaxDesc = 128

// MaxVLANRecorded is how many VLAN tags basicFlow records (basicFlow.md §3).
const MaxVLANRecorded = 3

// Packet is one captured frame and what dissection found in it. Offsets index
// Data. It is overwritten by every Decode call; nothing in it outlives the
// packet except what plugins copy.
type Packet struct {
	// The fields the main goroutine reads for every packet come first, in
	// the fewest cache lines (five): the reader goroutine writes a packet
	// on one processor and the main goroutine reads it on the other, so
	// each line read is a transfer between them. What only some packets
	// need (IPv6 options, VLAN tags, the description's tail) comes last.

	// Capture record.
	Num   uint64 // 1-based index over the whole input, counting every record read
	TsSec uint64
	Data  []byte // captured bytes; valid until the next packet
	// View is Data continued past CapLen with the bytes T2 would read
	// there (earlier frames' bytes left in libpcap's buffer, zeros at
	// first; see Config.StaleBytes). Same offsets as Data. Code that must
	// reproduce T2 reading header fields beyond the capture (e.g. a TCP
	// header cut by an IP fragment) reads them from View. Set by Decode,
	// valid until the next Decode.
	View []byte

	// Dissection result.
	Status  uint64 // flowStat bits raised by this packet (core.md §8)
	TsNsec  uint32
	CapLen  uint32 // captured bytes (len(Data))
	WireLen uint32 // on-wire length from the record header
	IPID    uint32 // IPv4 identification; IPv6 fragment identification

	// L4Sum is the one's-complement sum (header.Sum) of the L4 bytes
	// Data[L4Off:L4Off+L4Len] when L4Summed: with Config.L4Sums, for a
	// packet whose L4 bytes are all captured and that is not a later
	// fragment.
	L4Sum uint64

	// Layer 3 (innermost IP header).
	L3Off     int // offset of the IP header in Data
	L3HdrLen  int // IHL·4 (IPv4) or 40 + extension headers walked (IPv6)
	L3Len     int // IP length used (core.md §4.2)
	SnapL3Len int // captured bytes from L3 on, clipped to L3Len

	// Layer 4.
	L4Off     int // offset of the L4 header in Data (valid when L4Len > 0 or SnapL4Len > 0)
	L4HdrLen  int // "l4HdrOff" of core.md §4.2
	L4Len     int // L3Len − L3HdrLen
	SnapL4Len int // captured bytes from L4 on (clipped)

	// Layer 7.
	L7Off     int // offset of the L7 payload in Data
	L7Len     int // L7 length from the headers (may be negative before clamping: see PktLen)
	SnapL7Len int // captured L7 bytes
	PadLen    int // Ethernet padding of this frame (basicStats padLen), may be negative

	// LinkHdrLen is the "link header length" T2 adds to an IPv4 packet's
	// l3Len for the end-report bandwidth (core.md §13.3 item 27): from the
	// start of the last Ethernet header walked (frame start if none) to
	// the flow's IP header (golden erspan, EoMPLS, gre-erspan-vxlan).
	LinkHdrLen int
	descLen    int

	SrcIP  [16]byte // IPv4 in the first 4 bytes
	DstIP  [16]byte
	SrcMAC [6]byte
	DstMAC [6]byte
	// NumHdrs counts every header, aggregated ones with their multiplicity.
	NumHdrs uint16
	EthType uint16 // innermost ethertype (0x0800/0x86dd for IP; LLC DSAP/SSAP for LLC)
	VLANID  uint16 // 12-bit VID of the innermost tag (flow key)
	NumVLAN uint16 // VLAN tags walked in this packet

	// Fragments (core.md §6).
	FragOff  uint16 // offset in 8-byte units (IPv4 or IPv6 fragment header)
	FragWord uint16 // IPv4 flags+offset word / IPv6 fragment offset word, host order

	SrcPort uint16
	DstPort uint16
	UDPLen  uint16 // UDP/UDP-Lite length field (first or unfragmented packets), else 0
	PktLen  uint16 // per-packet length handed to plugins (L7 length, core.md §4.2; negative: 0 for IPv4, wrapped for IPv6)

	Kind uint8 // KindNone, KindL2, KindIPv4 or KindIPv6
	// Ignored marks a frame shorter than its Ethernet header: like a
	// caplen-0 record it counts as processed (and in the headers count,
	// with 0 headers) but not as a packet without flow (golden trunc-hdr).
	Ignored   bool
	HasMAC    bool  // SrcMAC/DstMAC valid (Ethernet-like header, basicFlow.md §1.3)
	Proto     uint8 // innermost L4 protocol (IPv6: last next header walked)
	TTL       uint8
	ToS       uint8
	MoreFrags bool // MF / M flag
	L4Summed  bool
	TCPFlags  uint8 // TCP flags byte (byte 13) when captured, else 0

	// The description: its first bytes are read for every packet.
	desc [MaxDesc + 8]byte

	// Rarer.
	LinkType   uint32 // pcap DLT / LINKTYPE of the record's interface
	HasFragHdr bool   // IPv6 fragment header present
	NumVLANTCI uint8  // TCIs recorded per basicFlow.md §3
	VLANTCI    [MaxVLANRecorded]uint16
	NumMPLS    uint16 // MPLS labels walked
	L2HdrLen   int    // offset of the innermost L3 header (link + tunnel headers): bandwidth uses it
	L2Payload  int    // L2 flows: offset where the payload after link header and type starts
	IP6HHOff   int    // IPv6 hop-by-hop options area (after the 2-byte header), 0 if absent
	IP6HHLen   int    // its length: (hdr len + 1)·8 − 2
	IP6DOff    int    // IPv6 destination options area, 0 if absent
	IP6DLen    int
}

// Desc returns the header description (e.g. "eth:vlan{2}:ipv4:tcp").
func (p *Packet) Desc() []byte { return p.desc[:p.descLen] }

// IsLaterFragment reports whether the packet is a non-first fragment.
func (p *Packet) IsLaterFragment() bool { return p.FragOff != 0 }

// IsFragment reports whether the packet is part of a fragmented datagram
// (first fragment with MF, or any later fragment).
func (p *Packet) IsFragment() bool { return p.FragOff != 0 || p.MoreFrags }

// L7 returns the captured L7 bytes: SnapL7Len bytes from L7Off. Where
// that runs past the capture (L2 flows behind an inner Ethernet header,
// whose snap length counts from the outer one) T2 prints the stale bytes
// that follow, so they come from View (golden EoMPLS).
func (p *Packet) L7() []byte {
	if p.SnapL7Len <= 0 || p.L7Off > len(p.Data) {
		return nil
	}
	b := p.Data
	end := p.L7Off + p.SnapL7Len
	if end > len(b) && len(p.View) > len(b) {
		b = p.View
	}
	if end > len(b) {
		end = len(b)
	}
	return b[p.L7Off:end]
}
