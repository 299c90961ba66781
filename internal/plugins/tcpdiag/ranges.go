package tcpdiag

// Range kinds of a direction's scoreboard: sequence ranges below the
// highest byte seen whose story is not finished.
const (
	// rHole: bytes never seen; Key/Time are those of the frame that
	// jumped over them. Filled by a late original (reordering before the
	// capture point), a retransmission (loss before it) or acknowledged by
	// the receiver without ever being seen (capture loss).
	rHole uint8 = iota + 1
	// rFill: bytes first seen in a retransmission that filled a hole: the
	// original counts as lost before the capture point unless it shows up
	// late (then the retransmission was spurious).
	rFill
	// rPend: bytes seen, then retransmitted: lost after the capture point
	// or spurious, decided by the receiver's feedback.
	rPend
	// rLost, rSpur: a decided rPend, kept a while so that a late D-SACK can
	// still correct or confirm it.
	rLost
	rSpur
)

// rng is one scoreboard range [Start, End) in extended sequence space.
type rng struct {
	Start, End uint64
	Time       int64  // when the range got its kind
	IDKey      uint64 // send-order keys of the frame that made it: IPv4 ID
	TSKey      uint64 // and TCP timestamp, both extended to 64 bits
	KeyFlags   uint8  // keyID, keyTS
	DS         bool   // a D-SACK for it was seen
	Kind       uint8
	Hi         uint64 // rPend/rFill: highest byte sent when the retransmission left (send position)
}

// set fills r field by field (see board.insert): a composite literal
// assigned through the pointer is built aside and copied.
func (r *rng) set(start, end uint64, t int64, idKey, tsKey uint64, kf, kind uint8, hi uint64) {
	r.Start, r.End, r.Time = start, end, t
	r.IDKey, r.TSKey, r.KeyFlags = idKey, tsKey, kf
	r.DS, r.Kind, r.Hi = false, kind, hi
}

const (
	keyID uint8 = 1 << iota
	keyTS
)

// maxRanges bounds a direction's scoreboard; when it is full the oldest
// range is forgotten (its story then ends undecided).
const maxRanges = 64

// maxSacked bounds the receiver's SACKed ranges remembered above the
// cumulative acknowledgement.
const maxSacked = 16

// maxExpect bounds the duplicate arrivals whose D-SACK is expected.
const maxExpect = 16

type span struct{ Start, End uint64 }

type expect struct {
	span
	Time int64
}

// board is the per-direction scoreboard, taken from a pool only by
// directions that leave the in-order path, so that a flow that never
// shows a hole costs no more than its small dir record.
type board struct {
	// The counts and disc come first: reset and the common checks then
	// touch one cache line, not one per array.
	n, ns, ne int
	disc      [4]discard // arrivals the receiver did not keep
	r         [maxRanges]rng
	sacked    [maxSacked]span
	exp       [maxExpect]expect
}

func (b *board) reset() { b.n, b.ns, b.ne, b.disc = 0, 0, 0, [4]discard{} }

// insert makes room for a range starting at start, keeping the ranges
// sorted by Start (when full, the range that changed least recently is
// dropped), and returns its slot for the caller to fill: a range built
// aside and passed in was copied with wide loads right after its narrow
// stores (no store forwarding, a stall per range).
func (b *board) insert(start uint64) *rng {
	if b.n == maxRanges {
		old := 0
		for i := 1; i < b.n; i++ {
			if b.r[i].Time < b.r[old].Time {
				old = i
			}
		}
		b.remove(old)
	}
	i := b.n
	for i > 0 && b.r[i-1].Start > start {
		b.r[i] = b.r[i-1]
		i--
	}
	b.n++
	return &b.r[i]
}

func (b *board) remove(i int) {
	copy(b.r[i:b.n-1], b.r[i+1:b.n])
	b.n--
}

