package tcpdiag

import (
	"flowsift/internal/flow"
	"flowsift/internal/tcptrack"
)

// feedback reads an acknowledgement (with SACK and D-SACK blocks) that the
// receiver r sent about direction o's data; ep is o's endpoint, for the
// sequence extension.
func (p *Plugin) feedback(f *flow.Flow, o, r *dir, ep *tcptrack.Endpoint, perSocketACKs bool, seg *tcptrack.Segment, t int64) {
	a := ep.SeqExt(seg.Ack)
	if !o.fb {
		o.fb = true
		o.ackMax = min(a, o.hi)
		o.arrMax = o.ackMax
	}
	n := 0
	if seg.OptsOK {
		n = seg.NSACK
	}
	if plainAcks && n == 0 && o.sb == 0 && !r.ofo && a <= o.hi {
		p.plainAck(o, r, a, seg, t)
		return
	}
	// D-SACK (RFC 2883): the first block lies below the cumulative ACK or
	// inside the second block.
	first := 0
	if n > 0 {
		l, h := ep.SeqExt(seg.SACK[0].Left), ep.SeqExt(seg.SACK[0].Right)
		if l < h && (h <= a || (n > 1 && l >= ep.SeqExt(seg.SACK[1].Left) && h <= ep.SeqExt(seg.SACK[1].Right))) {
			p.dsack(o, l, h, t)
			first = 1
		}
	}
	news := p.news[:0]
	if a > o.ackMax {
		// Newly acknowledged bytes, less those already SACKed.
		if o.sb != 0 {
			b := p.pool[o.sb-1]
			news = b.unsacked(o.ackMax, a, news)
			b.dropSackedBelow(a)
		} else {
			news = append(news, span{o.ackMax, a})
		}
		o.ackMax = a
		p.recIf(o).acked(a, t)
	}
	for i := first; i < n; i++ {
		l, h := ep.SeqExt(seg.SACK[i].Left), ep.SeqExt(seg.SACK[i].Right)
		if h <= o.ackMax || l >= h || h-l > 1<<30 {
			continue
		}
		l = max(l, o.ackMax)
		if len(news) >= len(p.news)-maxSacked-1 {
			break
		}
		news = p.board(o).addSacked(l, h, news)
	}
	p.nev = 0
	for _, sp := range news {
		p.arrived(f, o, r, sp, t)
	}
	p.orderArrivals(o)
	// Arrivals the receiver did not keep. While it holds out-of-order data
	// a receiver acknowledges every arrival at once: what it keeps moves the
	// ACK or a SACK block, a copy it already had draws a D-SACK. An ACK
	// without data that tells nothing new (right after one with SACK
	// blocks) thus
	// answers an arrival it threw away: PAWS (RFC 7323 §5)
	// drops a late original whose timestamp is older than a later frame's
	// that way. With the receiver's per-socket IP ID the ACKs the capture
	// lacks are counted too: k ACKs for m arrivals the news explain leave
	// k−m discarded ones. What was discarded lay between the acknowledgement
	// and the highest byte sent: a later retransmission there re-sends bytes
	// that had reached the receiver, and the discarded frame was overtaken.
	if r.ackSeen && r.ofo && !seg.Data() &&
		seg.Flags&(tcptrack.FlagSYN|tcptrack.FlagFIN|tcptrack.FlagRST) == 0 && o.hi > a {
		var explained int64
		for _, sp := range news {
			explained += int64(p.recIf(o).nseg(sp.End - sp.Start))
		}
		explained += int64(first)
		acks := int64(1)
		if k := int16(seg.IPID - r.lastAckID); seg.IPv4 && perSocketACKs && k > 1 && k <= 8 {
			acks = int64(k)
		}
		for n := acks - explained; n > 0; n-- {
			p.board(o).noteDiscard(a, o.hi)
			if o.arrMax > a {
				p.rec(o).reordE2E++
			}
		}
	}
	r.ofo = n > 0
	r.ackSeen, r.lastAckID = true, seg.IPID
	if o.sb != 0 && p.pool[o.sb-1].n >= maxRanges/4 {
		// Decided ranges are kept a while for late D-SACKs; only a board
		// filling up is worth the walk.
		p.prune(f, o, r, t)
	}
}

