package engine_test

import (
	"io"
	"os"
	"testing"

	"flowsift/internal/cli"
)

func TestZZProf(t *testing.T) {
	f := os.Getenv("PROF_FORMAT")
	if f == "" {
		t.Skip()
	}
	args := []string{"flowsift", "-r", "/tmp/w12-bench/bench-k40.pcap", "-w", "/tmp/w12-prof/", "--format", f, "--no-progress"}
	if os.Getenv("PROF_S") != "" {
		args = append(args, "-s")
	}
	cli.Main(args, nil, io.Discard, io.Discard)
}
