package flow

import (
	"slices"
	"unsafe"

	"flowsift/internal/decode"
	"flowsift/internal/prefetch"
)

// DefaultCapacity is Tranalyzer's hash table size (flows in memory) for
// hash factor 1.
const DefaultCapacity = 262144

// DefaultTimeout is the idle timeout of a new flow (seconds).
const DefaultTimeout float32 = 182

// DefaultTimeouts are the timeouts tcpStates registers after the core's
// (core.md §9.1): with DefaultTimeout, the timeouts known to a default
// run, in registration order (core.md §9.2).
var DefaultTimeouts = []float32{0.1, 120, 610, 10}

// OutputFunc writes one flow row. dir is 'A' or 'B'.
type OutputFunc func(f *Flow, dir byte)

// Stats are the table's counters for the end report.
type Stats struct {
	Created     uint64 // flows created
	CreatedA    uint64 // created without an existing reverse flow
	CreatedB    uint64 // created with an existing reverse flow
	CreatedL2   uint64
	CreatedIPv4 uint64
	CreatedIPv6 uint64
	LoneInvert  uint64 // lone flows output with bit 0 ("C", core.md §13.3)
	MaxLive     uint64 // peak simultaneous flows
	Autopilot   uint64 // flows removed because the table was full
	Live        uint64
}

// Table is the flow table with its LRU list, timeout sentinels and the
// pending-fragment multimap.
type Table struct {
	Stats Stats

	flows Store[Flow]
	// free is the last removed flow; removed flows chain through their
	// next field, so reusing slots needs no list that grows.
	free     *Flow
	nextSlot int32
	index    index
	capacity int

	head, tail Flow // list ends; head side = most recently touched
	sentinels  []*Flow
	sentStore  []Flow // the sentinels, in one block (isSentinel)
	// fast[i] lets Expire skip sentinels[i]'s walk when it provably stops
	// at once (see Expire); maxTime and gen guard it against time going
	// backwards.
	fast    []fastStop
	maxTime uint64 // latest packet time seen (ns)
	gen     uint64 // bumped whenever a flow's last time goes backwards
	noFast  bool   // tests: always walk, always re-seat (the plain algorithm)
	walks   uint64 // timeout walks that ran (not skipped by fast)

	nextInd uint64
	frags   fragTable
	// timeout is the idle timeout of a new flow (core FLOW_TIMEOUT).
	timeout float32

	out OutputFunc
	// ahead, when set, is told of the flow likely to be output next while
	// the current one is (OutputAhead).
	ahead func(*Flow)
	// GlobalStatus receives run-wide flowStat bits set by the table.
	GlobalStatus *uint64
}

// OutputAhead sets fn, which the table calls with the next flow its
// timeout walk or flush will look at (output, or check and stop at),
// before it outputs the current one:
// flows time out in runs, and the next flow's per-plugin records can be
// on their way while this one's row is written.
func (t *Table) OutputAhead(fn func(*Flow)) { t.ahead = fn }

// announce tells ahead of the first flow from e towards the head of the
// list, past sentinels.
func (t *Table) announce(e *Flow) {
	for e != &t.head && t.isSentinel(e) {
		e = e.prev
	}
	if e != &t.head {
		t.ahead(e)
	}
}

// NewTable returns a table holding at most capacity flows with Tranalyzer's
// timeouts; out writes the rows of terminated flows.
func NewTable(capacity int, out OutputFunc, global *uint64) *Table {
	return NewTableTimeouts(capacity, out, global, DefaultTimeout, DefaultTimeouts)
}

