package tcpdiag

import (
	"flowsift/internal/flow"
	"flowsift/internal/tcptrack"
)

// dir is the diagnosis state of one flow direction: what it sent, as far
// as this capture tells.
type dir struct {
	// Layout: three 64-byte lines (the record is padded to 192 bytes, so
	// in a store chunk every record starts on a line). Every TCP packet
	// reads lines 0 and 1 of its own direction and of the partner's; the
	// handshake and rarer events touch line 2. The record is cold on most
	// packets (tens of thousands of flows interleave), so each line
	// touched is a cache miss. What only a direction that sends data needs
	// is in its sendRec, taken from a pool: most directions of a busy
	// capture never send data (scans, refused and idle connections).

	// Line 0.
	lastTime, lastTx int64
	hi               uint64 // end of the highest data byte seen, 0 = none
	zwSince          int64  // the partner's window for this direction closed since
	hsAck            int64
	// Echo timing: the first time a new TSval of this direction was seen
	// (echoVal/echoTime, pending until the partner echoes it) and the
	// smallest delay of such an echo by this direction (minEcho).
	echoVal, echoLast uint32
	// Send-order keys: the IPv4 ID extended to 64 bits, the TCP timestamp
	// extended, and the highest of each seen on a data frame.
	idRef, idMin uint64

	// Line 1.
	ackMax                      uint64 // highest cumulative ACK of this direction's data
	arrMax                      uint64 // highest send position known to have arrived (end to end)
	echoTime                    int64
	bare                        [2]uint64 // identities of the last frames without data
	idFrames                    uint32
	sb                          int32 // 1 + pool index of the scoreboard, 0 = none yet
	segs                        int32
	findings                    uint16
	vant                        uint8 // vantage once the handshake or the timing decided it
	vantKnown, echoPend, idInit bool
	fb                          bool // the receiver's ACKs of this direction were seen
	ackSeen                     bool // as receiver: an ACK was seen (lastAckID)
	ofo                         bool // its previous ACK carried SACK blocks
	accounted                   bool
	lastAckID                   uint16 // as receiver: the previous ACK, to tell a repeated one

	// Line 2: the handshake and rarer events.
	minEcho, zwTime, synTime int64
	synSeq                   uint32
	rec                      int32 // reference into Plugin.recs, 0 = none yet
	ce, dupUp, rto           int32
	_                        [20]byte // to 192 bytes
}

// sendRec is what a direction that sent data (or whose data the receiver
// reported) keeps besides its dir, taken from a pool on first need
// (Plugin.rec) and given back when the flow's row is written. Line 0 holds
// what every data segment reads, line 1 what rarer events count.
type sendRec struct {
	// Line 0.
	lo                  uint64 // first data byte known (right after the SYN, or the first seen)
	tsRef, maxTS, maxID uint64
	// One new segment at a time is timed to its acknowledgement (Karn:
	// dropped when its bytes are retransmitted).
	probeEnd           uint64
	probeTime          int64
	segSize            uint32
	winLtd, reordUp    int32
	haveMaxID, haveMax bool
	tsInit, probeSet   bool

	// Line 1.
	loTime            int64 // the first data frame's time and send-order keys
	loID, loTS        uint64
	minAckDelay       int64
	retx, spur        int32
	lostUp, lostDown  int32
	reordE2E, dupDown int32
	capLoss           int32
	loKF              uint8
}

// acked takes an acknowledgement up to a at time t: the segment timed
// since it was sent gives the data-to-ACK delay (x may be nil: nothing
// sent, nothing timed).
func (x *sendRec) acked(a uint64, t int64) {
	if x == nil || !x.probeSet || a < x.probeEnd {
		return
	}
	if dl := t - x.probeTime; dl > 0 && (x.minAckDelay == 0 || dl < x.minAckDelay) {
		x.minAckDelay = dl
	}
	x.probeSet = false
}

// nseg converts bytes to segments of the largest size sent (x may be nil:
// no data sent yet, one segment).
func (x *sendRec) nseg(bytes uint64) int32 {
	if x == nil || x.segSize == 0 {
		return 1
	}
	s := uint64(x.segSize)
	return int32(max(1, (bytes+s/2)/s))
}

