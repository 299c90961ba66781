// Package tcpflags is the tcpFlags plugin (order 130): IP and TCP header
// analysis per flow direction (spec tcpFlags.md). It reproduces Tranalyzer
// 0.9.3 bit for bit, quirks included; the section numbers in comments refer
// to tcpFlags.md.
package tcpflags

import (
	"fmt"

	"flowsift/internal/column"
	"flowsift/internal/flow"
	"flowsift/internal/plugin"
)

// Name is the plugin name as printed in reports and headers.
const Name = "tcpFlags"

// TCP flag bits (byte 13 of the TCP header).
const (
	fFIN = 0x01
	fSYN = 0x02
	fRST = 0x04
	fPSH = 0x08
	fACK = 0x10
	fURG = 0x20
	fECE = 0x40
	fCWR = 0x80
	fSFR = fSYN | fFIN | fRST
	// ARSF masks the flags that select the case of §5.6.
	fARSF = fACK | fRST | fSYN | fFIN
)

// rttState values (§5.5).
const (
	rttNone   = 0
	rttSyn    = 1
	rttSynAck = 2
	rttAck    = 4
	rttStop   = 0x80
)

// Register adds tcpFlags to the registry.
// CorrectedColumns are the flow columns in which flowsift, by default
// (FIXT2BUGS=1), prints the correct value where Tranalyzer 0.9.3 prints a
// defect in many rows: the JA4T separator and the window-scale state that
// leaks from one flow into the next (docs/compat.md, "tcpFlags").
var CorrectedColumns = []string{"tcpJA4T", "tcpWS"}

func Register(r *plugin.Registry) {
	r.Add(&plugin.Registration{
		Name:    Name,
		Order:   130,
		Version: "0.9.3",
		Default: true,
		Switches: []plugin.Switch{
			{Name: "IPTOS", Default: "0", Help: "ToS column: 0 hex ipToS, 1 ipToSDscp_ecn, 2 ipToSPrec_ecn"},
			{Name: "RTT_ESTIMATE", Default: "1", Help: "round trip time estimation columns"},
			{Name: "IPCHECKSUM", Default: "2", Help: "0 none, 1 IPv4 header checksum, 2 IPv4 header and L4 checksums"},
			{Name: "WINDOWSIZE", Default: "1", Help: "TCP window size columns"},
			{Name: "WINMIN", Default: "1", Help: "low window threshold"},
			{Name: "SEQ_ACK_NUM", Default: "1", Help: "sequence/ack analysis columns"},
			{Name: "FRAG_ANALYZE", Default: "1", Help: "fragmentation analysis bits"},
			{Name: "NAT_BT_EST", Default: "1", Help: "timestamp, up time and boot time columns"},
			{Name: "SCAN_DETECTOR", Default: "1", Help: "scan detector at flow termination"},
			{Name: "MPTCP", Default: "1", Help: "MPTCP option dissection"},
			{Name: "TCPJA4T", Default: "1", Help: "tcpJA4T column"},
			{Name: "JA4TOPTMX", Default: "20", Help: "max option kinds remembered for JA4T"},
			{Name: "TCPFLGCNT", Default: "0", Help: "per-flag packet counter column"},
			{Name: "SPKTMD_SEQACKREL", Default: "0", Help: "packet file seq/ack relative"},
			{Name: "SPKTMD_SEQACKHEX", Default: "0", Help: "packet file seq/ack in hex"},
			{Name: "FIXT2BUGS", Default: "1", Help: "1: print the correct value where Tranalyzer 0.9.3 is evidently wrong (docs/compat.md, tcpFlags); 0: reproduce its output byte for byte"},
		},
		New: func(env *plugin.Env, s plugin.Settings) (plugin.Plugin, error) {
			c := config{
				ipTos:      s.Int("IPTOS"),
				rtt:        s.Bool("RTT_ESTIMATE"),
				ipChecksum: s.Int("IPCHECKSUM"),
				window:     s.Bool("WINDOWSIZE"),
				winMin:     uint32(s.Int("WINMIN")),
				seqAck:     s.Bool("SEQ_ACK_NUM"),
				frag:       s.Bool("FRAG_ANALYZE"),
				natBt:      s.Bool("NAT_BT_EST"),
				scan:       s.Bool("SCAN_DETECTOR"),
				mptcp:      s.Bool("MPTCP"),
				ja4t:       s.Bool("TCPJA4T"),
				ja4tMax:    s.Int("JA4TOPTMX"),
				flgCnt:     s.Bool("TCPFLGCNT"),
				seqRel:     s.Bool("SPKTMD_SEQACKREL"),
				seqHex:     s.Bool("SPKTMD_SEQACKHEX"),
				fix:        s.Bool("FIXT2BUGS"),
			}
			if c.ipTos < 0 || c.ipTos > 2 {
				return nil, fmt.Errorf("IPTOS must be 0, 1 or 2")
			}
			if c.ipChecksum < 0 || c.ipChecksum > 2 {
				return nil, fmt.Errorf("IPCHECKSUM must be 0, 1 or 2")
			}
			if c.ja4tMax < 0 || c.ja4tMax > 255 {
				return nil, fmt.Errorf("JA4TOPTMX must be in 0..255")
			}
			return New(env, c), nil
		},
	})
}

