package tcpflags

import (
	"math"
	"strconv"

	"flowsift/internal/column"
	"flowsift/internal/decode"
	"flowsift/internal/flow"
	"flowsift/internal/report"
)

// writeBytes writes n bytes from d[off:] as 0x%02x;... T2 prints the full
// header-declared length even beyond the capture; those bytes are whatever
// its buffer held, most often zeros, which is what we print.
func writeBytes(w column.Writer, d []byte, off, n int) {
	if off >= 0 && n >= 0 && off+n <= len(d) {
		column.WriteHexBytes(w, d[off:off+n])
		return
	}
	for i := 0; i < n; i++ {
		if i > 0 {
			w.Rep()
		}
		w.H(uint64(u8(d, off+i)), 2)
	}
}

func (p *Plugin) writeToS(w column.Writer, tos uint8) {
	switch p.cfg.ipTos {
	case 0:
		w.H(uint64(tos), 2)
	case 1:
		w.U(uint64(tos >> 2))
		w.Sub()
		w.U(uint64(tos & 3))
	default:
		w.U(uint64(tos >> 5))
		w.Sub()
		w.U(uint64(tos & 3))
	}
}

// seqAckVal writes a packet-file seq/ack value (§9 REL/HEX switches).
func (p *Plugin) seqAckVal(w column.Writer, x uint32) {
	w.Col()
	if p.cfg.seqHex {
		w.H(uint64(x), 8)
	} else {
		w.U(uint64(x))
	}
}

// writePacket writes the packet-file columns (§3).
func (p *Plugin) writePacket(w column.Writer, pk *decode.Packet, s *state, v *pktVals) {
	d := p.cur
	v6 := pk.Kind == decode.KindIPv6
	w.Col()
	p.writeToS(w, v.tos)
	w.ColU(uint64(v.ipID))
	w.ColI(int64(v.ipIDDiff))
	w.ColH(uint64(v.ipFrag), 4)
	w.ColU(uint64(v.ttl))
	if p.cfg.ipChecksum > 0 {
		w.ColH(uint64(v.ipHdrChk), 4)
		w.ColH(uint64(v.ipCalChk), 4)
	}
	if p.cfg.ipChecksum > 1 {
		w.ColH(uint64(v.l4HdrChk), 4)
		w.ColH(uint64(v.l4CalChk), 4)
	}
	w.ColH(uint64(v.ipFlags), 4)
	hhLen, dLen := 0, 0
	if v6 {
		if pk.IP6HHOff != 0 {
			hhLen = pk.IP6HHLen
		}
		if pk.IP6DOff != 0 {
			dLen = pk.IP6DLen
		}
	}
	w.ColI(int64(hhLen))
	w.Col()
	if hhLen > 0 {
		writeBytes(w, d, pk.IP6HHOff, hhLen)
	}
	w.ColI(int64(dLen))
	w.Col()
	if dLen > 0 {
		writeBytes(w, d, pk.IP6DOff, dLen)
	}
	w.ColI(int64(v.ipOptLen))
	w.Col()
	if !v6 && v.ipOptLen > 0 {
		writeBytes(w, d, v.ipOptOff, v.ipOptLen)
	}

	if !v.tcp {
		if p.cfg.seqAck {
			for i := 0; i < 11; i++ {
				w.Col()
			}
		}
		w.ColH(0, 4)
		for i := 0; i < 5; i++ {
			w.Col()
		}
		if p.cfg.natBt {
			w.Col()
			w.Col()
		}
		if p.cfg.mptcp {
			for i := 0; i < 4; i++ {
				w.Col()
			}
		}
		w.ColI(0)
		w.Col()
		return
	}

	if p.cfg.seqAck {
		seq, ack, smax := v.seq, v.ack, v.seqMax
		if p.cfg.seqRel {
			seq -= s.isn
			smax -= s.isn
			ack -= s.ackBase
		}
		p.seqAckVal(w, seq)
		p.seqAckVal(w, ack)
		p.seqAckVal(w, smax)
		w.ColI(int64(v.seqDiff))
		w.ColI(int64(v.ackDiff))
		w.ColU(uint64(v.seqLen))
		w.ColU(uint64(v.ackLen))
		w.ColI(int64(s.seqBytes))
		w.ColI(int64(s.ackBytes))
		w.ColI(int64(s.mlen))
		w.ColU(uint64(s.inflight))
	}
	w.ColH(uint64(v.local), 4)
	w.ColH(uint64(v.flags), 4)
	w.ColH(uint64(v.anomaly), 4)
	w.ColU(uint64(v.win))
	w.ColU(uint64(v.ws))
	w.ColU(uint64(s.mss))
	if p.cfg.natBt {
		w.ColU(uint64(s.tsVal))
		w.ColU(uint64(s.tsEcr))
	}
	if p.cfg.mptcp {
		w.ColU(uint64(v.mpTyp))
		w.ColH(uint64(v.mpF), 2)
		w.ColU(uint64(v.mpAID))
		w.ColH(uint64(v.mpD), 2)
	}
	w.ColI(int64(v.optLen))
	w.Col()
	if v.optLen > 0 {
		writeBytes(w, d, v.optOff, v.optLen)
	}
}

