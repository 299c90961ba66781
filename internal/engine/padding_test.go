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
	if err := cacheline.CheckPadded(unsafe.Sizeof(rd), unsafe.Offsetof(rd.f), unsafe.Offsetof(rd.guard)+unsafe.Sizeof(rd.guard)); err != nil {
		t.Error(err)
	}
}
