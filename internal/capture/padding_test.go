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
	if err := cacheline.CheckPadded(unsafe.Sizeof(f), unsafe.Offsetof(f.name), unsafe.Offsetof(f.scratch)+unsafe.Sizeof(f.scratch)); err != nil {
		t.Errorf("File: %v", err)
	}
	var pr paddedReader
	if err := cacheline.CheckPadded(unsafe.Sizeof(pr), unsafe.Offsetof(pr.Reader), unsafe.Offsetof(pr.Reader)+unsafe.Sizeof(pr.Reader)); err != nil {
		t.Errorf("bufio.Reader: %v", err)
	}
	br := newReadBuffer(nil)
	defer recycleReadBuffer(br)
	if br.Size() != bufSize {
		t.Errorf("read buffer of %d bytes", br.Size())
	}
}
