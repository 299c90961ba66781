package tcpflags

import (
	"strings"
	"testing"

	"flowsift/internal/plugins/ptest"
	"flowsift/internal/report"
)

func ts(val, ecr uint32) []byte {
	return []byte{8, 10, byte(val >> 24), byte(val >> 16), byte(val >> 8), byte(val),
		byte(ecr >> 24), byte(ecr >> 16), byte(ecr >> 8), byte(ecr)}
}

func cat(b ...[]byte) []byte {
	var out []byte
	for _, x := range b {
		out = append(out, x...)
	}
	return out
}

var synOpts = func(val, ecr uint32) []byte {
	return cat([]byte{2, 4, 0x05, 0xb4, 4, 2}, ts(val, ecr), []byte{1, 3, 3, 7})
}

// handshake runs SYN, SYN/ACK (with WS), ACK, data, ACK.
func handshake(t *testing.T) *conv {
	c := newConv(t, defaultConfig())
	c.send(seg{t: 0, flags: fSYN, seq: 1000, win: 64240, opts: synOpts(100, 0)})
	c.send(seg{fromB: true, t: 0.01, flags: fSYN | fACK, seq: 5000, ack: 1001, win: 65160, opts: synOpts(200, 100)})
	c.send(seg{t: 0.012, flags: fACK, seq: 1001, ack: 5001, win: 502, opts: cat([]byte{1, 1}, ts(101, 200))})
	c.send(seg{t: 0.013, flags: fACK | fPSH, seq: 1001, ack: 5001, win: 502, opts: cat([]byte{1, 1}, ts(102, 200)), payload: 100})
	c.send(seg{fromB: true, t: 0.023, flags: fACK, seq: 5001, ack: 1101, win: 509, opts: cat([]byte{1, 1}, ts(201, 102))})
	return c
}

func TestHandshakePackets(t *testing.T) {
	c := handshake(t)
	type want struct{ stat, flags, anom, win, ws, seqLen, ackLen, ackFlow, bflgt, cal string }
	wants := []want{
		{"0x0012", "0x0002", "0x0000", "64240", "0", "", "", "", "", ""},
		{"0x0012", "0x0212", "0x0000", "65160", "0", "0", "0", "0", "0", ""},
		{"0x0a13", "0x0010", "0x0000", "64256", "128", "0", "0", "0", "0", ""},
		{"0x0a13", "0x0018", "0x0000", "64256", "128", "0", "0", "0", "100", ""},
		{"0x0213", "0x0010", "0x0000", "65152", "128", "0", "100", "100", "0", ""},
	}
	for i, w := range wants {
		r := c.rows[i]
		expect(t, "tcpFStat", c.pv(r, "tcpFStat"), w.stat)
		expect(t, "tcpFlags", c.pv(r, "tcpFlags"), w.flags)
		expect(t, "tcpAnomaly", c.pv(r, "tcpAnomaly"), w.anom)
		expect(t, "tcpWin", c.pv(r, "tcpWin"), w.win)
		expect(t, "tcpWS", c.pv(r, "tcpWS"), w.ws)
		if w.seqLen != "" {
			expect(t, "seqLen", c.pv(r, "seqLen"), w.seqLen)
			expect(t, "ackLen", c.pv(r, "ackLen"), w.ackLen)
			expect(t, "ackFlowLen", c.pv(r, "ackFlowLen"), w.ackFlow)
			expect(t, "tcpBFlgt", c.pv(r, "tcpBFlgt"), w.bflgt)
		}
		expect(t, "ipFlags", c.pv(r, "ipFlags"), "0x0000")
		expect(t, "l4 checksum", c.pv(r, "l4CalChkSum"), c.pv(r, "l4HdrChkSum"))
		expect(t, "ip checksum", c.pv(r, "ipCalChkSum"), c.pv(r, "ipHdrChkSum"))
	}
	expect(t, "seqDiff", c.pv(c.rows[2], "seqDiff"), "1")
	expect(t, "tcpMSS", c.pv(c.rows[0], "tcpMSS"), "1460")
	expect(t, "tcpTmS", c.pv(c.rows[3], "tcpTmS"), "102")
	expect(t, "tcpOpts", c.pv(c.rows[2], "tcpOpts"), "0x01;0x01;0x08;0x0a;0x00;0x00;0x00;0x65;0x00;0x00;0x00;0xc8")
	expect(t, "tcpOptLen", c.pv(c.rows[2], "tcpOptLen"), "12")
	expect(t, "tcpMLen", c.pv(c.rows[3], "tcpMLen"), "100")
}