// plainAcks switches plainAck on; TestPlainAckSameResults turns it off to
// compare.
var plainAcks = true

// plainAck is feedback for the common acknowledgement: no SACK blocks, no
// scoreboard, nothing beyond the highest byte captured, the previous ACK
// without SACK blocks either. It does what feedback does then, without
// its lists: the bytes newly acknowledged are one original arrival.
func (p *Plugin) plainAck(o, r *dir, a uint64, seg *tcptrack.Segment, t int64) {
	if old := o.ackMax; a > old {
		o.ackMax = a
		p.rec(o).acked(a, t) // arrived makes the record
		p.original(o, old, a)
	}
	r.ofo = false
	r.ackSeen, r.lastAckID = true, seg.IPID
}

// arrived handles bytes [sp) that the receiver reports as newly received.
func (p *Plugin) arrived(f *flow.Flow, o, r *dir, sp span, t int64) {
	sr := p.rec(o)
	if sp.End > o.hi {
		// Acknowledged beyond anything captured: the capture missed the
		// top segments (a FIN's sequence number is no data: 1 byte slack).
		if sp.End > o.hi+1 {
			lo := max(sp.Start, o.hi)
			if lo > o.hi {
				// Between the highest byte seen and the reported one lie
				// bytes nobody reported yet: a hole, as if the missed frame
				// had been captured. Its originals were sent before that
				// frame; the bound on their keys allows for them.
				var idKey, tsKey uint64
				var kf uint8
				if sr.haveMaxID {
					idKey, kf = sr.maxID+uint64(sr.nseg(lo-o.hi))+2, keyID
				}
				if sr.tsInit {
					tsKey = sr.tsRef + uint64(max(1, p.rttGuess(f, o, r)/2e6))
					kf |= keyTS
				}
				p.board(o).insert(o.hi).set(o.hi, lo, t, idKey, tsKey, kf, rHole, 0)
			}
			sr.capLoss += sr.nseg(sp.End - lo)
			o.hi = sp.End
		}
		sp.End = min(sp.End, o.hi)
		if sp.Start >= sp.End {
			return
		}
	}
	// Decide the retransmissions whose bytes arrived.
	if o.sb != 0 {
		b := p.pool[o.sb-1]
		for i := 0; i < b.n; {
			rg := &b.r[i]
			ov := b.overlap(i, sp.Start, sp.End)
			if ov == 0 {
				i++
				continue
			}
			switch rg.Kind {
			case rHole:
				// Received but never captured.
				sr.capLoss += sr.nseg(ov)
				b.cut(i, sp.Start, sp.End)
				i = 0
				continue
			case rPend:
				if p.earlyAck(f, o, r, rg, t) || b.takeDiscard(rg.Start) {
					sr.spur++
					rg.Kind = rSpur
				} else {
					sr.lostDown++
					rg.Kind = rLost
					p.retxArrival(rg.Start, rg.Hi)
				}
				rg.Time = t
			case rFill:
				p.retxArrival(rg.Start, rg.Hi)
			}
			i++
		}
	}
	p.event(arrival{key: sp.Start, end: sp.End})
}

// arrival is an arrival the receiver reported, at its send position: an
// original's is its first byte, a retransmission's the highest byte sent
// when it left (retx).
type arrival struct {
	key, end uint64
	retx     bool
}

// before orders arrivals by send position; a retransmission that left
// when the highest byte sent was k precedes the original starting at k.
func (a arrival) before(b arrival) bool {
	return a.key < b.key || (a.key == b.key && a.retx && !b.retx)
}

// retxArrival records the arrival of a retransmission of the bytes at
// start, sent when the highest byte sent was hi. Of several
// retransmissions of the same bytes only the last can be what arrived.
func (p *Plugin) retxArrival(start, hi uint64) {
	for i := 0; i < p.nev; i++ {
		if e := &p.ev[i]; e.retx && e.end == start {
			e.key = max(e.key, hi)
			return
		}
	}
	p.event(arrival{key: hi, end: start, retx: true})
}

func (p *Plugin) event(a arrival) {
	if p.nev < len(p.ev) {
		p.ev[p.nev] = a
		p.nev++
	}
}

