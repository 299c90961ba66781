package cacheline

import "unsafe"

// elemsPerLine is how many elements of v's type cover at least one line.
func elemsPerLine[T any](v T) int {
	sz := int(unsafe.Sizeof(v))
	if sz == 0 {
		return 0
	}
	return (Size + sz - 1) / sz
}
