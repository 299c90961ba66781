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
// nothing. Each flow's entries are linked too (owner holds the newest), so
// that a flow that ends drops its own entries without a scan of the whole
// table: with a scan, a capture whose flows end with fragments still
// pending cost time quadratic in their number (the issue-6 benchmark's
// -k 200 capture spent a third of its final flush there).
type fragTable struct {
	heads map[fragKey]int32 // newest entry of each key
	pool  []fragEntry
	free  []int32
	owner map[*Flow]int32 // newest entry of each flow that has one
}

type fragEntry struct {
	key  fragKey
	flow *Flow
	next int32 // next older entry with the same key, -1 = none
	// The flow's list: newer (fprev) and older (fnext) entries of the same
	// flow, -1 = none.
	fprev, fnext int32
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
	ft.pool[i] = fragEntry{key: *k, next: next}
	ft.heads[*k] = i
	ft.own(i, f)
}

// own adds entry i to f's list.
func (ft *fragTable) own(i int32, f *Flow) {
	e := &ft.pool[i]
	e.flow, e.fprev, e.fnext = f, -1, -1
	if h, ok := ft.owner[f]; ok {
		e.fnext = h
		ft.pool[h].fprev = i
	}
	ft.owner[f] = i
}

// disown takes entry i out of its flow's list.
func (ft *fragTable) disown(i int32) {
	e := &ft.pool[i]
	if e.fprev >= 0 {
		ft.pool[e.fprev].fnext = e.fnext
	} else if e.fnext >= 0 {
		ft.owner[e.flow] = e.fnext
	} else {
		delete(ft.owner, e.flow)
	}
	if e.fnext >= 0 {
		ft.pool[e.fnext].fprev = e.fprev
	}
}

// repoint makes the newest entry of k belong to f.
func (ft *fragTable) repoint(k *fragKey, f *Flow) {
	i := ft.heads[*k]
	if ft.pool[i].flow == f {
		return
	}
	ft.disown(i)
	ft.own(i, f)
}

// release gives entry i, taken out of its key's chain, back to the pool.
func (ft *fragTable) release(i int32) {
	ft.disown(i)
	ft.pool[i] = fragEntry{}
	ft.free = append(ft.free, i)
}

// unchain takes entry i out of its key's chain; prev is the entry before
// it in the chain, -1 when i is the newest.
func (ft *fragTable) unchain(k *fragKey, i, prev int32) {
	next := ft.pool[i].next
	switch {
	case prev >= 0:
		ft.pool[prev].next = next
	case next >= 0:
		ft.heads[*k] = next
	default:
		delete(ft.heads, *k)
	}
}

// removeNewest removes the newest entry of k; false if there is none.
func (ft *fragTable) removeNewest(k *fragKey) bool {
	i, ok := ft.heads[*k]
	if !ok {
		return false
	}
	ft.unchain(k, i, -1)
	ft.release(i)
	return true
}

// removeEntryFor removes the newest entry of k that belongs to f.
func (ft *fragTable) removeEntryFor(k *fragKey, f *Flow) {
	i, ok := ft.heads[*k]
	if !ok {
		return
	}
	for prev := int32(-1); i >= 0; prev, i = i, ft.pool[i].next {
		if ft.pool[i].flow == f {
			ft.unchain(k, i, prev)
			ft.release(i)
			return
		}
	}
}

// removeFlow drops every entry that belongs to f (the flow ends).
func (ft *fragTable) removeFlow(f *Flow) {
	for {
		i, ok := ft.owner[f]
		if !ok {
			return
		}
		k := ft.pool[i].key
		prev := int32(-1)
		for j := ft.heads[k]; j != i; j = ft.pool[j].next {
			prev = j
		}
		ft.unchain(&k, i, prev)
		ft.release(i)
	}
}
