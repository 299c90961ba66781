package tcpflags

import (
	"flowsift/internal/column"
	"flowsift/internal/decode"
	"flowsift/internal/flow"
	"flowsift/internal/header"
)

// carryMask lists the tcpFStat bits carried from packet to packet (§5.1).
const carryMask = 0x0001 | 0x0002 | 0x0010 | 0x0200 | 0x0800 | 0x8000

// IP protocol numbers with an L4 checksum (§5.3).
const (
	protoICMP    = 1
	protoIGMP    = 2
	protoTCP     = 6
	protoUDP     = 17
	protoGRE     = 47
	protoICMPv6  = 58
	protoOSPF    = 89
	protoUDPLite = 136
)

// pktVals collects what the packet file prints for one packet.
type pktVals struct {
	tos                    uint8
	ipID                   uint16
	ipIDDiff               int32
	ipFrag                 uint16
	ttl                    uint8
	ipHdrChk, ipCalChk     uint16
	l4HdrChk, l4CalChk     uint16
	ipFlags                uint16
	ipOptLen               int
	tcp                    bool
	seq, ack, seqMax       uint32
	seqDiff, ackDiff       int32
	seqLen, ackLen         uint32
	local, flags, anomaly  uint16
	win                    uint32
	ws                     uint16
	mpTyp, mpF, mpAID, mpD uint8
	optLen                 int
	optOff                 int
	l7                     int
	ipOptOff               int
}

// NewFlow implements plugin.Plugin: state at flow creation (§4).
func (p *Plugin) NewFlow(f *flow.Flow, pk *decode.Packet) {
	s := p.store.At(f.Slot)
	*s = state{}
	if p.cfg.flgCnt {
		*p.flgCnts.At(f.Slot) = [16]uint16{}
	}
	s.ipMinID = 0xffff
	s.rttMin = 65535
	if f.IsL2() || pk.Kind == decode.KindL2 || pk.Kind == decode.KindNone {
		return
	}
	d := p.frame(pk)
	var iv ipView
	iv.set(pk, d)
	s.prevTTL, s.minTTL, s.maxTTL = iv.ttl, iv.ttl, iv.ttl
	if pk.Kind == decode.KindIPv4 {
		s.prevIPID = iv.id
	}
	// Read even from a later fragment's payload (golden frag-ip-tcp: a
	// headless TCP flow gets tcpISeqN 0x41414141 from "AAAA").
	if pk.Proto == protoTCP {
		l4 := l4Off(pk)
		seq := u32(d, l4+4)
		s.isn, s.seqLast, s.seqNext, s.seqMax = seq, seq, seq, seq
		s.ackLast = u32(d, l4+8)
		if u8(d, l4+13) == fSYN && pk.SnapL7Len > 0 {
			s.anomaly |= 0x4000
		}
	}
	// Relative ack base for SPKTMD_SEQACKREL (§9).
	s.ackBase = s.ackLast
	if f.Partner != nil {
		o := p.store.At(f.Partner.Slot)
		s.ackBase = o.isn
		o.ackBase = s.isn
	}
}

// ipView is the IP header tcpFlags reads its IP fields from. It is the
// flow's header except for GRE-in-GRE, where T2's dissector has read a
// third IPv4 header (only named in hdrDesc) after the flow's: tcpFlags then
// sees that header's TTL, ToS, ID, checksum, options and addresses (golden
// gre-within-gre).
type ipView struct {
	off, ihl, snap, l3Len int
	ttl, tos              uint8
	id                    uint16
	src, dst              []byte
}

