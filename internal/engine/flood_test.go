package engine_test

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"flowsift/internal/pcapgen"
)

// floodRun writes a SYN flood of n flows, runs flowsift on it with a flow
// table of capacity flows, and returns the flow file's path, the end
// report and the peak heap (live objects, sampled while running).
func floodRun(t *testing.T, dir string, n, capacity int) (flows, report string, peak uint64) {
	t.Helper()
	in := filepath.Join(dir, "flood"+strconv.Itoa(n)+".pcap")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriter(f)
	if err := pcapgen.Flood(bw, n, 10*time.Microsecond); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	runtime.GC()
	var max atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > max.Load() {
				max.Store(v)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	res := guardedRun(t, "-r", in, "-w", filepath.Join(dir, "out")+"/", "--set", "core.HASHTABLE_SIZE="+strconv.Itoa(capacity))
	close(stop)
	<-sampled
	os.Remove(in)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	return filepath.Join(dir, "out", "flood"+strconv.Itoa(n)+"_flows.txt"), res.stdout, max.Load()
}

// TestFloodBounded: 200 000 distinct flows through a table of 4096. Every
// flow is written exactly once; all but the last 4096 were written early
// by the autopilot with flowStat bit 42; the table never held more than
// its capacity; and the heap does not grow with the number of flows (the
// run of 200 000 flows peaks like the one of 50 000).
func TestFloodBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100 MB of flows")
	}
	const n, capacity = 200000, 4096
	dir := t.TempDir()
	_, _, peakSmall := floodRun(t, dir, n/4, capacity)
	path, rep, peak := floodRun(t, dir, n, capacity)
	t.Logf("peak heap: %d KiB for %d flows, %d KiB for %d flows", peakSmall>>10, n/4, peak>>10, n)

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	sc.Scan()
	hdr := strings.Split(sc.Text(), "\t")
	statCol := -1
	for i, h := range hdr {
		if h == "flowStat" {
			statCol = i
		}
	}
	if statCol < 0 {
		t.Fatal("no flowStat column")
	}
	seen := make([]bool, n+1)
	rows, autopilot := 0, 0
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != len(hdr) {
			t.Fatalf("row %d: %d fields", rows+1, len(fields))
		}
		rows++
		ind, err := strconv.Atoi(fields[1])
		if err != nil || ind < 1 || ind > n || seen[ind] {
			t.Fatalf("row %d: flowInd %q out of range or repeated", rows, fields[1])
		}
		seen[ind] = true
		stat, err := strconv.ParseUint(strings.TrimPrefix(fields[statCol], "0x"), 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		if stat&(1<<42) != 0 {
			autopilot++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if rows != n || autopilot != n-capacity {
		t.Errorf("%d rows, %d with bit 42; want %d and %d", rows, autopilot, n, n-capacity)
	}
	for _, want := range []string{
		"Max number of flows in memory: 4096 (4.10 K) [100.00%]",
		"Number of flows terminated by autopilot: 195904 (195.90 K) [97.95%]",
		"Aggregated flowStat=0x0400040000004000",
	} {
		if !strings.Contains(rep, want) {
			t.Errorf("end report lacks %q", want)
		}
	}
	// A table that kept evicted flows (or a map that grew with them) would
	// hold ~4x more at 200 000 flows than at 50 000.
	if peak > peakSmall*3/2+8<<20 {
		t.Errorf("peak heap %d KiB for %d flows vs %d KiB for %d: memory grows with the flows", peak>>10, n, peakSmall>>10, n/4)
	}
}
