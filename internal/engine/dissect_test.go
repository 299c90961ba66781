package engine_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flowsift/internal/cli"
	"flowsift/internal/pcapgen"
)

// rows reads a flowsift text file into one map column → value per row.
func rows(t *testing.T, path string) []map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	head := strings.Split(strings.TrimPrefix(lines[0], "%"), "\t")
	var out []map[string]string
	for _, l := range lines[1:] {
		r := map[string]string{}
		for i, v := range strings.Split(l, "\t") {
			r[head[i]] = v
		}
		out = append(out, r)
	}
	return out
}

// runCase runs flowsift -s on one hand-built case of pcapgen.DissectCases
// and returns the flow and packet rows.
func runCase(t *testing.T, name string, args ...string) (flows, pkts []map[string]string) {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, name+".pcap")
	found := false
	for _, c := range pcapgen.DissectCases() {
		if c.Name != name {
			continue
		}
		found = true
		f, err := os.Create(in)
		if err != nil {
			t.Fatal(err)
		}
		// Twice, so that per-flow sums show per-frame values add up.
		pw, err := pcapgen.NewWriter(f, c.Link, 65535)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if err := pw.WritePacket(1700000000+uint32(i), 0, c.Data, 0); err != nil {
				t.Fatal(err)
			}
		}
		if err := pw.Flush(); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	if !found {
		t.Fatalf("no case %s", name)
	}
	argv := append([]string{"flowsift", "-r", in, "-w", dir + "/", "-s", "--no-progress"}, args...)
	if code := cli.Main(argv, nil, io.Discard, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	return rows(t, filepath.Join(dir, name+"_flows.txt")), rows(t, filepath.Join(dir, name+"_packets.txt"))
}

func checkCols(t *testing.T, what string, r map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if r[k] != v {
			t.Errorf("%s %s = %q, want %q", what, k, r[k], v)
		}
	}
}

var t2Mode = []string{"--set", "core.FIXT2BUGS=0", "--set", "tcpFlags.FIXT2BUGS=0"}

// TestCAPWAPWirelessFlow: a CAPWAP data packet carrying an 802.11 frame
// (T bit, wireless binding 1) is decoded through to the wireless client's
// TCP flow, as Tranalyzer does (issue 16).
func TestCAPWAPWirelessFlow(t *testing.T) {
	for _, mode := range [][]string{nil, t2Mode} {
		flows, pkts := runCase(t, "capwap-data-wlan", mode...)
		if len(flows) != 1 || len(pkts) != 2 {
			t.Fatalf("%d flows, %d packets", len(flows), len(pkts))
		}
		common := map[string]string{"hdrDesc": "eth:vlan{2}:ipv4:udp:capwap.data:wlan:llc:ipv4:tcp",
			"numHdrs": "10", "srcIP": "192.168.10.20", "dstIP": "10.20.30.40", "srcPort": "49152",
			"dstPort": "443", "l4Proto": "6", "vlanID": "100;200"}
		checkCols(t, "flow", flows[0], common)
		checkCols(t, "flow", flows[0], map[string]string{"flowStat": "0x0400000000804100",
			"pktsSnt": "2", "l7BytesSnt": "0", "padBytesSnt": "0"})
		checkCols(t, "packet", pkts[0], common)
		checkCols(t, "packet", pkts[0], map[string]string{"l3Len": "40", "snapL3Len": "40",
			"snapL4Len": "20", "snapL7Len": "0", "udpLen": "0", "l7Len": "0", "padLen": "0"})
	}
}

// TestRARPPadding: Tranalyzer counts a RARP frame's whole Ethernet payload
// as padding (46 bytes in a 60-byte frame); flowsift counts the bytes after
// the 28-byte RARP body (18) unless core.FIXT2BUGS=0 (docs/compat.md).
func TestRARPPadding(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		pad, flow string
	}{{t2Mode, "46", "92"}, {nil, "18", "36"}} {
		flows, pkts := runCase(t, "rarp", tc.args...)
		if len(flows) != 1 || len(pkts) != 2 {
			t.Fatalf("%d flows, %d packets", len(flows), len(pkts))
		}
		checkCols(t, "flow", flows[0], map[string]string{"hdrDesc": "eth:rarp", "flowStat": "0x0000000000000084",
			"ethType": "0x8035", "padBytesSnt": tc.flow, "l7BytesSnt": "92"})
		checkCols(t, "packet", pkts[1], map[string]string{"padLen": tc.pad, "l7Len": "46", "snapL3Len": "46"})
	}
}

// TestDECMOPName: DEC MOP frames are named dec_mop like Tranalyzer's.
func TestDECMOPName(t *testing.T) {
	for _, name := range []string{"dec-mop-rc", "dec-mop-dl"} {
		flows, pkts := runCase(t, name, t2Mode...)
		checkCols(t, "flow", flows[0], map[string]string{"hdrDesc": "eth:dec_mop", "numHdrs": "2", "flowStat": "0x0000000000000004"})
		checkCols(t, "packet", pkts[0], map[string]string{"hdrDesc": "eth:dec_mop", "numHdrs": "2"})
	}
}