// set fills v with the IP header of pk, in place: built in a temporary
// and copied, the record was read back with wide loads right after its
// narrow stores, which the processor cannot forward (a stall per load on
// every packet).
func (v *ipView) set(pk *decode.Packet, d []byte) {
	v.off, v.ihl, v.snap, v.l3Len = pk.L3Off, pk.L3HdrLen, pk.SnapL3Len, pk.L3Len
	v.ttl, v.tos, v.id = pk.TTL, pk.ToS, uint16(pk.IPID)
	n := 4
	if pk.Kind == decode.KindIPv6 {
		n = 16
	}
	v.src, v.dst = pk.SrcIP[:n], pk.DstIP[:n]
	if pk.Kind != decode.KindIPv4 || pk.Proto != protoGRE || pk.FragOff != 0 {
		return
	}
	g := l4Off(pk)
	fl := u16(d, g)
	if u16(d, g+2) != 0x0800 || fl&0x4000 != 0 {
		return
	}
	in := g + 4
	for _, b := range [...]uint16{0x8000, 0x2000, 0x1000} {
		if fl&b != 0 {
			in += 4
		}
	}
	if in+20 > len(pk.Data) || d[in]>>4 != 4 || d[in]&0x0f < 5 {
		return
	}
	v.off, v.ihl = in, int(d[in]&0x0f)*4
	v.snap, v.l3Len = len(pk.Data)-in, int(u16(d, in+2))
	if v.snap > v.l3Len {
		v.snap = v.l3Len
	}
	v.ttl, v.tos, v.id = d[in+8], d[in+1], u16(d, in+4)
	v.src, v.dst = d[in+12:in+16], d[in+16:in+20]
}

// frame returns the bytes tcpFlags reads this packet's headers from, and
// makes them the current ones (p.cur). By default (FIXT2BUGS=1) that is the
// capture itself: every read past it goes through bounds-checked accessors
// or is guarded by the snap lengths, so it sees nothing there. With
// FIXT2BUGS=0 it is the capture buffer as libpcap leaves it: the frame's
// bytes followed by whatever earlier, longer frames left there, which T2
// reads for header fields past the capture (golden 10_frag_crafted_ipv4
// packet 77: a tiny first fragment's TCP flags, window and options are the
// bytes of packet 76). The copy is idempotent, so NewFlow and Packet may
// both call it for the same packet.
func (p *Plugin) frame(pk *decode.Packet) []byte {
	if p.cfg.fix {
		p.cur = pk.Data
		return p.cur
	}
	if len(pk.Data) > len(p.shadow) {
		p.shadow = append(p.shadow, make([]byte, len(pk.Data)-len(p.shadow))...)
	}
	copy(p.shadow, pk.Data)
	p.cur = p.shadow
	return p.cur
}

// gateFirst is T2's byte-order-confused "first fragment" test for the TCP
// part (§5.5 offset gate quirk): offsets 32, 64, ... 224 pass as offset 0.
func gateFirst(pk *decode.Packet) bool { return pk.FragOff&^0xe0 == 0 }

func l4Off(pk *decode.Packet) int {
	if pk.L4Off != 0 {
		return pk.L4Off
	}
	return pk.L3Off + pk.L3HdrLen
}