// FlowOutput implements plugin.Plugin (§6).
func (p *Plugin) FlowOutput(f *flow.Flow, w column.Writer) {
	s := p.store.At(f.Slot)
	var o *state
	if f.Partner != nil {
		o = p.store.At(f.Partner.Slot)
	}

	// Run-wide aggregates come before the scan detector (§6.1, §8).
	p.aggIPFlags |= s.ipFlags
	p.aggStat |= s.stat
	p.aggFlags |= s.flagsAgg
	p.aggAnomaly |= s.anomaly
	p.aggToS |= s.tos
	p.aggMPTypes |= s.mpTypes
	p.aggMPFlags |= s.mpFlags

	if p.cfg.scan && s.anomaly&0x0001 == 0 && s.flagsAgg&(fSYN|fFIN|0xf800) != 0 {
		if s.scanPkts < 4 && s.anomaly&0x3000 == 0 {
			s.anomaly |= 0x1000
			p.scanAttempts++
		}
		if o != nil && (s.anomaly&0x3000 == 0x1000 ||
			(o.anomaly&0x3000 == 0x1000 && s.scanPkts < 4 && o.scanPkts < 4)) {
			s.anomaly |= 0x2000
			o.anomaly |= 0x2000
			p.scanSuccess++
		}
	}
	if f.Status&decode.StatFragError != 0 {
		s.ipFlags |= 0x0200
	}

	col := func() { w.Col() }
	col()
	w.H(uint64(s.stat), 4)
	col()
	w.U(uint64(s.ipMinID))
	col()
	w.U(uint64(s.ipMaxID))
	col()
	w.U(uint64(s.minTTL))
	col()
	w.U(uint64(s.maxTTL))
	col()
	w.U(uint64(s.ttlChg))
	col()
	p.writeToS(w, s.tos)
	col()
	w.H(uint64(s.ipFlags), 4)
	col()
	w.U(uint64(s.ipOptCnt))
	col()
	w.H(uint64(s.ipOptCl), 2)
	w.Sub()
	w.H(uint64(s.ipOptNum), 8)
	col()
	w.U(uint64(s.ip6HHCnt))
	w.Sub()
	w.U(uint64(s.ip6DCnt))
	col()
	w.H(uint64(s.ip6HHMask), 8)
	w.Sub()
	w.H(uint64(s.ip6DMask), 8)
	if p.cfg.seqAck {
		col()
		w.U(uint64(s.isn))
		col()
		w.U(uint64(s.seqCnt))
		col()
		w.U(s.seqBytes)
		col()
		w.U(uint64(s.seqFault))
		col()
		w.U(uint64(s.ackCnt))
		col()
		w.U(s.ackBytes)
		col()
		w.U(uint64(s.ackFault))
		col()
		w.U(uint64(s.inflightMax))
	}
	if p.cfg.window {
		col()
		w.U(uint64(s.winInit))
		col()
		w.F32(s.winAvg)
		col()
		w.U(uint64(s.winMin))
		col()
		w.U(uint64(s.winMax))
		col()
		w.U(uint64(s.winDown))
		col()
		w.U(uint64(s.winUp))
		col()
		w.U(uint64(s.winChg))
		col()
		var r float32
		if s.winPkts > 0 {
			r = float32(float32(s.lowWin) / float32(s.winPkts))
		}
		w.F32(r)
	}
	col()
	w.H(uint64(s.flagsAgg), 4)
	col()
	w.H(uint64(s.anomaly), 4)
	if p.cfg.flgCnt {
		col()
		for i, c := range p.flgCnts.At(f.Slot) {
			if i > 0 {
				w.Sub()
			}
			w.U(uint64(c))
		}
	}
	// T2 tests the run-wide aggregate: one window-scaling flow makes every
	// later row print a scale (and a JA4T shift). Fixed: this flow's bit.
	wsUsed := p.aggStat&0x0200 != 0
	if p.cfg.fix {
		wsUsed = s.stat&0x0200 != 0
	}
	if p.cfg.ja4t {
		col()
		w.StrClass(p.ja4tString(s, f.Slot, wsUsed))
	}
	col()
	w.U(uint64(s.optPktCnt))
	col()
	w.U(uint64(s.optCnt))
	col()
	w.H(uint64(s.options), 8)
	col()
	w.U(uint64(s.mss))
	col()
	if wsUsed {
		w.U(uint64(uint16(1) << s.wsShift))
	} else {
		w.U(0)
	}
	if p.cfg.mptcp {
		col()
		w.H(uint64(s.mpTypes), 4)
		col()
		w.H(uint64(s.mpFlags), 2)
		col()
		w.U(uint64(s.mpAddrID))
		col()
		w.H(uint64(s.mpDSS), 2)
	}
	if p.cfg.natBt {
		ecI, utm, bsec, bfrac := s.bootTime(p.cfg.fix)
		col()
		w.U(uint64(s.tsVal))
		col()
		w.U(uint64(s.tsEcr))
		col()
		w.F32(ecI)
		col()
		w.F64(utm)
		col()
		w.Time(bsec, bfrac)
	}
	if p.cfg.rtt {
		col()
		w.F32(s.trip)
		col()
		w.F32(s.rttMin)
		col()
		w.F32(s.rttMax)
		col()
		w.F32(s.rttAvg)
		col()
		w.F32(float32(math.Sqrt(float64(s.jit))))
		var rtt, jit float32
		if o != nil {
			if f.Status&decode.StatInverted != 0 {
				rtt = float32(s.rttAvg + o.rttAvg)
				jit = float32(math.Sqrt(float64(float32(s.jit + o.jit))))
			} else {
				rtt = float32(s.trip + o.trip)
			}
		}
		col()
		w.F32(rtt)
		col()
		w.F32(jit)
	}
}