// orderArrivals counts the overtaken among the arrivals one ACK reported
// (RFC 4737: arriving after something sent later). One ACK does not tell
// in which order its own arrivals came: they are taken in send order, so
// that only reordering between ACKs counts.
func (p *Plugin) orderArrivals(o *dir) {
	ev := p.ev[:p.nev]
	for i := 1; i < len(ev); i++ {
		for j := i; j > 0 && ev[j].before(ev[j-1]); j-- {
			ev[j], ev[j-1] = ev[j-1], ev[j]
		}
	}
	for _, e := range ev {
		if e.retx {
			if o.arrMax > e.key {
				p.rec(o).reordE2E++
			}
			o.arrMax = max(o.arrMax, e.key)
			continue
		}
		p.original(o, e.key, e.end)
	}
	p.nev = 0
}

// original takes the arrival of original transmissions [key, end). It
// inlines: mostly nothing was overtaken.
func (p *Plugin) original(o *dir, key, end uint64) {
	if o.arrMax > key {
		p.overtaken(o, key, min(end, o.arrMax))
	}
	o.arrMax = max(o.arrMax, end)
}

// overtaken counts the original bytes [lo, hi) that arrived below the
// highest send position that had arrived, less those a retransmission
// carried.
func (p *Plugin) overtaken(o *dir, lo, hi uint64) {
	n := hi - lo
	if o.sb != 0 {
		b := p.pool[o.sb-1]
		for i := 0; i < b.n; i++ {
			if b.r[i].Kind != rHole {
				n -= min(n, b.overlap(i, lo, hi))
			}
		}
	}
	if n > 0 {
		sr := p.rec(o)
		sr.reordE2E += sr.nseg(n)
	}
}

// earlyAck decides a retransmission of bytes the capture had seen: an
// acknowledgement sooner than half the data-to-ACK delay measured here
// cannot come from the retransmission, so an earlier copy had arrived.
func (p *Plugin) earlyAck(f *flow.Flow, o, r *dir, rg *rng, t int64) bool {
	sr := p.recIf(o)
	if o.vantKnown && o.vant == VantageReceiver {
		return true
	}
	dl := sr.minAckDelay
	if dl <= 0 {
		dl = p.rttGuess(f, o, r)
	}
	return t-rg.Time < dl/2
}

// dsack handles a D-SACK block [l, h): the receiver got those bytes twice.
func (p *Plugin) dsack(o *dir, l, h uint64, t int64) {
	sr := p.rec(o)
	if l >= o.hi {
		return // the FIN's sequence number, no data: a repeated FIN
	}
	b := p.board(o)
	if b.takeExpected(l, h) {
		return // a duplicate the capture already explained
	}
	for i := 0; i < b.n; i++ {
		rg := &b.r[i]
		if b.overlap(i, l, h) == 0 {
			continue
		}
		switch rg.Kind {
		case rPend:
			sr.spur++
			rg.Kind, rg.Time, rg.DS = rSpur, t, true
			return
		case rLost:
			sr.lostDown--
			sr.spur++
			rg.Kind, rg.Time, rg.DS = rSpur, t, true
			return
		case rSpur, rFill:
			if !rg.DS {
				rg.DS = true
				return
			}
		}
	}
	sr.dupDown++
}

// prune forgets decided ranges the receiver acknowledged long ago.
func (p *Plugin) prune(f *flow.Flow, o, r *dir, t int64) {
	b := p.pool[o.sb-1]
	keep := 4*p.rttGuess(f, o, r) + 1e9
	for i := 0; i < b.n; {
		rg := &b.r[i]
		if rg.End <= o.ackMax && rg.Kind != rHole && rg.Kind != rPend && t-rg.Time > keep {
			b.remove(i)
			continue
		}
		i++
	}
}

// missingIDs counts the frames a sender's per-socket IP ID counter
// numbered between the first and the last frame captured that the
// capture lacks (only when the counter is sequential).
func (p *Plugin) missingIDs(f *flow.Flow, d *dir) (int32, bool) {
	if p.env.TCP == nil || f == nil || !d.idInit || !p.env.TCP.Endpoint(f).IPIDPerSocket() {
		return 0, false
	}
	return int32(d.idRef-d.idMin+1) - int32(d.idFrames), true
}