// Packet implements plugin.Plugin (§5).
func (p *Plugin) Packet(f *flow.Flow, pk *decode.Packet, pw column.Writer) {
	d := p.frame(pk)
	if f.IsL2() || pk.Kind == decode.KindL2 || pk.Kind == decode.KindNone {
		if pw != nil {
			for range p.pktCols {
				pw.Col()
			}
		}
		return
	}
	s := p.store.At(f.Slot)
	p.slot = f.Slot
	var o *state
	if f.Partner != nil {
		o = p.store.At(f.Partner.Slot)
	}
	var v pktVals

	// §5.1
	s.pktCount = float32(s.pktCount + 1)
	local := s.stat & carryMask
	var ipf uint16
	var iv ipView
	iv.set(pk, d)
	l3 := iv.off
	v6 := pk.Kind == decode.KindIPv6
	v.ipFrag = pk.FragWord

	// §5.2
	if v6 {
		if pk.HasFragHdr {
			ipf |= (pk.FragOff >> 4) & 0xe0
		}
		if pk.IP6HHOff != 0 && pk.IP6HHLen > 0 {
			if pk.SnapL3Len < pk.L3HdrLen || pk.L3Len < pk.L3HdrLen {
				ipf |= 0x0001
			} else {
				n, m := walkIP6Opts(d, pk.IP6HHOff, pk.IP6HHLen)
				s.ip6HHCnt += n
				s.ip6HHMask |= m
			}
		}
		if pk.IP6DOff != 0 && pk.IP6DLen > 0 {
			if pk.SnapL3Len < pk.L3HdrLen || pk.L3Len < pk.L3HdrLen {
				ipf |= 0x0001
			} else {
				n, m := walkIP6Opts(d, pk.IP6DOff, pk.IP6DLen)
				s.ip6DCnt += n
				s.ip6DMask |= m
			}
		}
	} else {
		ipf |= uint16(u8(d, l3+6) & 0xe0)
		ihl := iv.ihl
		v.ipOptLen = ihl - 20
		v.ipOptOff = l3 + 20
		if ihl > 20 {
			if iv.snap < ihl || iv.l3Len < ihl {
				ipf |= 0x0001
			} else {
				for i := 20; i < ihl; {
					t := d[l3+i]
					if t == 0 {
						break
					}
					s.ipOptCl |= t & 0xe0
					s.ipOptNum |= 1 << (t & 0x1f)
					s.ipOptCnt++
					if t > 1 {
						ln := u8(d, l3+i+1)
						if ln == 0 {
							ipf |= 0x0001
							break
						}
						i += int(ln)
					} else {
						i++
					}
				}
			}
		}
	}
	ttl := iv.ttl
	v.ttl, v.tos = ttl, iv.tos
	if ttl != s.prevTTL {
		s.ttlChg++
		s.prevTTL = ttl
		if ttl < s.minTTL {
			s.minTTL = ttl
		}
		if ttl > s.maxTTL {
			s.maxTTL = ttl
		}
	}
	s.tos |= iv.tos
	var id uint16
	if !v6 {
		id = iv.id
		v.ipID = id
		if local&0x0001 != 0 {
			dd := int32(id) - int32(s.prevIPID)
			v.ipIDDiff = dd
			if id < s.prevIPID {
				ipf |= 0x0004
			}
			if dd < int32(s.ipMinID) {
				s.ipMinID = uint16(dd)
			}
			if dd > int32(s.ipMaxID) {
				s.ipMaxID = uint16(dd)
			}
		}
		if p.cfg.ipChecksum > 0 {
			ihl := iv.ihl
			v.ipHdrChk = u16(d, l3+10)
			if iv.snap < ihl {
				ipf |= 0x1000 | 0x0400
			} else {
				v.ipCalChk = ^uint16(header.Fold(sum16(d[l3:l3+ihl], 10)))
				if v.ipCalChk != v.ipHdrChk {
					ipf |= 0x0400
				}
			}
		}
	}

	// §5.3 L4 checksum.
	l4 := l4Off(pk)
	// T2 keeps lengths in uint16: a header longer than l3Len wraps.
	l4Len := int(uint16(pk.L3Len - pk.L3HdrLen))
	if p.cfg.ipChecksum > 1 {
		local, ipf = p.l4Checksum(s, pk, &iv, &v, local, ipf, l4, l4Len, v6)
	}

	// §5.4
	secs := uint32(pk.TsSec) - uint32(f.PrevSec)
	dt := float32(float64(secs) + float64(int64(pk.TsNsec)-int64(f.PrevNsec))/1e9)
	if local&0x0001 != 0 {
		if dt == 0 {
			ipf |= 0x4000
		} else if dt < 0 {
			ipf |= 0x8000
			f.Status |= decode.StatTimeJump
			p.env.Status |= decode.StatTimeJump
		}
	}

	// §5.5 fragments.
	if p.cfg.frag {
		isFrag := pk.FragOff != 0 || (!v6 && pk.MoreFrags)
		if isFrag {
			off := int(pk.FragOff)
			if v6 {
				// T2 reads the IPv6 offset word in the wrong byte order.
				w := pk.FragWord
				off = int((w>>8 | w<<8) >> 3)
			}
			if pk.MoreFrags && pk.L3Len < 48 {
				ipf |= 0x0008
			}
			if off-int(s.fragExp) > 1 {
				ipf |= 0x0100
			}
			s.fragExp = uint16(off + l4Len/8)
			if s.fragExp > 0x1fff {
				ipf |= 0x0010
			}
		}
	}
	s.ipFlags |= ipf
	s.prevIPID = id
	v.ipFlags = ipf

	if o != nil && s.rttState != rttStop {
		p.rttUpdate(s, o, f.Partner, pk)
	}

	// With FIXT2BUGS a TCP header whose flags and window were not captured
	// is not analysed (T2 reads them from stale buffer bytes; zeros would
	// invent a NULL scan and a zero window).
	if pk.Proto != protoTCP || !gateFirst(pk) || (p.cfg.fix && pk.FragOff == 0 && pk.SnapL4Len < 16) {
		if s.pktCount == 1 {
			s.rttState = rttSynAck
		} else if s.rttState == rttSynAck {
			s.rttState = rttAck
		}
		local |= 0x0001
		s.stat |= local
		if pw != nil {
			p.writePacket(pw, pk, s, &v)
		}
		return
	}

	p.tcpPacket(s, o, pk, &v, local, dt, l4)
	if pw != nil {
		p.writePacket(pw, pk, s, &v)
	}
	p.tcpUpdate(f, s, o, &v)
}

