// Package flow holds the flow table: keys, flows, A/B pairing, flowInd,
// the LRU list with timeout sentinels and the pending-fragment table
// (spec core.md §5–§10).
package flow

import (
	"unsafe"

	"flowsift/internal/hugepage"
	"flowsift/internal/prefetch"
)

// Key identifies a unidirectional flow (core.md §5). For L2 flows the MACs
// take the address fields (Dst in SrcIP, Src in DstIP) and L3Type holds the
// ethertype.
type Key struct {
	SrcIP   [16]byte
	DstIP   [16]byte
	VLAN    uint16
	SrcPort uint16
	DstPort uint16
	L3Type  uint16
	Proto   uint8
	L2      bool
}

// equal is k == *o, field by field: the key looked up was just built with
// narrow stores, which the wide loads of a whole-struct comparison
// (runtime.memequal) would wait on (no store forwarding).
func (k *Key) equal(o *Key) bool {
	return k.SrcIP == o.SrcIP && k.DstIP == o.DstIP && k.SrcPort == o.SrcPort &&
		k.DstPort == o.DstPort && k.VLAN == o.VLAN && k.L3Type == o.L3Type &&
		k.Proto == o.Proto && k.L2 == o.L2
}

// Reverse returns the key of the opposite direction.
func (k Key) Reverse() Key {
	r := k
	r.SrcIP, r.DstIP = k.DstIP, k.SrcIP
	r.SrcPort, r.DstPort = k.DstPort, k.SrcPort
	return r
}

// Flow is one direction of a conversation. Flows live in chunked storage, so
// a *Flow stays valid until the flow is removed; plugins keep per-flow state
// in a Store indexed by Slot.
type Flow struct {
	// Fields are ordered so that the record has no padding (152 bytes per
	// flow direction, tens of thousands alive at once) and the timeout
	// walk's fields (Last*, Timeout, prev, Partner) sit together. The
	// table's sentinels are Flows too, told apart by their address
	// (Table.isSentinel); a sentinel's Timeout is the timeout it stands
	// for. What can be derived (the duration) is not stored.
	Key   Key
	IPVer uint8 // 4, 6, or 0 for L2 flows
	Slot  int32 // index into the flow storage and every plugin's Store

	LastSec  uint64
	LastNsec uint32
	Timeout  float32 // idle timeout in seconds (tcpStates changes it)

	// LRU list, owned by the table.
	prev, next *Flow
	Partner    *Flow // reverse direction, nil for a lone flow

	FlowInd  uint64
	Status   uint64 // flowStat of this direction
	FirstSec uint64
	// Time of the flow's packet before the current one (the first packet's
	// own time while it is the only one): the inter-arrival times of
	// basicFlow, basicStats and tcpFlags all start from it.
	PrevSec uint64

	FirstNsec uint32
	PrevNsec  uint32

	// Subnet lookup results (basicFlow §4), 0 = not found.
	SrcSubnet uint32
	DstSubnet uint32

	// Table bookkeeping.
	pendingID uint32 // IP id of this flow's pending fragment entry
	lastIPID  uint32
	EthType   uint16 // ethertype of the flow (0x0800/0x86dd, or the L2 type)
	live      bool
	pending   bool
}

// Start records the first packet of a new flow, at sec.nsec.
func (f *Flow) Start(sec uint64, nsec uint32) {
	f.FirstSec, f.FirstNsec = sec, nsec
	f.LastSec, f.LastNsec = sec, nsec
	f.PrevSec, f.PrevNsec = sec, nsec
}

// Arrive records a later packet of f, at sec.nsec: the time of the packet
// before moves to Prev. The table calls Start or Arrive for every packet
// before the plugins see it.
func (f *Flow) Arrive(sec uint64, nsec uint32) {
	f.PrevSec, f.PrevNsec = f.LastSec, f.LastNsec
	f.LastSec, f.LastNsec = sec, nsec
}