// config holds the switch values (spec §1, §9).
type config struct {
	ipTos      int
	rtt        bool
	ipChecksum int
	window     bool
	winMin     uint32
	seqAck     bool
	frag       bool
	natBt      bool
	scan       bool
	mptcp      bool
	ja4t       bool
	ja4tMax    int
	flgCnt     bool
	seqRel     bool
	seqHex     bool
	// fix prints corrected values instead of T2's evident defects: JA4T
	// separator, window-scale state leaking between flows, stale capture
	// buffer bytes, wrapped negative lengths and boot-time fractions.
	fix bool
}

// defaultConfig is the 0.9.3 default build.
func defaultConfig() config {
	return config{rtt: true, ipChecksum: 2, window: true, winMin: 1, seqAck: true,
		frag: true, natBt: true, scan: true, mptcp: true, ja4t: true, ja4tMax: 20}
}

// shadowSize is libpcap's buffer for the default snap length (262144) plus
// slack for reads of a few bytes past it.
const shadowSize = 262144 + 64

// maxJA4T bounds the remembered option kinds (JA4TOPTMX is at most 255).
const maxJA4T = 255

// ja4tInline is how many JA4T option kinds the per-flow record holds: the
// default JA4TOPTMX.
const ja4tInline = 20

// ja4tKind returns option kind i of the flow in slot.
func (p *Plugin) ja4tKind(s *state, slot int32, i int) uint8 {
	if i < ja4tInline {
		return s.ja4t[i]
	}
	return p.ja4tMore.At(slot)[i-ja4tInline]
}

// addJA4T appends an option kind of a SYN (up to JA4TOPTMX).
func (p *Plugin) addJA4T(s *state, k uint8) {
	if int(s.ja4tN) >= p.cfg.ja4tMax {
		return
	}
	if s.ja4tN < ja4tInline {
		s.ja4t[s.ja4tN] = k
	} else {
		p.ja4tMore.At(p.slot)[s.ja4tN-ja4tInline] = k
	}
	s.ja4tN++
}

// state is one flow direction's tcpFlags state (§4). Fields are grouped by
// size, widest first, so that the record has no padding (256 bytes; tens of
// thousands are alive at once); the comments name the spec section of each.
type state struct {
	// 8 bytes.
	seqBytes, ackBytes    uint64 // §5.9
	mlen                  uint64 // §5.9
	tsFirstSec, tsLastSec uint64 // §5.7

	// 4 bytes.
	pktCount                               float32
	ipOptNum                               uint32
	ip6HHMask, ip6DMask                    uint32
	l4Sum                                  uint32  // L4 checksum across fragments (§5.3)
	rttMin, rttMax, rttAvg, jit, trip      float32 // RTT (§5.5), filled by the partner's packets
	isn, seqLast, seqNext, seqMax, ackLast uint32  // sequence analysis (§5.9)
	ackBase                                uint32  // SPKTMD_SEQACKREL base
	inflight, inflightMax                  uint32
	winInit, winMin, winMax, winLast       uint32 // window (§5.8)
	winAvg                                 float32
	winPkts, lowWin                        uint32
	options                                uint32 // options (§5.7)
	tsVal, tsEcr, tsMax, tsFirst           uint32
	tsFirstNsec, tsLastNsec                uint32

	// 2 bytes.
	stat                               uint16 // aggregated tcpFStat
	prevStat                           uint16 // local tcpFStat of the previous packet
	ipMinID, ipMaxID, prevIPID         uint16
	ipFlags, ipOptCnt                  uint16
	ip6HHCnt, ip6DCnt                  uint16
	l4HdrChk, l4TotLen, fragExp        uint16
	seqCnt, seqFault, ackCnt, ackFault uint16
	winDown, winUp, winChg             uint16
	flagsAgg, prevFlags                uint16
	anomaly, prevAnom                  uint16
	optPktCnt, optCnt, mss, mpTypes    uint16

	// 1 byte.
	prevTTL, minTTL, maxTTL, ttlChg uint8
	ipOptCl, tos                    uint8
	rttState                        uint8
	scanPkts                        uint8
	wsShift                         uint8
	mpFlags, mpAddrID, mpDSS        uint8
	ja4tN                           uint8
	ja4t                            [ja4tInline]uint8 // more kinds in Plugin.ja4tMore
}

