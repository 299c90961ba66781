// Package header provides zero-copy typed views of protocol headers in the
// style of gVisor's tcpip/header: a view is a byte slice starting at the
// header, and accessors decode fields in network byte order.
//
// Every accessor is safe on truncated data: a field that does not lie
// entirely inside the slice reads as 0 (address accessors return the zero
// value). Use the Valid methods (or compare len with the *MinSize constants)
// when 0 would be ambiguous.
package header

// be16 reads a big-endian uint16 at off, 0 if out of range.
func be16(b []byte, off int) uint16 {
	if off < 0 || off+2 > len(b) {
		return 0
	}
	return uint16(b[off])<<8 | uint16(b[off+1])
}

// be32 reads a big-endian uint32 at off, 0 if out of range.
func be32(b []byte, off int) uint32 {
	if off < 0 || off+4 > len(b) {
		return 0
	}
	return uint32(b[off])<<24 | uint32(b[off+1])<<16 | uint32(b[off+2])<<8 | uint32(b[off+3])
}

// u8 reads the byte at off, 0 if out of range.
func u8(b []byte, off int) uint8 {
	if off < 0 || off >= len(b) {
		return 0
	}
	return b[off]
}

// Be16 reads a big-endian uint16 at off of b, 0 if out of range.
func Be16(b []byte, off int) uint16 { return be16(b, off) }

// Be32 reads a big-endian uint32 at off of b, 0 if out of range.
func Be32(b []byte, off int) uint32 { return be32(b, off) }

// U8 reads the byte at off of b, 0 if out of range.
func U8(b []byte, off int) uint8 { return u8(b, off) }

// Ethernet header sizes and ethertypes used by the dissector.
const (
	EthernetMinSize = 14
	VLANSize        = 4

	EtherTypeIPv4     = 0x0800
	EtherTypeARP      = 0x0806
	EtherTypeRARP     = 0x8035
	EtherTypeAARP     = 0x80f3
	EtherTypeVLAN     = 0x8100
	EtherTypeQinQ     = 0x88a8
	EtherTypeQinQ9100 = 0x9100
	EtherTypeQinQ9200 = 0x9200
	EtherTypeIPv6     = 0x86dd
	EtherTypeMPLSUC   = 0x8847
	EtherTypeMPLSMC   = 0x8848
	EtherTypePPPoED   = 0x8863
	EtherTypePPPoES   = 0x8864
	EtherTypeLLDP     = 0x88cc
	EtherTypeERSPAN   = 0x88be
	EtherTypeERSPAN3  = 0x22eb
	EtherTypeSlow     = 0x8809
	EtherTypeJumbo    = 0x8870
	EtherTypeTEB      = 0x6558 // transparent Ethernet bridging (GRE, NVGRE)
	EtherTypePPP      = 0x880b
	EtherTypeWCCP     = 0x883e
	EtherTypeLoop     = 0x9000
)

// IsVLANTPID reports whether t is one of the VLAN tag protocol ids walked.
func IsVLANTPID(t uint16) bool {
	return t == EtherTypeVLAN || t == EtherTypeQinQ || t == EtherTypeQinQ9100 || t == EtherTypeQinQ9200
}

// Ethernet is an Ethernet II / 802.3 header.
type Ethernet []byte

// Valid reports whether the 14-byte header is present.
func (b Ethernet) Valid() bool { return len(b) >= EthernetMinSize }

// DstAddr returns the destination MAC (zero if truncated).
func (b Ethernet) DstAddr() (a [6]byte) {
	if len(b) >= 6 {
		copy(a[:], b[0:6])
	}
	return
}

// SrcAddr returns the source MAC (zero if truncated).
func (b Ethernet) SrcAddr() (a [6]byte) {
	if len(b) >= 12 {
		copy(a[:], b[6:12])
	}
	return
}

// Type returns the type/length field.
func (b Ethernet) Type() uint16 { return be16(b, 12) }

// VLAN is an 802.1Q tag without its TPID: TCI then the next type.
type VLAN []byte

// TCI returns the tag control information (PCP, DEI, VID).
func (b VLAN) TCI() uint16 { return be16(b, 0) }

// ID returns the 12-bit VLAN id.
func (b VLAN) ID() uint16 { return be16(b, 0) & 0x0fff }

