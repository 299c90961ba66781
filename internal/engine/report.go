package engine

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"flowsift/internal/decode"
	"flowsift/internal/report"
)

const banner = "Tranalyzer 0.9.3 (Anteater), Cobra"

// dateUTC formats a packet time as "<sec>.<9 digits> sec (<date> GMT)".
func dateUTC(sec uint64, nsec uint32) string {
	t := time.Unix(int64(sec), 0).UTC()
	return fmt.Sprintf("%d.%09d sec (%s GMT)", sec, nsec, t.Format("Mon 02 Jan 2006 15:04:05"))
}

// dateLocal formats the wall clock like Tranalyzer's start-up Date line:
// the sub-second field is the microsecond value padded to 9 digits.
func dateLocal(t time.Time) string {
	return fmt.Sprintf("%d.%09d sec (%s)", t.Unix(), t.Nanosecond()/1000, t.Format("Mon 02 Jan 2006 15:04:05 MST"))
}

// duration formats a (later − earlier) time span (core.md §13.2).
func duration(s1 uint64, n1 uint32, s0 uint64, n0 uint32) string {
	sec := int64(s1) - int64(s0)
	ns := int64(n1) - int64(n0)
	if ns < 0 {
		ns += 1e9
		sec--
	}
	return spanString(sec, ns)
}

func spanString(sec, ns int64) string {
	s := fmt.Sprintf("%d.%09d sec", sec, ns)
	if sec >= 60 {
		var parts []string
		rest := sec
		units := []struct {
			n    int64
			name string
		}{{365 * 86400, "y"}, {86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}}
		for _, u := range units {
			if v := rest / u.n; v > 0 {
				parts = append(parts, strconv.FormatInt(v, 10)+u.name)
				rest -= v * u.n
			}
		}
		s += " (" + strings.Join(parts, " ") + ")"
	}
	return s
}

func elapsed(d time.Duration) string {
	return spanString(int64(d/time.Second), int64(d%time.Second))
}

func nice() int {
	p, err := syscall.Getpriority(syscall.PRIO_PROCESS, 0)
	if err != nil {
		return 0
	}
	return 20 - p // the raw syscall returns 20 - nice
}

func (r *runner) startupReport() {
	rp := r.rep
	rp.Line(report.Equals)
	rp.Linef("%s. PID: %d, Prio: %d, SID: %d", banner, os.Getpid(), nice(), r.sensorID())
	rp.Line(report.Equals)
	rp.Linef("Date: %s", dateLocal(r.start))
	rp.Info("Creating flows for L2, IPv4, IPv6")
	if r.firstFormat == "pcapng" {
		rp.Warn("PCAP-NG, so *percentage completed* in end report might be less than 100%, will be fixed in a later version")
	}
	rp.Line("Active plugins:")
	for i, pl := range r.plugins {
		rp.Linef("    %02d: %s, %s", i+1, pl.Reg.Name, pl.Reg.Version)
	}
	rp.Linef("    %02d: txtSink, 0.9.3", len(r.plugins)+1)
	if r.env.Subnets != nil {
		for _, l := range r.env.Subnets.StartupLines() {
			rp.Info(l)
		}
	}
}

func (r *runner) sensorID() int {
	if r.opts.SensorID != 0 {
		return r.opts.SensorID
	}
	return 666
}

// writeHeaders writes PREFIX_headers.txt (core.md §12.2).
func (r *runner) writeHeaders() error {
	f, err := r.create(r.prefix+"_headers.txt", "headers file")
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Date: %s\n", dateLocal(r.start))
	fmt.Fprintf(&b, "# %s\n", strings.Replace(banner, "),", "),", 1))
	b.WriteString("# Core configuration: L2, IPv4, IPv6\n")
	fmt.Fprintf(&b, "# SensorID: %d\n", r.sensorID())
	fmt.Fprintf(&b, "# PID: %d\n", os.Getpid())
	fmt.Fprintf(&b, "# Priority: %d\n", nice())
	fmt.Fprintf(&b, "# Command line: %s\n", r.opts.CmdLine)
	fmt.Fprintf(&b, "# HW info: %s\n", hwInfo())
	fmt.Fprintf(&b, "# SW info: flowsift %s (%s)\n", Version, runtime.Version())
	b.WriteString("#\n# Plugins loaded:\n")
	for i, pl := range r.plugins {
		fmt.Fprintf(&b, "#   %02d: %s, version %s\n", i+1, pl.Reg.Name, pl.Reg.Version)
	}
	fmt.Fprintf(&b, "#   %02d: txtSink, version 0.9.3\n", len(r.plugins)+1)
	b.WriteString("#\n# Col No.\tType\tName\tDescription\n")
	for i, c := range r.flowColumns() {
		fmt.Fprintf(&b, "%d\t%s\t%s\t%s\n", i+1, c.Type, c.Name, c.Desc)
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return fmt.Errorf("writing headers file: %v", err)
	}
	return f.Close()
}

