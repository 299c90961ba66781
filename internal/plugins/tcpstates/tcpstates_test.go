package tcpstates

import (
	"bytes"
	"encoding/binary"
	"testing"

	"flowsift/internal/decode"
	"flowsift/internal/flow"
	"flowsift/internal/plugin"
	"flowsift/internal/plugins/ptest"
	"flowsift/internal/report"
)

const (
	SYN = fSYN
	ACK = fACK
	FIN = fFIN
	RST = fRST
	PSH = 0x08
	URG = 0x20
)

type pair struct {
	ts   *Plugin
	a, b *flow.Flow
	next int32
}

func newPair() *pair {
	return &pair{ts: New(&plugin.Env{PacketMode: true})}
}

func tcp(flags uint8, seq, ack uint32) *decode.Packet {
	d := make([]byte, 20)
	binary.BigEndian.PutUint32(d[4:], seq)
	binary.BigEndian.PutUint32(d[8:], ack)
	d[12] = 5 << 4
	d[13] = flags
	return &decode.Packet{Data: d, Proto: 6, SnapL4Len: 20, L4HdrLen: 20}
}

// send delivers a packet in direction A (fromB false) or B, creating the
// direction's flow on first use like the core, and returns the packet
// file value.
func (x *pair) send(fromB bool, p *decode.Packet) string {
	fp := &x.a
	if fromB {
		fp = &x.b
	}
	if *fp == nil {
		*fp = &flow.Flow{Slot: x.next, IPVer: 4, Timeout: 182, Key: flow.Key{Proto: p.Proto}}
		x.next++
		if fromB && x.a != nil {
			x.b.Partner, x.a.Partner = x.a, x.b
		}
		if !fromB && x.b != nil {
			x.a.Partner, x.b.Partner = x.b, x.a
		}
		x.ts.NewFlow(*fp, p)
	}
	r := &ptest.Row{}
	x.ts.Packet(*fp, p, r)
	return r.String()
}

func (x *pair) out(f *flow.Flow) string {
	r := &ptest.Row{}
	x.ts.FlowOutput(f, r)
	return r.String()
}

func TestCleanHandshakeAndTeardown(t *testing.T) {
	x := newPair()
	steps := []struct {
		fromB      bool
		flags      uint8
		seq, ack   uint32
		ta, tb     float32 // timeouts after the packet (0: flow absent)
		wantPacket string
	}{
		{false, SYN, 100, 0, 120, 0, "0x00"},
		{true, SYN | ACK, 500, 101, 120, 120, "0x00"},
		{false, ACK, 101, 501, 610, 610, "0x00"},
		{false, FIN | ACK, 101, 501, 120, 610, "0x00"},
		{true, ACK, 501, 102, 120, 610, "0x00"}, // pure ACK in ESTABLISHED: not recorded
		{true, FIN | ACK, 501, 102, 120, 120, "0x00"},
		{false, ACK, 102, 502, 10, 10, "0x00"},
	}
	for i, s := range steps {
		if got := x.send(s.fromB, tcp(s.flags, s.seq, s.ack)); got != s.wantPacket {
			t.Errorf("step %d: packet %q", i, got)
		}
		if x.a.Timeout != s.ta || (x.b != nil && x.b.Timeout != s.tb) {
			t.Errorf("step %d: timeouts %v %v", i, x.a.Timeout, x.b)
		}
	}
	if a, b := x.out(x.a), x.out(x.b); a != "0x00" || b != "0x00" {
		t.Errorf("rows %s %s", a, b)
	}
	if x.ts.agg != 0 {
		t.Errorf("aggregate %#x", x.ts.agg)
	}
	// Packets after teardown.
	if got := x.send(true, tcp(ACK, 502, 102)); got != "0x08" {
		t.Errorf("after close %q", got)
	}
}

func TestLoneProbes(t *testing.T) {
	cases := []struct {
		name        string
		flags       uint8
		pkt, row    string
		timeout     float32
		aggAfterRow uint8
	}{
		{"SYN scan", SYN, "0x00", "0x03", 120, 0x03},
		{"NULL", 0, "0x81", "0x83", 610, 0x83}, // EVIL + rule 7
		{"Xmas", FIN | PSH | URG, "0x80", "0x83", 182, 0x83},
		{"lone RST", RST, "0xc1", "0xc3", 0.1, 0xc3},
		{"lone FIN/ACK", FIN | ACK, "0x01", "0x83", 120, 0x83}, // fin_scan → EVIL at output
		{"lone FIN", FIN, "0x80", "0x83", 182, 0x83},
		{"lone SYN/ACK", SYN | ACK, "0x01", "0x03", 610, 0x03},
	}
	for _, c := range cases {
		x := newPair()
		if got := x.send(false, tcp(c.flags, 7, 9)); got != c.pkt {
			t.Errorf("%s: packet %s want %s", c.name, got, c.pkt)
		}
		if x.a.Timeout != c.timeout {
			t.Errorf("%s: timeout %v want %v", c.name, x.a.Timeout, c.timeout)
		}
		if got := x.out(x.a); got != c.row {
			t.Errorf("%s: row %s want %s", c.name, got, c.row)
		}
		if x.ts.agg != c.aggAfterRow {
			t.Errorf("%s: agg %#x", c.name, x.ts.agg)
		}
	}
}