// segment analyses one TCP segment of direction d (o is the partner's
// state, nil for a lone flow).
func (p *Plugin) segment(f *flow.Flow, d, o *dir, self, peer *tcptrack.Endpoint, seg *tcptrack.Segment) {
	t := seg.Time
	d.lastTime = t
	if p.isCopy(f, d, self, seg, t) {
		// The same frame twice: the network (or the capture) copied it.
		if seg.Data() {
			d.segs++
			d.dupUp++
			p.class = ClassDup
			if d.hi != 0 {
				s := self.SeqExt(seg.Seq)
				p.board(d).expectDSACK(s, s+uint64(seg.PayloadLen), t)
			}
		}
		return
	}
	if seg.ECN == 3 {
		d.ce++
	}
	if seg.IPv4 && seg.Flags&(tcptrack.FlagSYN|tcptrack.FlagRST) == 0 {
		// SYNs and RSTs stay out: Linux numbers a SYN/ACK 0, not from the
		// socket's counter.
		d.countID(seg.IPID)
	}
	p.handshake(f, d, o, self, peer, seg)
	if seg.HasTS && !(d.vantKnown && o != nil && o.vantKnown) {
		p.echoTiming(d, o, seg, t)
	}
	if d.hi == 0 && seg.Flags&tcptrack.FlagSYN != 0 {
		// Data starts right after the SYN: a first data frame further on
		// leaves a hole.
		d.hi = self.SeqExt(seg.Seq) + 1 // and lo, when a sendRec is made
	}
	if o != nil && seg.Flags&(tcptrack.FlagSYN|tcptrack.FlagRST) == 0 {
		// This segment's window is the one the partner's data sees.
		if seg.Win == 0 {
			if o.zwSince == 0 {
				o.zwSince = t
			}
		} else if o.zwSince != 0 {
			o.zwTime += t - o.zwSince
			o.zwSince = 0
			o.findings |= FindZeroWindow
		}
	}
	if seg.Flags&tcptrack.FlagACK != 0 && o != nil && peer != nil && peer.Active && o.hi != 0 {
		p.feedback(f, o, d, peer, self.IPIDPerSocket(), seg, t)
	}
	if seg.Data() {
		d.segs++
		p.data(f, d, o, self, peer, seg, t)
	} else if d.hi != 0 && seg.Flags&(tcptrack.FlagSYN|tcptrack.FlagFIN|tcptrack.FlagRST) == 0 &&
		self.SeqExt(seg.Seq)+1 == d.hi && self.SndMaxExt <= d.hi {
		// A zero-length segment one byte below the highest: Linux' window
		// probe or keep-alive (RFC 9293 §3.8.4).
		if d.zwSince != 0 { // the receiver's window for this direction is closed
			d.findings |= FindZeroWinProbe
			p.class = ClassProbe
		} else {
			d.findings |= FindKeepAlive
			p.class = ClassKeepAlive
		}
	}
	d.lastTx = t
}

// echoTiming measures how soon this direction echoes the partner's
// timestamps: at the sender of the data the echo leaves right after the
// ACK arrives, at its receiver a round trip later. With the data-to-ACK
// delay, the reverse relation, it places the capture point when no
// handshake was captured.
func (p *Plugin) echoTiming(d, o *dir, seg *tcptrack.Segment, t int64) {
	if !d.echoPend && seg.TSval != d.echoLast {
		d.echoVal, d.echoTime, d.echoPend = seg.TSval, t, true
	}
	d.echoLast = seg.TSval
	if o == nil || !o.echoPend {
		return
	}
	switch dt := int32(seg.TSecr - o.echoVal); {
	case dt == 0:
		if e := t - o.echoTime; e >= 0 && (d.minEcho == 0 || e < d.minEcho) {
			d.minEcho = e
		}
		o.echoPend = false
	case dt > 0: // it echoes a newer value: this one will not come back
		o.echoPend = false
	}
}

// timingVantage places the capture point on d's path from the
// data-to-ACK delay and the echo delay when the handshake did not.
func (p *Plugin) timingVantage(d, o *dir, x *sendRec) {
	if d.vantKnown || x.minAckDelay <= 0 || d.minEcho <= 0 || d.segs < 8 {
		return
	}
	v := VantageMiddle
	switch {
	case x.minAckDelay > 4*d.minEcho:
		v = VantageSender
	case d.minEcho > 4*x.minAckDelay:
		v = VantageReceiver
	}
	d.vant, d.vantKnown = v, true
	if o != nil && !o.vantKnown {
		o.vant, o.vantKnown = flip(v), true
	}
}

