package tcptrack

import (
	"flowsift/internal/cacheline"
	"flowsift/internal/decode"
	"flowsift/internal/flow"
)

// Endpoint is what one direction of a TCP connection has sent, as seen in
// the capture, as far as some plugin reads it: each field costs every TCP
// flow direction of a run that keeps endpoints, so what no plugin reads
// is not kept. Sequence values ending in Ext are extended to 64 bits
// (SeqExt) so that comparisons survive wrap-around.
type Endpoint struct {
	// One cache line (TestEndpointIsOneLine), ordered by size: every TCP
	// packet touches its own direction's endpoint and its partner's.

	// Sequence space: ref anchors SeqExt; SndMaxExt is the highest end
	// sent.
	ref       uint64
	SndMaxExt uint64

	Ack uint32 // latest acknowledgement number
	// Window: the raw value (Win), the scale announced in this direction's
	// SYN (WS; WSOK when both SYNs carried the option, RFC 7323 §2.2) and
	// the effective window of the latest segment.
	EffWin    uint32
	TSval     uint32 // of the latest segment with timestamps
	TSecr     uint32
	IPIDSteps uint32 // consecutive IP IDs of this direction within ±256 of each other
	IPIDOther uint32 // those that did not
	IPIDUnit  uint32 // steps of exactly +1

	Win      uint16
	LastIPID uint16
	WS       uint8

	Active     bool // a TCP segment of this direction was seen
	SynSeen    bool
	SynAckSeen bool // the SYN carried ACK
	WSSeen     bool
	WSOK       bool

	_ [10]byte // to a whole cache line
}

// SeqExt extends a sequence number of this endpoint to 64 bits around the
// highest value seen (within ±2 GiB, as TCP itself requires).
func (e *Endpoint) SeqExt(seq uint32) uint64 {
	if !e.Active {
		return 1<<32 + uint64(seq) // where Update anchors the first segment
	}
	return uint64(int64(e.ref) + int64(int32(seq-uint32(e.ref))))
}

// IPIDSequential reports whether this direction's IPv4 IDs come from one
// counter that rises with each packet (Linux' per-socket counter), which
// makes the ID a send-order key.
func (e *Endpoint) IPIDSequential() bool {
	// A short run of exact +1 steps is evidence enough (random IDs do
	// that with odds of 1 in 2^32).
	return (e.IPIDSteps >= 8 && e.IPIDOther*4 <= e.IPIDSteps) ||
		(e.IPIDSteps >= 2 && e.IPIDOther == 0 && e.IPIDUnit == e.IPIDSteps)
}

// IPIDPerSocket reports whether the IDs come from a counter of this
// connection alone (most steps +1), so that a missing ID is a frame of this
// direction missing from the capture; a host-wide counter shared with other
// flows steps further.
func (e *Endpoint) IPIDPerSocket() bool {
	return e.IPIDSequential() && e.IPIDUnit*10 >= (e.IPIDSteps+e.IPIDOther)*6
}

// Tracker holds the endpoints of every flow and the current segment.
// Endpoints are kept only once a plugin asked for them (KeepEndpoints):
// the parse alone costs nothing in memory.
//
// A plugin that is the endpoints' only reader and analyses on a goroutine
// of its own may take their updates there (DeferEndpoints): the packet
// goroutine then only parses (options included), and the plugin hands
// each segment to its goroutine, which folds it in (Fold) after reading
// the state before it, as End would have done.
type Tracker struct {
	_        cacheline.Pad
	keep     bool
	keepers  int  // plugins that called KeepEndpoints
	deferred bool // endpoints updated by their reader (DeferEndpoints)
	began    bool // a packet was parsed
	eps      flow.Store[Endpoint]
	// What the packet goroutine writes for every packet, away from what
	// the reader of deferred endpoints reads on its own (eps).
	_ cacheline.Pad
	// Seg is the packet being processed (valid between Begin and End).
	Seg  Segment
	self *Endpoint
	peer *Endpoint
	pkt  *decode.Packet
}

// New returns an empty tracker.
func New() *Tracker { return &Tracker{} }

// KeepEndpoints makes the tracker keep every flow direction's endpoint
// state; plugins that read Self, Peer or Endpoint call it when built.
func (t *Tracker) KeepEndpoints() {
	t.keep = true
	t.keepers++
}

// DeferEndpoints hands the endpoints' updates to their reader, which must
// be the only plugin that called KeepEndpoints, before the first packet:
// from then on Begin leaves Self and Peer nil, NewFlow and End leave the
// endpoints alone, and the reader calls ResetEndpoint and Fold in packet
// order (and reads Endpoint only where those calls are ordered before it).
// It reports whether the tracker agreed.
func (t *Tracker) DeferEndpoints() bool {
	if t.keepers != 1 || t.began {
		return false
	}
	t.deferred = true
	return true
}

