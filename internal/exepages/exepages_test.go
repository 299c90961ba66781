package exepages

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"testing"
)

func TestReadOnlyMapping(t *testing.T) {
	const exe = "/opt/my tools/flowsift"
	for _, tc := range []struct {
		line   string
		lo, hi uintptr
		ok     bool
	}{
		{"00400000-00a00000 r-xp 00000000 fd:01 123 /opt/my tools/flowsift", 0x400000, 0xa00000, true},
		{"00a00000-00f00000 r--p 00600000 fd:01 123 /opt/my tools/flowsift", 0xa00000, 0xf00000, true},
		{"00f00000-00f80000 rw-p 00b00000 fd:01 123 /opt/my tools/flowsift", 0, 0, false}, // data: may differ from the file
		{"7f0000000000-7f0000200000 r-xp 00000000 fd:01 9 /usr/lib/x86_64-linux-gnu/libc.so.6", 0, 0, false},
		{"00400000-00a00000 r-xp 00000000 fd:01 123 /opt/my tools/flowsift (deleted)", 0, 0, false},
		{"c000000000-c004000000 rw-p 00000000 00:00 0", 0, 0, false},
		{"00a00000-00400000 r-xp 00000000 fd:01 123 /opt/my tools/flowsift", 0, 0, false}, // empty range
		{"zz-00a00000 r-xp 00000000 fd:01 123 /opt/my tools/flowsift", 0, 0, false},
		{"", 0, 0, false},
	} {
		lo, hi, ok := readOnlyMapping([]byte(tc.line), exe)
		if lo != tc.lo || hi != tc.hi || ok != tc.ok {
			t.Errorf("%q: %#x-%#x %v, want %#x-%#x %v", tc.line, lo, hi, ok, tc.lo, tc.hi, tc.ok)
		}
	}
}

// TestRelease: the test binary's read-only mappings hold fewer resident
// pages after Release, and its code goes on running.
func TestRelease(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	before := exeRss(t)
	if before == 0 {
		t.Skip("no resident pages of the executable to release")
	}
	if n := Release(); n == 0 {
		t.Fatal("nothing released")
	}
	if after := exeRss(t); after >= before {
		t.Fatalf("resident pages of the executable: %d KiB before, %d KiB after", before, after)
	}
}

// exeRss is the resident KiB of the executable's read-only mappings.
func exeRss(t *testing.T) int {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Skip(err)
	}
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	kb, in := 0, false
	for _, line := range bytes.Split(smaps, []byte("\n")) {
		if f := bytes.Fields(line); len(f) > 0 && !bytes.HasSuffix(f[0], []byte(":")) {
			_, _, in = readOnlyMapping(line, exe)
		} else if in && len(f) >= 2 && string(f[0]) == "Rss:" {
			n, _ := strconv.Atoi(string(f[1]))
			kb += n
		}
	}
	return kb
}