// isCopy reports whether seg repeats a frame of this direction exactly
// (what the truth definition calls the same identity): a copy the network
// (or the capture) made. A copy of data re-carries bytes below the
// highest one seen, so only those frames are looked up in the run-wide
// table (new data is only recorded, without waiting for the memory); a
// copy of a frame without data follows its original closely and is
// compared with the last two such frames of the direction.
func (p *Plugin) isCopy(f *flow.Flow, d *dir, self *tcptrack.Endpoint, seg *tcptrack.Segment, t int64) bool {
	h := identity(f, seg)
	if !seg.Data() {
		if h == d.bare[0] || h == d.bare[1] {
			return true
		}
		d.bare[1], d.bare[0] = d.bare[0], h
		return false
	}
	if d.hi == 0 || self.SeqExt(seg.Seq) >= d.hi {
		p.dups.put(h, t)
		return false
	}
	return p.dups.seen(h, t)
}

// countID extends an IPv4 ID and counts the frame for the gap analysis.
func (d *dir) countID(id uint16) {
	if !d.idInit {
		d.idInit = true
		d.idRef = 1<<20 + uint64(id)
		d.idMin = d.idRef
	}
	step := int16(id - uint16(d.idRef))
	if step > 4096 || step < -4096 {
		return // not from the counter (a RST from a closed socket is 0)
	}
	x := uint64(int64(d.idRef) + int64(step))
	if x > d.idRef {
		d.idRef = x
	}
	if x < d.idMin {
		d.idMin = x
	}
	d.idFrames++
}

func (d *dir) idExt(id uint16) uint64 {
	return uint64(int64(d.idRef) + int64(int16(id-uint16(d.idRef))))
}

// handshake records the times that split the handshake RTT and SYN
// retransmissions.
func (p *Plugin) handshake(f *flow.Flow, d, o *dir, self, peer *tcptrack.Endpoint, seg *tcptrack.Segment) {
	if seg.Flags&tcptrack.FlagSYN != 0 {
		if d.synTime == 0 {
			d.synTime, d.synSeq = seg.Time, seg.Seq
		} else if seg.Seq == d.synSeq && seg.Flags&tcptrack.FlagRST == 0 {
			d.findings |= FindSynRetry
		}
		return
	}
	if d.hsAck == 0 && seg.Flags&tcptrack.FlagACK != 0 && self.SynSeen && !self.SynAckSeen &&
		peer != nil && peer.SynAckSeen && o != nil && o.synTime != 0 {
		d.hsAck = seg.Time
		if v, ok := p.handshakeVantage(f, d, o); ok {
			d.vant, d.vantKnown = v, true
			o.vant, o.vantKnown = flip(v), true
		}
	}
}

// flip turns the vantage of one direction into that of the other: the
// sender side of one is the receiver side of the other.
func flip(v uint8) uint8 {
	switch v {
	case VantageSender:
		return VantageReceiver
	case VantageReceiver:
		return VantageSender
	}
	return v
}

// handshakeVantage places the capture point from the client's direction
// c and the server's s: SYN → SYN/ACK is the round trip capture point ↔
// server, SYN/ACK → ACK the one capture point ↔ client.
func (p *Plugin) handshakeVantage(_ *flow.Flow, c, s *dir) (uint8, bool) {
	a := s.synTime - c.synTime
	b := c.hsAck - s.synTime
	if a < 0 || b < 0 || a+b <= 0 {
		return VantageUnknown, false
	}
	switch {
	case b*4 < a+b: // next to the client: the client's data is seen as sent
		return VantageSender, true
	case a*4 < a+b:
		return VantageReceiver, true
	}
	return VantageMiddle, true
}

// hsRTT is the handshake's round trip through the capture point (ns).
func (p *Plugin) hsRTT(_ *flow.Flow, d, o *dir) int64 {
	if o == nil {
		return 0
	}
	c, s := d, o
	if c.hsAck == 0 {
		c, s = o, d
	}
	if c.hsAck == 0 || c.synTime == 0 || s.synTime == 0 {
		return 0
	}
	a, b := s.synTime-c.synTime, c.hsAck-s.synTime
	if a < 0 || b < 0 {
		return 0
	}
	return a + b
}