// NewFlow resets the endpoint of a flow that was just created.
func (t *Tracker) NewFlow(f *flow.Flow) {
	if t.keep && !t.deferred {
		*t.eps.At(f.Slot) = Endpoint{}
	}
}

// ResetEndpoint is NewFlow's reset of slot's endpoint, for the reader of
// deferred endpoints.
func (t *Tracker) ResetEndpoint(slot int32) { *t.eps.At(slot) = Endpoint{} }

// Endpoints returns the endpoints of slot and of its partner (nil for
// partner < 0: a lone flow), which ResetEndpoint reached: Self and Peer
// for the reader of deferred endpoints.
func (t *Tracker) Endpoints(slot, partner int32) (self, peer *Endpoint) {
	self = t.eps.Get(slot)
	if partner >= 0 {
		peer = t.eps.Get(partner)
	}
	return self, peer
}

// Fold is End for the reader of deferred endpoints: segment s (a copy of
// Seg taken during its packet) folded into self.
func Fold(self, peer *Endpoint, s *Segment) {
	if s.TCP && s.HasFlags {
		Update(self, peer, s)
	}
}

// Endpoint returns the state of flow direction f.
func (t *Tracker) Endpoint(f *flow.Flow) *Endpoint { return t.eps.At(f.Slot) }

// Begin parses p, which belongs to f, and makes it the current segment.
func (t *Tracker) Begin(f *flow.Flow, p *decode.Packet) {
	// The options only matter to endpoint state (the default plugins
	// walk them their own way).
	parse(p, &t.Seg, t.keep)
	t.pkt = p
	if !t.began {
		t.began = true
	}
	t.self, t.peer = nil, nil
	if !t.keep || t.deferred {
		return
	}
	// NewFlow reached both slots.
	t.self = t.eps.Get(f.Slot)
	if f.Partner != nil {
		t.peer = t.eps.Get(f.Partner.Slot)
	}
}

// Current reports whether p is the packet Begin parsed (plugin tests run
// without the engine and parse for themselves).
func (t *Tracker) Current(p *decode.Packet) bool { return t != nil && t.pkt == p }

// Self is the endpoint of the current packet's direction (state before
// it); nil unless KeepEndpoints was called, and with DeferEndpoints.
func (t *Tracker) Self() *Endpoint { return t.self }

// Peer is the endpoint of the opposite direction, nil for a lone flow.
func (t *Tracker) Peer() *Endpoint { return t.peer }

// End folds the current segment into its endpoint.
func (t *Tracker) End() {
	e := t.self
	t.pkt = nil
	if e != nil {
		Fold(e, t.peer, &t.Seg)
	}
}

// Update folds segment s into endpoint e; peer (may be nil) is the other
// direction, whose window scale agreement depends on both SYNs.
func Update(e, peer *Endpoint, s *Segment) {
	if s.IPv4 && e.Active {
		// Small steps either way: reordering before the capture point
		// makes a counter step back now and then.
		if d := int16(s.IPID - e.LastIPID); d != 0 && d >= -256 && d <= 256 {
			e.IPIDSteps++
			if d == 1 {
				e.IPIDUnit++
			}
		} else {
			e.IPIDOther++
		}
	}
	e.LastIPID = s.IPID
	if !e.Active {
		e.Active = true
		e.ref = 1<<32 + uint64(s.Seq)
		e.SndMaxExt = e.ref
	}
	seq := e.SeqExt(s.Seq)
	if s.Flags&FlagSYN != 0 {
		e.SynSeen = true
		e.SynAckSeen = e.SynAckSeen || s.Flags&FlagACK != 0
		if s.OptsOK && s.HasWS {
			e.WSSeen, e.WS = true, min(s.WS, 14)
		}
		if peer != nil && e.WSSeen && peer.WSSeen {
			e.WSOK, peer.WSOK = true, true
		}
	}
	end := seq + uint64(s.SeqLen())
	if end > e.SndMaxExt {
		e.SndMaxExt = end
		e.ref = end
	}
	if s.Flags&FlagACK != 0 {
		e.Ack = s.Ack
	}
	e.Win = s.Win
	e.EffWin = uint32(s.Win)
	if e.WSOK && s.Flags&FlagSYN == 0 {
		e.EffWin <<= e.WS
	}
	if s.HasTS {
		e.TSval, e.TSecr = s.TSval, s.TSecr
	}
}