// Plugin is the tcpFlags plugin instance.
type Plugin struct {
	env   *plugin.Env
	cfg   config
	store flow.Store[state]

	flowCols, pktCols []column.Column

	// Run-wide counters and aggregates (§8).
	aggIPFlags, aggStat, aggFlags, aggAnomaly uint16
	aggToS                                    uint8
	aggMPTypes                                uint16
	aggMPFlags                                uint8
	scanAttempts, scanSuccess                 uint64
	synRetries, seqRetries                    uint64
	winPkts, lowWin                           uint64
	mptcpCnt                                  uint64

	ja4tBuf []byte // reused JA4T string buffer
	// ja4tMore holds the option kinds past ja4tInline of a flow (only with
	// JA4TOPTMX > ja4tInline): the per-flow record stays small.
	ja4tMore flow.Store[[maxJA4T - ja4tInline]uint8]
	// flgCnts holds the TCPFLGCNT counters of a flow, only with that
	// switch on (off by default): 32 bytes per flow that most runs never use.
	flgCnts flow.Store[[16]uint16]
	slot    int32  // slot of the flow Packet is updating
	shadow  []byte // libpcap-like capture buffer, FIXT2BUGS=0 only (see frame)
	cur     []byte // the bytes of the current packet's headers (see frame)
}

// New builds the plugin with the given configuration.
func New(env *plugin.Env, c config) *Plugin {
	p := &Plugin{env: env, cfg: c, ja4tBuf: make([]byte, 0, 64+4*maxJA4T)}
	env.ReadsAtOutput(&p.store)
	if env != nil {
		env.L4Sums = true // l4Checksum
	}
	if !c.fix {
		p.shadow = make([]byte, shadowSize)
	}
	p.flowCols = flowColumns(c)
	p.pktCols = packetColumns(c)
	return p
}

// FlowColumns implements plugin.Plugin.
func (p *Plugin) FlowColumns() []column.Column { return p.flowCols }

// PacketColumns implements plugin.Plugin.
func (p *Plugin) PacketColumns() []column.Column { return p.pktCols }

func flowColumns(c config) []column.Column {
	var cols []column.Column
	add := func(name, typ, desc string) {
		cols = append(cols, column.Column{Name: name, Type: typ, Desc: desc})
	}
	add("tcpFStat", "H16", "tcpFlags status")
	add("ipMindIPID", "U16", "IP minimum delta IP ID")
	add("ipMaxdIPID", "U16", "IP maximum delta IP ID")
	add("ipMinTTL", "U8", "IP minimum TTL")
	add("ipMaxTTL", "U8", "IP maximum TTL")
	add("ipTTLChg", "U8", "IP TTL change count")
	switch c.ipTos {
	case 0:
		add("ipToS", "H8", "IP Type of Service hex")
	case 1:
		add("ipToSDscp_ecn", "U8_U8", "IP Type of Service: DSCP and ECN decimal")
	default:
		add("ipToSPrec_ecn", "U8_U8", "IP Type of Service: Precedence and ECN")
	}
	add("ipFlags", "H16", "IP aggregated flags")
	add("ipOptCnt", "U16", "IP options count")
	add("ipOptCpCl_Num", "H8_H32", "IP aggregated options, copy-class and number")
	add("ip6OptCntHH_D", "U16_U16", "IPv6 Hop-by-Hop destination option counts")
	add("ip6OptHH_D", "H32_H32", "IPv6 aggregated Hop-by-Hop destination options")
	if c.seqAck {
		add("tcpISeqN", "U32", "TCP initial sequence number")
		add("tcpPSeqCnt", "U16", "TCP packet seq count")
		add("tcpSeqSntBytes", "U64", "TCP sent seq diff bytes")
		add("tcpSeqFaultCnt", "U16", "TCP sequence number fault count")
		add("tcpPAckCnt", "U16", "TCP packet ACK count")
		add("tcpFlwLssAckRcvdBytes", "U64", "TCP flawless ACK received bytes")
		add("tcpAckFaultCnt", "U16", "TCP ACK number fault count")
		add("tcpBFlgtMx", "U32", "TCP Bytes in Flight MAX")
	}
	if c.window {
		add("tcpInitWinSz", "U32", "TCP initial effective window size")
		add("tcpAvgWinSz", "F", "TCP average effective window size")
		add("tcpMinWinSz", "U32", "TCP minimum effective window size")
		add("tcpMaxWinSz", "U32", "TCP maximum effective window size")
		add("tcpWinSzDwnCnt", "U16", "TCP effective window size change down count")
		add("tcpWinSzUpCnt", "U16", "TCP effective window size change up count")
		add("tcpWinSzChgDirCnt", "U16", "TCP effective window size direction change count")
		add("tcpWinSzThRt", "F", "TCP packet count ratio below window size WINMIN threshold")
	}
	add("tcpFlags", "H16", "TCP aggregated protocol flags (FIN-ACK, SYN-ACK, RST-ACK, CWR, ECE, URG, ACK, PSH, RST, SYN, FIN)")
	add("tcpAnomaly", "H16", "TCP aggregated header anomaly flags")
	if c.flgCnt {
		add("tcpCntF_S_R_P_A_U_E_C_FA_SA_RA_N_SF_SFR_RF_X",
			"U16_U16_U16_U16_U16_U16_U16_U16_U16_U16_U16_U16_U16_U16_U16_U16", "TCP flags counts")
	}
	if c.ja4t {
		add("tcpJA4T", "SC", "TCP JA4T/JA4TS fingerprint")
	}
	add("tcpOptPktCnt", "U16", "TCP options packet count")
	add("tcpOptCnt", "U16", "TCP options count")
	add("tcpOptions", "H32", "TCP aggregated options")
	add("tcpMSS", "U16", "TCP maximum segment size")
	add("tcpWS", "U16", "TCP window scale")
	if c.mptcp {
		add("tcpMPTBF", "H16", "TCP MPTCP type bitfield")
		add("tcpMPF", "H8", "TCP MPTCP flags")
		add("tcpMPAID", "U8", "TCP MPTCP address ID")
		add("tcpMPDSSF", "H8", "TCP MPTCP DSS flags")
	}
	if c.natBt {
		add("tcpTmS", "U32", "TCP time stamp")
		add("tcpTmER", "U32", "TCP time echo reply")
		add("tcpEcI", "F", "TCP estimated counter increment")
		add("tcpUtm", "D", "TCP estimated up time")
		add("tcpBtm", "U64.U32", "TCP estimated boot time")
	}
	if c.rtt {
		add("tcpSSASAATrip", "F", "TCP trip time (A: SYN, SYN-ACK, B: SYN-ACK, ACK)")
		add("tcpRTTAckTripMin", "F", "TCP ACK trip min")
		add("tcpRTTAckTripMax", "F", "TCP ACK trip max")
		add("tcpRTTAckTripAvg", "F", "TCP ACK trip average")
		add("tcpRTTAckTripJitAvg", "F", "TCP ACK trip jitter average")
		add("tcpRTTSseqAA", "F", "TCP round trip time (A: SYN, SYN-ACK, ACK, B: ACK-ACK)")
		add("tcpRTTAckJitAvg", "F", "TCP ACK round trip average jitter")
	}
	return cols
}

