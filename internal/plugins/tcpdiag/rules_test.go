package tcpdiag_test

import (
	"testing"

	"flowsift/internal/pcapgen"
)

// seg is A's data segment i with explicit IP ID and timestamp.
func seg(i int, id uint16, ts uint32) pkt {
	p := pkt{seq: isnA + 1 + uint32(i*mss), ack: isnB + 1, flags: pcapgen.ACK | pcapgen.PSH, n: mss, id: id}
	if ts != 0 {
		p.ts, p.ecr = ts, 9000
	}
	return p
}

// warm sends n in-order segments, each acknowledged at once (receiver-side
// timing), so that the IP ID counter is known to step by one.
func (c *conn) warm(n int) {
	for i := 0; i < n; i++ {
		c.data(1, i, uint32(i))
		c.ack(0.05, i+1)
	}
}

// hole sends segment 10 and then 12 (11 is missing for now), with the
// receiver's duplicate ACK and SACK.
func (c *conn) hole(idBase uint16, ts uint32) {
	c.now += 1
	c.add(seg(10, idBase, ts))
	c.ack(0.05, 11)
	c.now += 1
	c.add(seg(12, idBase+2, ts+1))
	c.ack(0.05, 11, [2]int{12, 13})
}

func TestReorderedOriginalByIPID(t *testing.T) {
	c := newConn(true, false, 20)
	c.idStride = 1
	c.warm(10)
	base := c.idA
	c.hole(base, 0)
	c.now += 0.5
	c.add(seg(11, base+1, 0)) // sent before 12: the original, late
	c.ack(0.05, 13)
	r := run(t, false, c.pkts)
	r.expect(t, "A", map[string]string{"diagDataSegs": "13", "diagReord": "1", "diagRetx": "0", "diagLost": "0",
		"diagRetxSpur": "0", "diagVantage": "receiver", "diagCapLoss": "0"})
	if got := r.classes[len(r.classes)-2]; got != "reord" {
		t.Errorf("class %q, want reord", got)
	}
}

func TestRetransmissionByIPID(t *testing.T) {
	c := newConn(true, false, 20)
	c.warm(10)
	base := c.idA
	c.hole(base, 0)
	c.now += 22
	c.add(seg(11, base+3, 0)) // sent after 12: a retransmission, the original was lost upstream
	c.ack(0.05, 13)
	r := run(t, false, c.pkts)
	r.expect(t, "A", map[string]string{"diagReord": "0", "diagRetx": "1", "diagLost": "1", "diagLostUp": "1",
		"diagLostDown": "0", "diagRetxSpur": "0", "diagVantage": "receiver"})
	if got := r.classes[len(r.classes)-2]; got != "retx" {
		t.Errorf("class %q, want retx", got)
	}
	// The retransmission came soon enough: the ID says what it was, not the time.
	c2 := newConn(true, false, 20)
	c2.warm(10)
	base = c2.idA
	c2.hole(base, 0)
	c2.now += 0.5
	c2.add(seg(11, base+3, 0))
	c2.ack(0.05, 13)
	run(t, false, c2.pkts).expect(t, "A", map[string]string{"diagRetx": "1", "diagLost": "1", "diagReord": "0"})
}

func TestOrderByTimestamp(t *testing.T) {
	for _, tc := range []struct {
		name            string
		ts              uint32
		reord, retx, lo string
	}{
		{"older TSval: late original", 5009, "1", "0", "0"},
		{"same millisecond: original", 5010, "1", "0", "0"},
		{"newer TSval: retransmission", 5040, "0", "1", "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newConn(true, true, 20)
			c.idStride = 977 // IDs in no usable order: the timestamp decides
			c.warm(10)
			c.now += 1
			c.add(seg(10, c.nextA(), 5010))
			c.ack(0.05, 11)
			c.now += 1
			c.add(seg(12, c.nextA(), 5010))
			c.ack(0.05, 11, [2]int{12, 13})
			c.now += 1
			c.add(seg(11, c.nextA(), tc.ts))
			c.ack(0.05, 13)
			run(t, false, c.pkts).expect(t, "A", map[string]string{"diagReord": tc.reord, "diagRetx": tc.retx, "diagLost": tc.lo})
		})
	}
}

func TestOrderByTimingWithoutKeys(t *testing.T) {
	for _, tc := range []struct {
		name            string
		after           float64
		reord, retx, lo string
	}{
		{"fills the hole within a fraction of the RTT: late original", 2, "1", "0", "0"},
		{"fills it after a round trip: retransmission", 25, "0", "1", "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newConn(true, false, 20)
			c.warm(5)
			c.now += 1
			c.add(seg(10-5, 0, 0))
			c.ack(0.05, 6)
			c.now += 1
			c.add(seg(12-5, 0, 0))
			c.ack(0.05, 6, [2]int{7, 8})
			c.now += tc.after
			c.add(seg(11-5, 0, 0))
			c.ack(0.05, 8)
			run(t, true, c.pkts).expect(t, "A", map[string]string{"diagReord": tc.reord, "diagRetx": tc.retx,
				"diagLost": tc.lo, "diagVantage": "receiver"})
		})
	}
}

