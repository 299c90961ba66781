package explain

import (
	"flowsift/internal/column"
	"flowsift/internal/decode"
	"flowsift/internal/flow"
	"flowsift/internal/header"
	"flowsift/internal/plugin"
	"flowsift/internal/report"
	"flowsift/internal/tcptrack"
)

// factsName is the plugin explain adds to the run: per direction, the few
// packet facts no other plugin keeps in its flow row (where things first
// show, in packet numbers, and the TTL of RSTs against the host's others).
// It is never a user plugin and writes no file of its own.
const factsName = "explainFacts"

var factsCols = []column.Column{
	{Name: "xFirstPkt", Type: "U64", Desc: "first packet of this direction"},
	{Name: "xLastPkt", Type: "U64", Desc: "last packet of this direction"},
	{Name: "xSynPkt", Type: "U64", Desc: "first SYN"},
	{Name: "xRstPkt", Type: "U64", Desc: "first RST"},
	{Name: "xRstCnt", Type: "U32", Desc: "RST segments"},
	{Name: "xRstTTL", Type: "U8", Desc: "TTL of the first RST"},
	{Name: "xRstIPID", Type: "U32", Desc: "IPv4 ID of the first RST"},
	{Name: "xTTLMin", Type: "U8", Desc: "minimum TTL of the packets other than RSTs"},
	{Name: "xTTLMax", Type: "U8", Desc: "maximum TTL of the packets other than RSTs"},
	{Name: "xTTLChgPkt", Type: "U64", Desc: "first non-RST packet whose TTL differs from the previous one"},
	{Name: "xTTLChg", Type: "U32", Desc: "TTL changes between successive packets other than RSTs"},
	{Name: "xBelowPkt", Type: "U64", Desc: "first data segment starting below the highest sequence sent (retransmission or reordering)"},
	{Name: "xBelowCnt", Type: "U32", Desc: "data segments starting below the highest sequence sent"},
	{Name: "xZeroWinPkt", Type: "U64", Desc: "first zero window advertisement"},
	{Name: "xFinPkt", Type: "U64", Desc: "first FIN"},
	{Name: "xDataBytes", Type: "U64", Desc: "TCP payload bytes (IP lengths)"},
	{Name: "xECE", Type: "U32", Desc: "segments other than SYNs with ECE (the receiver echoes congestion)"},
	{Name: "xCWR", Type: "U32", Desc: "segments other than SYNs with CWR (the sender reduced its window)"},
	{Name: "xFragDgrams", Type: "U32", Desc: "fragmented datagrams whose first seen fragment is in this direction"},
	{Name: "xFragDone", Type: "U32", Desc: "of those, datagrams whose fragments cover it completely"},
	{Name: "xFragBad", Type: "H8", Desc: "fragment faults: 1 overlap, 2 non-last fragment not a multiple of 8 bytes, 4 first fragment too short for the transport header"},
	{Name: "xFragPkt", Type: "U64", Desc: "first fragment with a fault"},
	{Name: "xCsumChecked", Type: "U32", Desc: "complete small packets whose transport checksum was verified"},
	{Name: "xCsumBad", Type: "U32", Desc: "of those, packets whose checksum does not verify"},
	{Name: "xCsumPkt", Type: "U64", Desc: "first packet whose checksum does not verify"},
	{Name: "xKAUnanswered", Type: "U32", Desc: "keep-alives at the end of the flow that the peer never answered"},
	{Name: "xZeroWinAdv", Type: "U32", Desc: "episodes in which this direction advertised a zero window"},
	{Name: "xZeroWinAdvTime", Type: "U64", Desc: "time this direction's advertised window stayed zero (ns; open at the end: until its last packet)"},
	{Name: "xRstTime", Type: "U64", Desc: "time of the first RST (ns since the epoch)"},
	{Name: "xLastOtherTime", Type: "U64", Desc: "time of the last packet other than an RST before the first RST, or of the last one (ns)"},
	{Name: "xTTLBlips", Type: "U32", Desc: "single packets whose TTL differs from the equal TTLs before and after them"},
	{Name: "xTTLBlipPkt", Type: "U64", Desc: "first such packet"},
	{Name: "xTTLBlipTTL", Type: "U8", Desc: "its TTL"},
	{Name: "xTTLBlipData", Type: "U64", Desc: "TCP payload bytes carried by such packets"},
	{Name: "xBadFlags", Type: "H8", Desc: "flag combinations no stack sends: 1 SYN+FIN, 2 SYN+RST, 4 no flags, 8 FIN+PSH+URG without ACK"},
	{Name: "xBadFlagsPkt", Type: "U64", Desc: "first segment with such flags"},
	{Name: "xTTLSet", Type: "H64:R", Desc: "TTLs of the packets other than RSTs, as a 256-bit set in 4 words"},
}

