package basicflow

import (
	"strings"
	"testing"

	"flowsift/internal/decode"
	"flowsift/internal/flow"
	"flowsift/internal/plugin"
	"flowsift/internal/plugins/ptest"
	"flowsift/internal/subnet"
)

func ipv4Flow(slot int32) *flow.Flow {
	f := &flow.Flow{Slot: slot, IPVer: 4, EthType: 0x0800, Status: decode.StatIPv4Flow}
	f.Key = flow.Key{SrcIP: [16]byte{192, 168, 1, 105}, DstIP: [16]byte{143, 166, 11, 10},
		SrcPort: 49330, DstPort: 64334, Proto: 6, L3Type: 0x0800}
	return f
}

func pkt(sec uint64, nsec uint32, desc string, hdrs uint16) *decode.Packet {
	p := &decode.Packet{TsSec: sec, TsNsec: nsec, Kind: decode.KindIPv4, HasMAC: true,
		SrcMAC: [6]byte{0, 8, 0x74, 0x38, 1, 0xb4}, DstMAC: [6]byte{0, 0x19, 0xe3, 0xe7, 0x5d, 0x23},
		EthType: 0x0800, NumHdrs: hdrs, SrcPort: 49330, DstPort: 64334, Proto: 6}
	p.SetDesc(desc)
	return p
}

// feed mimics the core: packet times, status OR, then the plugin.
func feed(bf *Plugin, f *flow.Flow, p *decode.Packet, packetMode bool) string {
	if f.FirstSec == 0 && f.FirstNsec == 0 {
		f.Start(p.TsSec, p.TsNsec)
		bf.NewFlow(f, p)
	} else {
		f.Arrive(p.TsSec, p.TsNsec)
	}
	f.Status |= p.Status
	var row *ptest.Row
	if packetMode {
		row = &ptest.Row{}
		bf.Packet(f, p, row)
	} else {
		bf.Packet(f, p, nil)
	}
	if row == nil {
		return ""
	}
	return row.String()
}

func flowRow(bf *Plugin, f *flow.Flow) string {
	r := &ptest.Row{}
	bf.FlowOutput(f, r)
	return r.String()
}

func TestTutorialRow(t *testing.T) {
	env := &plugin.Env{Subnets: subnet.Builtin()}
	bf := New(env)
	f := ipv4Flow(0)
	feed(bf, f, pkt(1258594163, 408285000, "eth:ipv4:tcp", 3), false)
	feed(bf, f, pkt(1258594164, 100000000, "eth:ipv4:tcp", 3), false)
	want := "0x0000000000004000\t1258594163.408285000\t1258594164.100000000\t0.691715000\t1\t3\teth:ipv4:tcp\t" +
		"00:08:74:38:01:b4\t00:19:e3:e7:5d:23\t0x0800\t\t192.168.1.105\t07\t\"Private network\"\t49330\t" +
		"143.166.11.10\t-\t\"-\"\t64334\t6"
	if got := flowRow(bf, f); got != want {
		t.Errorf("flow row\n got %q\nwant %q", got, want)
	}
	if n := len(flowCols); n != 20 {
		t.Errorf("%d flow columns", n)
	}
}

func TestHeaderDescriptions(t *testing.T) {
	bf := New(&plugin.Env{})
	f := ipv4Flow(3)
	descs := []struct {
		d string
		n uint16
	}{{"eth:ipv4:tcp", 3}, {"eth:vlan:ipv4:tcp", 4}, {"eth:ipv4:tcp", 3}, {"eth:vlan{2}:ipv4:tcp", 5},
		{"eth:vlan:ipv4:tcp", 9}, {"eth:ipv4:udp", 3}}
	for i, d := range descs {
		feed(bf, f, pkt(100, uint32(i), d.d, d.n), false)
	}
	if f.Status&decode.StatDescOverrun != 0 {
		t.Fatal("bit 48 set with 4 descriptions")
	}
	got := strings.Split(flowRow(bf, f), "\t")
	if got[4] != "4" || got[5] != "3;9;5;3" || got[6] != "eth:ipv4:tcp;eth:vlan:ipv4:tcp;eth:vlan{2}:ipv4:tcp;eth:ipv4:udp" {
		t.Errorf("descs %q %q %q", got[4], got[5], got[6])
	}
	// A fifth flow-level entry is impossible: any further packet, even a
	// known description, sets bit 48 on the flow and is not compared.
	feed(bf, f, pkt(100, 50, "eth:ipv4:tcp", 7), false)
	if f.Status&decode.StatDescOverrun == 0 {
		t.Error("bit 48 not set after 4 descriptions")
	}
	got = strings.Split(flowRow(bf, f), "\t")
	if got[5] != "3;9;5;3" {
		t.Errorf("known description updated after overrun: %q", got[5])
	}
}

