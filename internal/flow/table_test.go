package flow

import (
	"fmt"
	"strings"
	"testing"

	"flowsift/internal/decode"
	"flowsift/internal/plugins/ptest"
)

// row is one output row as the table produced it.
type row struct {
	dir    byte
	ind    uint64
	status uint64
	sport  uint16
}

type harness struct {
	t      *testing.T
	tab    *Table
	rows   []row
	global uint64
}

func newHarness(t *testing.T, capacity int) *harness {
	h := &harness{t: t}
	h.tab = NewTable(capacity, func(f *Flow, dir byte) {
		h.rows = append(h.rows, row{dir, f.FlowInd, f.Status, f.Key.SrcPort})
	}, &h.global)
	return h
}

func ip4(a, b, c, d byte) [16]byte { return [16]byte{a, b, c, d} }

// tcp builds a TCP packet at time sec.nsec; flags go into a minimal header.
func tcp(sec uint64, nsec uint32, src, dst [16]byte, sp, dp uint16, flags byte) *decode.Packet {
	p := &decode.Packet{TsSec: sec, TsNsec: nsec, Kind: decode.KindIPv4, SrcIP: src, DstIP: dst,
		SrcPort: sp, DstPort: dp, Proto: 6, Status: decode.StatIPv4Pkt}
	p.Data = make([]byte, 20)
	p.Data[13] = flags
	p.L4Off = 0
	p.SnapL4Len = 20
	return p
}

func udp(sec uint64, nsec uint32, src, dst [16]byte, sp, dp uint16) *decode.Packet {
	return &decode.Packet{TsSec: sec, TsNsec: nsec, Kind: decode.KindIPv4, SrcIP: src, DstIP: dst,
		SrcPort: sp, DstPort: dp, Proto: 17, Status: decode.StatIPv4Pkt}
}

// feed runs the per-packet steps of the engine: expire, then look up.
func (h *harness) feed(p *decode.Packet) (*Flow, Result) {
	h.tab.Expire(p.TsSec, p.TsNsec)
	h.global |= p.Status
	return h.tab.Packet(p)
}

func (h *harness) rowsString() string {
	var b strings.Builder
	for _, r := range h.rows {
		fmt.Fprintf(&b, "%c%d:%d:%#x ", r.dir, r.ind, r.sport, r.status)
	}
	return strings.TrimSpace(b.String())
}

var (
	cli = ip4(10, 0, 0, 1)
	srv = ip4(10, 0, 0, 2)
)

func TestPairAndDirection(t *testing.T) {
	h := newHarness(t, 0)
	f1, r1 := h.feed(tcp(100, 0, cli, srv, 40000, 80, 0x02))
	f2, r2 := h.feed(tcp(100, 1000, srv, cli, 80, 40000, 0x12))
	if r1 != Created || r2 != Created {
		t.Fatalf("results %v %v, want Created twice", r1, r2)
	}
	if f1.Partner != f2 || f2.Partner != f1 || f1.FlowInd != 1 || f2.FlowInd != 1 {
		t.Fatalf("pairing: partner %p/%p ind %d/%d", f1.Partner, f2.Partner, f1.FlowInd, f2.FlowInd)
	}
	if _, r := h.feed(tcp(100, 2000, cli, srv, 40000, 80, 0x10)); r != Existing {
		t.Fatalf("third packet: %v, want Existing", r)
	}
	h.tab.Flush()
	want := "A1:40000:0x400000000004000 B1:80:0x400000000004001"
	if got := h.rowsString(); got != want {
		t.Errorf("rows %s, want %s", got, want)
	}
	if s := h.tab.Stats; s.Created != 2 || s.CreatedA != 1 || s.CreatedB != 1 || s.CreatedIPv4 != 2 || s.MaxLive != 2 {
		t.Errorf("stats %+v", s)
	}
	// Bit 0 is not part of the aggregate (golden 01_clean_http_ipv4: 0x...4044).
	if h.global&decode.StatInverted != 0 {
		t.Errorf("global status %#x has bit 0", h.global)
	}
}

func TestServerFirstIsInvertedAndPrintedSecond(t *testing.T) {
	h := newHarness(t, 0)
	h.feed(tcp(1, 0, srv, cli, 80, 40000, 0x10)) // server speaks first
	h.feed(tcp(1, 5, cli, srv, 40000, 80, 0x10))
	h.tab.Flush()
	want := "A1:40000:0x400000000004000 B1:80:0x400000000004001"
	if got := h.rowsString(); got != want {
		t.Errorf("rows %s, want %s", got, want)
	}
}