// factsDir is one direction's state, its fields ordered by size (no
// padding: the store holds one per flow direction).
type factsDir struct {
	first, last, syn, rst, ttlChgPkt, below, zeroWin, fin uint64 // packet numbers
	lastNum, blipPkt, fragPkt, csumPkt, badFlagsPkt       uint64
	kaRunStart, seqEnd, lastPayload, blipData, bytes      uint64
	pkts, l7Bytes                                         uint64    // counts only
	zwStart, zwTotal, lastTime, rstTime, lastOther        int64     // ns
	ttls                                                  [4]uint64 // TTLs of the packets other than RSTs
	rstCnt, ttlChg, belowCnt, rstIPID, nTTL, blips        uint32
	maxEnd, ece, cwr, fragDgrams, fragDone                uint32
	csumChecked, csumBad, zwEpisodes, kaRun               uint32
	maxL7                                                 uint16 // counts only
	rstTTL, ttlMin, ttlMax, lastTTL, prevTTL, blipTTL     uint8
	fragBad, badFlags                                     uint8
	haveTTL, haveEnd                                      bool
}

type facts struct {
	env    *plugin.Env
	counts bool // keep countCols
	dirs   flow.Store[factsDir]
	seg    tcptrack.Segment
	dgram  map[dgramKey]*dgram
}

// dgramKey names a fragmented datagram (RFC 791 / 8200 reassembly key).
type dgramKey struct {
	src, dst [16]byte
	id       uint32
	v6       bool
}

type dgram struct {
	owner *factsDir // the direction of the first fragment seen
	have  [][2]int  // byte ranges received
	end   int       // total length, known from the last fragment (-1 before)
	done  bool
}

// countCols are the counts explain reads from basicStats, kept by the
// facts plugin when basicStats is not loaded (counts).
var countCols = []column.Column{
	{Name: "xPktsSnt", Type: "U64", Desc: "packets (basicStats pktsSnt)"},
	{Name: "xL7BytesSnt", Type: "U64", Desc: "layer 7 bytes (basicStats l7BytesSnt)"},
	{Name: "xMaxL7PktSz", Type: "U16", Desc: "largest layer 7 size (basicStats maxL7PktSz)"},
}

// registerFacts adds the facts plugin to r; with counts it also keeps
// countCols.
func registerFacts(r *plugin.Registry, counts bool) {
	r.Add(&plugin.Registration{
		Name: factsName, Order: 999, Version: "1",
		New: func(env *plugin.Env, _ plugin.Settings) (plugin.Plugin, error) {
			env.L4Sums = true // l4ChecksumOK
			return &facts{env: env, counts: counts}, nil
		},
	})
}

func (x *facts) FlowColumns() []column.Column {
	if x.counts {
		return append(append([]column.Column{}, factsCols...), countCols...)
	}
	return factsCols
}
func (x *facts) PacketColumns() []column.Column         { return nil }
func (x *facts) Report(*report.Report)                  {}
func (x *facts) NewFlow(f *flow.Flow, _ *decode.Packet) { *x.dirs.At(f.Slot) = factsDir{} }
func seqLT(a, b uint32) bool                            { return int32(a-b) < 0 }
func (x *facts) segment(p *decode.Packet) *tcptrack.Segment {
	if x.env.TCP.Current(p) {
		return &x.env.TCP.Seg
	}
	tcptrack.Parse(p, &x.seg)
	return &x.seg
}