// Type returns the encapsulated type.
func (b VLAN) Type() uint16 { return be16(b, 2) }

// IPv4 header.
type IPv4 []byte

// IPv4MinSize is the size of an IPv4 header without options.
const IPv4MinSize = 20

// IPv4 flag bits of the flags/fragment-offset word.
const (
	IPv4FlagReserved = 0x8000
	IPv4FlagDF       = 0x4000
	IPv4FlagMF       = 0x2000
	IPv4OffsetMask   = 0x1fff
)

// Valid reports whether the fixed 20-byte header is present.
func (b IPv4) Valid() bool { return len(b) >= IPv4MinSize }

// Version returns the version nibble.
func (b IPv4) Version() uint8 { return u8(b, 0) >> 4 }

// IHL returns the header length field in 32-bit words.
func (b IPv4) IHL() uint8 { return u8(b, 0) & 0x0f }

// HeaderLength returns IHL·4 in bytes.
func (b IPv4) HeaderLength() int { return int(b.IHL()) * 4 }

// TOS returns the type-of-service byte.
func (b IPv4) TOS() uint8 { return u8(b, 1) }

// TotalLength returns the total-length field.
func (b IPv4) TotalLength() uint16 { return be16(b, 2) }

// ID returns the identification field.
func (b IPv4) ID() uint16 { return be16(b, 4) }

// FlagsFragOff returns the flags + fragment-offset word.
func (b IPv4) FlagsFragOff() uint16 { return be16(b, 6) }

// FragmentOffset returns the fragment offset in 8-byte units.
func (b IPv4) FragmentOffset() uint16 { return be16(b, 6) & IPv4OffsetMask }

// MoreFragments reports the MF flag.
func (b IPv4) MoreFragments() bool { return be16(b, 6)&IPv4FlagMF != 0 }

// TTL returns the time to live.
func (b IPv4) TTL() uint8 { return u8(b, 8) }

// Protocol returns the protocol field.
func (b IPv4) Protocol() uint8 { return u8(b, 9) }

// Checksum returns the header checksum field.
func (b IPv4) Checksum() uint16 { return be16(b, 10) }

// SrcAddr returns the source address (zero if truncated).
func (b IPv4) SrcAddr() (a [4]byte) {
	if len(b) >= 16 {
		copy(a[:], b[12:16])
	}
	return
}

// DstAddr returns the destination address (zero if truncated).
func (b IPv4) DstAddr() (a [4]byte) {
	if len(b) >= 20 {
		copy(a[:], b[16:20])
	}
	return
}

// Options returns the captured option bytes (IHL·4 − 20, clipped).
func (b IPv4) Options() []byte {
	hl := b.HeaderLength()
	if hl <= IPv4MinSize || len(b) <= IPv4MinSize {
		return nil
	}
	if hl > len(b) {
		hl = len(b)
	}
	return b[IPv4MinSize:hl]
}

// IPv6 header.
type IPv6 []byte

// IPv6MinSize is the fixed IPv6 header size.
const IPv6MinSize = 40

// Valid reports whether the fixed 40-byte header is present.
func (b IPv6) Valid() bool { return len(b) >= IPv6MinSize }

// Version returns the version nibble.
func (b IPv6) Version() uint8 { return u8(b, 0) >> 4 }

// TrafficClass returns the traffic class.
func (b IPv6) TrafficClass() uint8 { return uint8(be16(b, 0) >> 4) }

// FlowLabel returns the 20-bit flow label.
func (b IPv6) FlowLabel() uint32 { return be32(b, 0) & 0xfffff }

// PayloadLength returns the payload-length field.
func (b IPv6) PayloadLength() uint16 { return be16(b, 4) }

// NextHeader returns the next-header field.
func (b IPv6) NextHeader() uint8 { return u8(b, 6) }

// HopLimit returns the hop limit.
func (b IPv6) HopLimit() uint8 { return u8(b, 7) }

// SrcAddr returns the source address (zero if truncated).
func (b IPv6) SrcAddr() (a [16]byte) {
	if len(b) >= 24 {
		copy(a[:], b[8:24])
	}
	return
}

// DstAddr returns the destination address (zero if truncated).
func (b IPv6) DstAddr() (a [16]byte) {
	if len(b) >= 40 {
		copy(a[:], b[24:40])
	}
	return
}

