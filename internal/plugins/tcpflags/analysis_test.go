package tcpflags

import (
	"strings"
	"testing"

	"flowsift/internal/decode"
	"flowsift/internal/report"
)

// plainHandshake: SYN, SYN/ACK, ACK without options (A seq 100, B seq 500).
func plainHandshake(t *testing.T, c *conv) {
	c.send(seg{t: 0, flags: fSYN, seq: 100, win: 1000})
	c.send(seg{fromB: true, t: 0.01, flags: fSYN | fACK, seq: 500, ack: 101, win: 2000})
	c.send(seg{t: 0.02, flags: fACK, seq: 101, ack: 501, win: 1000})
}

func TestLossDupAckFastRetransmission(t *testing.T) {
	c := newConv(t, defaultConfig())
	plainHandshake(t, c)
	steps := []struct {
		s    seg
		anom string
	}{
		{seg{t: 0.03, flags: fACK, seq: 101, ack: 501, win: 1000, payload: 10}, "0x0000"},
		{seg{t: 0.04, flags: fACK, seq: 111, ack: 501, win: 1000, payload: 10}, "0x0000"},
		// 121..130 not captured.
		{seg{t: 0.05, flags: fACK, seq: 131, ack: 501, win: 1000, payload: 10}, "0x0200"},
		{seg{fromB: true, t: 0.06, flags: fACK, seq: 501, ack: 121, win: 2000}, "0x0000"},
		{seg{fromB: true, t: 0.07, flags: fACK, seq: 501, ack: 121, win: 2000}, "0x0008"},
		// Retransmission of 121 after the duplicate ACK: out of order + fast.
		{seg{t: 0.08, flags: fACK, seq: 121, ack: 501, win: 1000, payload: 10}, "0x0044"},
		// ACK beyond anything A sent.
		{seg{fromB: true, t: 0.09, flags: fACK, seq: 501, ack: 200, win: 2000}, "0x0100"},
	}
	for i, st := range steps {
		r := c.send(st.s)
		expect(t, "tcpAnomaly step "+string(rune('0'+i)), c.pv(r, "tcpAnomaly"), st.anom)
	}
	expect(t, "seqDiff", c.pv(c.rows[8], "seqDiff"), "-10")
	expect(t, "seqMax", c.pv(c.rows[8], "seqMax"), "141")
	a := c.flowRow(c.a)
	b := c.flowRow(c.b)
	expect(t, "A tcpAnomaly", a["tcpAnomaly"], "0x0244")
	expect(t, "A tcpSeqFaultCnt", a["tcpSeqFaultCnt"], "1")
	expect(t, "A tcpPSeqCnt", a["tcpPSeqCnt"], "3")
	expect(t, "A tcpSeqSntBytes", a["tcpSeqSntBytes"], "30")
	expect(t, "B tcpAnomaly", b["tcpAnomaly"], "0x0108")
	expect(t, "B tcpAckFaultCnt", b["tcpAckFaultCnt"], "2")
	expect(t, "B tcpFlwLssAckRcvdBytes", b["tcpFlwLssAckRcvdBytes"], "99")
	var sb strings.Builder
	c.pl.Report(&report.Report{W: &sb})
	if !strings.Contains(sb.String(), "Number of TCP SYN retries, seq retries: 0, 1\n") {
		t.Errorf("report:\n%s", sb.String())
	}
}

func TestKeepAlive(t *testing.T) {
	c := newConv(t, defaultConfig())
	plainHandshake(t, c)
	r := c.send(seg{t: 60, flags: fACK, seq: 100, ack: 501, win: 1000})
	expect(t, "keep-alive", c.pv(r, "tcpAnomaly"), "0x0010")
	r = c.send(seg{fromB: true, t: 60.01, flags: fACK, seq: 501, ack: 101, win: 2000})
	expect(t, "keep-alive ACK", c.pv(r, "tcpAnomaly"), "0x0020")
}

func TestZeroWindowProbe(t *testing.T) {
	c := newConv(t, defaultConfig())
	plainHandshake(t, c)
	r := c.send(seg{fromB: true, t: 0.03, flags: fACK, seq: 501, ack: 101, win: 0})
	expect(t, "min window + window update", c.pv(r, "tcpFStat"), "0x0131")
	r = c.send(seg{t: 0.5, flags: fACK, seq: 101, ack: 501, win: 1000, payload: 1})
	expect(t, "win 0 probe", c.pv(r, "tcpFStat"), "0x0051")
	r = c.send(seg{fromB: true, t: 0.51, flags: fACK, seq: 501, ack: 101, win: 0})
	expect(t, "win 0 probe ACK", c.pv(r, "tcpFStat"), "0x0191")
	b := c.flowRow(c.b)
	expect(t, "tcpWinSzThRt", b["tcpWinSzThRt"], "0.6666667")
	expect(t, "tcpMinWinSz", b["tcpMinWinSz"], "0")
	var sb strings.Builder
	c.pl.Report(&report.Report{W: &sb})
	if !strings.Contains(sb.String(), "Number WinSz below 1: 2 [33.33%]\n") {
		t.Errorf("report:\n%s", sb.String())
	}
}

