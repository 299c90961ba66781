package capture

import (
	"testing"
	"unsafe"

	"flowsift/internal/cacheline"
)

// The file and its read buffer are written for every record by the
// reader goroutine: a line of padding at each end keeps whatever the
// allocator puts beside them off their lines (package cacheline).
func TestReaderStatePadded(t *testing.T) {
	var f File
	if off := unsafe.Offsetof(f.name); off < cacheline.Size {
		t.Errorf("File: first field at %d", off)
	}
	if end := unsafe.Offsetof(f.scratch) + unsafe.Sizeof(f.scratch); unsafe.Sizeof(f)-end < cacheline.Size {
		t.Errorf("File: %d bytes after the last field", unsafe.Sizeof(f)-end)
	}
	var pr paddedReader
	if off := unsafe.Offsetof(pr.Reader); off < cacheline.Size || unsafe.Sizeof(pr)-off-unsafe.Sizeof(pr.Reader) < cacheline.Size {
		t.Errorf("bufio.Reader at %d of %d", off, unsafe.Sizeof(pr))
	}
	br := newReadBuffer(nil)
	defer recycleReadBuffer(br)
	if br.Size() != bufSize {
		t.Errorf("read buffer of %d bytes", br.Size())
	}
}