// walkIP6Opts counts the options of an IPv6 option area and returns the
// count and the mask of (type AND 0x1f) bits (§5.2).
func walkIP6Opts(d []byte, off, n int) (uint16, uint32) {
	var cnt uint16
	var mask uint32
	for i := 0; i < n; {
		t := u8(d, off+i)
		if t == 0 {
			break
		}
		cnt++
		mask |= 1 << (t & 0x1f)
		i += int(u8(d, off+i+1)) + 2
	}
	return cnt, mask
}

// l4Checksum is §5.3's L4 part. It returns the updated local tcpFStat and
// ipFlags.
func (p *Plugin) l4Checksum(s *state, pk *decode.Packet, iv *ipView, v *pktVals, local, ipf uint16, l4, l4Len int, v6 bool) (uint16, uint16) {
	d := p.cur
	field, pseudo, noSum := -1, false, false
	switch pk.Proto {
	case protoTCP:
		field, pseudo = 16, true
	case protoUDP, protoUDPLite:
		field, pseudo = 6, true
	case protoICMP, protoIGMP:
		field = 2
	case protoICMPv6:
		field, pseudo = 2, true
	case protoGRE:
		pseudo = true
		if u8(d, l4)&0x80 != 0 {
			field = 4
		} else {
			field, noSum = 0, true
		}
	case protoOSPF:
		field, pseudo = 12, v6
	}
	first := pk.FragOff == 0
	if v6 {
		first = gateFirst(pk)
	}
	if !first {
		// Later fragments take the finalisation path with a pseudo header
		// whatever the protocol (golden icmp_fragmented, IPv6 next header 60).
		field, pseudo = 0, true
	}
	if field < 0 {
		if pk.SnapL3Len < pk.L3Len {
			ipf |= 0x1000 | 0x0800
		}
		return local &^ 0x1000, ipf
	}
	if first {
		local |= 0x1000
		s.l4HdrChk = u16(d, l4+field)
		v.l4HdrChk = s.l4HdrChk
		s.l4TotLen = 0
		if pk.SnapL3Len < pk.L3Len || pk.SnapL4Len < l4Len {
			// No sum: the stale partial sum of an earlier packet is used.
			ipf |= 0x1000 | 0x0800
		} else if !noSum && l4+l4Len <= len(d) {
			n := l4Len
			if pk.Proto == protoUDPLite {
				cov := int(u16(d, l4+4))
				if cov >= 8 && cov <= l4Len {
					n = cov
				} else {
					ipf |= 0x2000
				}
			}
			// T2 sums everything and then subtracts the checksum field,
			// also when the field lies past the summed bytes (golden
			// 10_frag_crafted_ipv4 packets 77/78: an 8-byte first fragment).
			// The decoder has summed the same bytes, where they are in
			// cache (Packet.L4Sum).
			sum := pk.L4Sum
			if !pk.L4Summed || l4 != pk.L4Off || n != pk.L4Len {
				sum = header.Sum(d[l4 : l4+n])
			}
			s.l4Sum = header.Fold(sum + uint64(^s.l4HdrChk))
		}
		if pk.Proto == protoUDP || pk.Proto == protoUDPLite {
			if pk.SnapL4Len != int(u16(d, l4+4)) {
				ipf |= 0x2000
			}
		}
	}
	s.l4TotLen += uint16(l4Len)
	if !pk.MoreFrags {
		sum := uint64(s.l4Sum)
		if pseudo {
			ln := uint32(l4Len)
			if pk.FragOff != 0 {
				ln = uint32(s.l4TotLen)
			}
			sum += header.PseudoSum(iv.src, iv.dst, pk.Proto, ln)
		}
		// The partial sum keeps the pseudo header (reproduces T2's
		// accumulation over later fragments of a headless flow).
		s.l4Sum = header.Fold(sum)
		v.l4HdrChk = s.l4HdrChk
		if s.l4Sum == 0xffff {
			v.l4CalChk = 0xffff
		} else {
			v.l4CalChk = ^uint16(s.l4Sum)
		}
		if v.l4CalChk != v.l4HdrChk {
			ipf |= 0x0800
		}
		local &^= 0x1000
	}
	return local, ipf
}