func TestInversionHeuristic(t *testing.T) {
	cases := []struct {
		sp, dp uint16
		proto  uint8
		flags  byte
		want   bool
	}{
		{80, 40000, 6, 0x10, true},    // well-known source port below destination
		{40000, 80, 6, 0x10, false},   // client
		{8081, 50000, 17, 0, true},    // 8080 family
		{8089, 50000, 17, 0, true},    // 8089 & 0xfff6 = 8080
		{8082, 50000, 17, 0, false},   // not in the family
		{50000, 50001, 6, 0x12, true}, // SYN/ACK
		{0, 0, 1, 0, false},           // ICMP never by ports
		{1000, 999, 17, 0, false},     // below 1024 but not below the other port
	}
	for _, c := range cases {
		h := newHarness(t, 0)
		var p *decode.Packet
		if c.proto == 6 {
			p = tcp(1, 0, cli, srv, c.sp, c.dp, c.flags)
		} else {
			p = udp(1, 0, cli, srv, c.sp, c.dp)
			p.Proto = c.proto
		}
		f, _ := h.feed(p)
		if got := f.Inverted(); got != c.want {
			t.Errorf("%d→%d proto %d flags %#x: inverted %v, want %v", c.sp, c.dp, c.proto, c.flags, got, c.want)
		}
	}
}

func TestLoneInvertedFlowCountsAsReply(t *testing.T) {
	h := newHarness(t, 0)
	h.feed(udp(1, 0, srv, cli, 53, 40000))
	h.tab.Flush()
	if got, want := h.rowsString(), "A1:53:0x400000000004001"; got != want {
		t.Errorf("rows %s, want %s", got, want)
	}
	if h.tab.Stats.LoneInvert != 1 {
		t.Errorf("LoneInvert %d, want 1", h.tab.Stats.LoneInvert)
	}
}

func TestIdleTimeoutBoundary(t *testing.T) {
	h := newHarness(t, 0)
	h.feed(udp(1000, 0, cli, srv, 5000, 6000))
	h.feed(udp(1181, 990000000, srv, ip4(1, 1, 1, 1), 1, 2)) // idle 181.99 s (float32): stays
	if len(h.rows) != 0 {
		t.Fatalf("flow expired early: %s", h.rowsString())
	}
	// Exactly 182 s later: removed before the packet, which opens a new flow.
	f, r := h.feed(udp(1182, 0, cli, srv, 5000, 6000))
	if len(h.rows) != 1 || h.rows[0].ind != 1 {
		t.Fatalf("rows %s, want flow 1 out", h.rowsString())
	}
	if r != Created || f.FlowInd != 3 {
		t.Errorf("new flow: %v ind %d, want Created ind 3", r, f.FlowInd)
	}
}

func TestPairWaitsForBothTimeouts(t *testing.T) {
	h := newHarness(t, 0)
	a, _ := h.feed(tcp(0, 0, cli, srv, 40000, 80, 0x02))
	b, _ := h.feed(tcp(0, 10, srv, cli, 80, 40000, 0x12))
	a.Timeout = 120 // A closing, B still established
	b.Timeout = 610
	h.feed(udp(300, 0, ip4(9, 9, 9, 9), ip4(8, 8, 8, 8), 1, 2))
	if len(h.rows) != 0 {
		t.Fatalf("pair removed while B active: %s", h.rowsString())
	}
	// A packet reusing the ports joins the old flow.
	f, r := h.feed(tcp(400, 0, cli, srv, 40000, 80, 0x02))
	if r != Existing || f != a {
		t.Fatalf("port reuse: %v, want the old flow", r)
	}
	h.feed(udp(1100, 0, ip4(9, 9, 9, 9), ip4(8, 8, 8, 8), 1, 2))
	if got := h.rowsString(); !strings.HasPrefix(got, "A1:40000") || !strings.Contains(got, "B1:80") {
		t.Errorf("rows %s, want the pair out at 1100 s", got)
	}
}

func TestFlushFollowsLastTouch(t *testing.T) {
	h := newHarness(t, 0)
	h.feed(udp(10, 0, cli, srv, 1111, 2222))        // flow 1
	h.feed(udp(11, 0, cli, srv, 3333, 4444))        // flow 2
	h.feed(udp(5, 0, cli, srv, 1111, 2222))         // flow 1 touched last, with an older timestamp
	h.feed(udp(12, 0, ip4(7, 7, 7, 7), srv, 9, 10)) // flow 3
	h.tab.Flush()
	var got []uint64
	for _, r := range h.rows {
		got = append(got, r.ind)
	}
	if fmt.Sprint(got) != "[2 1 3]" {
		t.Errorf("flush order %v, want [2 1 3] (least recently touched first)", got)
	}
}