func (x *facts) Packet(f *flow.Flow, p *decode.Packet, _ column.Writer) {
	d := x.dirs.At(f.Slot)
	if x.counts { // as basicStats counts them
		d.pkts++
		d.l7Bytes += uint64(p.PktLen)
		d.maxL7 = max(d.maxL7, p.PktLen)
	}
	if d.first == 0 {
		d.first = p.Num
	}
	d.last = p.Num
	d.lastTime = int64(p.TsSec)*1e9 + int64(p.TsNsec)
	s := x.segment(p)
	rst := s.TCP && s.HasFlags && s.Flags&tcptrack.FlagRST != 0
	if p.Kind == decode.KindIPv4 || p.Kind == decode.KindIPv6 {
		if rst {
			d.rstCnt++
			if d.rst == 0 {
				d.rst, d.rstTTL, d.rstIPID = p.Num, p.TTL, p.IPID
				d.rstTime = d.lastTime
			}
		} else if p.FragOff == 0 {
			if d.rst == 0 {
				d.lastOther = d.lastTime
			}
			d.ttls[p.TTL>>6] |= 1 << (p.TTL & 63)
			if !d.haveTTL {
				d.ttlMin, d.ttlMax, d.haveTTL = p.TTL, p.TTL, true
			} else {
				// One packet whose TTL differs from the equal TTLs on both
				// sides of it is no route change: another box sent it.
				if d.nTTL >= 2 && d.lastTTL != d.prevTTL && p.TTL == d.prevTTL && ttlDist(d.lastTTL, p.TTL) >= injectHops {
					d.blips++
					d.blipData += d.lastPayload
					if d.blipPkt == 0 {
						d.blipPkt, d.blipTTL = d.lastNum, d.lastTTL
					}
				}
				if p.TTL != d.lastTTL {
					d.ttlChg++
					if d.ttlChgPkt == 0 {
						d.ttlChgPkt = p.Num
					}
				}
				d.ttlMin, d.ttlMax = min(d.ttlMin, p.TTL), max(d.ttlMax, p.TTL)
			}
			d.prevTTL, d.lastTTL = d.lastTTL, p.TTL
			d.lastNum, d.lastPayload = p.Num, uint64(max(s.PayloadLen, 0))
			d.nTTL++
		}
	}
	if p.IsFragment() && (p.Kind == decode.KindIPv4 || p.HasFragHdr) {
		x.fragment(d, p)
	}
	if p.FragOff == 0 && !p.MoreFrags && d.csumChecked < csumSample && (p.L4Len <= csumMax || d.csumChecked < csumFirst) && p.SnapL3Len >= p.L3Len && p.SnapL4Len >= p.L4Len {
		if ok, checked := l4ChecksumOK(p); checked {
			d.csumChecked++
			if !ok {
				d.csumBad++
				if d.csumPkt == 0 {
					d.csumPkt = p.Num
				}
			}
		}
	}
	if !s.TCP || !s.HasFlags {
		return
	}
	x.keepAlive(f, d, s, p.Num)
	var bad uint8
	switch fl := s.Flags; {
	case fl&(tcptrack.FlagSYN|tcptrack.FlagFIN) == tcptrack.FlagSYN|tcptrack.FlagFIN:
		bad = 1
	case fl&(tcptrack.FlagSYN|tcptrack.FlagRST) == tcptrack.FlagSYN|tcptrack.FlagRST:
		bad = 2
	case fl == 0:
		bad = 4
	case fl&(tcptrack.FlagFIN|tcptrack.FlagPSH|tcptrack.FlagURG|tcptrack.FlagACK) == tcptrack.FlagFIN|tcptrack.FlagPSH|tcptrack.FlagURG:
		bad = 8
	}
	if bad != 0 {
		d.badFlags |= bad
		if d.badFlagsPkt == 0 {
			d.badFlagsPkt = p.Num
		}
	}
	if s.Flags&tcptrack.FlagSYN == 0 {
		if s.Flags&tcptrack.FlagECE != 0 {
			d.ece++
		}
		if s.Flags&tcptrack.FlagCWR != 0 {
			d.cwr++
		}
	}
	if s.Flags&tcptrack.FlagSYN != 0 && d.syn == 0 {
		d.syn = p.Num
	}
	if s.Flags&tcptrack.FlagFIN != 0 && d.fin == 0 {
		d.fin = p.Num
	}
	if !rst && s.Flags&tcptrack.FlagSYN == 0 && s.Flags&tcptrack.FlagACK != 0 {
		if s.Win == 0 {
			if d.zeroWin == 0 {
				d.zeroWin = p.Num
			}
			if d.zwStart == 0 {
				d.zwStart = s.Time
				d.zwEpisodes++
			}
		} else if d.zwStart != 0 {
			d.zwTotal += s.Time - d.zwStart
			d.zwStart = 0
		}
	}
	if s.PayloadLen > 0 {
		d.bytes += uint64(s.PayloadLen)
		end := s.Seq + uint32(s.PayloadLen)
		if d.haveEnd && seqLT(s.Seq, d.maxEnd) {
			d.belowCnt++
			if d.below == 0 {
				d.below = p.Num
			}
		}
		if !d.haveEnd || seqLT(d.maxEnd, end) {
			d.maxEnd, d.haveEnd = end, true
		}
	}
}