// cut removes [s, e) from range i, leaving up to two pieces of it; it
// returns the number of ranges now standing where i was (0, 1 or 2).
func (b *board) cut(i int, s, e uint64) int {
	r := b.r[i]
	s, e = max(s, r.Start), min(e, r.End)
	if s >= e {
		return 1
	}
	b.remove(i)
	n := 0
	if e < r.End {
		b.insert(e).part(&r, e, r.End)
		n++
	}
	if r.Start < s {
		b.insert(r.Start).part(&r, r.Start, s)
		n++
	}
	return n
}

// part makes r the piece [start, end) of range of, field by field (see
// board.insert).
func (r *rng) part(of *rng, start, end uint64) {
	r.set(start, end, of.Time, of.IDKey, of.TSKey, of.KeyFlags, of.Kind, of.Hi)
	r.DS = of.DS
}

// overlap returns the number of bytes [s, e) shares with range i.
func (b *board) overlap(i int, s, e uint64) uint64 {
	lo, hi := max(s, b.r[i].Start), min(e, b.r[i].End)
	if lo >= hi {
		return 0
	}
	return hi - lo
}

// sackedCovers reports whether [s, e) lies inside one SACKed range.
func (b *board) sackedCovers(s, e uint64) bool {
	for i := 0; i < b.ns; i++ {
		if b.sacked[i].Start <= s && e <= b.sacked[i].End {
			return true
		}
	}
	return false
}

// unsacked appends to out the parts of [s, e) outside the SACKed ranges
// (sorted, disjoint).
func (b *board) unsacked(s, e uint64, out []span) []span {
	cur := s
	for i := 0; i < b.ns && cur < e; i++ {
		k := b.sacked[i]
		if k.End <= cur {
			continue
		}
		if k.Start >= e {
			break
		}
		if k.Start > cur {
			out = append(out, span{cur, k.Start})
		}
		cur = max(cur, k.End)
	}
	if cur < e {
		out = append(out, span{cur, e})
	}
	return out
}

// addSacked merges [s, e) into the SACKed set and returns the parts of it
// that were not known before (at most two per existing range crossed; the
// caller passes out with room for maxSacked+1 spans).
func (b *board) addSacked(s, e uint64, out []span) []span {
	out = b.unsacked(s, e, out)
	// Merge.
	// In place (j never passes i): built aside and copied back, the set
	// was read with wide loads right after its narrow stores.
	ns, ne := s, e
	j := 0
	for i := 0; i < b.ns; i++ {
		k := b.sacked[i]
		if k.End < ns || k.Start > ne {
			b.sacked[j] = k
			j++
			continue
		}
		ns, ne = min(ns, k.Start), max(ne, k.End)
	}
	if j == maxSacked { // full: forget the lowest range
		copy(b.sacked[:], b.sacked[1:j])
		j--
	}
	i := j
	for i > 0 && b.sacked[i-1].Start > ns {
		b.sacked[i] = b.sacked[i-1]
		i--
	}
	b.sacked[i] = span{ns, ne}
	b.ns = j + 1
	return out
}

// dropSackedBelow forgets SACKed bytes below the cumulative ACK a.
func (b *board) dropSackedBelow(a uint64) {
	j := 0
	for i := 0; i < b.ns; i++ {
		k := b.sacked[i]
		if k.End <= a {
			continue
		}
		if k.Start < a {
			k.Start = a
		}
		b.sacked[j] = k
		j++
	}
	b.ns = j
}

// expectDSACK records a duplicate arrival whose D-SACK must not be taken
// for a new duplicate.
func (b *board) expectDSACK(s, e uint64, t int64) {
	if b.ne == maxExpect {
		copy(b.exp[:], b.exp[1:])
		b.ne--
	}
	b.exp[b.ne] = expect{span{s, e}, t}
	b.ne++
}

// takeExpected consumes an expected D-SACK overlapping [s, e).
func (b *board) takeExpected(s, e uint64) bool {
	for i := 0; i < b.ne; i++ {
		x := b.exp[i]
		if x.Start < e && s < x.End {
			copy(b.exp[i:], b.exp[i+1:b.ne])
			b.ne--
			return true
		}
	}
	return false
}
