package flow

import (
	"math/rand"
	"testing"
)

// TestIndexAgainstMap inserts and removes random keys (through growth and
// long probe runs) and checks every lookup against a Go map.
func TestIndexAgainstMap(t *testing.T) {
	var flows Store[Flow]
	var x index
	x.init(&flows, 0)
	rng := rand.New(rand.NewSource(7))
	oracle := map[Key]int32{}
	var free []int32
	next := int32(0)
	randKey := func() Key {
		var k Key
		k.SrcIP[0], k.SrcIP[3] = 10, byte(rng.Intn(64))
		k.DstIP[0], k.DstIP[2] = 10, byte(rng.Intn(64))
		k.SrcPort, k.DstPort = uint16(rng.Intn(8)), 80
		k.Proto, k.L3Type = 6, 0x0800
		k.L2 = rng.Intn(16) == 0
		return k
	}
	for i := 0; i < 200000; i++ {
		k := randKey()
		f := x.lookup(&k, x.hash(&k))
		slot, ok := oracle[k]
		if ok != (f != nil) || (ok && f.Slot != slot) {
			t.Fatalf("step %d: lookup %v found=%v, oracle %v/%d", i, k, f != nil, ok, slot)
		}
		// Grow to ~6000 keys, then churn around that size.
		if !ok && (len(oracle) < 6000 || rng.Intn(2) == 0) {
			var s int32
			if n := len(free); n > 0 {
				s, free = free[n-1], free[:n-1]
			} else {
				s, next = next, next+1
			}
			nf := flows.At(s)
			*nf = Flow{Slot: s, Key: k}
			x.insert(nf, x.hash(&k))
			oracle[k] = s
		} else if ok {
			x.remove(f, x.hash(&k))
			delete(oracle, k)
			free = append(free, slot)
		}
		if x.n != len(oracle) {
			t.Fatalf("step %d: %d entries, oracle %d", i, x.n, len(oracle))
		}
	}
	if len(x.ents) <= minIndex {
		t.Fatalf("index never grew: %d entries", len(x.ents))
	}
	for k, s := range oracle {
		if f := x.lookup(&k, x.hash(&k)); f == nil || f.Slot != s {
			t.Fatalf("final lookup of %v failed", k)
		}
	}
}
