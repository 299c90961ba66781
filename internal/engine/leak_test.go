package engine_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"flowsift/internal/cli"
	"flowsift/internal/engine"
	"flowsift/internal/pcapgen"
	"flowsift/internal/plugin"
	"flowsift/internal/plugins"
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

// TestNoGoroutineLeakAfterInternalError: a run that ends in an internal
// error (a plugin panics) while tcpDiag's analysis goroutine and the
// writers run reports it, keeps the rows written so far in the .partial
// file and leaves no goroutine behind.
func TestNoGoroutineLeakAfterInternalError(t *testing.T) {
	// 3,000 SYNs within 3 ms, no flow ending before the last: some 6,000
	// jobs, several batches handed over before packet 2,500.
	dir := t.TempDir()
	sample := filepath.Join(dir, "syns.pcap")
	var b bytes.Buffer
	w, err := pcapgen.NewWriter(&b, pcapgen.LinkEthernet, 65535)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range synFrames(3000) {
		w.WritePacket(1000, uint32(i*1000), f, 0)
	}
	w.Flush()
	os.WriteFile(sample, b.Bytes(), 0o644)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	reg := plugins.Registry()
	reg.Add(&plugin.Registration{Name: "boom", Order: 200, Version: "1",
		New: func(*plugin.Env, plugin.Settings) (plugin.Plugin, error) { return &boom{at: 2500}, nil }})
	opts := &engine.Options{ReadFile: sample, Inputs: []string{sample}, Prefix: dir + "/",
		Plugins: []string{"basicFlow", "tcpDiag", "boom"}, Sets: map[string]string{}}
	var stderr bytes.Buffer
	if st := engine.Run(opts, reg, io.Discard, &stderr); st != engine.ExitFailed || !strings.Contains(stderr.String(), "internal error after packet 2500") {
		t.Fatalf("exit %d, stderr %.300s", st, stderr.String())
	}
	// SYN flows of one packet each end at the timeout or at the end: no row
	// yet, but the header line was written.
	if b, err := os.ReadFile(filepath.Join(dir, "syns_flows.txt.partial")); err != nil || !bytes.HasPrefix(b, []byte("%dir\t")) {
		t.Errorf("partial flow file: %v, %.40q", err, b)
	}
	// Counting goroutines is not enough here: the watchers of the two
	// runs' signals end when they like. What the run started must be gone.
	var left string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		buf := make([]byte, 1<<20)
		left = ""
		for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			if strings.Contains(g, "flowsift/internal/plugins/") || strings.Contains(g, "flowsift/internal/sink.") {
				left += g + "\n\n"
			}
		}
		if left == "" {
			return
		}
	}
	t.Errorf("goroutines left by the run:\n%s", left)
}
