package engine_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flowsift/internal/cli"
	"flowsift/internal/pcapgen"
)

// checkRows checks that every row of a flowsift text file has as many
// tab-separated fields as its header line and returns the flowInd values
// (column col) seen.
func checkRows(t *testing.T, path string, col int) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 2 || lines[len(lines)-1] != "" || !strings.HasPrefix(lines[0], "%") {
		t.Fatalf("%s: no header line or no final newline", path)
	}
	n := strings.Count(lines[0], "\t") + 1
	inds := map[string]bool{}
	for i, l := range lines[1 : len(lines)-1] {
		f := strings.Split(l, "\t")
		if len(f) != n {
			t.Fatalf("%s line %d: %d fields, header has %d:\n%s", path, i+2, len(f), n, l)
		}
		inds[f[col]] = true
	}
	return inds
}

// runPipeline runs flowsift -s on a capture held in memory and checks the
// output files: row widths, and every flow of the packet file written to
// the flow file (no flow lost).
func runPipeline(t *testing.T, dir string, data []byte) int {
	in := filepath.Join(dir, "in.pcap")
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	// A small flow table also exercises the autopilot (and keeps each
	// execution cheap).
	code := cli.Main([]string{"flowsift", "-r", in, "-w", dir + "/", "-s", "--no-progress",
		"--set", "core.HASHTABLE_SIZE=64"}, nil, io.Discard, &stderr)
	if code != 0 && code != 1 && code != 3 {
		t.Fatalf("exit status %d: %s", code, stderr.String())
	}
	if code == 1 {
		return code
	}
	flows := checkRows(t, filepath.Join(dir, "in_flows.txt"), 1)
	pkts := checkRows(t, filepath.Join(dir, "in_packets.txt"), 1)
	for ind := range pkts {
		if ind != "0" && !flows[ind] {
			t.Fatalf("flow %s has packets but no flow row", ind)
		}
	}
	return code
}

// FuzzPipeline runs the whole pipeline (reader, decoder, flow table, all
// default plugins, text sinks, end report) on a fuzzed capture file. Seeds
// in testdata/fuzz/FuzzPipeline are small captures of the shared corpus.
func FuzzPipeline(f *testing.F) {
	var b bytes.Buffer
	w, _ := pcapgen.NewWriter(&b, 1, 65535)
	fr := pcapgen.Frame{Src: []byte{10, 0, 0, 1}, Dst: []byte{10, 0, 0, 2}, Proto: 6, SrcPort: 1, DstPort: 2, Flags: pcapgen.SYN,
		TCPOpts: []byte{2, 4, 5, 0xb4, 30, 12, 0, 0x81, 1, 2, 3, 4, 5, 6, 7, 8}}
	w.WritePacket(1, 0, fr.Build(nil), 0)
	fr.Src, fr.Dst, fr.SrcPort, fr.DstPort, fr.Flags = fr.Dst, fr.Src, 2, 1, pcapgen.SYN|pcapgen.ACK
	w.WritePacket(1, 1000, fr.Build(nil), 0)
	w.Flush()
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		runPipeline(t, t.TempDir(), data)
	})
}