// rttUpdate is the RTT part of §5.5: P's packet times the partner O.
func (p *Plugin) rttUpdate(s, o *state, of *flow.Flow, pk *decode.Packet) {
	ds := float64(int64(pk.TsSec) - int64(of.LastSec))
	dn := float64(float32(float32(pk.TsNsec) - float32(of.LastNsec)))
	t64 := ds + dn/1e9
	if t64 < 0 {
		t64 = -t64
	}
	t := float32(t64)
	if t < o.rttMin {
		o.rttMin = t
	}
	if t > o.rttMax {
		o.rttMax = t
	}
	if (o.rttState == rttSyn || o.rttState == rttSynAck) && o.pktCount == 1 {
		o.trip = t
		o.rttAvg = t
	} else {
		dd := float32(t - o.rttAvg)
		o.rttAvg = float32(o.rttAvg + float32(dd/s.pktCount))
		o.jit = float32(o.jit + float32(float32(float32(dd*dd)-o.jit)/s.pktCount))
		o.rttState = rttAck
	}
}

// tcpPacket is §5.6–§5.9 for a TCP packet (or a fragment passing the gate).
func (p *Plugin) tcpPacket(s, o *state, pk *decode.Packet, v *pktVals, local uint16, dt float32, l4 int) {
	h, win, hdrLen := p.tcpHeader(pk, l4)
	v.tcp = true
	v.l7 = h.L
	v.seq, v.ack, v.seqMax = h.seq, h.ack, s.seqMax
	flags, anomaly := p.flagState(s, o, h.F, h.L, dt)
	if p.cfg.flgCnt {
		countFlags(p.flgCnts.Get(p.slot), h.F) // NewFlow reached the slot
	}
	local = p.tcpOptions(s, o, pk, v, local, h.F, hdrLen, l4)
	var W uint32
	W, local = p.window(s, v, local, win, h.F)
	local, anomaly = p.seqAck(s, o, v, h, W, local, anomaly, dt)
	if anomaly&0x1000 != 0 || s.anomaly&0x1000 != 0 {
		anomaly &^= 0x003f
	}
	v.local, v.flags, v.anomaly = local, flags, anomaly
}

// tcpSeg is what seqAck reads of the TCP header. Four fields at most, so
// that the compiler keeps it in registers: a larger record lives in
// memory, where its narrow stores were read back with wide loads right
// after (no store forwarding: a stall on every packet).
type tcpSeg struct {
	F        uint8
	seq, ack uint32
	L        int // payload length, as T2 counts it
}

// tcpHeader reads the TCP header of pk at l4, its window and its data
// offset in bytes: from the shared tracker when it parsed the captured
// header, else as T2 reads it from its buffer.
func (p *Plugin) tcpHeader(pk *decode.Packet, l4 int) (h tcpSeg, win uint16, hdrLen int) {
	d := p.cur
	var F uint8
	var seq, ack uint32
	if tr := p.env.TCP; tr.Current(pk) && tr.Seg.HasFlags {
		// The shared tracker parsed the captured header already.
		F, seq, ack, win = tr.Seg.Flags, tr.Seg.Seq, tr.Seg.Ack, tr.Seg.Win
	} else {
		// Not captured whole: T2 reads what its buffer holds there (frame).
		F, seq, ack, win = u8(d, l4+13), u32(d, l4+4), u32(d, l4+8), u16(d, l4+14)
	}
	// T2 uses the uint16 l7Len: a negative length wraps (golden
	// tcp-malformed: tcpMLen 65528).
	L := int(uint16(pk.L7Len))
	if p.cfg.fix && pk.L7Len < 0 {
		L = 0
	}
	// T2 takes the data offset from its buffer even when the header was
	// snapped (the bytes then come from an earlier frame, see frame), and
	// l7Len follows it (golden 10_frag_crafted_ipv4 packet 77).
	// A snapped header shorter than 20 bytes counts as 20 (golden
	// tcp_header_heapoverflow: data offset 0 from a zero buffer).
	hdrLen = int(u8(d, l4+12)>>4) * 4
	if pk.FragOff == 0 && pk.SnapL4Len < 20 {
		if hdrLen < 20 {
			hdrLen = 20
		}
		L = int(uint16(pk.L3Len - pk.L3HdrLen - hdrLen))
		if p.cfg.fix && pk.L3Len-pk.L3HdrLen-hdrLen < 0 {
			L = 0
		}
	}
	return tcpSeg{F: F, seq: seq, ack: ack, L: L}, win, hdrLen
}

