package exepages

import (
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"

	"flowsift/internal/filter"
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
// pages after Release, and its code goes on running; a second call does
// nothing.
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
	if n := Release(); n != 0 {
		t.Fatalf("a second call released %d bytes; only a process' first call releases", n)
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

// TestFileOwnMappings: of the executable's read-only mappings, only those
// whose pages are all the file's are released; the dynamic linker's
// relocated table (RELRO) has anonymous pages.
func TestFileOwnMappings(t *testing.T) {
	const exe = "/usr/bin/flowsift"
	smaps := `00400000-00402000 r--p 00000000 fe:00 12 /usr/bin/flowsift
Rss:                   8 kB
Anonymous:             0 kB
Swap:                  0 kB
VmFlags: rd mr mw me
00402000-009d7000 r-xp 00002000 fe:00 12 /usr/bin/flowsift
Anonymous:             0 kB
Swap:                  0 kB
00fef000-00ff0000 r--p 00bee000 fe:00 12 /usr/bin/flowsift
Anonymous:             4 kB
Swap:                  0 kB
00ff0000-01000000 r--p 00bef000 fe:00 12 /usr/bin/flowsift
Anonymous:             0 kB
Swap:                  8 kB
01060000-01070000 rw-p 00bef000 fe:00 12 /usr/bin/flowsift
Anonymous:             0 kB
7f0000000000-7f0000200000 r-xp 00000000 fe:00 9 /usr/lib/x86_64-linux-gnu/libc.so.6
Anonymous:             0 kB
7f0000300000-7f0000400000 r--p 00000000 fe:00 12 /usr/bin/flowsift
Anonymous:             0 kB`
	got := fileOwnMappings([]byte(smaps), exe)
	want := [][2]uintptr{{0x400000, 0x402000}, {0x402000, 0x9d7000}, {0x7f0000300000, 0x7f0000400000}}
	if len(got) != len(want) {
		t.Fatalf("got %x, want %x", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("range %d: %x, want %x", i, got[i], want[i])
		}
	}
}

// TestCgoAfterRelease: after Release, calls into C still work: a filter
// compiled by libpcap (opened with dlopen, through the relocated table),
// in a process of its own so that libpcap is opened after the release.
func TestCgoAfterRelease(t *testing.T) {
	if os.Getenv("EXEPAGES_CHILD") == "1" {
		Release()
		if !filter.Available {
			return
		}
		if err := filter.Ready(); err != nil {
			t.Skip(err)
		}
		if _, err := filter.Compile("tcp port 80", 1, filter.File); err != nil {
			t.Fatal(err)
		}
		return
	}
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCgoAfterRelease$", "-test.v")
	cmd.Env = append(os.Environ(), "EXEPAGES_CHILD=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