func packetColumns(c config) []column.Column {
	var cols []column.Column
	add := func(name, typ string) { cols = append(cols, column.Column{Name: name, Type: typ}) }
	switch c.ipTos {
	case 0:
		add("ipToS", "H8")
	case 1:
		add("ipToSDscp_ecn", "U8_U8")
	default:
		add("ipToSPrec_ecn", "U8_U8")
	}
	add("ipID", "U16")
	add("ipIDDiff", "I32")
	add("ipFrag", "H16")
	add("ipTTL", "U8")
	if c.ipChecksum > 0 {
		add("ipHdrChkSum", "H16")
		add("ipCalChkSum", "H16")
	}
	if c.ipChecksum > 1 {
		add("l4HdrChkSum", "H16")
		add("l4CalChkSum", "H16")
	}
	add("ipFlags", "H16")
	add("ip6HHOptLen", "I32")
	add("ip6HHOpts", "H8:R")
	add("ip6DOptLen", "I32")
	add("ip6DOpts", "H8:R")
	add("ipOptLen", "I32")
	add("ipOpts", "H8:R")
	if c.seqAck {
		seqType := "U32"
		if c.seqHex { // SPKTMD_SEQACKHEX: written in hex
			seqType = "H32"
		}
		add("seq", seqType)
		add("ack", seqType)
		add("seqMax", seqType)
		add("seqDiff", "I32")
		add("ackDiff", "I32")
		add("seqLen", "U32")
		add("ackLen", "U32")
		add("seqFlowLen", "I64")
		add("ackFlowLen", "I64")
		add("tcpMLen", "I64")
		add("tcpBFlgt", "U32")
	}
	add("tcpFStat", "H16")
	add("tcpFlags", "H16")
	add("tcpAnomaly", "H16")
	add("tcpWin", "U32")
	add("tcpWS", "U16")
	add("tcpMSS", "U16")
	if c.natBt {
		add("tcpTmS", "U32")
		add("tcpTmER", "U32")
	}
	if c.mptcp {
		add("tcpMPTyp", "U8")
		add("tcpMPF", "H8")
		add("tcpMPAID", "U8")
		add("tcpMPDSSF", "H8")
	}
	add("tcpOptLen", "I32")
	add("tcpOpts", "H8:R")
	return cols
}