func TestHandshakeFlows(t *testing.T) {
	c := handshake(t)
	a := c.flowRow(c.a)
	b := c.flowRow(c.b)
	checks := []struct {
		row       map[string]string
		col, want string
	}{
		{a, "tcpFStat", "0x0a13"},
		{a, "tcpFlags", "0x001a"},
		// 3 packets with SYN: the scan detector labels it, and successful.
		{a, "tcpAnomaly", "0x3000"},
		{b, "tcpAnomaly", "0x2000"},
		{a, "tcpJA4T", "64240_2-4-8-1-31460_7"},
		{b, "tcpJA4T", "65160_2-4-8-1-31460_7"},
		{a, "tcpWS", "128"},
		{a, "tcpOptPktCnt", "3"},
		{a, "tcpOptCnt", "11"},
		{a, "tcpOptions", "0x0000011e"},
		{a, "tcpISeqN", "1000"},
		{a, "tcpPSeqCnt", "2"},
		{a, "tcpPAckCnt", "2"},
		{a, "tcpBFlgtMx", "100"},
		{b, "tcpFlwLssAckRcvdBytes", "100"},
		{a, "tcpInitWinSz", "64240"},
		{a, "tcpMaxWinSz", "64256"},
		{a, "tcpWinSzUpCnt", "1"},
		{a, "tcpWinSzChgDirCnt", "1"},
		{b, "tcpMinWinSz", "65152"},
		{b, "tcpWinSzDwnCnt", "1"},
		{b, "tcpWinSzChgDirCnt", "0"},
		{a, "tcpTmS", "102"},
		{a, "tcpTmER", "200"},
		{a, "tcpEcI", "0.01"},
		{a, "tcpUtm", "1.020000"},
		// borrow of 10^6 on nanoseconds: negative fraction printed as uint32.
		{a, "tcpBtm", "998.4288967319"},
		{a, "tcpSSASAATrip", "0.01"},
		{b, "tcpSSASAATrip", "0.002"},
		{a, "tcpRTTAckTripMin", "0.01"},
		{b, "tcpRTTAckTripMax", "0.003"},
		{a, "tcpRTTSseqAA", "0.012"},
		{b, "tcpRTTAckTripJitAvg", "0.0005773503"},
		{b, "tcpRTTAckJitAvg", "0.0005773503"},
		{a, "ipMindIPID", "0"},
		{a, "ipMaxdIPID", "0"},
		{a, "ipOptCpCl_Num", "0x00_0x00000000"},
	}
	for _, ch := range checks {
		expect(t, ch.col, ch.row[ch.col], ch.want)
	}
	var sb strings.Builder
	c.pl.Report(&report.Report{W: &sb})
	out := sb.String()
	for _, line := range []string{"Aggregated tcpFStat=0x0a13", "Aggregated tcpFlags=0x021a", "Aggregated tcpAnomaly=0x2000",
		"Number of TCP scans attempted, successful: 1, 1 [100.00%]"} {
		if !strings.Contains(out, line) {
			t.Errorf("report lacks %q:\n%s", line, out)
		}
	}
}

func TestNoAllocs(t *testing.T) {
	c := handshake(t)
	p := build(seg{t: 0.05, flags: fACK | fPSH, seq: 1101, ack: 5001, win: 502, opts: cat([]byte{1, 1}, ts(103, 201)), payload: 10})
	var row ptest.Row
	n := testing.AllocsPerRun(100, func() {
		c.pl.Packet(c.a, p, nil)
	})
	if n != 0 {
		t.Errorf("Packet allocates %v per call", n)
	}
	_ = row
}

func TestFixT2Bugs(t *testing.T) {
	cfg := defaultConfig()
	cfg.fix = true
	c := newConv(t, cfg)
	c.send(seg{t: 0, flags: fSYN, seq: 1000, win: 64240, opts: synOpts(100, 0)})
	c.send(seg{fromB: true, t: 0.01, flags: fSYN | fACK, seq: 5000, ack: 1001, win: 65160, opts: synOpts(200, 100)})
	c.send(seg{t: 0.012, flags: fACK, seq: 1001, ack: 5001, win: 502, opts: cat([]byte{1, 1}, ts(101, 200))})
	c.send(seg{t: 0.013, flags: fACK | fPSH, seq: 1001, ack: 5001, win: 502, opts: cat([]byte{1, 1}, ts(102, 200)), payload: 100})
	a := c.flowRow(c.a)
	expect(t, "tcpJA4T", a["tcpJA4T"], "64240_2-4-8-1-3_1460_7")
	// 1000.013 − 1.019999977 s with a nanosecond borrow.
	expect(t, "tcpBtm", a["tcpBtm"], "998.993000023")

	// A later flow without window scaling: no scale leaks into its row.
	c2 := &conv{t: t, pl: c.pl, env: c.env, cols: c.cols}
	c2.send(seg{t: 1, flags: fSYN, seq: 1, win: 1000})
	r := c2.flowRow(c2.a)
	expect(t, "tcpWS", r["tcpWS"], "0")
	expect(t, "tcpJA4T", r["tcpJA4T"], "1000_00_00_00")

	// Default build: the scale of the earlier flow leaks (T2 0.9.3).
	d := newConv(t, defaultConfig())
	d.send(seg{t: 0, flags: fSYN, seq: 1000, win: 64240, opts: synOpts(100, 0)})
	d.send(seg{fromB: true, t: 0.01, flags: fSYN | fACK, seq: 5000, ack: 1001, win: 65160, opts: synOpts(200, 100)})
	d.flowRow(d.a)
	d2 := &conv{t: t, pl: d.pl, env: d.env, cols: d.cols}
	d2.send(seg{t: 1, flags: fSYN, seq: 1, win: 1000})
	r = d2.flowRow(d2.a)
	expect(t, "tcpWS", r["tcpWS"], "1")
	expect(t, "tcpJA4T", r["tcpJA4T"], "1000_00_00_0")
}
