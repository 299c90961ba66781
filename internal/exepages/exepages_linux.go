package exepages

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// Release drops the process' mappings of the read-only parts of its
// executable (code, read-only data) from its resident memory; they fault
// back in as they are used. Writable mappings (data, bss) are left
// alone: their pages may differ from the file. It returns the bytes
// released from, and errors are ignored: at worst nothing is released.
func Release() (released int) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(maps, []byte("\n")) {
		lo, hi, ok := readOnlyMapping(line, exe)
		if !ok {
			continue
		}
		if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, lo, hi-lo, syscall.MADV_DONTNEED); e == 0 {
			released += int(hi - lo)
		}
	}
	return released
}

// readOnlyMapping parses a line of /proc/self/maps ("lo-hi perms offset
// dev inode path") and tells whether it maps file exe without write
// permission.
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