// IPv6 extension header / protocol numbers.
const (
	IPProtoHopOpts  = 0
	IPProtoICMP     = 1
	IPProtoIGMP     = 2
	IPProtoIPIP     = 4
	IPProtoTCP      = 6
	IPProtoUDP      = 17
	IPProtoIPv6     = 41
	IPProtoRouting  = 43
	IPProtoFragment = 44
	IPProtoGRE      = 47
	IPProtoESP      = 50
	IPProtoAH       = 51
	IPProtoICMPv6   = 58
	IPProtoNoNext   = 59
	IPProtoDstOpts  = 60
	IPProtoEtherIP  = 97
	IPProtoPIM      = 103
	IPProtoL2TP     = 115
	IPProtoSCTP     = 132
	IPProtoUDPLite  = 136
	IPProtoOSPF     = 89
	IPProtoMobility = 135
)

// IPv6Ext is a generic IPv6 extension header (hop-by-hop, routing,
// destination options): next header, length in 8-byte units beyond the first.
type IPv6Ext []byte

// NextHeader returns the next-header field.
func (b IPv6Ext) NextHeader() uint8 { return u8(b, 0) }

// Length returns the header length in bytes ((len+1)·8).
func (b IPv6Ext) Length() int { return (int(u8(b, 1)) + 1) * 8 }

// IPv6Fragment is the IPv6 fragment extension header.
type IPv6Fragment []byte

// IPv6FragmentSize is its fixed size.
const IPv6FragmentSize = 8

// NextHeader returns the next-header field.
func (b IPv6Fragment) NextHeader() uint8 { return u8(b, 0) }

// OffsetWord returns the offset/flags word (offset<<3 | M).
func (b IPv6Fragment) OffsetWord() uint16 { return be16(b, 2) }

// FragmentOffset returns the offset in 8-byte units.
func (b IPv6Fragment) FragmentOffset() uint16 { return be16(b, 2) >> 3 }

// More reports the M flag.
func (b IPv6Fragment) More() bool { return be16(b, 2)&1 != 0 }

// ID returns the identification.
func (b IPv6Fragment) ID() uint32 { return be32(b, 4) }

// TCP header.
type TCP []byte

// TCPMinSize is the size of a TCP header without options.
const TCPMinSize = 20

// TCP flag bits.
const (
	TCPFlagFIN = 0x01
	TCPFlagSYN = 0x02
	TCPFlagRST = 0x04
	TCPFlagPSH = 0x08
	TCPFlagACK = 0x10
	TCPFlagURG = 0x20
	TCPFlagECE = 0x40
	TCPFlagCWR = 0x80
)

// Valid reports whether the fixed 20-byte header is present.
func (b TCP) Valid() bool { return len(b) >= TCPMinSize }

// SrcPort returns the source port.
func (b TCP) SrcPort() uint16 { return be16(b, 0) }

// DstPort returns the destination port.
func (b TCP) DstPort() uint16 { return be16(b, 2) }

// Seq returns the sequence number.
func (b TCP) Seq() uint32 { return be32(b, 4) }

// Ack returns the acknowledgement number.
func (b TCP) Ack() uint32 { return be32(b, 8) }

// DataOffset returns the data-offset field in 32-bit words.
func (b TCP) DataOffset() uint8 { return u8(b, 12) >> 4 }

// HeaderLength returns DataOffset·4 in bytes.
func (b TCP) HeaderLength() int { return int(b.DataOffset()) * 4 }

// Flags returns the 8 classic flag bits (CWR..FIN).
func (b TCP) Flags() uint8 { return u8(b, 13) }

// Flags12 returns the 12-bit flag field including the reserved/AE bits.
func (b TCP) Flags12() uint16 { return be16(b, 12) & 0x0fff }

// Window returns the raw window field.
func (b TCP) Window() uint16 { return be16(b, 14) }

// Checksum returns the checksum field.
func (b TCP) Checksum() uint16 { return be16(b, 16) }

// UrgentPointer returns the urgent pointer.
func (b TCP) UrgentPointer() uint16 { return be16(b, 18) }

// Options returns the captured option bytes (DataOffset·4 − 20, clipped).
func (b TCP) Options() []byte {
	hl := b.HeaderLength()
	if hl <= TCPMinSize || len(b) <= TCPMinSize {
		return nil
	}
	if hl > len(b) {
		hl = len(b)
	}
	return b[TCPMinSize:hl]
}