// flagState is §5.6: the packet's flag word and anomalies, and the
// handshake state RTT and in-flight counting follow.
func (p *Plugin) flagState(s, o *state, F uint8, L int, dt float32) (flags, anomaly uint16) {
	flags = uint16(F)
	if F&0x3f == 0 {
		flags |= 0x0800
		anomaly |= 0x1000
	}
	if F&0x3f == 0x29 {
		flags |= 0x8000
		anomaly |= 0x1000
	}
	switch F & fARSF {
	case fSYN:
		if s.rttState == rttSyn {
			if dt > 0.9 {
				anomaly |= 0x0001
				p.synRetries++
			} else {
				anomaly |= 0x1000
				p.scanAttempts++
			}
		}
		if L > 0 {
			anomaly |= 0x4000
		}
		s.rttState = rttSyn
	case fSYN | fACK:
		flags |= 0x0200
		s.rttState = rttSynAck
	case fACK:
		if s.rttState == rttSynAck {
			s.rttState = rttAck
		}
		if o != nil {
			if o.rttState == rttNone || o.rttState == rttSynAck {
				o.rttState = rttAck
			}
			o.inflight = 0
			s.inflight += uint32(L)
			if s.inflight > s.inflightMax {
				s.inflightMax = s.inflight
			}
		}
	case fFIN | fACK:
		flags |= 0x0100
		s.rttState = rttStop
	case fRST | fACK:
		flags |= 0x0400
		s.rttState = rttStop
	case fSYN | fFIN:
		flags |= 0x1000
		s.rttState = rttStop
	case fSYN | fFIN | fRST:
		flags |= 0x2000
		s.rttState = rttStop
	case fRST | fFIN:
		flags |= 0x4000
		s.rttState = rttStop
	default:
		s.rttState = rttStop
	}
	return flags, anomaly
}

// tcpOptions is §5.7: the options of a header of hdrLen bytes at l4.
func (p *Plugin) tcpOptions(s, o *state, pk *decode.Packet, v *pktVals, local uint16, F uint8, hdrLen, l4 int) uint16 {
	optLen := hdrLen - 20
	v.optLen, v.optOff = optLen, l4+20
	if optLen > 0 {
		if pk.SnapL3Len < pk.L3HdrLen+hdrLen && pk.L4Len >= hdrLen {
			local |= 0x0008
		} else {
			s.optPktCnt++
			local = p.options(s, o, pk, v, local, F, l4+20, optLen)
		}
	}
	return local
}

// window is §5.8: the effective window W of raw window win, and its
// statistics.
func (p *Plugin) window(s *state, v *pktVals, local, win uint16, F uint8) (uint32, uint16) {
	W := uint32(win)
	if local&0x0200 != 0 {
		W = uint32(win) * uint32(uint16(1)<<s.wsShift)
	}
	p.winPkts++
	s.winPkts++
	if F&fSFR == 0 && W < p.cfg.winMin {
		p.lowWin++
		s.lowWin++
		local |= 0x0100
	}
	if local&0x0010 == 0 {
		s.winMin, s.winMax, s.winInit, s.winLast = W, W, W, W
		s.winAvg = float32(W)
		local |= 0x0010
	}
	s.winAvg = float32(float64(s.winAvg)*0.7 + float64(float32(W))*0.3)
	if local&0x0800 == 0 {
		if W < s.winLast {
			s.winDown++
			if W < s.winMin {
				s.winMin = W
			}
		} else if W > s.winLast {
			s.winChg++
			s.winUp++
			if W > s.winMax {
				s.winMax = W
			}
			local |= 0x0800
		}
	} else {
		if W > s.winLast {
			s.winUp++
			if W > s.winMax {
				s.winMax = W
			}
		} else if W < s.winLast {
			s.winChg++
			s.winDown++
			if W < s.winMin {
				s.winMin = W
			}
			local &^= 0x0800
		}
	}
	v.win = W
	if local&0x0200 != 0 {
		v.ws = uint16(1) << s.wsShift
	}
	return W, local
}

