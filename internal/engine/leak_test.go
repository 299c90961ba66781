package engine_test

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"flowsift/internal/cli"
)

// TestNoGoroutineLeak runs flowsift successfully and with failures at
// several stages (missing input, unknown link type, a plugin switch error
// after the output files exist) and checks that no goroutine is left.
func TestNoGoroutineLeak(t *testing.T) {
	dir := t.TempDir()
	sample, err := filepath.Abs("../../testdata/sample.pcap")
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.pcap")
	os.WriteFile(bad, []byte("not a capture at all, just text\n"), 0o644)
	// A folder in the packet file's place fails setup after the flow file's
	// writer started.
	os.Mkdir(filepath.Join(dir, "p_packets.txt"), 0o755)
	runs := [][]string{
		{"-r", sample, "-w", filepath.Join(dir, "ok"), "-s"},
		{"-r", filepath.Join(dir, "missing.pcap"), "-w", filepath.Join(dir, "m")},
		{"-r", bad, "-w", filepath.Join(dir, "b"), "-s"},
		{"-r", sample, "-w", filepath.Join(dir, "nodir", "x", "y") + "/", "--plugins", "basicFlow"},
		{"-r", sample, "-w", filepath.Join(dir, "p"), "-s"},
		// tcpDiag's analysis goroutine (flow mode, two processors).
		{"-r", sample, "-w", filepath.Join(dir, "d"), "--plugins", "basicFlow,basicStats,tcpFlags,tcpStates,tcpDiag"},
		{"-r", bad, "-w", filepath.Join(dir, "db"), "--plugins", "tcpDiag"},
	}
	// The first run starts os/signal's watcher, which lives as long as the
	// process; count after it.
	cli.Main(append([]string{"flowsift"}, runs[0]...), nil, io.Discard, io.Discard)
	before := runtime.NumGoroutine()
	for _, a := range runs {
		cli.Main(append([]string{"flowsift"}, a...), nil, io.Discard, io.Discard)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}