// rttGuess is the round trip the timing rules use: the handshake's, else
// a generous default.
func (p *Plugin) rttGuess(f *flow.Flow, d, o *dir) int64 {
	if r := p.hsRTT(f, d, o); r > 0 {
		return r
	}
	if x := p.recIf(d); x != nil && x.minAckDelay > 0 {
		return x.minAckDelay
	}
	return 20e6
}

// data classifies a data segment of direction d.
func (p *Plugin) data(f *flow.Flow, d, o *dir, self, peer *tcptrack.Endpoint, seg *tcptrack.Segment, t int64) {
	L := uint64(seg.PayloadLen)
	s := self.SeqExt(seg.Seq)
	if seg.Flags&tcptrack.FlagSYN != 0 {
		s++ // data on a SYN follows the SYN's sequence number
	}
	e := s + L
	sr := p.rec(d)
	if uint32(L) > sr.segSize {
		sr.segSize = uint32(L)
	}
	p.timingVantage(d, o, sr)
	var idKey, tsKey uint64
	var kf uint8
	if seg.IPv4 && d.idInit {
		idKey, kf = d.idExt(seg.IPID), kf|keyID
	}
	if seg.HasTS {
		if !sr.tsInit {
			sr.tsInit, sr.tsRef = true, 1<<32+uint64(seg.TSval)
		}
		x := uint64(int64(sr.tsRef) + int64(int32(seg.TSval-uint32(sr.tsRef))))
		if x > sr.tsRef {
			sr.tsRef = x
		}
		tsKey, kf = x, kf|keyTS
	}
	useID := kf&keyID != 0 && self.IPIDSequential()
	// Arrival order at the capture point against send order (RFC 4737):
	// a frame sent before one already seen was overtaken. Timestamps tick
	// in milliseconds: equal ones tell nothing.
	overtaken := false
	if useID && sr.haveMaxID && idKey < sr.maxID {
		overtaken = true
	} else if !useID && kf&keyTS != 0 && sr.haveMax && tsKey < sr.maxTS {
		overtaken = true
	}
	if kf&keyID != 0 && (!sr.haveMaxID || idKey > sr.maxID) {
		sr.maxID, sr.haveMaxID = idKey, true
	}
	if kf&keyTS != 0 && (!sr.haveMax || tsKey > sr.maxTS) {
		sr.maxTS, sr.haveMax = tsKey, true
	}
	if overtaken {
		sr.reordUp++
	}

	if d.hi != 0 && s < sr.lo {
		// Below the first data seen of a connection whose start was not
		// captured: as if the first frame had jumped over these bytes.
		p.board(d).insert(s).set(s, sr.lo, sr.loTime, sr.loID, sr.loTS, sr.loKF, rHole, 0)
		sr.lo = s
	}
	if d.hi == 0 {
		sr.lo, sr.loTime, sr.loID, sr.loTS, sr.loKF = s, t, idKey, tsKey, kf
	}
	if d.hi == 0 || s >= d.hi {
		if d.hi != 0 && s > d.hi {
			p.board(d).insert(d.hi).set(d.hi, s, t, idKey, tsKey, kf, rHole, 0)
		}
		d.hi = e
		p.class = ClassNew
		if overtaken { // new data, yet something sent after it came first
			p.class = ClassReordered
		}
		if !sr.probeSet {
			sr.probeEnd, sr.probeTime, sr.probeSet = e, t, true
		}
		if o != nil && d.fb && peer != nil && peer.EffWin > 0 && e-d.ackMax+uint64(sr.segSize) > uint64(peer.EffWin) {
			sr.winLtd++
			d.findings |= FindWindowLimited
		}
		return
	}
	if e > d.hi { // the top part is new
		d.hi = e
	}
	if L <= 1 && s+1 >= d.hi {
		p.class = ClassKeepAlive
		d.findings |= FindKeepAlive
		return
	}
	b := p.board(d)
	hole, fill := -1, -1
	for i := 0; i < b.n; i++ {
		if b.overlap(i, s, e) == 0 {
			continue
		}
		switch b.r[i].Kind {
		case rHole:
			if hole < 0 {
				hole = i
			}
		case rFill:
			if fill < 0 {
				fill = i
			}
		}
	}
	if hole >= 0 {
		hs, he := b.r[hole].Start, b.r[hole].End
		if p.sentBefore(f, d, o, useID, idKey, tsKey, kf, t, &b.r[hole]) {
			// The original, late: reordered before the capture point.
			p.class = ClassReordered
			if !overtaken { // the frame that made the hole was sent later
				sr.reordUp++
			}
			p.cutKind(b, rHole, s, e)
			return
		}
		p.retransmission(f, d, o, sr, s, t)
		if p.receiverHas(d, b, s, e) {
			// The receiver had these bytes: the capture missed the
			// original (counted when acknowledged), the network did not.
			sr.spur++
			p.class = ClassSpurious
			p.cutKind(b, rHole, s, e)
			b.expectDSACK(s, e, t)
			return
		}
		sr.lostUp++
		p.class = ClassRetx
		lo, hi := max(s, hs), min(e, he)
		p.cutKind(b, rHole, s, e)
		b.insert(lo).set(lo, hi, t, idKey, tsKey, kf, rFill, d.hi)
		return
	}
	if fill >= 0 {
		r := &b.r[fill]
		if p.keyBefore(useID, idKey, tsKey, kf, r) {
			// The original arrives after its retransmission: it was only
			// delayed, so that retransmission was spurious.
			p.class = ClassReordered
			if !overtaken {
				sr.reordUp++
			}
			sr.lostUp--
			sr.spur++
			r.Kind = rSpur
			r.Time = t
			b.expectDSACK(s, e, t)
			return
		}
	}
	p.retransmission(f, d, o, sr, s, t)
	if p.receiverHas(d, b, s, e) || (d.vantKnown && d.vant == VantageReceiver) {
		sr.spur++
		p.class = ClassSpurious
		b.expectDSACK(s, e, t)
		return
	}
	p.class = ClassRetx
	b.insert(s).set(s, e, t, idKey, tsKey, kf, rPend, d.hi)
}