// UDP header (also UDP-Lite, whose length field is the checksum coverage).
type UDP []byte

// UDPSize is the UDP header size.
const UDPSize = 8

// Valid reports whether the 8-byte header is present.
func (b UDP) Valid() bool { return len(b) >= UDPSize }

// SrcPort returns the source port.
func (b UDP) SrcPort() uint16 { return be16(b, 0) }

// DstPort returns the destination port.
func (b UDP) DstPort() uint16 { return be16(b, 2) }

// Length returns the length field.
func (b UDP) Length() uint16 { return be16(b, 4) }

// Checksum returns the checksum field.
func (b UDP) Checksum() uint16 { return be16(b, 6) }

// ICMP header (ICMPv4 and ICMPv6 share the first 8 bytes' layout).
type ICMP []byte

// ICMPMinSize is the size of the fixed ICMP header part.
const ICMPMinSize = 8

// Valid reports whether the 8-byte header is present.
func (b ICMP) Valid() bool { return len(b) >= ICMPMinSize }

// Type returns the message type.
func (b ICMP) Type() uint8 { return u8(b, 0) }

// Code returns the message code.
func (b ICMP) Code() uint8 { return u8(b, 1) }

// Checksum returns the checksum field.
func (b ICMP) Checksum() uint16 { return be16(b, 2) }

// ID returns the echo identifier.
func (b ICMP) ID() uint16 { return be16(b, 4) }

// Seq returns the echo sequence number.
func (b ICMP) Seq() uint16 { return be16(b, 6) }

// SCTP common header.
type SCTP []byte

// SCTPMinSize is the common header size.
const SCTPMinSize = 12

// SrcPort returns the source port.
func (b SCTP) SrcPort() uint16 { return be16(b, 0) }

// DstPort returns the destination port.
func (b SCTP) DstPort() uint16 { return be16(b, 2) }

// GRE header (RFC 2784/2890, and PPTP's enhanced GRE v1).
type GRE []byte

// GRE flag bits of the first word.
const (
	GREFlagChecksum = 0x8000
	GREFlagRouting  = 0x4000
	GREFlagKey      = 0x2000
	GREFlagSeq      = 0x1000
	GREFlagStrict   = 0x0800
	GREFlagAck      = 0x0080
)

// Flags returns the first 16-bit word (flags, recursion, version).
func (b GRE) Flags() uint16 { return be16(b, 0) }

// Version returns the 3-bit version.
func (b GRE) Version() uint8 { return uint8(be16(b, 0) & 7) }

// Protocol returns the protocol type.
func (b GRE) Protocol() uint16 { return be16(b, 2) }

// HeaderLength returns the header length implied by the flags (routing
// entries not counted).
func (b GRE) HeaderLength() int {
	f := b.Flags()
	n := 4
	if f&(GREFlagChecksum|GREFlagRouting) != 0 {
		n += 4
	}
	if f&GREFlagKey != 0 {
		n += 4
	}
	if f&GREFlagSeq != 0 {
		n += 4
	}
	if f&7 == 1 && f&GREFlagAck != 0 {
		n += 4
	}
	return n
}

// ARP header (Ethernet/IPv4 flavour).
type ARP []byte

// Op returns the operation.
func (b ARP) Op() uint16 { return be16(b, 6) }

// PPPoE header (6 bytes).
type PPPoE []byte

// PPPoESize is the PPPoE header size.
const PPPoESize = 6

// Code returns the PPPoE code.
func (b PPPoE) Code() uint8 { return u8(b, 1) }

// SessionID returns the session id.
func (b PPPoE) SessionID() uint16 { return be16(b, 2) }

// Length returns the payload length.
func (b PPPoE) Length() uint16 { return be16(b, 4) }

// MPLS label stack entry.
type MPLS []byte

// Label returns the 20-bit label.
func (b MPLS) Label() uint32 { return be32(b, 0) >> 12 }

// BottomOfStack reports the S bit.
func (b MPLS) BottomOfStack() bool { return u8(b, 2)&1 != 0 }

// TTL returns the TTL.
func (b MPLS) TTL() uint8 { return u8(b, 3) }
