package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flowsift/internal/pcapgen"
)

// pkt is one hand-built packet at second sec.
type pkt struct {
	sec   uint32
	nsec  uint32
	frame pcapgen.Frame
}

// flowRows runs flowsift on pkts with args and returns the flow rows as
// column name → value maps, in output order.
func flowRows(t *testing.T, pkts []pkt, args ...string) []map[string]string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "t.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := pcapgen.NewWriter(f, pcapgen.LinkEthernet, 65535)
	for _, p := range pkts {
		if err := w.WritePacket(p.sec, p.nsec, p.frame.Build(nil), 0); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	f.Close()
	code, _, stderr := run(append([]string{"-r", path, "-w", filepath.Join(dir, "o")}, args...)...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, stderr)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "o_flows.txt"))
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	names := strings.Split(strings.TrimPrefix(lines[0], "%"), "\t")
	var out []map[string]string
	for _, l := range lines[1:] {
		m := map[string]string{}
		for i, v := range strings.Split(l, "\t") {
			m[names[i]] = v
		}
		out = append(out, m)
	}
	return out
}

// summary is "flowInd:pktsSnt:tcpStatesAFlags" of each row.
func summary(rows []map[string]string) string {
	var s []string
	for _, r := range rows {
		s = append(s, r["flowInd"]+":"+r["pktsSnt"]+":"+r["tcpStatesAFlags"])
	}
	return strings.Join(s, " ")
}

var (
	hostA = []byte{10, 0, 0, 1}
	hostB = []byte{10, 0, 0, 2}
)

// TestFlowTimeoutSwitch: core.FLOW_TIMEOUT is the idle time after which a
// non-TCP flow ends (core.md §9, default 182 s): two UDP packets 70 s
// apart are one flow by default and two flows with FLOW_TIMEOUT=60.
func TestFlowTimeoutSwitch(t *testing.T) {
	udp := pcapgen.Frame{Src: hostA, Dst: hostB, Proto: 17, SrcPort: 5000, DstPort: 53}
	pkts := []pkt{{100, 0, udp}, {170, 0, udp}}
	if got := summary(flowRows(t, pkts)); got != "1:2:0x00" {
		t.Errorf("default: %s", got)
	}
	if got := summary(flowRows(t, pkts, "--set", "core.FLOW_TIMEOUT=60")); got != "1:1:0x00 2:1:0x00" {
		t.Errorf("FLOW_TIMEOUT=60: %s", got)
	}
	// Exactly at the timeout the flow ends (idle ≥ timeout, core.md §9.3).
	if got := summary(flowRows(t, pkts, "--set", "core.FLOW_TIMEOUT=70")); got != "1:1:0x00 2:1:0x00" {
		t.Errorf("FLOW_TIMEOUT=70: %s", got)
	}
	if got := summary(flowRows(t, pkts, "--set", "core.FLOW_TIMEOUT=70.5")); got != "1:2:0x00" {
		t.Errorf("FLOW_TIMEOUT=70.5: %s", got)
	}
	// TCP flows follow tcpStates' timeouts, not FLOW_TIMEOUT.
	syn := pcapgen.Frame{Src: hostA, Dst: hostB, Proto: 6, SrcPort: 40000, DstPort: 80, Flags: pcapgen.SYN, Window: 1000}
	if got := summary(flowRows(t, []pkt{{100, 0, syn}, {170, 0, syn}}, "--set", "core.FLOW_TIMEOUT=60")); got != "1:2:0x03" {
		t.Errorf("TCP with FLOW_TIMEOUT=60: %s", got)
	}
	if code, _, stderr := run("-r", "x", "--set", "core.FLOW_TIMEOUT=soon"); code != 2 ||
		!strings.HasPrefix(stderr, "flowsift: --set core.FLOW_TIMEOUT=soon: want a number of seconds") {
		t.Errorf("bad FLOW_TIMEOUT: exit %d %q", code, stderr)
	}
}

