package tcpdiag

import (
	"testing"
	"unsafe"
)

// sameSet returns identities that all fall into set 5 of c, with
// different tags.
func sameSet(c *dupCache, n int) []uint64 {
	var hs []uint64
	for k := uint64(1); len(hs) < n; k++ {
		hs = append(hs, k<<32|5<<7)
	}
	for _, h := range hs {
		if (h>>7)&c.mask != 5 {
			panic("identity outside the set")
		}
	}
	return hs
}

func TestDupCacheSet(t *testing.T) {
	var c dupCache
	c.init()
	const sec = int64(1e9)
	t0 := 100 * sec
	hs := sameSet(&c, dupWays+1)

	// A set keeps dupWays identities.
	for _, h := range hs[:dupWays] {
		c.put(h, t0)
	}
	for i, h := range hs[:dupWays] {
		if !c.seen(h, t0+sec) {
			t.Fatalf("identity %d of %d not seen", i, dupWays)
		}
	}
	// One more replaces the oldest, and only it.
	if c.seen(hs[dupWays], t0+sec) {
		t.Fatal("a new identity was seen")
	}
	if c.seen(hs[0], t0+sec) {
		t.Fatal("the oldest identity survived a full set")
	}
	// seen recorded hs[0] again, in place of hs[1], the next oldest (and
	// this look-up records hs[1] in place of hs[2]).
	if c.seen(hs[1], t0+sec) {
		t.Fatal("hs[1] survived the second replacement")
	}
	// The set now holds hs[8], hs[0], hs[1] and hs[3..7].
	for _, i := range []int{8, 0, 1, 3, 4, 5, 6, 7} {
		if !c.seen(hs[i], t0+2*sec) {
			t.Fatalf("identity %d lost", i)
		}
	}
}

func TestDupCacheWindow(t *testing.T) {
	var c dupCache
	c.init()
	const sec = int64(1e9)
	h := uint64(0xdeadbeef12345678)
	c.put(h, 50*sec)
	if !c.seen(h, 59*sec) {
		t.Fatal("a copy 9 s later was not seen")
	}
	var d dupCache
	d.init()
	d.put(h, 50*sec)
	if d.seen(h, 61*sec) {
		t.Fatal("a copy 11 s later was taken for a network duplicate")
	}
}

// TestDupCacheLines keeps every set on one cache line, so that a look-up
// reads one line.
func TestDupCacheLines(t *testing.T) {
	var c dupCache
	c.init()
	if n := unsafe.Sizeof(dupSet{}); n != 64 {
		t.Fatalf("set of %d bytes, want 64", n)
	}
	if a := uintptr(unsafe.Pointer(&c.sets[0])); a%64 != 0 {
		t.Fatalf("sets start at %#x, not on a cache line", a)
	}
	if n := len(c.sets) * int(unsafe.Sizeof(dupSet{})); n != 128<<10 {
		t.Fatalf("table of %d bytes, want 128 KiB", n)
	}
}
