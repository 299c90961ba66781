package cacheline

import (
	"testing"
	"unsafe"
)

// The copy holds the same elements, and a line of its backing array's
// allocation lies before and after them: no other object can reach into
// the lines they occupy.
func TestIsolated(t *testing.T) {
	type elem struct {
		a, b, c uint64
	}
	for _, n := range []int{0, 1, 4, 9} {
		s := make([]elem, n)
		for i := range s {
			s[i] = elem{uint64(i), uint64(2 * i), uint64(3 * i)}
		}
		c := Isolated(s)
		if len(c) != n || cap(c) != n {
			t.Fatalf("n=%d: len %d cap %d", n, len(c), cap(c))
		}
		for i := range s {
			if c[i] != s[i] {
				t.Fatalf("n=%d: element %d is %v, want %v", n, i, c[i], s[i])
			}
		}
		if n == 0 {
			continue
		}
		if &c[0] == &s[0] {
			t.Fatal("not a copy")
		}
		// The padding: the full backing array extends a line each way.
		full := unsafe.Slice((*elem)(unsafe.Add(unsafe.Pointer(&c[0]), -elemsPerLine(elem{})*int(unsafe.Sizeof(elem{})))), n+2*elemsPerLine(elem{}))
		before := uintptr(unsafe.Pointer(&c[0])) - uintptr(unsafe.Pointer(&full[0]))
		after := uintptr(unsafe.Pointer(&full[len(full)-1])) + unsafe.Sizeof(elem{}) - uintptr(unsafe.Pointer(&c[n-1])) - unsafe.Sizeof(elem{})
		if before < Size || after < Size {
			t.Fatalf("n=%d: %d bytes of padding before, %d after; want %d", n, before, after, Size)
		}
	}
	if got := elemsPerLine(byte(0)); got != Size {
		t.Fatalf("elemsPerLine(byte) = %d", got)
	}
	if got := elemsPerLine([100]byte{}); got != 1 {
		t.Fatalf("elemsPerLine([100]byte) = %d", got)
	}
}

func TestCheckPadded(t *testing.T) {
	type padded struct {
		_ Pad
		a uint64
		_ Pad
	}
	var p padded
	if err := CheckPadded(unsafe.Sizeof(p), unsafe.Offsetof(p.a), unsafe.Offsetof(p.a)+8); err != nil {
		t.Error(err)
	}
	for _, c := range []struct{ size, first, end uintptr }{
		{136, 0, 8},    // nothing before
		{136, 64, 80},  // 56 bytes after
		{72, 64, 72},   // nothing after
		{128, 64, 200}, // fields past the end
	} {
		if CheckPadded(c.size, c.first, c.end) == nil {
			t.Errorf("%+v taken for padded", c)
		}
	}
}