func hwInfo() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return runtime.GOOS + ";" + runtime.GOARCH
	}
	s := func(a [65]int8) string {
		var sb strings.Builder
		for _, c := range a {
			if c == 0 {
				break
			}
			sb.WriteByte(byte(c))
		}
		return sb.String()
	}
	return strings.Join([]string{s(u.Nodename), s(u.Sysname), s(u.Release), s(u.Version), s(u.Machine)}, ";")
}

func f2(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// finalReport writes the lines of core.md §13.3 from item 6 on.
func (r *runner) finalReport() {
	rp := r.rep
	c := &r.c
	ts := &r.table.Stats
	total := float64(c.PcapBytes)
	if total > 0 {
		pct := 100 * (24*float64(c.NFiles) + float64(c.Bytes) + 16*float64(c.Packets)) / total
		rp.Linef("Percentage completed: %s%%", f2(pct))
	}
	if c.Packets > 0 {
		rp.Linef("Number of processed packets: %d%s", c.Packets, report.Suffix(c.Packets))
	}
	if c.Bytes > 0 {
		rp.Linef("Number of processed bytes: %d%s", c.Bytes, report.Suffix(c.Bytes))
	}
	if c.RawBytes > 0 {
		rp.Linef("Number of raw bytes: %d%s", c.RawBytes, report.Suffix(c.RawBytes))
	}
	if c.PadBytes > 0 {
		rp.Linef("Number of pad bytes: %d%s", c.PadBytes, report.Suffix(c.PadBytes))
	}
	rp.Linef("Number of pcap bytes: %d%s", c.PcapBytes, report.Suffix(uint64(c.PcapBytes)))
	r.liveReport()
	np := float64(c.Packets)
	cnt := func(label string, n uint64, of float64) {
		if n > 0 {
			rp.Linef("%s: %d%s %s", label, n, report.Suffix(n), report.Pct(float64(n), of))
		}
	}
	cnt("Number of L2 packets", c.L2Pkts, np)
	cnt("Number of IPv4 packets", c.IPv4Pkts, np)
	cnt("Number of IPv6 packets", c.IPv6Pkts, np)
	cnt("Number of IPvX packets", c.IPvXPkts, np)
	cnt("Number of packets without flow", c.NoFlowPkts, np)
	ab := float64(c.APkts + c.BPkts)
	abB := float64(c.ABytes + c.BBytes)
	cnt("Number of A packets", c.APkts, ab)
	cnt("Number of B packets", c.BPkts, ab)
	cnt("Number of A bytes", c.ABytes, abB)
	cnt("Number of B bytes", c.BBytes, abB)
	load := func(b, p uint64) float64 {
		if p == 0 {
			return 0
		}
		return float64(b) / float64(p)
	}
	al, bl := load(c.ABytes, c.APkts), load(c.BBytes, c.BPkts)
	rp.Linef("<A packet load>: %s%s", f2(al), report.SuffixF(al))
	rp.Linef("<B packet load>: %s%s", f2(bl), report.SuffixF(bl))
	rp.Line(report.Rule)
	for _, pl := range r.plugins {
		pl.Report(rp)
	}
	rp.Line(report.Rule)
	if c.HdrN > 0 {
		rp.Linef("Headers count: min: %d, max: %d, avg: %s", c.HdrMin, c.HdrMax, f2(float64(c.HdrAvg)))
	}
	ds := &r.dec.Stats
	if ds.MaxVLAN > 0 {
		rp.Linef("Max VLAN header count: %d", ds.MaxVLAN)
	}
	if ds.MaxMPLS > 0 {
		rp.Linef("Max MPLS header count: %d", ds.MaxMPLS)
	}
	nb := float64(c.Bytes)
	cnt("Number of LLC packets", ds.LLC, np)
	cnt("Number of ARP packets", c.ARPPkts, np)
	cnt("Number of RARP packets", c.RARPPkts, np)
	cnt("Number of GRE packets", ds.GRE, np)
	cnt("Number of LAPD packets", ds.LAPD, np)
	cnt("Number of Teredo packets", ds.Teredo, np)
	cnt("Number of AYIYA packets", ds.AYIYA, np)
	cnt("Number of IGMP packets", c.IGMPPkts, np)
	cnt("Number of ICMP packets", c.ICMPPkts, np)
	cnt("Number of ICMPv6 packets", c.ICMPv6Pkts, np)
	cnt("Number of TCP packets", c.TCPPkts, np)
	cnt("Number of TCP bytes", c.TCPBytes, nb)
	cnt("Number of UDP packets", c.UDPPkts, np)
	cnt("Number of UDP bytes", c.UDPBytes, nb)
	if c.SCTPPkts > 0 {
		cnt("Number of SCTP packets", c.SCTPPkts, np)
		cnt("Number of SCTP bytes", c.SCTPBytes, nb)
	}
	cnt("Number of DTLS packets", c.DTLSPkts, np)
	cnt("Number of IPv4 fragmented packets", c.IPv4FragPkts, float64(c.IPv4Pkts))
	cnt("Number of IPv6 fragmented packets", ds.IPv6Frag, float64(c.IPv6Pkts))
	rp.Line(report.Tilde)

	F := ts.Created
	if F > 0 {
		ff := float64(F)
		A, B, C := ts.CreatedA, ts.CreatedB, ts.LoneInvert
		rp.Linef("Number of processed      flows: %d%s", F, report.Suffix(F))
		fl := func(label string, n uint64) {
			if n > 0 {
				rp.Linef("%s: %d%s %s", label, n, report.Suffix(n), report.Pct(float64(n), ff))
			}
		}
		fl("Number of processed L2   flows", ts.CreatedL2)
		fl("Number of processed IPv4 flows", ts.CreatedIPv4)
		fl("Number of processed IPv6 flows", ts.CreatedIPv6)
		fl("Number of processed A    flows", A)
		fl("Number of processed B    flows", B)
		fl("Number of request        flows", A-C)
		fl("Number of reply          flows", B+C)
		rp.Linef("Total   A/B    flow asymmetry: %s", f2((float64(A)-float64(B))/ff))
		rp.Linef("Total req/rply flow asymmetry: %s", f2((float64(A-C)-float64(B+C))/ff))
		v := float64(c.APkts+c.BPkts) / ff
		rp.Linef("Number of processed A+B packets/A+B flows: %s%s", f2(v), report.SuffixF(v))
		if A > 0 {
			v = float64(c.APkts) / float64(A)
			rp.Linef("Number of processed A   packets/A   flows: %s%s", f2(v), report.SuffixF(v))
		}
		if B > 0 {
			v = float64(c.BPkts) / float64(B)
			rp.Linef("Number of processed   B packets/  B flows: %s%s", f2(v), report.SuffixF(v))
		}
	}
	d := 0.0
	if c.HaveFirst {
		d = float64(int64(c.LastSec)-int64(c.FirstSec)) + float64(int64(c.LastNsec)-int64(c.FirstNsec))/1e9
	}
	if d > 0 {
		v := np / d
		rp.Linef("Number of processed total packets/s: %s%s", f2(v), report.SuffixF(v))
		if c.APkts+c.BPkts > 0 {
			v = float64(c.APkts+c.BPkts) / d
			rp.Linef("Number of processed A+B   packets/s: %s%s", f2(v), report.SuffixF(v))
		}
		if c.APkts > 0 {
			v = float64(c.APkts) / d
			rp.Linef("Number of processed A     packets/s: %s%s", f2(v), report.SuffixF(v))
		}
		if c.BPkts > 0 {
			v = float64(c.BPkts) / d
			rp.Linef("Number of processed   B   packets/s: %s%s", f2(v), report.SuffixF(v))
		}
	}
	rp.Line(report.Tilde)
	if d > 0 {
		v := float64(F) / d
		rp.Linef("<Number of processed flows/s>: %s%s", f2(v), report.SuffixF(v))
		bw := float64(c.BandwidthBytes) * 8 / d
		rp.Linef("<Bandwidth>: %.0f b/s%s", bw, report.SuffixUnit(uint64(bw), "b/s"))
		if r.env.Status&(decode.StatL2Snapped|decode.StatL3SnapLen) != 0 {
			bw = float64(c.Bytes) * 8 / d
			rp.Linef("<Snapped bandwidth>: %.0f b/s%s", bw, report.SuffixUnit(uint64(bw), "b/s"))
		}
		bw = float64(c.RawBytes) * 8 / d
		rp.Linef("<Raw bandwidth>: %.0f b/s%s", bw, report.SuffixUnit(uint64(bw), "b/s"))
	}
	capf := float64(r.table.Capacity())
	if ts.MaxLive > 0 {
		rp.Linef("Max number of flows in memory: %d%s %s", ts.MaxLive, report.Suffix(ts.MaxLive), report.Pct(float64(ts.MaxLive), capf))
	}
	if ts.Autopilot > 0 {
		rp.Linef("Number of flows terminated by autopilot: %d%s %s", ts.Autopilot, report.Suffix(ts.Autopilot), report.Pct(float64(ts.Autopilot), float64(F)))
	}
	rp.Linef("Memory usage: %s GB [%s%%]", f2(float64(maxRSS())/1e9), f2(100*float64(maxRSS())/float64(totalMem())))
	rp.Linef("Aggregated flowStat=0x%016x", r.env.Status)
	for _, w := range statusLines {
		if r.env.Status&w.mask != 0 {
			if w.warn {
				rp.Warn(w.text)
			} else {
				rp.Info(w.text)
			}
		}
	}
}

func maxRSS() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Maxrss * 1024
}