// NewTableTimeouts is NewTable with the idle timeout of new flows and the
// other timeouts plugins may give a flow, in registration order: one
// timeout walk per distinct value (core.md §9.2).
func NewTableTimeouts(capacity int, out OutputFunc, global *uint64, timeout float32, others []float32) *Table {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	hint := capacity
	if hint > 1<<16 {
		hint = 1 << 16
	}
	t := &Table{
		capacity:     capacity,
		out:          out,
		GlobalStatus: global,
		timeout:      timeout,
	}
	t.index.init(&t.flows, hint)
	t.frags.init()
	t.head.next = &t.tail
	t.tail.prev = &t.head
	var known []float32
	for _, T := range append([]float32{timeout}, others...) {
		if !slices.Contains(known, T) {
			known = append(known, T)
		}
	}
	t.fast = make([]fastStop, len(known))
	t.sentStore = make([]Flow, len(known))
	for i, T := range known {
		s := &t.sentStore[i]
		s.Timeout = T
		t.insertBefore(s, &t.tail)
		t.sentinels = append(t.sentinels, s)
	}
	// Walk order: decreasing T.
	ord := make([]*Flow, len(t.sentinels))
	copy(ord, t.sentinels)
	for i := 1; i < len(ord); i++ {
		for j := i; j > 0 && ord[j].Timeout > ord[j-1].Timeout; j-- {
			ord[j], ord[j-1] = ord[j-1], ord[j]
		}
	}
	t.sentinels = ord
	return t
}

// Capacity returns the maximum number of flows in memory.
func (t *Table) Capacity() int { return t.capacity }

// list helpers: prev points towards the head, next towards the tail.
func (t *Table) unlink(f *Flow) {
	f.prev.next = f.next
	f.next.prev = f.prev
	f.prev, f.next = nil, nil
}

func (t *Table) insertBefore(f, at *Flow) { // f goes on the head side of at
	f.prev = at.prev
	f.next = at
	at.prev.next = f
	at.prev = f
}

func (t *Table) insertAfter(f, at *Flow) { // f goes on the tail side of at
	f.next = at.next
	f.prev = at
	at.next.prev = f
	at.next = f
}

func (t *Table) touch(f *Flow) {
	if t.head.next == f {
		return
	}
	if t.isSentinel(f.next) {
		// f was the oldest flow of a timeout walk: the next packet's walk
		// reads the flow that now is (cache-cold among thousands).
		prefetch.WriteRange(uintptr(unsafe.Pointer(f.prev)), unsafe.Sizeof(*f))
	}
	t.unlink(f)
	t.insertAfter(f, &t.head)
}

// idle is the float32 idle time of core.md §9.3.
func idle(nowSec uint64, nowNsec uint32, f *Flow) float32 {
	ds := float32(int64(nowSec - f.LastSec))
	dn := float64(int64(nowNsec)-int64(f.LastNsec)) / 1e9
	return float32(float64(ds) + dn)
}

// flowBefore returns the nearest element on the head side of s that is not
// a sentinel: the flow a walk from s visits first, or the head. Sentinels
// with no flow between them are common (no flow idle for 10 s, say) and
// few. Sentinels are told by their address, so the flow found is not read
// (it is cache-cold).
func (t *Table) flowBefore(s *Flow) *Flow {
	e := s.prev
	for t.isSentinel(e) {
		e = e.prev
	}
	return e
}

// isSentinel reports whether e is one of t's sentinels (t.sentStore).
func (t *Table) isSentinel(e *Flow) bool {
	return uintptr(unsafe.Pointer(e))-uintptr(unsafe.Pointer(unsafe.SliceData(t.sentStore))) <
		uintptr(len(t.sentStore))*unsafe.Sizeof(Flow{})
}

// fastStop caches a sentinel walk that stopped at once: the walk stops at
// its first flow, whose idle time is below T. While the first flow before
// the sentinel (flowBefore) is still stop and no flow's last time went
// backwards, every flow that can sit there was last seen at or after the
// cached one, so the walk stops at once again until deadline. The check
// reads only sentinels, not the (cache-cold) flow.
type fastStop struct {
	stop     *Flow
	deadline uint64 // ns
	gen      uint64
}

// stopMargin (1 ms) covers the float32 rounding of the idle time.
const stopMargin = 1e6

// maxFastSec bounds the times the fast path handles in uint64 ns.
const maxFastSec = 1 << 33