func TestMACsAndVLANQuirk(t *testing.T) {
	bf := New(&plugin.Env{})
	f := ipv4Flow(1)
	p := pkt(5, 0, "eth:vlan{2}:ipv4:tcp", 5)
	p.NumVLAN = 2
	p.NumVLANTCI = 2
	p.VLANTCI = [3]uint16{5<<13 | 100, 200, 0} // PCP 5, VID 100 → 41060
	for i := 0; i < 5; i++ {
		p.SrcMAC[5] = byte(i)
		feed(bf, f, p, false)
	}
	// Later packets never change the recorded VLANs.
	q := pkt(6, 0, "eth:ipv4:tcp", 3)
	q.SrcMAC[5] = 1
	feed(bf, f, q, false)
	got := strings.Split(flowRow(bf, f), "\t")
	if got[7] != "00:08:74:38:01:00;00:08:74:38:01:01;00:08:74:38:01:02" {
		t.Errorf("srcMac %q", got[7])
	}
	if got[8] != "00:19:e3:e7:5d:23" {
		t.Errorf("dstMac %q", got[8])
	}
	if got[10] != "41060;200" {
		t.Errorf("vlanID %q", got[10])
	}

	// No-Ethernet flows collect no MACs.
	g := ipv4Flow(2)
	g.Status |= decode.StatNoEthernet
	feed(bf, g, pkt(5, 0, "ipv4:tcp", 2), false)
	got = strings.Split(flowRow(bf, g), "\t")
	if got[7] != "" || got[8] != "" {
		t.Errorf("MACs on a no-Ethernet flow: %q %q", got[7], got[8])
	}
}

func TestPacketColumns(t *testing.T) {
	env := &plugin.Env{PacketMode: true, Subnets: subnet.Builtin()}
	bf := New(env)
	a := ipv4Flow(0)
	b := ipv4Flow(1)
	b.Key = a.Key.Reverse()
	b.Status |= decode.StatInverted

	l1 := feed(bf, a, pkt(1795662004, 1078000, "eth:ipv4:tcp", 3), true)
	want := "0x0000000000004000\t1795662004.001078000\t0.000000000\t0.000000000\t0.000000000\t3\teth:ipv4:tcp\t\t" +
		"00:08:74:38:01:b4\t00:19:e3:e7:5d:23\t0x0800\t192.168.1.105\t07\tPrivate network\t49330\t143.166.11.10\t-\t-\t64334\t6"
	if l1 != want {
		t.Errorf("line 1\n got %q\nwant %q", l1, want)
	}
	pb := pkt(1795662004, 79820000, "eth:ipv4:tcp", 3)
	pb.SrcPort, pb.DstPort = 64334, 49330
	a.Partner, b.Partner = b, a // the reverse flow appears
	l2 := strings.Split(feed(bf, b, pb, true), "\t")
	// pktTrip: float32 nanosecond operands: 79820000 − 1078000 = 78742000
	// is exact, so take one whose float32 rounding shows.
	if l2[2] != "0.000000000" || l2[3] != "0.078742000" || l2[14] != "64334" {
		t.Errorf("line 2 %q", l2)
	}
	pc := pkt(1795662005, 123456789, "eth:ipv4:tcp", 3)
	l3 := strings.Split(feed(bf, a, pc, true), "\t")
	// IAT: 1 s + (123456789 − 1078000)/1e9; trip: float32(123456789) =
	// 123456792, float32(79820000) = 79820000 → 43636792.
	if l3[2] != "1.122378789" || l3[3] != "1.043636792" || l3[4] != "1.122378789" {
		t.Errorf("line 3 %q", l3)
	}

	// Timestamp jump (same second, nanoseconds back) sets bit 51 in
	// packet mode, on the flow and run-wide.
	l4 := strings.Split(feed(bf, a, pkt(1795662005, 100000000, "eth:ipv4:tcp", 3), true), "\t")
	if l4[2] != "-0.023456789" || l4[0] != "0x0008000000004000" || env.Status&decode.StatTimeJump == 0 {
		t.Errorf("jump %q env %x", l4[:3], env.Status)
	}
}

func TestTimeJumpOnlyInPacketMode(t *testing.T) {
	env := &plugin.Env{}
	bf := New(env)
	f := ipv4Flow(0)
	feed(bf, f, pkt(10, 500, "eth:ipv4:tcp", 3), false)
	feed(bf, f, pkt(10, 400, "eth:ipv4:tcp", 3), false)
	if f.Status&decode.StatTimeJump != 0 || env.Status != 0 {
		t.Error("bit 51 set without -s")
	}
}

