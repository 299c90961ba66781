package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// pgoModes are the runs whose CPU profiles make cmd/flowsift/default.pgo:
// the modes the benchmarks time, the Parquet files included (a mode left
// out gets none of the optimisation the others get, and the format
// benchmark's ratios move against it).
var pgoModes = [][]string{
	{"flows"},
	{"packets"},
	{"diag"},
	{"flows", "--format", "parquet"},
	{"packets", "--format", "parquet"},
}

// collectPGO builds flowsift with -tags cpuprofile, runs every pgoModes
// entry runs times on the capture and merges the profiles into out (go
// tool pprof -proto), for profile-guided optimisation (docs/performance.md).
func collectPGO(dir, capPath string, runs int, out string) {
	bin := filepath.Join(dir, "flowsift-cpuprofile")
	if err := goBuild(bin, "-tags", "cpuprofile"); err != nil {
		fatal(err)
	}
	profDir := filepath.Join(dir, "pgo")
	os.RemoveAll(profDir)
	if err := os.MkdirAll(profDir, 0o755); err != nil {
		fatal(err)
	}
	var profiles []string
	for i := 0; i < runs; i++ {
		for j, m := range pgoModes {
			o := filepath.Join(dir, "out-pgo") + "/"
			os.RemoveAll(o)
			prof := filepath.Join(profDir, fmt.Sprintf("%d-%d.prof", i, j))
			cmd := exec.Command(bin, append(modeArgs(capPath, o, m[0]), m[1:]...)...)
			cmd.Env = append(os.Environ(), "FLOWSIFT_CPUPROFILE="+prof)
			cmd.Stderr = os.Stderr
			if err := cmd.Run(); err != nil {
				fatal(fmt.Errorf("%s: %v", cmd, err))
			}
			profiles = append(profiles, prof)
		}
	}
	merged, err := exec.Command("go", append([]string{"tool", "pprof", "-proto"}, profiles...)...).Output()
	if err != nil {
		fatal(fmt.Errorf("go tool pprof -proto: %v", err))
	}
	if !filepath.IsAbs(out) {
		out = filepath.Join(moduleRoot(), out)
	}
	if err := os.WriteFile(out, merged, 0o644); err != nil {
		fatal(err)
	}
	fmt.Printf("%s: %d profiles merged, %d bytes\n", out, len(profiles), len(merged))
}