func totalMem() int64 {
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) != nil || si.Totalram == 0 {
		return 1
	}
	return int64(si.Totalram) * int64(si.Unit)
}

type statusLine struct {
	mask uint64
	warn bool
	text string
}

func bit(n uint) uint64 { return 1 << n }

// statusLines are the conditional lines after "Aggregated flowStat", in
// Tranalyzer's order (core.md §13.3 item 32).
var statusLines = []statusLine{
	{bit(32), true, "L2 header snapped"},
	{bit(33), true, "L3 SnapLength < Length in IP header"},
	{bit(34), true, "L3 header snapped"},
	{bit(35), true, "L4 header snapped"},
	{bit(50), true, "Land attack"},
	{bit(51), true, "Timestamp jump, probably due to multi-path packet delay or NTP operation"},
	{bit(44), true, "Consecutive duplicate IP ID"},
	{bit(63), true, "PCAP packet length > IO_BUFFER_MAX_MTU, caplen reduced"},
	{bit(48), true, "Header description overrun"},
	{bit(16), true, "IPvX L3 header bogus packets"},
	{bit(46), true, "IPv4 header length < 20 bytes"},
	{bit(47), true, "IPv4/6 payload length > framing length"},
	{bit(38), true, "IPv4/6 fragmentation header packet missing"},
	{bit(39), true, "IPv4/6 packet fragmentation sequence not finished"},
	{bit(43), false, "Stop dissecting: Clipped packet, unhandled protocol or subsequent fragment"},
	{bit(2), false, "Layer 2 flows"},
	{bit(60), false, "LAPD flows"},
	{bit(14) | bit(58), false, "IPv4 flows"},
	{bit(15) | bit(59), false, "IPv6 flows"},
	{bit(24), false, "SCTP"},
	{bit(1), false, "No Ethernet header"},
	{bit(6), false, "ARP"},
	{bit(7), false, "RARP"},
	{bit(5), false, "LLDP"},
	{bit(18), false, "EtherIP"},
	{bit(8), false, "VLAN encapsulation"},
	{bit(57), false, "VLAN ID 0 (priority tag)"},
	{bit(36), false, "IPv4/6 fragmentation"},
	{bit(17), false, "IPv4/6 in IPv4/6"},
	{bit(22), false, "VXLAN encapsulation"},
	{bit(29), false, "GENEVE encapsulation"},
	{bit(9) | bit(10), false, "MPLS encapsulation"},
	{bit(11), false, "L2TP encapsulation"},
	{bit(13), false, "PPP/HDLC encapsulation"},
	{bit(12), false, "GRE encapsulation"},
	{bit(26), false, "ERSPAN encapsulation"},
	{bit(27), false, "WCCP encapsulation"},
	{bit(20), false, "AYIYA tunnel"},
	{bit(21), false, "GTP tunnel"},
	{bit(19), false, "Teredo tunnel"},
	{bit(23), false, "CAPWAP/LWAPP tunnel"},
	{bit(30), false, "IPsec AH"},
	{bit(31), false, "IPsec ESP"},
	{bit(25), false, "SSDP/UPnP"},
	{bit(28), false, "SIP/RTP"},
	{bit(61), false, "DTLS"},
	{bit(56), false, "Tor addresses"},
	{bit(49), false, "IPAlarm"},
}