// result is a direction's final diagnosis.
type result struct {
	segs, lost, lostUp, lostDown, retx, spur, reord, dup, ce, capLoss int32
	vantage                                                           uint8
	findings                                                          uint16
}

// result puts the direction's counts together for its vantage point.
func (p *Plugin) result(f *flow.Flow, d, o *dir) result {
	sr := p.recIf(d)
	if sr == nil {
		sr = &sendRec{} // nothing sent: every count is zero
	}
	v := d.vant
	if !d.vantKnown {
		v = VantageUnknown
	}
	r := result{segs: d.segs, retx: sr.retx, spur: sr.spur, ce: d.ce, capLoss: sr.capLoss, vantage: v}
	r.lostUp, r.lostDown = sr.lostUp, sr.lostDown
	dupUp, dupDown := d.dupUp, sr.dupDown
	switch v {
	case VantageReceiver:
		// Nothing lies after the capture point. A D-SACK that nothing in
		// the capture explains is a copy the receiver got and the capture
		// missed: a retransmission of bytes it had (spurious).
		r.lostDown, dupDown = 0, 0
		if u := sr.dupDown; u > 0 {
			r.spur += u
			r.retx += u
			r.capLoss += u
		}
		if missing, ok := p.missingIDs(f, d); ok {
			// Every frame the sender's counter numbered and the capture
			// lacks was lost or missed: the lost retransmissions no hole
			// shows are the rest.
			if extra := missing - r.lostUp - r.capLoss; extra > 0 && extra <= r.retx+1 {
				r.lostUp += extra
				r.retx += extra
				r.findings |= FindLostRetx
			}
		}
	case VantageSender:
		// The sender never skips sequence space: a hole was missed by the
		// capture, and a hole filled by a retransmission means the original
		// was both missed here and lost further on.
		r.capLoss += r.lostUp
		r.lostDown += r.lostUp
		r.lostUp = 0
		if missing, ok := p.missingIDs(f, d); ok && missing > 0 && d.idFrames > 0 {
			// Frames numbered by the sender and absent here were missed by
			// the capture; those that were no original (no hole) were
			// retransmissions, spurious where a D-SACK nobody explained
			// came back.
			data := int32((int64(missing)*int64(d.segs) + int64(d.idFrames)/2) / int64(d.idFrames))
			if retx := data - r.capLoss; retx > 0 {
				conv := min(dupDown, retx)
				r.spur += conv
				dupDown -= conv
				r.retx += retx
				r.lostDown += retx - conv
				r.capLoss = data
			}
		}
	}
	r.lost = r.lostUp + r.lostDown
	r.reord = sr.reordUp
	if v != VantageReceiver && d.fb && sr.reordE2E > r.reord {
		r.reord = sr.reordE2E
	}
	r.dup = dupUp + dupDown
	if d.zwSince != 0 {
		d.zwTime += d.lastTime - d.zwSince
		d.zwSince = 0
		d.findings |= FindZeroWindow
	}
	fd := d.findings | r.findings
	if r.lostUp > 0 {
		fd |= FindLossUpstream
	}
	if r.lostDown > 0 {
		fd |= FindLossDownstream
	}
	if r.reord > 0 {
		fd |= FindReordering
	}
	if r.spur > 0 {
		fd |= FindSpurious
		if r.reord > 0 {
			fd |= FindSpuriousReord
		}
	}
	if r.dup > 0 {
		fd |= FindDuplication
	}
	if r.capLoss > 0 {
		fd |= FindCaptureLoss
	}
	if r.ce > 0 {
		fd |= FindCE
	}
	if d.segs > 0 && !d.fb {
		fd |= FindNoFeedback
	}
	r.findings = fd
	return r
}

