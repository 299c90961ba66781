// Package cacheline keeps apart what two processors would otherwise share
// by accident. The pipeline's goroutines run on different processors (the
// capture reader on one, the flow table and plugins on the other), and a
// small object shares its cache lines with whatever the allocator put
// beside it: when one processor writes such a line for every packet and
// the other reads its neighbour for every packet, the line moves between
// them each time (false sharing). Found that way: the plugin list, read
// for every packet, sat beside the capture file's bufio.Reader, written
// for every packet: 8-9 % of a flow-mode run's wall time and a fifth of
// its CPU time (docs/performance.md).
package cacheline

import (
	"fmt"
	"unsafe"
)

// Size is the cache line size assumed: 64 bytes on amd64 and most arm64
// processors (128 on some, where the padding only halves the effect).
const Size = 64

// Pad is a line of padding: a struct that starts and ends with one cannot
// share a line with its neighbours in memory.
type Pad [Size]byte

// Isolated returns a copy of s in memory that shares no cache line with
// any other object (a line of padding on each side).
func Isolated[T any](s []T) []T {
	var zero T
	n := elemsPerLine(zero)
	b := make([]T, len(s)+2*n)
	copy(b[n:], s)
	return b[n : n+len(s) : n+len(s)]
}

// elemsPerLine is how many elements of v's type cover at least one line.
func elemsPerLine[T any](v T) int {
	sz := int(unsafe.Sizeof(v))
	if sz == 0 {
		return 0
	}
	return (Size + sz - 1) / sz
}

// CheckPadded tells whether a record of size bytes whose fields in use
// start at offset first and end at offset end has a line of padding
// before and after them (for tests of the records that start and end
// with a Pad); the error says what is missing.
func CheckPadded(size, first, end uintptr) error {
	if first < Size || size < end || size-end < Size {
		return fmt.Errorf("fields at %d..%d of %d bytes: want %d bytes of padding on each side", first, end, size, Size)
	}
	return nil
}
