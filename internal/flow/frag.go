package flow

// fragKey identifies a pending fragmented datagram (core.md §6).
type fragKey struct {
	src, dst [16]byte
	id       uint32
	vlan     uint16
	l3Type   uint16
	proto    uint8
}

func fragKeyOf(k *Key, id uint32) fragKey {
	return fragKey{src: k.SrcIP, dst: k.DstIP, id: id, vlan: k.VLAN, l3Type: k.L3Type, proto: k.Proto}
}

// fragTable is the pending-fragment multimap: insertion never checks for an
// equal key (newest first), lookups and removals act on the newest equal
// entry. Entries live in a pool with a free list so steady state allocates
// nothing.
type fragTable struct {
	heads map[fragKey]int32 // newest entry of each key
	pool  []fragEntry
	free  []int32
	owner map[*Flow]int32 // entries per flow, to drop them when the flow ends
}

type fragEntry struct {
	key  fragKey
	flow *Flow
	next int32 // next older entry with the same key, -1 = none
}

func (ft *fragTable) init() {
	ft.heads = make(map[fragKey]int32)
	ft.owner = make(map[*Flow]int32)
}

func (ft *fragTable) lookup(k *fragKey) *Flow {
	if i, ok := ft.heads[*k]; ok {
		return ft.pool[i].flow
	}
	return nil
}

func (ft *fragTable) insert(k *fragKey, f *Flow) {
	var i int32
	if n := len(ft.free); n > 0 {
		i = ft.free[n-1]
		ft.free = ft.free[:n-1]
	} else {
		ft.pool = append(ft.pool, fragEntry{})
		i = int32(len(ft.pool) - 1)
	}
	next := int32(-1)
	if h, ok := ft.heads[*k]; ok {
		next = h
	}
	ft.pool[i] = fragEntry{key: *k, flow: f, next: next}
	ft.heads[*k] = i
	ft.owner[f]++
}

// repoint makes the newest entry of k belong to f.
func (ft *fragTable) repoint(k *fragKey, f *Flow) {
	i := ft.heads[*k]
	old := ft.pool[i].flow
	if old == f {
		return
	}
	ft.dec(old)
	ft.pool[i].flow = f
	ft.owner[f]++
}

func (ft *fragTable) dec(f *Flow) {
	if n := ft.owner[f]; n <= 1 {
		delete(ft.owner, f)
	} else {
		ft.owner[f] = n - 1
	}
}

// removeNewest removes the newest entry of k; false if there is none.
func (ft *fragTable) removeNewest(k *fragKey) bool {
	i, ok := ft.heads[*k]
	if !ok {
		return false
	}
	e := ft.pool[i]
	if e.next >= 0 {
		ft.heads[*k] = e.next
	} else {
		delete(ft.heads, *k)
	}
	ft.dec(e.flow)
	ft.pool[i] = fragEntry{}
	ft.free = append(ft.free, i)
	return true
}

// removeEntryFor removes the newest entry of k that belongs to f.
func (ft *fragTable) removeEntryFor(k *fragKey, f *Flow) {
	i, ok := ft.heads[*k]
	if !ok {
		return
	}
	prev := int32(-1)
	for i >= 0 {
		if ft.pool[i].flow == f {
			next := ft.pool[i].next
			if prev < 0 {
				if next >= 0 {
					ft.heads[*k] = next
				} else {
					delete(ft.heads, *k)
				}
			} else {
				ft.pool[prev].next = next
			}
			ft.dec(f)
			ft.pool[i] = fragEntry{}
			ft.free = append(ft.free, i)
			return
		}
		prev, i = i, ft.pool[i].next
	}
}

// removeFlow drops every entry that belongs to f (the flow ends).
func (ft *fragTable) removeFlow(f *Flow) {
	if ft.owner[f] == 0 {
		return
	}
	// Rare path (a flow ending while pending): scan the live heads.
	for k, i := range ft.heads {
		for i >= 0 && ft.owner[f] > 0 {
			next := ft.pool[i].next
			if ft.pool[i].flow == f {
				kk := k
				ft.removeEntryFor(&kk, f)
			}
			i = next
		}
		if ft.owner[f] == 0 {
			return
		}
	}
	delete(ft.owner, f)
}
