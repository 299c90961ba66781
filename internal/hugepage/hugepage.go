// Package hugepage asks the kernel to back large, long-lived allocations
// (the per-flow stores, the flow index) with transparent huge pages.
//
// Why: a busy capture keeps tens of thousands of flows alive, and each new
// flow touches fresh memory. With 4 KiB pages every first touch is a page
// fault (costly in virtual machines) and the working set overflows the
// TLB; on the issue-6 benchmark capture huge pages cut the CPU time of a
// flow-mode run by about a fifth. Linux' default THP mode, "madvise", only
// gives huge pages to memory that asks for them, and the Go runtime no
// longer asks (Go 1.21.1+), so flowsift asks for the memory it knows is
// dense and long-lived.
//
// The advice changes nothing but the page size: outputs are the same, and
// the kernel ignores it when THP is off ("never") or unavailable.
package hugepage

import "unsafe"

// Size is the huge page size the advice is aligned to (x86-64 and arm64
// with 4 KiB base pages).
const Size = 2 << 20

// disabled turns the advice off (FLOWSIFT_HUGEPAGES=0), for comparisons.
var disabled = envDisabled()

// Advise marks the huge-page-aligned range around the n bytes at p as
// eligible for huge pages. The range is rounded outwards: the neighbours
// are Go heap memory too, and a partly used huge page costs at most 2 MiB
// of resident memory per advised block, which is why only blocks of at
// least Size/8 are advised.
func Advise(p unsafe.Pointer, n uintptr) {
	if disabled || n < Size/8 || p == nil {
		return
	}
	start := uintptr(p) &^ (Size - 1)
	end := (uintptr(p) + n + Size - 1) &^ (Size - 1)
	advise(start, end-start)
}

// AdviseSlice advises the backing array of s.
func AdviseSlice[T any](s []T) {
	if cap(s) == 0 {
		return
	}
	var zero T
	Advise(unsafe.Pointer(unsafe.SliceData(s)), uintptr(cap(s))*unsafe.Sizeof(zero))
}

// Block returns n bytes (rounded up to whole huge pages) that start on a
// huge page boundary and are advised: only they become huge pages, not
// their neighbours, as with Advise's outward rounding. For many buffers
// written side by side (a Parquet file's column pages), whose pages
// would otherwise each take a TLB entry.
func Block(n int) []byte {
	n = (n + Size - 1) &^ (Size - 1)
	if disabled {
		return make([]byte, n)
	}
	b := make([]byte, n+Size)
	off := int(-uintptr(unsafe.Pointer(unsafe.SliceData(b))) & (Size - 1))
	b = b[off : off+n : off+n]
	advise(uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(n))
	return b
}