// Duration is the time from the first to the last packet of f.
func (f *Flow) Duration() (sec uint64, nsec uint32) {
	sec = f.LastSec - f.FirstSec
	ns := int64(f.LastNsec) - int64(f.FirstNsec)
	if ns < 0 {
		ns += 1e9
		sec--
	}
	return sec, uint32(ns)
}

// Inverted reports flowStat bit 0 (did not initiate the connection).
func (f *Flow) Inverted() bool { return f.Status&1 != 0 }

// IsL2 reports a pure layer-2 flow.
func (f *Flow) IsL2() bool { return f.Key.L2 }

// chunkBits sets the chunk size of Store: 4096 elements per chunk.
const chunkBits = 12
const chunkSize = 1 << chunkBits

// Store is per-slot storage that grows in chunks, so pointers to elements
// stay valid and growth costs nothing on the per-packet path once the
// working set is reached.
type Store[T any] struct {
	chunks [][]T
}

// At returns the element for slot i, growing the storage if needed.
func (s *Store[T]) At(i int32) *T {
	c := int(i) >> chunkBits
	for c >= len(s.chunks) {
		chunk := make([]T, chunkSize)
		hugepage.AdviseSlice(chunk)
		s.chunks = append(s.chunks, chunk)
	}
	return s.Get(i)
}

// Prefetch asks for the cache lines of slot i's element; nothing if the
// store has not reached slot i (a hint must not fail).
func (s *Store[T]) Prefetch(i int32) {
	if i < 0 || int(i)>>chunkBits >= len(s.chunks) {
		return
	}
	var zero T
	prefetch.WriteRange(uintptr(unsafe.Pointer(s.Get(i))), unsafe.Sizeof(zero))
}

// Get returns the element for slot i, which At has reached before (the
// slot's flow was created, the pool record made). Without At's growth the
// compiler inlines it: a generic method is compiled once per shape and
// At's copy is too large to inline, so every per-packet At was a call.
func (s *Store[T]) Get(i int32) *T {
	return &s.chunks[int(i)>>chunkBits][int(i)&(chunkSize-1)]
}

// Pool holds records for the flows that need them: a plugin's per-flow
// state that most flows never use (a flow with a second MAC, a direction
// that sends data) lives in a Pool instead of the plugin's Store, and the
// Store's record keeps a reference to it. A reference is the record's
// index plus one, so the zero value of a record means none. References
// given back are reused; records stay at their address, like a Store's.
type Pool[T any] struct {
	recs Store[T]
	n    int32
	free []int32
}

// Get returns a zeroed record and its reference (never 0).
func (p *Pool[T]) Get() (int32, *T) {
	var i int32
	if n := len(p.free); n > 0 {
		i = p.free[n-1]
		p.free = p.free[:n-1]
	} else {
		i = p.n
		p.n++
	}
	x := p.recs.At(i)
	var zero T
	*x = zero
	return i + 1, x
}

// At returns the record of reference ref (not 0).
func (p *Pool[T]) At(ref int32) *T { return p.recs.Get(ref - 1) }

// Of returns the record of reference ref, nil for 0 (none).
func (p *Pool[T]) Of(ref int32) *T {
	if ref == 0 {
		return nil
	}
	return p.recs.Get(ref - 1)
}

// For returns the record *ref refers to, making a zeroed one and storing
// its reference in *ref if there is none yet (made).
func (p *Pool[T]) For(ref *int32) (x *T, made bool) {
	if *ref != 0 {
		return p.recs.Get(*ref - 1), false
	}
	*ref, x = p.Get()
	return x, true
}

// Put gives reference ref (not 0) back for reuse.
func (p *Pool[T]) Put(ref int32) { p.free = append(p.free, ref-1) }

// Made is the number of records the pool has made (in use or free).
func (p *Pool[T]) Made() int { return int(p.n) }

// Bytes reports roughly how much memory the store holds (for reports).
func (s *Store[T]) Len() int { return len(s.chunks) * chunkSize }