// nsTime converts a timestamp to ns; ok is false beyond maxFastSec.
func nsTime(sec uint64, nsec uint32) (uint64, bool) {
	if sec >= maxFastSec {
		return 0, false
	}
	return sec*1e9 + uint64(nsec), true
}

// setLast records a packet time on f, noting times that go backwards.
func (t *Table) setLast(f *Flow, sec uint64, nsec uint32) {
	f.Arrive(sec, nsec)
	t.seen(sec, nsec)
}

// seen advances maxTime or, for an earlier (or unrepresentable) time,
// invalidates the fast stops.
func (t *Table) seen(sec uint64, nsec uint32) {
	if ns, ok := nsTime(sec, nsec); ok && ns >= t.maxTime {
		t.maxTime = ns
	} else {
		t.gen++
	}
}

// Expire runs the timeout walks that precede every packet (core.md §9.3).
func (t *Table) Expire(nowSec uint64, nowNsec uint32) {
	t.seen(nowSec, nowNsec)
	now, _ := nsTime(nowSec, nowNsec)
	for i, s := range t.sentinels {
		c := &t.fast[i]
		if c.gen == t.gen && now < c.deadline && !t.noFast && t.flowBefore(s) == c.stop {
			continue
		}
		t.walks++
		T := s.Timeout
		e := s.prev
		for e != &t.head {
			if t.isSentinel(e) {
				e = e.prev
				continue
			}
			id := idle(nowSec, nowNsec, e)
			if id < T {
				break
			}
			nxt := e.prev
			if id >= e.Timeout {
				p := e.Partner
				if p == nil || idle(nowSec, nowNsec, p) >= p.Timeout {
					if nxt == p {
						nxt = nxt.prev
					}
					if t.ahead != nil {
						t.announce(nxt)
					}
					t.terminate(e)
				}
			}
			e = nxt
		}
		// Re-seat the sentinel right behind the element where the walk
		// stopped, unless only sentinels lie between: their order among
		// themselves changes no walk, and moving one ahead of the others
		// would change what stands before each of them, so that none could
		// take the fast path on the next packet.
		if t.noFast && s.prev != e || t.flowBefore(s) != e {
			t.unlink(s)
			t.insertAfter(s, e)
		}
		t.cacheStop(c, e, T)
	}
}

// cacheStop fills c after a walk that ended at e (the head, or a flow
// idle for less than T).
func (t *Table) cacheStop(c *fastStop, e *Flow, T float32) {
	c.stop, c.gen, c.deadline = e, t.gen, 0
	if e == &t.head {
		c.deadline = ^uint64(0)
		return
	}
	last, ok := nsTime(e.LastSec, e.LastNsec)
	span := uint64(float64(T) * 1e9)
	if ok && span > stopMargin {
		c.deadline = last + span - stopMargin
	}
}

// Flush outputs every remaining flow, least recently touched first
// (core.md §9.4).
func (t *Table) Flush() {
	e := t.tail.prev
	for e != &t.head {
		if t.isSentinel(e) {
			e = e.prev
			continue
		}
		nxt := e.prev
		if nxt == e.Partner {
			nxt = nxt.prev
		}
		if t.ahead != nil {
			t.announce(nxt)
		}
		t.terminate(e)
		e = nxt
	}
}

// terminate outputs f's pair in A/B order and removes both flows (§10).
func (t *Table) terminate(f *Flow) {
	p := f.Partner
	if p == nil {
		if f.Status&decode.StatInverted != 0 {
			t.Stats.LoneInvert++
		}
		t.out(f, 'A')
		t.remove(f)
		return
	}
	if f.Status&decode.StatInverted != 0 {
		t.out(p, 'A')
		t.out(f, 'B')
	} else {
		t.out(f, 'A')
		t.out(p, 'B')
	}
	t.remove(f)
	t.remove(p)
}

func (t *Table) remove(f *Flow) {
	if f.pending {
		t.frags.removeFlow(f)
		f.pending = false
		*t.GlobalStatus |= decode.StatFragPending
	}
	t.unlink(f)
	t.index.remove(f, t.index.hash(&f.Key))
	f.live = false
	f.Partner = nil
	f.next = t.free
	t.free = f
	t.Stats.Live--
}

