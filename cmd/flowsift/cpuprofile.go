//go:build cpuprofile

package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// A build with -tags cpuprofile writes a CPU profile of the whole run to
// $FLOWSIFT_CPUPROFILE: tools/bench -pgo collects the default.pgo of this
// package with it. Release builds leave runtime/pprof out.
func init() {
	path := os.Getenv("FLOWSIFT_CPUPROFILE")
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "flowsift: cpu profile:", err)
		os.Exit(2)
	}
	// 100 Hz leaves a one-second run with a hundred samples; profile-guided
	// optimisation wants call edges with weight. (The runtime then warns
	// that StartCPUProfile's own 100 Hz is not applied.)
	runtime.SetCPUProfileRate(1000)
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "flowsift: cpu profile:", err)
		os.Exit(2)
	}
	stopProfile = func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
