package tcpdiag

import (
	"testing"
	"unsafe"
)

// TestDirLayout keeps the per-direction record on whole cache lines, with
// the fields every packet reads in its first two (see dir).
func TestDirLayout(t *testing.T) {
	var d dir
	for _, c := range []struct {
		what      string
		got, want uintptr
	}{
		{"size", unsafe.Sizeof(d), 320},
		{"line 1 (ackMax)", unsafe.Offsetof(d.ackMax), 64},
		{"line 2 (tsRef)", unsafe.Offsetof(d.tsRef), 128},
		{"line 3 (loID)", unsafe.Offsetof(d.loID), 192},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.what, c.got, c.want)
		}
	}
}
