package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"flowsift/internal/pcapgen"
)

// pkt is one hand-built packet at second sec.
type pkt struct {
	sec   uint32
	nsec  uint32
	frame pcapgen.Frame
	raw   []byte // a frame pcapgen cannot build, instead of frame
}

// flowRows runs flowsift on pkts with args and returns the flow rows as
// column name → value maps, in output order.
func flowRows(t *testing.T, pkts []pkt, args ...string) []map[string]string {
	t.Helper()
	rows, _ := runRows(t, pkts, args...)
	return rows
}

// runRows is flowRows that also returns the packet file's column names
// (with -s); every row of both files must have the header's width.
func runRows(t *testing.T, pkts []pkt, args ...string) ([]map[string]string, []string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "t.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := pcapgen.NewWriter(f, pcapgen.LinkEthernet, 65535)
	for _, p := range pkts {
		data := p.raw
		if data == nil {
			data = p.frame.Build(nil)
		}
		if err := w.WritePacket(p.sec, p.nsec, data, 0); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	f.Close()
	code, _, stderr := run(append([]string{"-r", path, "-w", filepath.Join(dir, "o")}, args...)...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, stderr)
	}
	var pktNames []string
	if b, err := os.ReadFile(filepath.Join(dir, "o_packets.txt")); err == nil {
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		pktNames = strings.Split(strings.TrimPrefix(lines[0], "%"), "\t")
		for i, l := range lines[1:] {
			if n := strings.Count(l, "\t") + 1; n != len(pktNames) {
				t.Errorf("%v: packet row %d has %d fields, header %d", args, i+1, n, len(pktNames))
			}
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "o_flows.txt"))
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	names := strings.Split(strings.TrimPrefix(lines[0], "%"), "\t")
	var out []map[string]string
	for _, l := range lines[1:] {
		fields := strings.Split(l, "\t")
		if len(fields) != len(names) {
			t.Errorf("%v: flow row has %d fields, header %d", args, len(fields), len(names))
		}
		m := map[string]string{}
		for i, v := range fields {
			if i < len(names) {
				m[names[i]] = v
			}
		}
		out = append(out, m)
	}
	return out, pktNames
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
	pkts := []pkt{{100, 0, udp, nil}, {170, 0, udp, nil}}
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
	if got := summary(flowRows(t, []pkt{{100, 0, syn, nil}, {170, 0, syn, nil}}, "--set", "core.FLOW_TIMEOUT=60")); got != "1:2:0x03" {
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
	lone := []pkt{{100, 0, a2b(syn, 1, 0), nil}, {230, 0, a2b(syn, 1, 0), nil}}
	if got := summary(flowRows(t, lone)); got != "1:1:0x03 2:1:0x03" {
		t.Errorf("NEW default 120: %s", got)
	}
	if got := summary(flowRows(t, lone, "--set", "tcpStates.TIMEOUT_NEW=200")); got != "1:2:0x03" {
		t.Errorf("TIMEOUT_NEW=200: %s", got)
	}

	// RESET: SYN, RST/ACK, then the client's ACK 5 s later.
	reset := []pkt{{100, 0, a2b(syn, 1, 0), nil}, {100, 1000, b2a(rst|ack, 0, 2), nil}, {105, 0, a2b(ack, 2, 1), nil}}
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
		{100, 0, a2b(syn, 1, 0), nil}, {100, 100, b2a(syn|ack, 1000, 2), nil}, {100, 200, a2b(ack, 2, 1001), nil},
		{101, 0, a2b(fin|ack, 2, 1001), nil}, {101, 100, b2a(fin|ack, 1001, 3), nil}, {101, 200, a2b(ack, 3, 1002), nil},
		{121, 0, a2b(ack, 3, 1002), nil},
	}
	if s := summary(flowRows(t, closed)); s != "1:4:0x00 1:2:0x00 2:1:0x03" {
		t.Errorf("CLOSED default 10: %s", s)
	}
	if s := summary(flowRows(t, closed, "--set", "tcpStates.TIMEOUT_CLOSED=30")); s != "1:5:0x08 1:2:0x00" {
		t.Errorf("TIMEOUT_CLOSED=30: %s", s)
	}
	// ESTABLISHED (610 s) and CLOSING (120 s): the handshake, then a
	// packet 700 s later; a FIN, then a packet 150 s later.
	est := []pkt{{100, 0, a2b(syn, 1, 0), nil}, {100, 100, b2a(syn|ack, 1000, 2), nil}, {100, 200, a2b(ack, 2, 1001), nil}, {800, 0, a2b(ack, 2, 1001), nil}}
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

// TestBasicFlowSwitches: BFO_MAC, BFO_ETHERTYPE, BFO_VLAN and
// BFO_SUBNET_TEST (basicFlow.md header: all on by default) each remove
// their columns from the flow and the packet file; every other column
// keeps its value and every row keeps the header's width.
func TestBasicFlowSwitches(t *testing.T) {
	fr := pcapgen.Frame{SrcMAC: [6]byte{2, 0, 0, 0, 0, 1}, DstMAC: [6]byte{2, 0, 0, 0, 0, 2}, VLAN: []uint16{20},
		Src: hostA, Dst: []byte{8, 8, 8, 8}, Proto: 17, SrcPort: 5000, DstPort: 53}
	// An LLDP frame: an L2 flow.
	l2 := append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 3, 0x88, 0xcc}, make([]byte, 46)...)
	pkts := []pkt{{100, 0, fr, nil}, {101, 0, pcapgen.Frame{}, l2}}
	all := map[string]string{"srcMac": "02:00:00:00:00:01", "dstMac": "02:00:00:00:00:02", "ethType": "0x0800", "vlanID": "20",
		"srcIPCC": "04", "srcIPOrg": `"Private network"`, "dstIPCC": "-", "dstIPOrg": `"-"`, "srcPort": "5000", "dstPort": "53", "l4Proto": "17"}
	for _, c := range []struct {
		sw   string
		gone []string
	}{
		{"", nil},
		{"BFO_MAC", []string{"srcMac", "dstMac"}},
		{"BFO_ETHERTYPE", []string{"ethType"}},
		{"BFO_VLAN", []string{"vlanID"}},
		{"BFO_SUBNET_TEST", []string{"srcIPCC", "srcIPOrg", "dstIPCC", "dstIPOrg"}},
	} {
		args := []string{"-s"}
		if c.sw != "" {
			args = append(args, "--set", "basicFlow."+c.sw+"=0")
		}
		rows, pktCols := runRows(t, pkts, args...)
		for _, g := range c.gone {
			if slices.Contains(pktCols, g) {
				t.Errorf("%s=0: packet column %s still there", c.sw, g)
			}
		}
		if len(pktCols) != 73-len(c.gone) {
			t.Errorf("%s=0: %d packet columns, want %d", c.sw, len(pktCols), 73-len(c.gone))
		}
		if len(rows) != 2 {
			t.Fatalf("%s: %d rows", c.sw, len(rows))
		}
		for name, want := range all {
			got, present := rows[0][name]
			gone := false
			for _, g := range c.gone {
				gone = gone || g == name
			}
			if gone && present {
				t.Errorf("%s=0: column %s still there", c.sw, name)
			}
			if !gone && got != want {
				t.Errorf("%s=0: %s = %q, want %q", c.sw, name, got, want)
			}
		}
		// The L2 flow: its IP columns are empty or "-", whatever is left.
		if rows[1]["srcIP"] != "-" || rows[1]["l4Proto"] != "0" {
			t.Errorf("%s=0: L2 flow %v", c.sw, rows[1])
		}
	}
}