// seqAck is §5.9: sequence and acknowledgement analysis.
func (p *Plugin) seqAck(s, o *state, v *pktVals, h tcpSeg, W uint32, local, anomaly uint16, dt float32) (uint16, uint16) {
	F, seq, ack, L := h.F, h.seq, h.ack, h.L
	if o != nil && F&fSFR == 0 {
		if o.winLast == 0 && L == 1 {
			local |= 0x0040
		} else if o.prevStat&0x0040 != 0 && W == 0 && L == 0 {
			local |= 0x0080
		}
	}
	if F&fACK != 0 && local&(0x0040|0x0080) == 0 {
		if L <= 1 && F&fSFR == 0 {
			if seq == s.seqMax-1 {
				anomaly |= 0x0010
			} else if o != nil && o.seqNext == ack-1 {
				anomaly |= 0x0020
			}
		}
		if ack == s.ackLast && anomaly&(0x0010|0x0020) == 0 {
			if local&0x0001 != 0 && F&fSFR == 0 && L == 0 {
				same := W == s.winLast
				if !same && local&0x0200 != 0 {
					same = s.winLast*uint32(uint16(1)<<s.wsShift) == W
				}
				if same {
					anomaly |= 0x0008
					s.ackFault++
				} else if seq == s.seqNext {
					local |= 0x0020
				}
			}
			if F&fSFR == 0 && seq < s.seqMax {
				anomaly |= 0x0040
			} else if seq < s.seqNext && o != nil && s.winLast == W && dt > p.rtoThreshold(s, o) {
				anomaly |= 0x0002
				p.seqRetries++
				s.seqFault++
			}
			if o != nil && o.prevAnom&0x0008 != 0 && seq == o.ackLast &&
				(L > 0 || F&(fSYN|fFIN) != 0) && seq < s.seqNext {
				anomaly |= 0x0004
				p.seqRetries++
				s.seqFault++
			}
			if o != nil && o.ackLast > seq {
				anomaly |= 0x0080
			}
		}
		if seq == s.seqNext {
			s.seqCnt++
		}
		if o != nil && o.seqMax < ack {
			anomaly |= 0x0100
			s.ackFault++
		}
		if s.prevFlags&fSFR == 0 && seq > s.seqMax {
			anomaly |= 0x0200
		}
		if s.seqLast != 0 {
			sd := int32(seq - s.seqLast)
			v.seqDiff = sd
			if sd > 0 {
				v.seqLen = uint32(sd)
			}
			if s.prevFlags&fSFR != 0 && sd == 1 {
				v.seqLen = 0
			}
			s.seqBytes += uint64(v.seqLen)
		}
		if s.ackLast != 0 {
			ad := int32(ack - s.ackLast)
			v.ackDiff = ad
			if ad > 0 {
				v.ackLen = uint32(ad)
			}
			if ad == 1 && (s.prevFlags&fSFR != 0 || (o != nil && o.prevFlags&fSFR != 0)) {
				v.ackLen = 0
			}
			s.ackBytes += uint64(v.ackLen)
		}
		s.ackCnt++
	}
	s.mlen += uint64(L)
	if o != nil && local&(0x0040|0x0080) == 0 && s.inflight >= o.winLast &&
		o.prevFlags&fRST == 0 && s.flagsAgg&fSYN != 0 {
		local |= 0x0400
	}
	return local, anomaly
}

// rtoThreshold is the "timeout retransmission" inter-distance (§5.9 2b).
func (p *Plugin) rtoThreshold(s, o *state) float32 {
	if !p.cfg.rtt {
		return 1.0
	}
	return float32(float32(o.rttAvg+s.rttAvg) * 1.5)
}