// retransmission counts a retransmission and whether a timeout caused it
// (silence of the sender longer than Linux' 200 ms floor and two RTTs).
func (p *Plugin) retransmission(f *flow.Flow, d, o *dir, sr *sendRec, s uint64, t int64) {
	sr.retx++
	if sr.probeSet && s < sr.probeEnd {
		sr.probeSet = false
	}
	if d.lastTx != 0 && t-d.lastTx > max(200e6, 2*p.rttGuess(f, d, o)) {
		d.rto++
		d.findings |= FindRTO
	}
}

// sentBefore decides whether a frame filling hole h is the hole's original
// (sent before the frame that jumped over it) rather than a retransmission.
func (p *Plugin) sentBefore(f *flow.Flow, d, o *dir, useID bool, idKey, tsKey uint64, kf uint8, t int64, h *rng) bool {
	if useID && h.KeyFlags&keyID != 0 {
		return idKey < h.IDKey
	}
	if kf&keyTS != 0 && h.KeyFlags&keyTS != 0 {
		// A retransmission leaves a round trip after the frame that made
		// the hole; an original sent in the same millisecond ties.
		return tsKey <= h.TSKey
	}
	// No send-order key: a retransmission needs the receiver's duplicate
	// ACKs to reach the sender and the retransmission to come back, about
	// a round trip; a delayed original comes sooner.
	return t-h.Time < p.rttGuess(f, d, o)*6/10
}

// keyBefore reports whether the frame's keys say it was sent before r's
// retransmission; without keys it cannot tell (false).
func (p *Plugin) keyBefore(useID bool, idKey, tsKey uint64, kf uint8, r *rng) bool {
	if useID && r.KeyFlags&keyID != 0 {
		return idKey < r.IDKey
	}
	if kf&keyTS != 0 && r.KeyFlags&keyTS != 0 {
		return tsKey < r.TSKey
	}
	return false
}

// receiverHas reports whether the receiver's feedback already covered
// [s, e).
func (p *Plugin) receiverHas(d *dir, b *board, s, e uint64) bool {
	return d.fb && (d.ackMax >= e || b.sackedCovers(s, e))
}

// cutKind removes [s, e) from every range of kind k.
func (p *Plugin) cutKind(b *board, k uint8, s, e uint64) {
	for i := 0; i < b.n; {
		if b.r[i].Kind != k || b.overlap(i, s, e) == 0 {
			i++
			continue
		}
		b.cut(i, s, e)
		i = 0 // the list was re-sorted; ranges are few
	}
}