// TestBasicStatsSwitches: BS_REV_CNT, BS_PL_STATS, BS_IAT_STATS and
// BS_STDDEV (basicStats.md header: on by default) remove their flow
// columns; the remaining columns keep their values (three UDP packets of
// 10, 20 and 60 payload bytes at 0, 1 and 3 s, one answer of 5 bytes).
// The standard deviations follow basicStats.md §1's recurrence (average
// seeded with the first length): var = 50 + (45² − 50)/3 = 708.33 for the
// sizes, √ = 26.61453.
func TestBasicStatsSwitches(t *testing.T) {
	q := func(n int) pcapgen.Frame {
		return pcapgen.Frame{Src: hostA, Dst: hostB, Proto: 17, SrcPort: 5000, DstPort: 53, Payload: make([]byte, n)}
	}
	answer := pcapgen.Frame{Src: hostB, Dst: hostA, Proto: 17, SrcPort: 53, DstPort: 5000, Payload: make([]byte, 5)}
	pkts := []pkt{{100, 0, q(10), nil}, {100, 500, answer, nil}, {101, 0, q(20), nil}, {103, 0, q(60), nil}}
	all := map[string]string{"pktsSnt": "3", "pktsRcvd": "1", "l7BytesSnt": "90", "l7BytesRcvd": "5",
		"minL7PktSz": "10", "maxL7PktSz": "60", "avgL7PktSz": "30", "stdL7PktSz": "26.61453",
		"minIAT": "0", "maxIAT": "2", "avgIAT": "1", "stdIAT": "1.040833", "pktps": "1", "bytps": "30"}
	for _, c := range []struct {
		sw   string
		gone []string
	}{
		{"", nil},
		{"BS_REV_CNT", []string{"pktsRcvd", "l7BytesRcvd"}},
		{"BS_PL_STATS", []string{"minL7PktSz", "maxL7PktSz", "avgL7PktSz", "stdL7PktSz"}},
		{"BS_IAT_STATS", []string{"minIAT", "maxIAT", "avgIAT", "stdIAT"}},
		{"BS_STDDEV", []string{"stdL7PktSz", "stdIAT"}},
	} {
		var args []string
		if c.sw != "" {
			args = []string{"--set", "basicStats." + c.sw + "=0"}
		}
		rows := flowRows(t, pkts, args...)
		if len(rows) != 2 {
			t.Fatalf("%s: %d rows", c.sw, len(rows))
		}
		for name, want := range all {
			got, present := rows[0][name]
			if slices.Contains(c.gone, name) {
				if present {
					t.Errorf("%s=0: column %s still there", c.sw, name)
				}
				continue
			}
			if got != want {
				t.Errorf("%s=0: %s = %q, want %q", c.sw, name, got, want)
			}
		}
	}
}