func TestL2PacketAndFlow(t *testing.T) {
	bf := New(&plugin.Env{PacketMode: true, Subnets: subnet.Builtin()})
	f := &flow.Flow{Slot: 0, EthType: 0x0806, Status: decode.StatL2Flow | decode.StatARP}
	f.Key = flow.Key{L2: true, L3Type: 0x0806}
	p := pkt(1795662003, 998326000, "eth:arp", 2)
	p.Kind = decode.KindL2
	p.EthType = 0x0806
	p.Proto = 0
	line := feed(bf, f, p, true)
	want := "0x0000000000000044\t1795662003.998326000\t0.000000000\t0.000000000\t0.000000000\t2\teth:arp\t\t" +
		"00:08:74:38:01:b4\t00:19:e3:e7:5d:23\t0x0806\t\t\t\t\t\t\t\t\t"
	if line != want {
		t.Errorf("L2 line\n got %q\nwant %q", line, want)
	}
	got := strings.Split(flowRow(bf, f), "\t")
	if strings.Join(got[11:], "|") != `-|-|"-"|0|-|-|"-"|0|0` {
		t.Errorf("L2 flow IP columns %q", got[11:])
	}
}

func TestPacketNoAlloc(t *testing.T) {
	bf := New(&plugin.Env{Subnets: subnet.Builtin()})
	f := ipv4Flow(0)
	p := pkt(1, 0, "eth:ipv4:tcp", 3)
	bf.NewFlow(f, p)
	if n := testing.AllocsPerRun(100, func() { bf.Packet(f, p, nil) }); n != 0 {
		t.Errorf("Packet allocates %v", n)
	}
}

// TestExtraRecordsReused covers the pool of extra records (descriptions
// and MACs after the first): a slot taken by a new flow gives its extra
// record back, and the next flow that needs one gets it cleared, while
// other flows keep theirs.
func TestExtraRecordsReused(t *testing.T) {
	bf := New(&plugin.Env{})
	mac := func(p *decode.Packet, src, dst byte) *decode.Packet {
		p.SrcMAC[5], p.DstMAC[5] = src, dst
		return p
	}
	a, b := ipv4Flow(0), ipv4Flow(1)
	feed(bf, a, mac(pkt(1, 0, "eth:ipv4:tcp", 3), 1, 1), false)
	feed(bf, a, mac(pkt(1, 1, "eth:vlan:ipv4:tcp", 4), 2, 1), false)
	feed(bf, a, mac(pkt(1, 2, "eth:ipv4:tcp", 3), 3, 2), false)
	feed(bf, b, mac(pkt(1, 3, "eth:ipv4:udp", 3), 7, 7), false)
	feed(bf, b, mac(pkt(1, 4, "eth:ipv4:udp", 3), 8, 7), false)

	// A new flow in a's slot: nothing of a's extra record shows.
	c := ipv4Flow(0)
	feed(bf, c, mac(pkt(2, 0, "eth:ipv4:tcp", 3), 9, 9), false)
	got := strings.Split(flowRow(bf, c), "\t")
	if got[4] != "1" || got[6] != "eth:ipv4:tcp" || got[7] != "00:08:74:38:01:09" || got[8] != "00:19:e3:e7:5d:09" {
		t.Errorf("new flow in a reused slot: %q %q %q %q", got[4], got[6], got[7], got[8])
	}
	// It takes a's extra record back, cleared.
	feed(bf, c, mac(pkt(2, 1, "eth:ipv4:udp", 3), 10, 9), false)
	got = strings.Split(flowRow(bf, c), "\t")
	if got[4] != "2" || got[5] != "3;3" || got[6] != "eth:ipv4:tcp;eth:ipv4:udp" ||
		got[7] != "00:08:74:38:01:09;00:08:74:38:01:0a" || got[8] != "00:19:e3:e7:5d:09" {
		t.Errorf("reused extra record: %q %q %q %q %q", got[4], got[5], got[6], got[7], got[8])
	}
	got = strings.Split(flowRow(bf, b), "\t")
	if got[4] != "1" || got[7] != "00:08:74:38:01:07;00:08:74:38:01:08" || got[8] != "00:19:e3:e7:5d:07" {
		t.Errorf("other flow's extra record: %q %q %q", got[4], got[7], got[8])
	}
	if n := bf.extras.Made(); n != 2 {
		t.Errorf("%d extra records made, want 2 (one reused)", n)
	}
}
