package tcpdiag

import (
	"testing"
	"unsafe"
)

// TestDirLayout keeps the per-direction record on whole cache lines, with
// the fields every packet reads in its first two (see dir), and the
// record of a direction that sent data on two lines (sendRec).
func TestDirLayout(t *testing.T) {
	var d dir
	var x sendRec
	for _, c := range []struct {
		what      string
		got, want uintptr
	}{
		{"size", unsafe.Sizeof(d), 192},
		{"line 1 (ackMax)", unsafe.Offsetof(d.ackMax), 64},
		{"line 2 (minEcho)", unsafe.Offsetof(d.minEcho), 128},
		{"sendRec size", unsafe.Sizeof(x), 128},
		{"sendRec line 1 (loTime)", unsafe.Offsetof(x.loTime), 64},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.what, c.got, c.want)
		}
	}
}