func (t *Table) alloc() *Flow {
	var slot int32
	if f := t.free; f != nil {
		slot = f.Slot
		t.free = f.next
	} else {
		slot = t.nextSlot
		t.nextSlot++
	}
	f := t.flows.At(slot)
	*f = Flow{Slot: slot}
	return f
}

// Result tells how a packet found its flow.
type Result uint8

const (
	Existing    Result = iota // found in the flow table
	Created                   // a new flow was created for the packet
	ViaFragment               // a later fragment found through the pending table
)

// KeyOf builds the flow key of a decoded packet.
func KeyOf(p *decode.Packet, k *Key) {
	*k = Key{}
	k.VLAN = p.VLANID
	if p.Kind == decode.KindL2 {
		k.L2 = true
		copy(k.SrcIP[:6], p.DstMAC[:])
		copy(k.DstIP[:6], p.SrcMAC[:])
		k.L3Type = p.EthType
		return
	}
	k.SrcIP = p.SrcIP
	k.DstIP = p.DstIP
	k.SrcPort = p.SrcPort
	k.DstPort = p.DstPort
	k.Proto = p.Proto
	if p.Kind == decode.KindIPv6 {
		k.L3Type = 0x86dd
	} else {
		k.L3Type = 0x0800
	}
}

// Packet finds or creates the flow of p (which must have a flow kind),
// applying the fragment rules of core.md §6, and ORs the packet's status
// into the flow. The caller already ran Expire for this packet's time.
func (t *Table) Packet(p *decode.Packet) (*Flow, Result) {
	var key Key
	KeyOf(p, &key)
	isIP := p.Kind == decode.KindIPv4 || p.Kind == decode.KindIPv6

	if isIP && p.FragOff != 0 {
		// Later fragment: only the pending table knows its flow. IPv6
		// lookups carry protocol 0 and so never succeed (core.md §6).
		fk := fragKeyOf(&key, p.IPID)
		if p.Kind == decode.KindIPv6 {
			fk.proto = 0
		}
		if f := t.frags.lookup(&fk); f != nil {
			t.setLast(f, p.TsSec, p.TsNsec)
			f.Status |= p.Status
			if !p.MoreFrags {
				t.frags.removeEntryFor(&fk, f)
				f.pending = false
				f.Status &^= decode.StatFragPending
			}
			return f, ViaFragment
		}
		*t.GlobalStatus |= decode.StatFrag | decode.StatFragMissing
		f, res := t.lookupOrCreate(p, &key)
		f.Status |= p.Status | decode.StatFragMissing | decode.StatFrag
		t.register(f, &key, p)
		return f, res
	}

	f, res := t.lookupOrCreate(p, &key)
	f.Status |= p.Status
	if isIP {
		if p.MoreFrags { // first fragment
			f.Status |= decode.StatFrag
			*t.GlobalStatus |= decode.StatFrag
			t.register(f, &key, p)
		} else if f.pending && !p.HasFragHdr {
			f.Status |= decode.StatFragError
			*t.GlobalStatus |= decode.StatFragError
		}
		// Consecutive duplicate IP ID: the id of a flow's first packet is not
		// remembered, so the earliest hit is its third packet (golden
		// tcp-syslog, window-scale-range).
		if p.Kind == decode.KindIPv4 && res == Existing {
			if p.IPID != 0 && p.IPID == f.lastIPID {
				f.Status |= decode.StatDupIPID
				*t.GlobalStatus |= decode.StatDupIPID
			}
			f.lastIPID = p.IPID
		}
	}
	return f, res
}