// ja4tString builds tcpJA4T (§6.3), including T2's missing '_' between the
// option list and the MSS.
func (p *Plugin) ja4tString(s *state, slot int32, wsUsed bool) []byte {
	b := p.ja4tBuf[:0]
	b = strconv.AppendUint(b, uint64(s.winInit), 10)
	b = append(b, '_')
	if s.ja4tN == 0 {
		b = append(b, "00_"...)
	} else {
		for i := 0; i < int(s.ja4tN); i++ {
			b = strconv.AppendUint(b, uint64(p.ja4tKind(s, slot, i)), 10)
			b = append(b, '-')
		}
		b = b[:len(b)-1]
		if p.cfg.fix {
			b = append(b, '_')
		}
	}
	if s.mss < 10 {
		b = append(b, '0')
	}
	b = strconv.AppendUint(b, uint64(s.mss), 10)
	b = append(b, '_')
	if wsUsed {
		b = strconv.AppendUint(b, uint64(s.wsShift), 10)
	} else {
		b = append(b, "00"...)
	}
	p.ja4tBuf = b
	return b
}

// bootTime computes tcpEcI, tcpUtm and tcpBtm (§6.5).
func (s *state) bootTime(fix bool) (ecI float32, utm float64, bsec uint64, bfrac uint32) {
	if s.options&(1<<8) == 0 {
		return 0, 0, 0, 0
	}
	// T2 borrows 10^6 on nanosecond values (a microsecond helper).
	sec := int64(s.tsLastSec) - int64(s.tsFirstSec)
	frac := int64(s.tsLastNsec) - int64(s.tsFirstNsec)
	if frac < 0 {
		sec--
		if fix {
			frac += 1000000000
		} else {
			frac += 1000000
		}
	}
	f := float32(float64(sec) + float64(frac)/1e9)
	if i := s.tsVal - s.tsFirst; i != 0 {
		f = float32(f / float32(i))
		switch {
		case float64(f) < 0.002:
			f = 0.001
		case float64(f) < 0.005:
			f = 0.004
		case float64(f) < 0.02:
			f = 0.01
		case float64(f) < 0.2:
			f = 0.1
		case float64(f) < 0.7:
			f = 0.1
		default:
			f = 1.0
		}
	} else {
		switch {
		case s.minTTL >= 128:
			f = 0.1
		case s.minTTL >= 64:
			f = 0.004
		case s.minTTL > 32:
			f = 0.01
		default:
			f = 0.001
		}
	}
	utm = float64(s.tsVal) * float64(f)
	us := uint64(utm)
	uf := int64(uint32((utm - float64(us)) * 1e9))
	bsec = s.tsLastSec - us
	bf := int64(s.tsLastNsec) - uf
	if bf < 0 {
		bsec--
		if fix {
			bf += 1000000000 // a nanosecond borrow: no 10-digit fraction
		} else {
			bf += 1000000
		}
	}
	return f, utm, bsec, uint32(bf)
}