// TestTCPStatesTimeoutSwitches: each state timeout of tcpStates.md §2 is
// a switch. A lone SYN leaves its direction NEW (120 s); after a RST/ACK
// answer both directions are RESET (0.1 s); after a full FIN handshake
// both are CLOSED (10 s). A later packet of the same connection joins the
// flow (and gets the anomaly of its state: PKTS_RST 0x10, PKTS_TERM 0x08)
// only while the timeout has not run out. The other bits are those of
// tcpStates.md §4 (0x01/0x02: handshake/teardown incomplete, 0x40 RST).
func TestTCPStatesTimeoutSwitches(t *testing.T) {
	tcp := func(src, dst []byte, sp, dp uint16, flags uint8, seq, ack uint32) pcapgen.Frame {
		return pcapgen.Frame{Src: src, Dst: dst, Proto: 6, SrcPort: sp, DstPort: dp, Flags: flags, Seq: seq, Ack: ack, Window: 1000}
	}
	a2b := func(flags uint8, seq, ack uint32) pcapgen.Frame { return tcp(hostA, hostB, 40000, 80, flags, seq, ack) }
	b2a := func(flags uint8, seq, ack uint32) pcapgen.Frame { return tcp(hostB, hostA, 80, 40000, flags, seq, ack) }
	const syn, ack, fin, rst = pcapgen.SYN, pcapgen.ACK, pcapgen.FIN, pcapgen.RST

	// NEW: a SYN, and the same SYN again 130 s later.
	lone := []pkt{{100, 0, a2b(syn, 1, 0)}, {230, 0, a2b(syn, 1, 0)}}
	if got := summary(flowRows(t, lone)); got != "1:1:0x03 2:1:0x03" {
		t.Errorf("NEW default 120: %s", got)
	}
	if got := summary(flowRows(t, lone, "--set", "tcpStates.TIMEOUT_NEW=200")); got != "1:2:0x03" {
		t.Errorf("TIMEOUT_NEW=200: %s", got)
	}

	// RESET: SYN, RST/ACK, then the client's ACK 5 s later.
	reset := []pkt{{100, 0, a2b(syn, 1, 0)}, {100, 1000, b2a(rst|ack, 0, 2)}, {105, 0, a2b(ack, 2, 1)}}
	got := flowRows(t, reset)
	if s := summary(got); s != "1:1:0x03 1:1:0x43 2:1:0x03" {
		t.Errorf("RESET default 0.1: %s", s)
	}
	got = flowRows(t, reset, "--set", "tcpStates.TIMEOUT_RESET=10")
	if s := summary(got); s != "1:2:0x13 1:1:0x43" {
		t.Errorf("TIMEOUT_RESET=10: %s", s)
	}

	// CLOSED: handshake, FIN/ACK both ways with their ACKs, then a
	// client packet 20 s later.
	closed := []pkt{
		{100, 0, a2b(syn, 1, 0)}, {100, 100, b2a(syn|ack, 1000, 2)}, {100, 200, a2b(ack, 2, 1001)},
		{101, 0, a2b(fin|ack, 2, 1001)}, {101, 100, b2a(fin|ack, 1001, 3)}, {101, 200, a2b(ack, 3, 1002)},
		{121, 0, a2b(ack, 3, 1002)},
	}
	if s := summary(flowRows(t, closed)); s != "1:4:0x00 1:2:0x00 2:1:0x03" {
		t.Errorf("CLOSED default 10: %s", s)
	}
	if s := summary(flowRows(t, closed, "--set", "tcpStates.TIMEOUT_CLOSED=30")); s != "1:5:0x08 1:2:0x00" {
		t.Errorf("TIMEOUT_CLOSED=30: %s", s)
	}
	// ESTABLISHED (610 s) and CLOSING (120 s): the handshake, then a
	// packet 700 s later; a FIN, then a packet 150 s later.
	est := []pkt{{100, 0, a2b(syn, 1, 0)}, {100, 100, b2a(syn|ack, 1000, 2)}, {100, 200, a2b(ack, 2, 1001)}, {800, 0, a2b(ack, 2, 1001)}}
	if s := summary(flowRows(t, est)); s != "1:2:0x02 1:1:0x02 2:1:0x03" {
		t.Errorf("ESTABLISHED default 610: %s", s)
	}
	if s := summary(flowRows(t, est, "--set", "tcpStates.TIMEOUT_ESTABLISHED=1000")); s != "1:3:0x02 1:1:0x02" {
		t.Errorf("TIMEOUT_ESTABLISHED=1000: %s", s)
	}
	if code, _, stderr := run("-r", "x", "--set", "tcpStates.TIMEOUT_CLOSED=-1"); code != 2 ||
		!strings.HasPrefix(stderr, "flowsift: --set tcpStates: TIMEOUT_CLOSED=-1: want a number of seconds") {
		t.Errorf("bad TIMEOUT_CLOSED: exit %d %q", code, stderr)
	}
}