// register records f as owner of the pending datagram of p (core.md §6).
func (t *Table) register(f *Flow, key *Key, p *decode.Packet) {
	fk := fragKeyOf(key, p.IPID)
	if f.pending {
		old := fragKeyOf(key, f.pendingID)
		if !t.frags.removeNewest(&old) || f.pendingID != p.IPID {
			f.Status |= decode.StatFragError
			*t.GlobalStatus |= decode.StatFragError
		}
		t.frags.insert(&fk, f)
	} else if other := t.frags.lookup(&fk); other != nil {
		// Identification collision: the entry now belongs to f.
		if other != f {
			other.pending = false
			other.Status &^= decode.StatFragPending
		}
		t.frags.repoint(&fk, f)
	} else {
		t.frags.insert(&fk, f)
	}
	f.pending = true
	f.pendingID = p.IPID
	f.Status |= decode.StatFragPending
}

func (t *Table) lookupOrCreate(p *decode.Packet, key *Key) (*Flow, Result) {
	h := t.index.hash(key)
	if f := t.index.lookup(key, h); f != nil {
		t.setLast(f, p.TsSec, p.TsNsec)
		t.touch(f)
		return f, Existing
	}
	if int(t.Stats.Live) >= t.capacity {
		t.autopilot()
	}
	f := t.alloc()
	f.Key = *key
	f.live = true
	f.Start(p.TsSec, p.TsNsec)
	t.seen(p.TsSec, p.TsNsec)
	f.Timeout = t.timeout
	switch p.Kind {
	case decode.KindL2:
		f.Status = decode.StatL2Flow
		f.EthType = p.EthType
		t.Stats.CreatedL2++
	case decode.KindIPv4:
		f.Status = decode.StatIPv4Flow
		f.IPVer = 4
		f.EthType = 0x0800
		t.Stats.CreatedIPv4++
	case decode.KindIPv6:
		f.Status = decode.StatIPv6Flow
		f.IPVer = 6
		f.EthType = 0x86dd
		t.Stats.CreatedIPv6++
	}
	*t.GlobalStatus |= f.Status
	t.index.insert(f, h)
	t.insertAfter(f, &t.head)
	t.Stats.Created++
	t.Stats.Live++
	if t.Stats.Live > t.Stats.MaxLive {
		t.Stats.MaxLive = t.Stats.Live
	}

	rk := key.Reverse()
	if rk == *key {
		if !key.L2 && key.Proto == 6 {
			f.Status |= decode.StatLand
			*t.GlobalStatus |= decode.StatLand
		}
	} else if r := t.index.lookup(&rk, t.index.hash(&rk)); r != nil {
		f.Partner = r
		r.Partner = f
		f.FlowInd = r.FlowInd
		if r.Status&decode.StatInverted == 0 {
			f.Status |= decode.StatInverted
		}
		t.Stats.CreatedB++
		return f, Created
	}
	t.nextInd++
	f.FlowInd = t.nextInd
	t.Stats.CreatedA++
	if !key.L2 && invertHeuristic(p) {
		f.Status |= decode.StatInverted
	}
	return f, Created
}

// invertHeuristic guesses that the first packet came from the server
// (core.md §7).
func invertHeuristic(p *decode.Packet) bool {
	sp, dp := p.SrcPort, p.DstPort
	if sp < 1024 && sp < dp {
		return true
	}
	if sp&0xfff6 == 8080 {
		return true
	}
	// The flags byte comes from the packet's view: its captured bytes, or
	// with core.FIXT2BUGS=0 Tranalyzer's buffer past them (docs/compat.md).
	d := p.View
	if d == nil {
		d = p.Data
	}
	if p.Proto == 6 && p.FragOff == 0 && p.L4Off+13 < len(d) && d[p.L4Off+13]&0x12 == 0x12 {
		return true
	}
	return false
}

// autopilot frees the least recently touched flow pair (table full).
func (t *Table) autopilot() {
	for e := t.tail.prev; e != &t.head; e = e.prev {
		if t.isSentinel(e) {
			continue
		}
		e.Status |= decode.StatAutopilot
		*t.GlobalStatus |= decode.StatAutopilot
		t.Stats.Autopilot++
		if e.Partner != nil {
			t.Stats.Autopilot++
		}
		t.terminate(e)
		return
	}
}
