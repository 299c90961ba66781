package flow

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"

	"flowsift/internal/hugepage"
)

// index maps flow keys to storage slots: open addressing with linear
// probing and backward-shift deletion (no tombstones). An entry is 8 bytes
// (a 32-bit hash tag and the slot); the key itself is compared in the
// Flow, which the caller touches next anyway. Compared with a Go map keyed
// by the 42-byte Key this hashes a few words instead of the padded struct,
// keeps the probe sequence in one or two cache lines, and holds 16-32
// bytes per flow instead of ~64.
type index struct {
	ents  []entry
	mask  uint64
	n     int
	seed  [3]uint64
	flows *Store[Flow]
}

type entry struct {
	tag  uint32 // 32 hash bits, never 0 (0 marks an empty entry); the low bits are the home position
	slot int32
}

// minIndex is the initial number of entries (a power of two).
const minIndex = 1 << 12

func (x *index) init(flows *Store[Flow], hint int) {
	x.flows = flows
	// A per-table random seed keeps crafted captures from forcing long
	// probe sequences; output does not depend on it.
	for i := range x.seed {
		x.seed[i] = rand.Uint64() | 1
	}
	n := minIndex
	for n < 2*hint {
		n <<= 1
	}
	x.ents = make([]entry, n)
	hugepage.AdviseSlice(x.ents)
	x.mask = uint64(n - 1)
}

// hash mixes the key's words with 64×64→128-bit multiplies into the
// entry tag; the entry's home position is tag & mask, so moving entries
// (growth, deletion) never needs the key again.
func (x *index) hash(k *Key) uint32 {
	le := binary.LittleEndian
	s0, s1 := le.Uint64(k.SrcIP[:8]), le.Uint64(k.SrcIP[8:])
	d0, d1 := le.Uint64(k.DstIP[:8]), le.Uint64(k.DstIP[8:])
	// No two neighbouring fields in ascending order: the compiler would
	// read them with one wide load, which cannot take its bytes from the
	// separate narrow stores KeyOf just made (a stall on every lookup).
	w := uint64(k.DstPort) | uint64(k.SrcPort)<<16 | uint64(k.L3Type)<<32 | uint64(k.VLAN)<<48
	var l2 uint64
	if k.L2 {
		l2 = 1 << 8
	}
	p := uint64(k.Proto) | l2
	h1 := mix(s0^x.seed[0], s1^x.seed[1])
	h2 := mix(d0^x.seed[2], d1^x.seed[0])
	h3 := mix(w^x.seed[1], p^x.seed[2])
	h := mix(h1^h3, h2^x.seed[0])
	t := uint32(h) ^ uint32(h>>32)
	if t == 0 {
		t = 1
	}
	return t
}

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// lookup returns the flow with key k, or nil. tag is x.hash(k).
func (x *index) lookup(k *Key, tag uint32) *Flow {
	for i := uint64(tag) & x.mask; ; i = (i + 1) & x.mask {
		e := x.ents[i]
		if e.tag == 0 {
			return nil
		}
		if e.tag == tag {
			if f := x.flows.Get(e.slot); f.Key.equal(k) {
				return f
			}
		}
	}
}

// insert adds f (whose key is not present) under tag x.hash(&f.Key).
func (x *index) insert(f *Flow, tag uint32) {
	if 2*(x.n+1) > len(x.ents) {
		x.grow()
	}
	x.put(entry{tag, f.Slot})
	x.n++
}

func (x *index) put(e entry) {
	i := uint64(e.tag) & x.mask
	for x.ents[i].tag != 0 {
		i = (i + 1) & x.mask
	}
	x.ents[i] = e
}

// grow doubles the entries (load factor stays at most 1/2).
func (x *index) grow() {
	old := x.ents
	x.ents = make([]entry, 2*len(old))
	x.mask = uint64(len(x.ents) - 1)
	for _, e := range old {
		if e.tag != 0 {
			x.put(e)
		}
	}
}

// remove deletes f's entry; tag is x.hash(&f.Key). Later entries of the
// probe run shift back into the hole, so lookups never need tombstones.
func (x *index) remove(f *Flow, tag uint32) {
	i := uint64(tag) & x.mask
	for {
		e := x.ents[i]
		if e.tag == 0 {
			return // not indexed
		}
		if e.slot == f.Slot {
			break
		}
		i = (i + 1) & x.mask
	}
	x.n--
	for {
		x.ents[i] = entry{}
		j := i
		for {
			j = (j + 1) & x.mask
			e := x.ents[j]
			if e.tag == 0 {
				return
			}
			// e may move to the hole at i unless its home lies in (i, j].
			home := uint64(e.tag) & x.mask
			if (j-home)&x.mask >= (j-i)&x.mask {
				x.ents[i] = e
				i = j
				break
			}
		}
	}
}