func TestLandAttack(t *testing.T) {
	h := newHarness(t, 0)
	f, _ := h.feed(tcp(1, 0, cli, cli, 139, 139, 0x02))
	if f.Status&decode.StatLand == 0 || h.global&decode.StatLand == 0 {
		t.Errorf("status %#x global %#x: want land bit", f.Status, h.global)
	}
	if f.Partner != nil {
		t.Error("a land flow must not be its own partner")
	}
}

func TestAutopilotWritesOldestPair(t *testing.T) {
	h := newHarness(t, 2)
	h.feed(udp(1, 0, cli, srv, 1, 2))
	h.feed(udp(2, 0, cli, srv, 3, 4))
	h.feed(udp(3, 0, cli, srv, 5, 6)) // table full: flow 1 goes
	if len(h.rows) != 1 || h.rows[0].ind != 1 || h.rows[0].status&decode.StatAutopilot == 0 {
		t.Fatalf("rows %s, want flow 1 with bit 42", h.rowsString())
	}
	if h.tab.Stats.Autopilot != 1 || h.tab.Stats.Live != 2 {
		t.Errorf("stats %+v", h.tab.Stats)
	}
	h.tab.Flush()
	if len(h.rows) != 3 {
		t.Errorf("flows written %d, want all 3", len(h.rows))
	}
}

func frag(sec uint64, id uint32, off uint16, mf bool, sp, dp uint16) *decode.Packet {
	p := udp(sec, 0, cli, srv, sp, dp)
	p.IPID, p.FragOff, p.MoreFrags = id, off, mf
	return p
}

func TestIPv4FragmentsJoinFirstFragmentFlow(t *testing.T) {
	h := newHarness(t, 0)
	f, _ := h.feed(frag(1, 7, 0, true, 1000, 2000))
	if f.Status&(decode.StatFrag|decode.StatFragPending) != decode.StatFrag|decode.StatFragPending {
		t.Fatalf("first fragment status %#x", f.Status)
	}
	g, r := h.feed(frag(1, 7, 185, true, 0, 0))
	if r != ViaFragment || g != f {
		t.Fatalf("middle fragment: %v, want ViaFragment on the first flow", r)
	}
	g, r = h.feed(frag(1, 7, 370, false, 0, 0))
	if r != ViaFragment || g != f || f.Status&decode.StatFragPending != 0 {
		t.Fatalf("last fragment: %v status %#x, want pending cleared", r, f.Status)
	}
	if h.tab.Stats.Created != 1 {
		t.Errorf("flows created %d, want 1", h.tab.Stats.Created)
	}
	// A fragment whose datagram is unknown opens a headless flow.
	hf, r := h.feed(frag(2, 99, 185, false, 0, 0))
	want := decode.StatFrag | decode.StatFragMissing | decode.StatFragPending
	if r != Created || hf.Status&want != want || hf.Key.SrcPort != 0 {
		t.Errorf("headless: %v status %#x", r, hf.Status)
	}
	if h.global&(decode.StatFrag|decode.StatFragMissing) != decode.StatFrag|decode.StatFragMissing {
		t.Errorf("global %#x lacks bits 36/38", h.global)
	}
}

func TestIPv6LaterFragmentNeverFound(t *testing.T) {
	h := newHarness(t, 0)
	first := frag(1, 5, 0, true, 1000, 2000)
	first.Kind = decode.KindIPv6
	first.HasFragHdr = true
	f, _ := h.feed(first)
	later := frag(1, 5, 181, false, 0, 0)
	later.Kind = decode.KindIPv6
	later.HasFragHdr = true
	g, r := h.feed(later)
	if r != Created || g == f || g.Status&decode.StatFragMissing == 0 {
		t.Errorf("IPv6 later fragment: %v (same flow %v) status %#x, want a headless flow", r, g == f, g.Status)
	}
	// The headless flow took over the first fragment's pending entry.
	if f.Status&decode.StatFragPending != 0 {
		t.Errorf("first-fragment flow still pending: %#x", f.Status)
	}
}

