package basicstats

import (
	"bytes"
	"strings"
	"testing"

	"flowsift/internal/decode"
	"flowsift/internal/flow"
	"flowsift/internal/plugin"
	"flowsift/internal/plugins/ptest"
	"flowsift/internal/report"
	"flowsift/internal/subnet"
)

type pk struct {
	sec  uint64
	nsec uint32
	pl   uint16
}

// run feeds packets to a flow the way the core does and returns it.
func run(bs *Plugin, f *flow.Flow, pkts []pk) {
	for i, x := range pkts {
		p := &decode.Packet{TsSec: x.sec, TsNsec: x.nsec, PktLen: x.pl}
		if i == 0 {
			f.Start(x.sec, x.nsec)
			bs.NewFlow(f, p)
		} else {
			f.Arrive(x.sec, x.nsec)
		}
		bs.Packet(f, p, nil)
	}
}

func row(bs *Plugin, f *flow.Flow) string {
	r := &ptest.Row{}
	bs.FlowOutput(f, r)
	return r.String()
}

// TestClientFlow replays the first three packets of flow 3 A of golden
// 01_clean_http_ipv4. Expected values were computed independently with a
// float32 emulation (Python struct round-trips) of basicStats.md §1.
func TestClientFlow(t *testing.T) {
	a := []pk{{1795662004, 1078000, 0}, {1795662004, 3577000, 0}, {1795662004, 3718000, 85}}
	bs := New(&plugin.Env{})
	f := &flow.Flow{Slot: 0, IPVer: 4}
	run(bs, f, a)
	// IATs 0, 0.002499, 0.000141; avgIAT rounds to 0.0008799999 in
	// float32; varPl (85²−0)/3 → std 49.07477; duration 0.00264 s.
	want := "3\t0\t0\t85\t0\t0\t85\t28.33333\t49.07477\t0\t0.002499\t0.0008799999\t0.001578372\t1136.364\t32196.97\t1\t1"
	if got := row(bs, f); got != want {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
}

func TestSinglePacketAndInvertedLone(t *testing.T) {
	bs := New(&plugin.Env{})
	f := &flow.Flow{Slot: 0, IPVer: 4}
	run(bs, f, []pk{{100, 0, 35}})
	if got := row(bs, f); got != "1\t0\t0\t35\t0\t35\t35\t35\t0\t0\t0\t0\t0\t0\t0\t1\t1" {
		t.Errorf("single packet %q", got)
	}
	g := &flow.Flow{Slot: 1, IPVer: 4, Status: decode.StatInverted}
	run(bs, g, []pk{{100, 0, 0}})
	if got := row(bs, g); !strings.HasSuffix(got, "\t-1\t0") {
		t.Errorf("lone inverted %q", got)
	}
}

func TestPairAsymmetry(t *testing.T) {
	bs := New(&plugin.Env{})
	a := &flow.Flow{Slot: 0, IPVer: 4}
	b := &flow.Flow{Slot: 1, IPVer: 4, Status: decode.StatInverted}
	a.Partner, b.Partner = b, a
	run(bs, a, []pk{{10, 0, 10}, {11, 0, 20}, {12, 0, 30}})
	run(bs, b, []pk{{10, 500000000, 100}})
	ra := strings.Split(row(bs, a), "\t")
	rb := strings.Split(row(bs, b), "\t")
	// pktAsm (3−1)/4 = 0.5, bytAsm (60−100)/160 = −0.25; B: −0.5, 0.25
	// (a B with partner keeps dir +1).
	if ra[1] != "1" || ra[4] != "100" || ra[15] != "0.5" || ra[16] != "-0.25" || rb[15] != "-0.5" || rb[16] != "0.25" {
		t.Errorf("A %q\nB %q", ra, rb)
	}
	// pktps 3/2 s, bytps 60/2 s; the B flow has duration 0 → 0.
	if ra[13] != "1.5" || ra[14] != "30" || rb[13] != "0" || rb[14] != "0" {
		t.Errorf("rates A %q %q B %q %q", ra[13], ra[14], rb[13], rb[14])
	}
}

func TestReportLines(t *testing.T) {
	env := &plugin.Env{Packets: 44, ABytes: 1563, BBytes: 26173, Subnets: subnet.Builtin()}
	bs := New(env)
	l2 := &flow.Flow{Slot: 0}
	p := &decode.Packet{TsSec: 1, PktLen: 28, SrcMAC: [6]byte{2, 0, 0, 9, 0, 1}}
	bs.NewFlow(l2, p)
	bs.Packet(l2, p, nil)
	row(bs, l2)
	a := &flow.Flow{Slot: 1, IPVer: 4, Key: flow.Key{SrcIP: [16]byte{10, 9, 0, 1}}}
	b := &flow.Flow{Slot: 2, IPVer: 4, Key: flow.Key{SrcIP: [16]byte{10, 9, 0, 2}}, Status: decode.StatInverted}
	a.Partner, b.Partner = b, a
	var ap, bp []pk
	for i := 0; i < 21; i++ {
		ap = append(ap, pk{100, uint32(i * 1000), 0})
		bp = append(bp, pk{100, uint32(i * 1000), 1180})
	}
	ap[20].pl = 85
	run(bs, a, ap)
	run(bs, b, bp)
	// One US talker to check the country suffix.
	c := &flow.Flow{Slot: 3, IPVer: 4, Key: flow.Key{SrcIP: [16]byte{8, 8, 8, 8}}, SrcSubnet: 0}
	run(bs, c, []pk{{100, 0, 1}})
	row(bs, a)
	row(bs, b)
	row(bs, c)
	var out bytes.Buffer
	bs.Report(&report.Report{W: &out, Colour: true})
	// bytps of B: 24780 / 20 µs = 1.239e9 → ×8 in float32.
	want := "\x1b[1mbasicStats:\x1b[0m Flow max(pktload): 1180 (1.18 K)\n" +
		"\x1b[1mbasicStats:\x1b[0m Flow max(b/s), pkts: 9912000512 (9.91 Gb/s), 21\n" +
		"\x1b[1mbasicStats:\x1b[0m Biggest L2 flow talker: 02:00:00:09:00:01: 1 [2.27%] packets\n" +
		"\x1b[1mbasicStats:\x1b[0m Biggest L2 flow talker: 02:00:00:09:00:01: 28 [0.10%] bytes\n" +
		"\x1b[1mbasicStats:\x1b[0m Biggest L3 flow talker: 10.9.0.1: 21 [47.73%] packets\n" +
		"\x1b[1mbasicStats:\x1b[0m Biggest L3 flow talker: 10.9.0.2: 24780 (24.78 K) [89.34%] bytes\n"
	if out.String() != want {
		t.Errorf("report\n got %q\nwant %q", out.String(), want)
	}
}

func TestReportNoBytes(t *testing.T) {
	env := &plugin.Env{Packets: 2}
	bs := New(env)
	f := &flow.Flow{Slot: 0, IPVer: 4, Key: flow.Key{SrcIP: [16]byte{1, 2, 3, 4}}}
	run(bs, f, []pk{{5, 0, 0}, {5, 1, 0}})
	row(bs, f)
	var out bytes.Buffer
	bs.Report(&report.Report{W: &out, Colour: true})
	want := "\x1b[1mbasicStats:\x1b[0m Flow max(pktload): 0\n" +
		"\x1b[1mbasicStats:\x1b[0m Flow max(b/s), pkts: 0, 0\n" +
		"\x1b[1mbasicStats:\x1b[0m Biggest L3 flow talker: 1.2.3.4: 2 [100.00%] packets\n" +
		"\x1b[1mbasicStats:\x1b[0m Biggest L3 flow talker: : 0 [0.00%] bytes\n"
	if out.String() != want {
		t.Errorf("report\n got %q\nwant %q", out.String(), want)
	}
}

func TestMaxBytpsFloat32Multiply(t *testing.T) {
	// basicStats.md §4: bytps 189.5 → 1516, 0.4 → 3 (float32 multiply,
	// then truncation).
	for _, c := range []struct {
		v    float32
		want uint64
	}{{189.5, 1516}, {0.4, 3}, {1666666.6, 13333333}} {
		bs := New(&plugin.Env{})
		bs.maxBytps = c.v
		var out bytes.Buffer
		bs.Report(&report.Report{W: &out, Colour: true})
		line := strings.Split(out.String(), "\n")[1]
		if !strings.Contains(line, "pkts: "+u(c.want)+" ") && !strings.Contains(line, "pkts: "+u(c.want)+",") {
			t.Errorf("%v: %q", c.v, line)
		}
	}
}

func TestPacketNoAlloc(t *testing.T) {
	bs := New(&plugin.Env{})
	f := &flow.Flow{Slot: 0}
	p := &decode.Packet{TsSec: 1, PktLen: 5}
	bs.NewFlow(f, p)
	if n := testing.AllocsPerRun(100, func() { bs.Packet(f, p, nil) }); n != 0 {
		t.Errorf("Packet allocates %v", n)
	}
}