// sender side: A's segments 0..4 leave; 2 is retransmitted.
func senderSide(dsack bool, ackAfter float64) []pkt {
	c := newConn(false, false, 20)
	for i := 0; i < 5; i++ {
		c.data(0.5, i, 0)
	}
	c.ack(20, 2)                // 0, 1 arrived
	c.ack(0.5, 2, [2]int{3, 4}) // 3 arrived, 2 missing
	c.ack(0.5, 2, [2]int{3, 5}) // 4 arrived
	c.data(0.5, 2, 0)           // retransmission of 2
	c.now += ackAfter
	p := pkt{fromB: true, seq: isnB + 1, ack: isnA + 1 + 5*mss, flags: pcapgen.ACK}
	if dsack {
		p.sack = [][2]uint32{{isnA + 1 + 2*mss, isnA + 1 + 3*mss}}
	}
	c.add(p)
	return c.pkts
}

func TestDSACKMakesRetransmissionSpurious(t *testing.T) {
	r := run(t, false, senderSide(true, 20))
	r.expect(t, "A", map[string]string{"diagRetx": "1", "diagRetxSpur": "1", "diagLost": "0", "diagVantage": "sender"})
}

func TestLossAfterCapturePoint(t *testing.T) {
	r := run(t, false, senderSide(false, 20))
	r.expect(t, "A", map[string]string{"diagRetx": "1", "diagRetxSpur": "0", "diagLost": "1", "diagLostDown": "1",
		"diagLostUp": "0", "diagVantage": "sender", "diagDup": "0"})
	if got := r.flow["A"]["diagFindings"]; got != "0x0002" {
		t.Errorf("findings %s, want 0x0002 (loss after the capture point)", got)
	}
}

func TestEarlyACKMakesRetransmissionSpurious(t *testing.T) {
	// The ACK covering the retransmitted bytes comes 1 ms after it, where
	// the data-to-ACK delay here is 20 ms: an earlier copy had arrived.
	r := run(t, false, senderSide(false, 1))
	r.expect(t, "A", map[string]string{"diagRetx": "1", "diagRetxSpur": "1", "diagLost": "0"})
}

func TestNetworkDuplicate(t *testing.T) {
	c := newConn(true, false, 20)
	c.warm(10)
	c.now += 1
	c.add(c.pkts[len(c.pkts)-2]) // segment 9 again, identical
	c.pkts[len(c.pkts)-1].at = c.now
	c.ack(0.05, 10, [2]int{9, 10})
	r := run(t, false, c.pkts)
	r.expect(t, "A", map[string]string{"diagDataSegs": "11", "diagDup": "1", "diagRetx": "0", "diagRetxSpur": "0", "diagLost": "0"})
	if got := r.classes[len(r.classes)-2]; got != "dup" {
		t.Errorf("class %q, want dup", got)
	}
}

func TestCaptureLossIsNotNetworkLoss(t *testing.T) {
	c := newConn(true, false, 20)
	c.warm(10)
	c.now += 1
	c.add(seg(10, c.idA, 0))
	c.now += 1
	c.add(seg(12, c.idA+2, 0)) // 11 was received but not captured
	c.idA += 3
	c.ack(0.05, 13)
	r := run(t, false, c.pkts)
	r.expect(t, "A", map[string]string{"diagCapLoss": "1", "diagLost": "0", "diagRetx": "0", "diagReord": "0"})
	if got := r.flow["A"]["diagFindings"]; got != "0x0040" {
		t.Errorf("findings %s, want 0x0040 (capture loss)", got)
	}
}

func TestCEMarks(t *testing.T) {
	c := newConn(true, false, 20)
	c.warm(3)
	c.now += 1
	p := seg(3, c.nextA(), 0)
	p.tos = 3
	c.add(p)
	c.ack(0.05, 4)
	r := run(t, false, c.pkts)
	r.expect(t, "A", map[string]string{"diagCE": "1", "diagLost": "0"})
}

func TestKeepAliveIsNoRetransmission(t *testing.T) {
	c := newConn(true, false, 20)
	c.warm(3)
	c.now += 7000
	c.add(pkt{seq: isnA + 3*mss, ack: isnB + 1, flags: pcapgen.ACK, n: 1, id: c.nextA()})
	c.ack(0.05, 3)
	r := run(t, false, c.pkts)
	r.expect(t, "A", map[string]string{"diagRetx": "0", "diagLost": "0", "diagDataSegs": "4"})
	if got := r.classes[len(r.classes)-2]; got != "keepalive" {
		t.Errorf("class %q, want keepalive", got)
	}
}

func TestLateOriginalAfterRetransmissionMakesItSpurious(t *testing.T) {
	c := newConn(true, false, 20)
	c.warm(10)
	base := c.idA
	c.hole(base, 0)
	c.now += 22
	c.add(seg(11, base+3, 0)) // retransmission fills the hole
	c.ack(0.05, 13)
	c.now += 1
	c.add(seg(11, base+1, 0)) // then the original shows up: only delayed
	c.ack(0.05, 13, [2]int{11, 12})
	r := run(t, false, c.pkts)
	r.expect(t, "A", map[string]string{"diagRetx": "1", "diagRetxSpur": "1", "diagLost": "0", "diagReord": "1", "diagDup": "0"})
}