func (x *facts) FlowOutput(f *flow.Flow, w column.Writer) {
	d := x.dirs.At(f.Slot)
	for _, v := range [...]uint64{d.first, d.last, d.syn, d.rst, uint64(d.rstCnt), uint64(d.rstTTL), uint64(d.rstIPID),
		uint64(d.ttlMin), uint64(d.ttlMax), d.ttlChgPkt, uint64(d.ttlChg), d.below, uint64(d.belowCnt), d.zeroWin, d.fin, d.bytes, uint64(d.ece), uint64(d.cwr),
		uint64(d.fragDgrams), uint64(d.fragDone), uint64(d.fragBad), d.fragPkt,
		uint64(d.csumChecked), uint64(d.csumBad), d.csumPkt, uint64(x.kaUnanswered(f, d)),
		uint64(d.zwEpisodes), uint64(d.zwTotal + d.zwOpen()), uint64(d.rstTime), uint64(d.lastOther),
		uint64(d.blips), d.blipPkt, uint64(d.blipTTL), d.blipData, uint64(d.badFlags), d.badFlagsPkt} {
		w.ColU(v)
	}
	w.Col()
	for i, v := range d.ttls {
		if i > 0 {
			w.Rep()
		}
		w.H(v, 16)
	}
	if x.counts {
		w.ColU(d.pkts)
		w.ColU(d.l7Bytes)
		w.ColU(uint64(d.maxL7))
	}
}

// fragment follows the reassembly of p's datagram: overlaps, odd sizes,
// tiny first fragments and, at the end, datagrams never completed. Only
// fragments reach here, so the map costs nothing for ordinary traffic.
func (x *facts) fragment(d *factsDir, p *decode.Packet) {
	if x.dgram == nil {
		x.dgram = map[dgramKey]*dgram{}
	}
	k := dgramKey{src: p.SrcIP, dst: p.DstIP, id: p.IPID, v6: p.Kind == decode.KindIPv6}
	g := x.dgram[k]
	if g == nil {
		g = &dgram{owner: d, end: -1}
		x.dgram[k] = g
		d.fragDgrams++
	}
	o := g.owner
	off, n := int(p.FragOff)*8, p.L3Len-p.L3HdrLen
	if n < 0 {
		n = 0
	}
	var bad uint8
	if p.MoreFrags && n%8 != 0 {
		bad |= 2
	}
	if off == 0 && p.MoreFrags {
		need := 8
		if p.Proto == 6 {
			need = 20
		}
		if n < need {
			bad |= 4
		}
	}
	for _, r := range g.have {
		if off < r[1] && r[0] < off+n && !(r[0] == off && r[1] == off+n) {
			bad |= 1 // overlapping, not an identical copy
		}
	}
	if !p.MoreFrags {
		g.end = off + n
	}
	g.have = append(g.have, [2]int{off, off + n})
	if bad != 0 {
		o.fragBad |= bad
		if o.fragPkt == 0 {
			o.fragPkt = p.Num
		}
	}
	if !g.done && g.end >= 0 && covered(g.have, g.end) {
		g.done = true
		o.fragDone++
	}
}

