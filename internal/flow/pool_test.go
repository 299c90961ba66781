package flow

import "testing"

// TestPoolReuse checks that references are never 0, that a reference
// given back is handed out again with its record zeroed, and that records
// keep their address while the pool grows past a chunk.
func TestPoolReuse(t *testing.T) {
	var p Pool[[3]uint32]
	ref1, x1 := p.Get()
	ref2, _ := p.Get()
	if ref1 == 0 || ref2 == 0 || ref1 == ref2 {
		t.Fatalf("references %d, %d", ref1, ref2)
	}
	x1[0], x1[2] = 7, 9
	if p.At(ref1) != x1 || p.At(ref1)[2] != 9 {
		t.Fatal("At does not return the record Get made")
	}
	p.Put(ref1)
	ref3, x3 := p.Get()
	if ref3 != ref1 || x3 != x1 {
		t.Errorf("reference %d given back, got %d", ref1, ref3)
	}
	if *x3 != [3]uint32{} {
		t.Errorf("reused record not zeroed: %v", *x3)
	}
	x3[1] = 5
	for i := 0; i < 2*chunkSize; i++ {
		p.Get()
	}
	if p.At(ref3) != x3 || x3[1] != 5 {
		t.Error("record moved or changed while the pool grew")
	}
	var none int32
	if p.Of(none) != nil || p.Of(ref3) != x3 {
		t.Error("Of")
	}
	y, made := p.For(&none)
	if !made || none == 0 || p.At(none) != y {
		t.Errorf("For made %v, reference %d", made, none)
	}
	if y2, made := p.For(&none); made || y2 != y {
		t.Error("For made a second record for the same reference")
	}
	if got, want := p.Made(), 3+2*chunkSize; got != want {
		t.Errorf("Made %d, want %d", got, want)
	}
}

// TestStoreGet checks that Get returns At's element for every slot At has
// reached, across chunks.
func TestStoreGet(t *testing.T) {
	var s Store[[5]uint16]
	n := int32(2*chunkSize + 3)
	s.At(n - 1)
	for i := int32(0); i < n; i++ {
		if s.Get(i) != s.At(i) {
			t.Fatalf("slot %d: Get and At differ", i)
		}
	}
	s.Get(n - 1)[4] = 9
	if s.At(n - 1)[4] != 9 {
		t.Fatal("Get's element is not At's")
	}
}

// TestStorePrefetchAnySlot: asking for a slot the store never reached, or
// a negative one, does nothing (a hint must not fail).
func TestStorePrefetchAnySlot(t *testing.T) {
	var s Store[[3]uint64]
	for _, i := range []int32{0, 5, chunkSize, -1, 1 << 30} {
		s.Prefetch(i)
	}
	s.At(chunkSize + 3)[1] = 7
	for _, i := range []int32{0, chunkSize + 3, 2*chunkSize - 1, 2 * chunkSize, -1} {
		s.Prefetch(i)
	}
	if s.Get(chunkSize + 3)[1] != 7 {
		t.Error("Prefetch changed an element")
	}
}
