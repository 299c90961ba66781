package engine

import (
	"testing"
	"unsafe"

	"flowsift/internal/cacheline"
)

// The reader's state is written for every packet on the reader's
// processor: padded at both ends (package cacheline).
func TestReaderPadded(t *testing.T) {
	var rd reader
	if off := unsafe.Offsetof(rd.f); off < cacheline.Size {
		t.Errorf("first field at %d", off)
	}
	if end := unsafe.Offsetof(rd.guard) + unsafe.Sizeof(rd.guard); unsafe.Sizeof(rd)-end < cacheline.Size {
		t.Errorf("%d bytes after the last field", unsafe.Sizeof(rd)-end)
	}
}