// dupCache remembers the identities of recent frames of every flow, to
// recognise copies made by the network: 8-byte entries (48 bits of
// identity hash, 16 bits of time in 1/16 s) in sets of dupWays, one cache
// line each; an identity belongs to the set its hash picks and replaces
// the set's oldest entry (first in, first out). Memory stays bounded
// whatever the capture, and at 128 KiB the table stays in the processor's
// second-level cache: the 512 KiB direct-mapped table before it missed on
// most frames and pushed the flow table's lines out (a flow-mode run with
// tcpDiag 0.93–0.96× the time, docs/performance.md).
//
// How long an identity stays: until its set has taken dupWays newer ones,
// which after n recorded frames of all flows happens with the probability
// of a Poisson variable of mean n/2048 reaching 8: 0.1 % after 4,096
// frames, 5 % after 8,192 (about 10 ms of a full 10 Gbit/s link), 55 %
// after 16,384. The direct-mapped table lost identities to collisions
// from the start: 6 % after 4,096 frames, 12 % after 8,192, 22 % after
// 16,384. A frame and its network copy are milliseconds apart.
type dupCache struct {
	sets []dupSet
	next []uint8 // per set: the way the next entry takes
	mask uint64
}

// dupSet is one cache line of the table.
type dupSet [dupWays]uint64

const (
	dupWays    = 8
	dupSetBits = 11 // 2,048 sets: 16,384 entries, 128 KiB
)

// dupWindow (1/16 s units): copies further apart than 10 s are not taken
// for network duplicates (a frame and its copy are milliseconds apart).
const dupWindow = 160

func (c *dupCache) init() {
	c.sets = make([]dupSet, 1<<dupSetBits)
	c.next = make([]uint8, 1<<dupSetBits)
	c.mask = 1<<dupSetBits - 1
}

// seen reports whether identity h was seen within dupWindow, and records
// it.
func (c *dupCache) seen(h uint64, t int64) bool {
	tag, now := h&^0xffff, uint64(t>>26)&0xffff // 2^26 ns ≈ 1/16 s
	i := (h >> 7) & c.mask
	set := &c.sets[i]
	for _, e := range set {
		if e != 0 && e&^0xffff == tag && uint16(now-e&0xffff) < dupWindow {
			return true
		}
	}
	c.add(i, tag|now)
	return false
}

// put records identity h without looking it up.
func (c *dupCache) put(h uint64, t int64) {
	c.add((h>>7)&c.mask, h&^0xffff|uint64(t>>26)&0xffff)
}

// add stores entry e in set i, in place of the set's oldest.
func (c *dupCache) add(i, e uint64) {
	w := c.next[i]
	c.sets[i][w%dupWays] = e
	c.next[i] = w + 1
}

// identity hashes what the truth definition calls a frame's identity: the
// IP header less TTL, checksum and ECN bits, and the whole TCP header.
func identity(f *flow.Flow, s *tcptrack.Segment) uint64 {
	h := uint64(f.FlowInd)*0x9e3779b97f4a7c15 ^ uint64(f.Slot)<<1
	mix := func(v uint64) {
		h ^= v
		h *= 0xff51afd7ed558ccd
		h ^= h >> 33
	}
	mix(uint64(s.Seq)<<32 | uint64(s.Ack))
	mix(uint64(s.IPID)<<48 | uint64(s.Flags)<<40 | uint64(s.Win)<<24 | uint64(s.Checksum)<<8 | uint64(s.NSACK))
	mix(uint64(s.TSval)<<32 | uint64(s.TSecr))
	mix(uint64(s.PayloadLen)<<8 | uint64(s.HdrLen))
	for i := 0; i < s.NSACK; i++ {
		mix(uint64(s.SACK[i].Left)<<32 | uint64(s.SACK[i].Right))
	}
	return h
}

// discard is a run of arrivals the receiver did not keep: count of them,
// somewhere in [lo, hi).
type discard struct {
	lo, hi uint64
	n      int32
}

func (d *board) noteDiscard(lo, hi uint64) {
	for i := range d.disc {
		if d.disc[i].n > 0 && d.disc[i].lo == lo {
			d.disc[i].n++
			d.disc[i].hi = max(d.disc[i].hi, hi)
			return
		}
	}
	old := 0
	for i := range d.disc {
		if d.disc[i].n == 0 {
			old = i
			break
		}
		if d.disc[i].lo < d.disc[old].lo {
			old = i
		}
	}
	d.disc[old] = discard{lo, hi, 1}
}

// takeDiscard attributes a discarded arrival to the retransmission of the
// bytes at s, if one happened where s lies.
func (d *board) takeDiscard(s uint64) bool {
	for i := range d.disc {
		if x := &d.disc[i]; x.n > 0 && x.lo <= s && s < x.hi {
			x.n--
			return true
		}
	}
	return false
}