func TestSynSeqNoWrap(t *testing.T) {
	x := newPair()
	x.send(false, tcp(SYN, 0xffffffff, 0))
	x.send(true, tcp(SYN|ACK, 5, 0)) // ack 0 ≠ 0x100000000
	if x.a.Timeout != 610 || x.b.Timeout != 610 {
		t.Errorf("timeouts %v %v", x.a.Timeout, x.b.Timeout)
	}
	if a, b := x.out(x.a), x.out(x.b); a != "0x03" || b != "0x03" {
		t.Errorf("rows %s %s", a, b)
	}
}

func TestNewStateRules(t *testing.T) {
	// Rule 2 with a wrong ack: both ESTABLISHED with MAL_CON_EST.
	x := newPair()
	x.send(false, tcp(SYN, 100, 0))
	x.send(true, tcp(SYN|ACK, 500, 101))
	if got := x.send(false, tcp(ACK, 101, 999)); got != "0x01" || x.b.Timeout != 610 {
		t.Errorf("wrong ack: %s %v", got, x.b.Timeout)
	}

	// Rule 3: RST+ACK answer resets both, only P has RST_TRANS.
	x = newPair()
	x.send(false, tcp(SYN, 100, 0))
	if got := x.send(true, tcp(RST|ACK, 0, 101)); got != "0x40" {
		t.Errorf("RST/ACK packet %s", got)
	}
	if x.a.Timeout != 0.1 || x.b.Timeout != 0.1 {
		t.Errorf("reset timeouts %v %v", x.a.Timeout, x.b.Timeout)
	}
	if got := x.send(false, tcp(ACK, 101, 0)); got != "0x10" {
		t.Errorf("after reset %s", got)
	}
	// Both rows: handshake incomplete (0x01), no teardown (0x02).
	if a, b := x.out(x.a), x.out(x.b); a != "0x13" || b != "0x43" {
		t.Errorf("rows %s %s", a, b)
	}

	// Rule 4 with partner: plain RST.
	x = newPair()
	x.send(false, tcp(SYN, 100, 0))
	if got := x.send(true, tcp(RST, 0, 0)); got != "0x41" {
		t.Errorf("RST with partner %s", got)
	}
	if got := x.out(x.a); got != "0x03" {
		t.Errorf("partner row %s", got)
	}
}

func TestEstablishedRules(t *testing.T) {
	x := newPair()
	x.send(false, tcp(SYN, 100, 0))
	x.send(true, tcp(SYN|ACK, 500, 101))
	x.send(false, tcp(ACK, 101, 501))
	// SYN during ESTABLISHED: both get MAL_FLGS_EST.
	if got := x.send(false, tcp(SYN|ACK, 101, 501)); got != "0x04" {
		t.Errorf("flags est %s", got)
	}
	// RST: P RST_TRANS|MAL_TEARDWN, R MAL_TEARDWN, both RESET.
	if got := x.send(true, tcp(RST|ACK, 501, 101)); got != "0x46" {
		t.Errorf("rst est %s", got)
	}
	if x.a.Timeout != 0.1 || x.b.Timeout != 0.1 {
		t.Errorf("timeouts %v %v", x.a.Timeout, x.b.Timeout)
	}
	if a, b := x.out(x.a), x.out(x.b); a != "0x06" || b != "0x46" {
		t.Errorf("rows %s %s", a, b)
	}
	var out bytes.Buffer
	x.ts.Report(&report.Report{W: &out, Colour: true})
	if out.String() != "\x1b[1mtcpStates:\x1b[0m Aggregated tcpStatesAFlags=0x46\n" {
		t.Errorf("report %q", out.String())
	}
}

func TestFinScanClearedByTeardown(t *testing.T) {
	x := newPair()
	x.send(false, tcp(FIN|ACK, 100, 0))  // no partner: fin_scan
	x.send(true, tcp(FIN|ACK, 500, 101)) // acks A's FIN
	x.send(false, tcp(ACK, 101, 501))    // acks B's FIN → both CLOSED
	if x.a.Timeout != 10 || x.b.Timeout != 10 {
		t.Errorf("timeouts %v %v", x.a.Timeout, x.b.Timeout)
	}
	// B's row first clears A's fin_scan: no EVIL on A.
	if b, a := x.out(x.b), x.out(x.a); a != "0x01" || b != "0x01" {
		t.Errorf("rows A %s B %s", a, b)
	}
}

func TestIgnoredPackets(t *testing.T) {
	x := newPair()
	p := tcp(0, 0, 0)
	p.FragOff = 10
	if got := x.send(false, p); got != "0x00" {
		t.Errorf("later fragment %s", got)
	}
	q := tcp(0, 0, 0)
	q.SnapL4Len = 12
	if got := x.send(false, q); got != "0x00" || x.a.Timeout != 182 {
		t.Errorf("short %s %v", got, x.a.Timeout)
	}
	// UDP flow: anomalies printed, not aggregated.
	y := newPair()
	u := tcp(0, 0, 0)
	u.Proto = 17
	y.send(false, u)
	if got := y.out(y.a); got != "0x00" || y.ts.agg != 0 {
		t.Errorf("udp %s agg %#x", got, y.ts.agg)
	}
	var out bytes.Buffer
	y.ts.Report(&report.Report{W: &out, Colour: true})
	if out.Len() != 0 {
		t.Errorf("report without anomalies: %q", out.String())
	}
}

func TestPacketNoAlloc(t *testing.T) {
	x := newPair()
	x.send(false, tcp(SYN, 1, 0))
	p := tcp(ACK, 2, 0)
	if n := testing.AllocsPerRun(100, func() { x.ts.Packet(x.a, p, nil) }); n != 0 {
		t.Errorf("Packet allocates %v", n)
	}
}
