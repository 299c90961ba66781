package hugepage

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// TestAdviseMarksMapping checks on Linux that the advised range carries the
// kernel's "hg" (MADV_HUGEPAGE) flag in /proc/self/smaps, and that a block
// below the threshold is left alone.
func TestAdviseMarksMapping(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("madvise advice is Linux-only")
	}
	if disabled {
		t.Skip("FLOWSIFT_HUGEPAGES=0")
	}
	big := make([]uint64, 4<<20/8)
	AdviseSlice(big)
	if !flagged(t, uintptr(unsafe.Pointer(&big[len(big)/2]))) {
		t.Fatal("the advised block's mapping has no hg flag")
	}
	runtime.KeepAlive(big)
}

// TestBlock: a block is whole huge pages, starts on a huge page boundary
// (unless the advice is off) and, on Linux, is advised.
func TestBlock(t *testing.T) {
	b := Block(Size + 1)
	if len(b) != 2*Size || cap(b) != 2*Size {
		t.Fatalf("Block(Size+1): len %d cap %d, want %d", len(b), cap(b), 2*Size)
	}
	if disabled {
		t.Skip("FLOWSIFT_HUGEPAGES=0")
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if p%Size != 0 {
		t.Fatalf("block at %#x, not on a huge page boundary", p)
	}
	if runtime.GOOS == "linux" && !flagged(t, p+Size) {
		t.Fatal("the block's mapping has no hg flag")
	}
	runtime.KeepAlive(b)
}

func TestAdviseIgnoresSmallAndEmpty(t *testing.T) {
	AdviseSlice([]byte(nil))
	Advise(nil, 1<<30)
	small := make([]byte, Size/16)
	AdviseSlice(small) // below Size/8: must not panic nor fail; nothing to check
}

// flagged reports whether the VMA holding addr has VmFlags "hg".
func flagged(t *testing.T, addr uintptr) bool {
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skip("no /proc/self/smaps:", err)
	}
	inside := false
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			var lo, hi uintptr
			if _, err := parseRange(f[0], &lo, &hi); err == nil {
				inside = addr >= lo && addr < hi
			}
			continue
		}
		if inside && len(f) > 0 && f[0] == "VmFlags:" {
			for _, fl := range f[1:] {
				if fl == "hg" {
					return true
				}
			}
			return false
		}
	}
	return false
}

func parseRange(s string, lo, hi *uintptr) (int, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, os.ErrInvalid
	}
	x, err := strconv.ParseUint(a, 16, 64)
	if err != nil {
		return 0, err
	}
	y, err := strconv.ParseUint(b, 16, 64)
	if err != nil {
		return 0, err
	}
	*lo, *hi = uintptr(x), uintptr(y)
	return 2, nil
}
