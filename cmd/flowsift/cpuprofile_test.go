package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCPUProfileBuild builds flowsift with -tags cpuprofile (what make pgo
// collects default.pgo with) and checks that a run writes a CPU profile
// go tool pprof reads, with samples of the run's own functions.
func TestCPUProfileBuild(t *testing.T) {
	goBin := goForBuild(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "flowsift")
	build := exec.Command(goBin, "build", "-tags", "cpuprofile", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags cpuprofile: %v\n%s", err, out)
	}
	prof := filepath.Join(dir, "cpu.prof")
	// A run long enough for samples: the sample capture, read 3000 times.
	sample, err := filepath.Abs("../../testdata/sample.pcap")
	if err != nil {
		t.Fatal(err)
	}
	list := filepath.Join(dir, "list")
	if err := os.WriteFile(list, []byte(strings.Repeat(sample+"\n", 3000)), 0o644); err != nil {
		t.Fatal(err)
	}
	run := exec.Command(bin, "-R", list, "-w", filepath.Join(dir, "out")+"/")
	run.Env = append(os.Environ(), "FLOWSIFT_CPUPROFILE="+prof)
	if out, err := run.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	top, err := exec.Command(goBin, "tool", "pprof", "-top", bin, prof).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool pprof: %v\n%s", err, top)
	}
	if !strings.Contains(string(top), "flowsift/internal/") {
		t.Errorf("profile has no samples of flowsift's packages:\n%s", top)
	}
}