// covered reports whether the ranges cover [0, end).
func covered(rs [][2]int, end int) bool {
	reach := 0
	for changed := true; changed && reach < end; {
		changed = false
		for _, r := range rs {
			if r[0] <= reach && r[1] > reach {
				reach, changed = r[1], true
			}
		}
	}
	return reach >= end
}

// csumMax bounds the transport length of the packets whose checksum is
// verified: SYNs, pure ACKs, small datagrams. An offloading host leaves all
// its checksums wrong, small packets included, and the sum stays cheap.
const csumMax = 256

// csumFirst is the number of packets of a direction verified whatever
// their size: a sample that costs little per flow.
const csumFirst = 4

// csumSample bounds the packets verified per direction: enough to tell an
// offloading host (all wrong) from corruption, at a bounded cost.
const csumSample = 64

// l4ChecksumOK verifies the TCP, UDP, ICMP or ICMPv6 checksum of a complete
// unfragmented packet; checked is false for other protocols and for UDP
// over IPv4 without a checksum.
func l4ChecksumOK(p *decode.Packet) (ok, checked bool) {
	if p.L4Off < 0 || p.L4Len <= 0 || p.L4Off+p.L4Len > len(p.Data) {
		return false, false
	}
	l4 := p.Data[p.L4Off : p.L4Off+p.L4Len]
	v6 := p.Kind == decode.KindIPv6
	var sum uint64
	pseudo := true
	switch p.Proto {
	case 6:
		if len(l4) < 20 {
			return false, false
		}
	case 17:
		if len(l4) < 8 || !v6 && l4[6] == 0 && l4[7] == 0 {
			return false, false
		}
	case 1:
		pseudo = false
	case 58:
		if !v6 {
			return false, false
		}
	default:
		return false, false
	}
	if pseudo {
		n := 4
		if v6 {
			n = 16
		}
		sum += header.PseudoSum(p.SrcIP[:n], p.DstIP[:n], p.Proto, uint32(len(l4)))
	}
	if p.L4Summed { // the decoder summed the same bytes
		sum += p.L4Sum
	} else {
		sum += header.Sum(l4)
	}
	return header.Fold(sum) == 0xffff, true
}

// keepAlive follows keep-alive probes (an empty or one-byte segment one
// below the next sequence number) and counts the run of them that the peer
// has not answered since.
func (x *facts) keepAlive(f *flow.Flow, d *factsDir, s *tcptrack.Segment, num uint64) {
	end := uint64(s.Seq) + uint64(s.PayloadLen)
	if s.Flags&(tcptrack.FlagSYN|tcptrack.FlagFIN) != 0 {
		end++
	}
	probe := s.Flags&(tcptrack.FlagSYN|tcptrack.FlagFIN|tcptrack.FlagRST) == 0 && s.PayloadLen <= 1 &&
		d.seqEnd != 0 && uint32(s.Seq) == uint32(d.seqEnd)-1
	if !probe && (d.seqEnd == 0 || seqLT(uint32(d.seqEnd), uint32(end))) {
		d.seqEnd = uint64(uint32(end)) | 1<<32 // bit 32: set
	}
	if !probe {
		return
	}
	var peerLast uint64
	if f.Partner != nil {
		peerLast = x.dirs.At(f.Partner.Slot).last
	}
	if d.kaRun > 0 && peerLast < d.kaRunStart {
		d.kaRun++
	} else {
		d.kaRunStart, d.kaRun = num, 1
	}
}

func (x *facts) kaUnanswered(f *flow.Flow, d *factsDir) uint32 {
	if d.kaRun == 0 {
		return 0
	}
	if f.Partner != nil && x.dirs.At(f.Partner.Slot).last > d.kaRunStart {
		return 0
	}
	return d.kaRun
}

// zwOpen is the zero window still open at the end of the direction.
func (d *factsDir) zwOpen() int64 {
	if d.zwStart == 0 {
		return 0
	}
	return max(0, d.lastTime-d.zwStart)
}

// injectHops is the least TTL distance taken as another sender: paths of
// equal cost behind load balancers differ by one hop, an injector sits
// elsewhere (or starts from another initial TTL).
const injectHops = 2

func ttlDist(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}