func TestPendingFlowGetsErrorOnUnfragmentedPacket(t *testing.T) {
	h := newHarness(t, 0)
	f, _ := h.feed(frag(1, 7, 0, true, 1000, 2000))
	h.feed(udp(1, 5, cli, srv, 1000, 2000))
	if f.Status&decode.StatFragError == 0 {
		t.Errorf("status %#x, want bit 37", f.Status)
	}
	h.tab.Flush()
	if h.global&decode.StatFragPending == 0 {
		t.Errorf("flow removed while pending must set global bit 39")
	}
}

func TestDuplicateIPIDFromThirdPacket(t *testing.T) {
	h := newHarness(t, 0)
	var f *Flow
	for i := 0; i < 3; i++ {
		p := udp(1, uint32(i), cli, srv, 1, 2)
		p.IPID = 1
		f, _ = h.feed(p)
		if got := f.Status&decode.StatDupIPID != 0; got != (i == 2) {
			t.Errorf("packet %d: dup bit %v", i+1, got)
		}
	}
}

func TestL2FlowsPairByMAC(t *testing.T) {
	h := newHarness(t, 0)
	a := &decode.Packet{TsSec: 1, Kind: decode.KindL2, EthType: 0x0806,
		SrcMAC: [6]byte{2, 0, 0, 0, 0, 1}, DstMAC: [6]byte{2, 0, 0, 0, 0, 2}}
	b := &decode.Packet{TsSec: 2, Kind: decode.KindL2, EthType: 0x0806,
		SrcMAC: [6]byte{2, 0, 0, 0, 0, 2}, DstMAC: [6]byte{2, 0, 0, 0, 0, 1}, SrcPort: 80}
	fa, _ := h.feed(a)
	fb, _ := h.feed(b)
	if fa.Partner != fb || fb.Inverted() == fa.Inverted() || fa.Inverted() {
		t.Errorf("L2 pair: partner %v, inverted %v/%v", fa.Partner == fb, fa.Inverted(), fb.Inverted())
	}
	if fa.Status&decode.StatL2Flow == 0 {
		t.Errorf("status %#x lacks bit 2", fa.Status)
	}
}

func TestPacketPathNoAllocs(t *testing.T) {
	h := newHarness(t, 0)
	p := udp(1, 0, cli, srv, 1, 2)
	h.feed(p)
	n := testing.AllocsPerRun(1000, func() {
		p.TsNsec++
		h.feed(p)
	})
	if n != 0 {
		t.Errorf("allocations per packet: %v", n)
	}
}

// TestFlowRecordHasNoPadding keeps the per-flow record dense, like the
// plugins' records.
func TestFlowRecordHasNoPadding(t *testing.T) { ptest.Dense(t, Flow{}) }

// TestOutputAhead: in a run of flows that time out together, and in the
// final flush, the table announces the next flow it will look at (a pair
// by one of its flows) before it outputs the current one, past the
// timeout walks' sentinels; never a list end or a sentinel.
func TestOutputAhead(t *testing.T) {
	h := newHarness(t, 0)
	var events []string
	h.tab.OutputAhead(func(f *Flow) {
		if h.tab.isSentinel(f) || f == &h.tab.head || f == &h.tab.tail {
			t.Fatalf("announced a list element that is no flow")
		}
		events = append(events, fmt.Sprintf("ahead %d", f.FlowInd))
	})
	out := h.tab.out
	h.tab.out = func(f *Flow, dir byte) {
		events = append(events, fmt.Sprintf("out %d%c", f.FlowInd, dir))
		out(f, dir)
	}
	// Flows 1-3 at 10 s (flow 2 a pair), flow 4 at 150 s; at 200 s the
	// first three have been idle past the 182 s timeout, flow 4 not: it
	// is announced, checked, and the walk stops there.
	h.feed(udp(10, 0, cli, srv, 1, 2))
	h.feed(udp(10, 1, cli, srv, 3, 4))
	h.feed(udp(10, 2, srv, cli, 4, 3))
	h.feed(udp(10, 3, cli, srv, 5, 6))
	h.feed(udp(150, 0, cli, srv, 7, 8))
	h.feed(udp(200, 0, ip4(7, 7, 7, 7), srv, 9, 10)) // flow 5
	got := strings.Join(events, ", ")
	want := "ahead 2, out 1A, ahead 3, out 2A, out 2B, ahead 4, out 3A"
	if got != want {
		t.Errorf("timeout walk: %s, want %s", got, want)
	}
	events = events[:0]
	h.tab.Flush()
	got = strings.Join(events, ", ")
	if want := "ahead 5, out 4A, out 5A"; got != want {
		t.Errorf("flush: %s, want %s", got, want)
	}
}