func TestSynRetransmissionAndScan(t *testing.T) {
	c := newConv(t, defaultConfig())
	c.send(seg{t: 0, flags: fSYN, seq: 100, win: 1000})
	r := c.send(seg{t: 1, flags: fSYN, seq: 100, win: 1000})
	expect(t, "SYN retransmission", c.pv(r, "tcpAnomaly"), "0x0001")
	r = c.send(seg{t: 1.1, flags: fSYN, seq: 100, win: 1000})
	expect(t, "rapid SYN = scan", c.pv(r, "tcpAnomaly"), "0x1000")
	var sb strings.Builder
	c.pl.Report(&report.Report{W: &sb})
	for _, l := range []string{"Number of TCP scans attempted, successful: 1, 0 [0.00%]",
		"Number of TCP SYN retries, seq retries: 1, 0"} {
		if !strings.Contains(sb.String(), l) {
			t.Errorf("report lacks %q:\n%s", l, sb.String())
		}
	}

	// NULL and Xmas probes.
	n := newConv(t, defaultConfig())
	r = n.send(seg{t: 0, flags: 0, seq: 1, win: 1024})
	expect(t, "NULL tcpFlags", n.pv(r, "tcpFlags"), "0x0800")
	expect(t, "NULL tcpAnomaly", n.pv(r, "tcpAnomaly"), "0x1000")
	x := newConv(t, defaultConfig())
	r = x.send(seg{t: 0, flags: fFIN | fPSH | fURG, seq: 1, win: 1024})
	expect(t, "Xmas tcpFlags", x.pv(r, "tcpFlags"), "0x8029")

	// SYN answered by RST/ACK: attempted and successful scan.
	s := newConv(t, defaultConfig())
	s.send(seg{t: 0, flags: fSYN, seq: 1, win: 1024})
	s.send(seg{fromB: true, t: 0.001, flags: fRST | fACK, seq: 0, ack: 2})
	expect(t, "A tcpAnomaly", s.flowRow(s.a)["tcpAnomaly"], "0x3000")
	expect(t, "B tcpFlags", s.flowRow(s.b)["tcpFlags"], "0x0414")
}

func TestChecksumsAndIPFields(t *testing.T) {
	c := newConv(t, defaultConfig())
	r := c.send(seg{t: 0, flags: fSYN, seq: 1, win: 10, badL4: true, id: 65530, ttl: 64, tos: 0x03, df: true})
	expect(t, "bad L4 ipFlags", c.pv(r, "ipFlags"), "0x0840")
	r = c.send(seg{t: 1, flags: fSYN, seq: 1, win: 10, badL3: true, id: 3, ttl: 60,
		ipOpts: []byte{0x94, 0x04, 0x00, 0x00}})
	expect(t, "bad L3 + ID roll over", c.pv(r, "ipFlags"), "0x0404")
	expect(t, "ipIDDiff", c.pv(r, "ipIDDiff"), "-65527")
	expect(t, "ipOpts", c.pv(r, "ipOpts"), "0x94;0x04;0x00;0x00")
	r = c.send(seg{t: 1, flags: fACK, seq: 2, win: 10, id: 10, ttl: 60})
	expect(t, "inter-distance 0", c.pv(r, "ipFlags"), "0x4000")
	a := c.flowRow(c.a)
	expect(t, "ipMindIPID", a["ipMindIPID"], "7") // −65527 wraps to 9, then 7
	expect(t, "ipMaxdIPID", a["ipMaxdIPID"], "7")
	expect(t, "ipMinTTL", a["ipMinTTL"], "60")
	expect(t, "ipTTLChg", a["ipTTLChg"], "1")
	expect(t, "ipToS", a["ipToS"], "0x03")
	expect(t, "ipOptCnt", a["ipOptCnt"], "1")
	expect(t, "ipOptCpCl_Num", a["ipOptCpCl_Num"], "0x80_0x00100000")

	u := newConv(t, defaultConfig())
	r = u.send(seg{t: 0, proto: protoUDP, payload: 20, udpLenDiff: 4})
	expect(t, "UDP length ipFlags", u.pv(r, "ipFlags"), "0x2000")
	expect(t, "UDP tcpFStat", u.pv(r, "tcpFStat"), "0x0000")
	expect(t, "UDP seq", u.pv(r, "seq"), "")
	u.send(seg{fromB: true, t: 0.005, proto: protoUDP, payload: 20})
	ua := u.flowRow(u.a)
	expect(t, "UDP tcpFStat", ua["tcpFStat"], "0x0001")
	expect(t, "UDP tcpSSASAATrip", ua["tcpSSASAATrip"], "0.005")
	expect(t, "UDP tcpRTTSseqAA", ua["tcpRTTSseqAA"], "0.005")
}

