package exepages

import (
	"bytes"
	"os"
	"strconv"
	"sync"
	"syscall"
)

// Release drops from the process' resident memory the pages of its
// executable's read-only mappings (code, read-only data) that are the
// file's own; they fault back in as they are used. A mapping holding
// pages that differ from the file is left alone: writable data and bss,
// and the dynamic linker's relocated tables (RELRO: written at start-up,
// then made read-only; dropped, they would come back unrelocated, and a
// call into libc or libpcap would jump to 0). Start-up happens once: only
// a process' first call releases (a long-lived `flowsift serve` runs the
// engine per request, and would otherwise drop the pages its requests
// use each time). It returns the bytes released from; errors are
// ignored: at worst nothing is released.
func Release() (released int) {
	once.Do(func() { released = release() })
	return released
}

var once sync.Once

func release() (released int) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0
	}
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0
	}
	for _, m := range fileOwnMappings(smaps, exe) {
		if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, m[0], m[1]-m[0], syscall.MADV_DONTNEED); e == 0 {
			released += int(m[1] - m[0])
		}
	}
	return released
}

// fileOwnMappings returns the ranges of the read-only mappings of file
// exe in smaps (the text of /proc/self/smaps) none of whose pages is
// anonymous (copied on write) or swapped.
func fileOwnMappings(smaps []byte, exe string) (ranges [][2]uintptr) {
	var lo, hi uintptr
	inside, own := false, false
	done := func() {
		if inside && own {
			ranges = append(ranges, [2]uintptr{lo, hi})
		}
	}
	for _, line := range bytes.Split(smaps, []byte("\n")) {
		f := bytes.Fields(line)
		if len(f) == 0 {
			continue
		}
		if !bytes.HasSuffix(f[0], []byte(":")) { // a mapping's first line
			done()
			lo, hi, inside = readOnlyMapping(line, exe)
			own = inside
			continue
		}
		if inside && (string(f[0]) == "Anonymous:" || string(f[0]) == "Swap:") && (len(f) < 2 || string(f[1]) != "0") {
			own = false
		}
	}
	done()
	return ranges
}

// readOnlyMapping parses the first line of a mapping in /proc/self/maps
// or smaps ("lo-hi perms offset dev inode path") and tells whether it
// maps file exe without write permission.
func readOnlyMapping(line []byte, exe string) (lo, hi uintptr, ok bool) {
	f := bytes.Fields(line)
	slash := bytes.IndexByte(line, '/') // the path, which may hold spaces
	if len(f) < 6 || slash < 0 || string(line[slash:]) != exe || len(f[1]) < 2 || f[1][1] == 'w' {
		return 0, 0, false
	}
	r := bytes.SplitN(f[0], []byte("-"), 2)
	if len(r) != 2 {
		return 0, 0, false
	}
	a, err1 := strconv.ParseUint(string(r[0]), 16, 64)
	b, err2 := strconv.ParseUint(string(r[1]), 16, 64)
	if err1 != nil || err2 != nil || b <= a {
		return 0, 0, false
	}
	return uintptr(a), uintptr(b), true
}