// Report implements plugin.Plugin (§8).
func (p *Plugin) Report(r *report.Report) {
	hex := func(v uint64, digits int) string {
		s := strconv.FormatUint(v, 16)
		for len(s) < digits {
			s = "0" + s
		}
		return "0x" + s
	}
	if p.aggIPFlags != 0 {
		r.Plugin(Name, "Aggregated ipFlags="+hex(uint64(p.aggIPFlags), 4))
	}
	if p.aggStat != 0 {
		r.Plugin(Name, "Aggregated tcpFStat="+hex(uint64(p.aggStat), 4))
	}
	if p.aggFlags != 0 {
		r.Plugin(Name, "Aggregated tcpFlags="+hex(uint64(p.aggFlags), 4))
	}
	if p.aggAnomaly != 0 {
		r.Plugin(Name, "Aggregated tcpAnomaly="+hex(uint64(p.aggAnomaly), 4))
	}
	if p.aggToS != 0 {
		r.Plugin(Name, "Aggregated ipToS="+hex(uint64(p.aggToS), 2))
	}
	if p.scanAttempts > 0 || p.scanSuccess > 0 {
		pct := "[inf%]"
		if p.scanAttempts > 0 {
			pct = report.Pct(float64(p.scanSuccess), float64(p.scanAttempts))
		}
		r.Plugin(Name, "Number of TCP scans attempted, successful: "+
			strconv.FormatUint(p.scanAttempts, 10)+report.Suffix(p.scanAttempts)+", "+
			strconv.FormatUint(p.scanSuccess, 10)+report.Suffix(p.scanSuccess)+" "+pct)
	}
	if p.synRetries > 0 || p.seqRetries > 0 {
		r.Plugin(Name, "Number of TCP SYN retries, seq retries: "+
			strconv.FormatUint(p.synRetries, 10)+report.Suffix(p.synRetries)+", "+
			strconv.FormatUint(p.seqRetries, 10)+report.Suffix(p.seqRetries))
	}
	if p.lowWin > 0 {
		r.Plugin(Name, "Number WinSz below "+strconv.FormatUint(uint64(p.cfg.winMin), 10)+": "+
			strconv.FormatUint(p.lowWin, 10)+report.Suffix(p.lowWin)+" "+
			report.Pct(float64(p.lowWin), float64(p.winPkts)))
	}
	if p.mptcpCnt > 0 {
		r.Plugin(Name, "Aggregated MPTCP subtypes: tcpMPTBF="+hex(uint64(p.aggMPTypes), 4))
		r.Plugin(Name, "Aggregated MPTCP flags: tcpMPF="+hex(uint64(p.aggMPFlags), 2))
		r.Plugin(Name, "Number of MPTCP packets: "+strconv.FormatUint(p.mptcpCnt, 10)+
			report.Suffix(p.mptcpCnt)+" "+report.Pct(float64(p.mptcpCnt), float64(p.env.Packets)))
	}
}