func TestMPTCP(t *testing.T) {
	c := newConv(t, defaultConfig())
	// MP_CAPABLE with flags 0x81, then DSS with flags 0x05 and MP_JOIN.
	capable := []byte{30, 12, 0x00, 0x81, 1, 2, 3, 4, 5, 6, 7, 8}
	r := c.send(seg{t: 0, flags: fSYN, seq: 1, win: 100, opts: capable})
	expect(t, "tcpMPTyp", c.pv(r, "tcpMPTyp"), "0")
	expect(t, "tcpMPF", c.pv(r, "tcpMPF"), "0x81")
	dss := []byte{30, 8, 0x20, 0x05, 0, 0, 0, 0}
	join := []byte{30, 12, 0x11, 0x07, 1, 2, 3, 4, 5, 6, 7, 8}
	r = c.send(seg{t: 0.1, flags: fACK, seq: 2, win: 100, opts: cat(dss, join)})
	expect(t, "tcpMPTyp last", c.pv(r, "tcpMPTyp"), "1")
	expect(t, "tcpMPDSSF", c.pv(r, "tcpMPDSSF"), "0x05")
	expect(t, "tcpMPAID", c.pv(r, "tcpMPAID"), "7")
	expect(t, "tcpFStat", c.pv(r, "tcpFStat"), "0x8011")
	a := c.flowRow(c.a)
	expect(t, "tcpMPTBF", a["tcpMPTBF"], "0x0007")
	expect(t, "tcpMPF", a["tcpMPF"], "0x81")
	expect(t, "tcpOptions", a["tcpOptions"], "0x40000000")
	var sb strings.Builder
	c.pl.Report(&report.Report{W: &sb})
	if !strings.Contains(sb.String(), "Number of MPTCP packets: 3 [150.00%]") {
		t.Errorf("report:\n%s", sb.String())
	}
}

func TestSwitchColumns(t *testing.T) {
	def := New(nil, defaultConfig())
	if n := len(def.FlowColumns()); n != 52 {
		t.Errorf("default flow columns = %d, want 52", n)
	}
	if n := len(def.PacketColumns()); n != 41 {
		t.Errorf("default packet columns = %d, want 41", n)
	}
	c := defaultConfig()
	c.rtt, c.ja4t, c.ipTos, c.flgCnt = false, false, 1, true
	p := New(nil, c)
	names := strings.Join(func() []string {
		var s []string
		for _, col := range p.FlowColumns() {
			s = append(s, col.Name)
		}
		return s
	}(), " ")
	if n := len(p.FlowColumns()); n != 52-7-1+1 {
		t.Errorf("flow columns = %d, want 45", n)
	}
	for _, want := range []string{"ipToSDscp_ecn", "tcpAnomaly tcpCntF_S_R_P_A_U_E_C_FA_SA_RA_N_SF_SFR_RF_X tcpOptPktCnt"} {
		if !strings.Contains(names, want) {
			t.Errorf("flow columns lack %q: %s", want, names)
		}
	}
	if strings.Contains(names, "tcpRTT") || strings.Contains(names, "tcpJA4T") {
		t.Errorf("switched-off columns present: %s", names)
	}
}

func TestTimeJump(t *testing.T) {
	c := newConv(t, defaultConfig())
	c.send(seg{t: 5.5, flags: fSYN, seq: 1, win: 10})
	r := c.send(seg{t: 5.2, flags: fSYN, seq: 1, win: 10})
	expect(t, "dt < 0", c.pv(r, "ipFlags"), "0x8000")
	if c.a.Status&decode.StatTimeJump == 0 || c.env.Status&decode.StatTimeJump == 0 {
		t.Errorf("flowStat bit 51 not set: flow %#x run %#x", c.a.Status, c.env.Status)
	}
	// Unsigned seconds: going back across a second boundary is not negative.
	d := newConv(t, defaultConfig())
	d.send(seg{t: 6.1, flags: fSYN, seq: 1, win: 10})
	r = d.send(seg{t: 5.9, flags: fSYN, seq: 1, win: 10})
	expect(t, "dt wraps", d.pv(r, "ipFlags"), "0x0000")
}
