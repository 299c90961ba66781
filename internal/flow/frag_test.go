package flow

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// refFrags is the pending-fragment multimap as plainly as it can be said:
// entries in insertion order, the newest of a key the last one.
type refFrags struct{ ents []refFrag }

type refFrag struct {
	k fragKey
	f *Flow
}

func (r *refFrags) newest(k fragKey) int {
	for i := len(r.ents) - 1; i >= 0; i-- {
		if r.ents[i].k == k {
			return i
		}
	}
	return -1
}

func (r *refFrags) lookup(k fragKey) *Flow {
	if i := r.newest(k); i >= 0 {
		return r.ents[i].f
	}
	return nil
}

func (r *refFrags) owned(f *Flow) []fragKey {
	var ks []fragKey
	for _, e := range r.ents {
		if e.f == f {
			ks = append(ks, e.k)
		}
	}
	return ks
}

// TestFragTableModel runs random operations on the fragment table and on
// refFrags, with few keys and flows so that keys collide and flows own
// several entries, and compares every lookup and every flow's entries
// after each step.
func TestFragTableModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	flows := make([]*Flow, 6)
	for i := range flows {
		flows[i] = &Flow{Slot: int32(i)}
	}
	keys := make([]fragKey, 5)
	for i := range keys {
		keys[i] = fragKey{id: uint32(i), proto: 17}
	}
	var ft fragTable
	ft.init()
	var ref refFrags
	for step := range 20000 {
		k, f := keys[rng.IntN(len(keys))], flows[rng.IntN(len(flows))]
		switch op := rng.IntN(10); {
		case op < 4:
			ft.insert(&k, f)
			ref.ents = append(ref.ents, refFrag{k, f})
		case op < 5:
			if i := ref.newest(k); i >= 0 {
				ft.repoint(&k, f)
				ref.ents[i].f = f
			}
		case op < 7:
			ok := ft.removeNewest(&k)
			i := ref.newest(k)
			if ok != (i >= 0) {
				t.Fatalf("step %d: removeNewest %v, want %v", step, ok, i >= 0)
			}
			if i >= 0 {
				ref.ents = slices.Delete(ref.ents, i, i+1)
			}
		case op < 9:
			ft.removeEntryFor(&k, f)
			for i := len(ref.ents) - 1; i >= 0; i-- {
				if ref.ents[i].k == k && ref.ents[i].f == f {
					ref.ents = slices.Delete(ref.ents, i, i+1)
					break
				}
			}
		default:
			ft.removeFlow(f)
			ref.ents = slices.DeleteFunc(ref.ents, func(e refFrag) bool { return e.f == f })
		}
		for _, k := range keys {
			if got, want := ft.lookup(&k), ref.lookup(k); got != want {
				t.Fatalf("step %d: lookup %v gives flow %v, want %v", step, k.id, got, want)
			}
		}
		for _, f := range flows {
			var got []fragKey
			if i, ok := ft.owner[f]; ok {
				for ; i >= 0; i = ft.pool[i].fnext {
					got = append(got, ft.pool[i].key)
				}
			}
			// The order of a flow's list does not matter (removeFlow takes
			// them all): compare the keys sorted.
			want := ref.owned(f)
			byID := func(a, b fragKey) int { return int(a.id) - int(b.id) }
			slices.SortFunc(got, byID)
			slices.SortFunc(want, byID)
			if !slices.Equal(got, want) {
				t.Fatalf("step %d: flow %d owns %v, want %v", step, f.Slot, got, want)
			}
		}
		if live := len(ft.pool) - len(ft.free); live != len(ref.ents) {
			t.Fatalf("step %d: %d entries in use, want %d", step, live, len(ref.ents))
		}
	}
}

// BenchmarkFragTableEnd: flows ending with a fragment still pending, n of
// them pending at once; the time per flow must not grow with n (it did,
// linearly, when removeFlow scanned the whole table).
func BenchmarkFragTableEnd(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			flows := make([]Flow, n)
			var ft fragTable
			ft.init()
			for i := range flows {
				k := fragKey{id: uint32(i), proto: 17}
				ft.insert(&k, &flows[i])
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				f := &flows[i%n]
				ft.removeFlow(f)
				k := fragKey{id: uint32(i % n), proto: 17}
				ft.insert(&k, f)
			}
		})
	}
}
