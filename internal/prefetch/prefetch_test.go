package prefetch

import (
	"testing"
	"unsafe"
)

// The hints read nothing and never fault: any address goes, lengths that
// do not end on a line, and none at all; the loops end.
func TestHintsNeverFault(t *testing.T) {
	buf := make([]byte, 1000)
	base := uintptr(unsafe.Pointer(&buf[0]))
	for _, c := range []struct{ addr, n uintptr }{
		{base, 1000}, {base + 1, 63}, {base + 63, 2}, {base, 0}, {0, 0}, {0, 4096},
		{^uintptr(0) - 4096, 4096}, {^uintptr(0) - 10, 100}, {^uintptr(0), ^uintptr(0)}, {1 << 47, 1 << 20},
	} {
		WriteRange(c.addr, c.n)
	}
	Write(nil)
	Write([]uintptr{base, base + 999, 0, 1 << 47, ^uintptr(0)})
	for i := range buf {
		if buf[i] != 0 {
			t.Fatalf("byte %d changed to %d", i, buf[i])
		}
	}
}