// tcpUpdate is §5.10 after the packet line was written.
func (p *Plugin) tcpUpdate(f *flow.Flow, s, o *state, v *pktVals) {
	F := uint8(v.flags)
	s.seqLast = v.seq
	s.seqNext = v.seq + uint32(v.l7)
	if F&fSFR != 0 {
		s.seqNext++
	} else if v.local&0x0040 != 0 {
		s.seqNext--
	}
	s.ackLast = v.ack
	if s.seqNext > s.seqMax {
		s.seqMax = s.seqNext
	}
	s.winLast = v.win
	s.prevFlags = v.flags
	s.flagsAgg |= v.flags
	s.anomaly |= v.anomaly
	s.prevAnom = v.anomaly
	local := v.local | 0x0001
	s.stat |= local
	s.prevStat = local
	if o != nil && f.Partner.Status&decode.StatFragPending != 0 && F&(fRST|fFIN) != 0 {
		o.ipFlags |= 0x0200
	}
	if s.scanPkts < 6 {
		s.scanPkts++
	}
}

// options walks the TCP options (§5.7) and returns the local tcpFStat.
func (p *Plugin) options(s, o *state, pk *decode.Packet, v *pktVals, local uint16, F uint8, ob, n int) uint16 {
	d := p.cur
	for i := 0; i < n; {
		k := u8(d, ob+i)
		if k == 0 {
			break
		}
		s.optCnt++
		if F&fSYN != 0 {
			p.addJA4T(s, k)
		}
		if k < 31 {
			s.options |= 1 << k
		} else {
			s.options |= 1 << 31
		}
		if k == 1 {
			i++
			continue
		}
		ln := int(u8(d, ob+i+1))
		if ln == 0 {
			local |= 0x0008
			break
		}
		switch k {
		case 2:
			s.mss = u16(d, ob+i+2)
		case 3:
			if F&fSYN != 0 {
				s.wsShift = u8(d, ob+i+2)
				if F&(fSYN|fACK) == fSYN|fACK {
					s.stat |= 0x0200
					if o != nil {
						o.stat |= 0x0200
					}
				}
			}
		case 5:
			local |= 0x4000
		case 8:
			s.tsVal = u32(d, ob+i+2)
			s.tsEcr = u32(d, ob+i+6)
			s.tsLastSec, s.tsLastNsec = pk.TsSec, pk.TsNsec
			if s.tsVal < s.tsMax {
				local |= 0x0004
			} else {
				s.tsMax = s.tsVal
				if local&0x0002 == 0 {
					s.tsFirst = s.tsVal
					s.tsFirstSec, s.tsFirstNsec = pk.TsSec, pk.TsNsec
					local |= 0x0002
				}
			}
		case 30:
			if !p.cfg.mptcp {
				break
			}
			st := u8(d, ob+i+2) >> 4
			s.mpTypes |= 1 << st
			v.mpTyp = st
			switch st {
			case 0:
				fl := u8(d, ob+i+3)
				s.mpFlags |= fl
				v.mpF |= fl
			case 1, 5:
				if ln <= 16 {
					fl := u8(d, ob+i+2) & 0x0f
					id := u8(d, ob+i+3)
					s.mpFlags |= fl
					s.mpAddrID = id
					v.mpF |= fl
					v.mpAID = id
				}
			case 2:
				dss := u8(d, ob+i+3) & 0x1f
				s.mpDSS |= dss
				v.mpD |= dss
			case 3, 4:
				id := u8(d, ob+i+3)
				s.mpAddrID = id
				v.mpAID = id
			}
			local |= 0x8000
			p.mptcpCnt++
		}
		i += ln
	}
	return local
}

// countFlags updates the TCPFLGCNT counters (§9).
func countFlags(c *[16]uint16, F uint8) {
	for b := 0; b < 8; b++ {
		if F&(1<<b) != 0 && c[b] < 0xffff {
			c[b]++
		}
	}
	switch F & fARSF {
	case fFIN | fACK:
		c[8]++
	case fSYN | fACK:
		c[9]++
	case fRST | fACK:
		c[10]++
	case fSYN | fFIN:
		c[12]++
	case fSYN | fFIN | fRST:
		c[13]++
	case fRST | fFIN:
		c[14]++
	}
	if F&0x3f == 0 {
		c[11]++
	}
	if F&0x3f == 0x29 {
		c[15]++
	}
}
