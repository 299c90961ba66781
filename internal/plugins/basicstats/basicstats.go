// Package basicstats is the basicStats plugin (spec basicStats.md): packet
// and byte counts, packet-size and inter-arrival statistics kept in
// float32 with Tranalyzer's own recurrences, asymmetries, and the end
// report's maximum and "biggest talker" lines.
package basicstats

import (
	"math"
	"net/netip"
	"strconv"
	"strings"

	"flowsift/internal/column"
	"flowsift/internal/decode"
	"flowsift/internal/flow"
	"flowsift/internal/plugin"
	"flowsift/internal/report"
)

const name = "basicStats"

// Register adds basicStats to r.
func Register(r *plugin.Registry) {
	r.Add(&plugin.Registration{
		Name:    name,
		Order:   120,
		Version: "0.9.3",
		Default: true,
		Switches: []plugin.Switch{
			{Name: "BS_REV_CNT", Default: "1", Help: "1: pktsRcvd and l7BytesRcvd columns (the partner's counts); 0: none"},
			{Name: "BS_PL_STATS", Default: "1", Help: "1: min/max/avg/std L7 packet size columns; 0: none"},
			{Name: "BS_IAT_STATS", Default: "1", Help: "1: min/max/avg/std IAT columns; 0: none"},
			{Name: "BS_STDDEV", Default: "1", Help: "1: the standard deviation columns (stdL7PktSz, stdIAT); 0: none"},
		},
		New: func(env *plugin.Env, s plugin.Settings) (plugin.Plugin, error) {
			c := Config{RevCnt: s.Bool("BS_REV_CNT"), PlStats: s.Bool("BS_PL_STATS"), IATStats: s.Bool("BS_IAT_STATS"), StdDev: s.Bool("BS_STDDEV")}
			return NewConfig(env, c), nil
		},
	})
}

// Config holds the output switches; the default build has them all on.
type Config struct {
	RevCnt, PlStats, IATStats, StdDev bool
}

// DefaultConfig is Tranalyzer's default build.
var DefaultConfig = Config{RevCnt: true, PlStats: true, IATStats: true, StdDev: true}

// has reports whether the flow column name is written under c.
func (c Config) has(name string) bool {
	switch name {
	case "pktsRcvd", "l7BytesRcvd":
		return c.RevCnt
	case "minL7PktSz", "maxL7PktSz", "avgL7PktSz":
		return c.PlStats
	case "stdL7PktSz":
		return c.PlStats && c.StdDev
	case "minIAT", "maxIAT", "avgIAT":
		return c.IATStats
	case "stdIAT":
		return c.IATStats && c.StdDev
	}
	return true
}

var flowCols = []column.Column{
	{Name: "pktsSnt", Type: "U64", Desc: "Number of transmitted packets"},
	{Name: "pktsRcvd", Type: "U64", Desc: "Number of received packets"},
	{Name: "padBytesSnt", Type: "I64", Desc: "Number of transmitted padding bytes"},
	{Name: "l7BytesSnt", Type: "U64", Desc: "Number of transmitted layer 7 bytes"},
	{Name: "l7BytesRcvd", Type: "U64", Desc: "Number of received layer 7 bytes"},
	{Name: "minL7PktSz", Type: "U16", Desc: "Minimum layer 7 packet size"},
	{Name: "maxL7PktSz", Type: "U16", Desc: "Maximum layer 7 packet size"},
	{Name: "avgL7PktSz", Type: "F", Desc: "Average layer 7 packet size"},
	{Name: "stdL7PktSz", Type: "F", Desc: "Standard deviation layer 7 packet size"},
	{Name: "minIAT", Type: "F", Desc: "Minimum IAT"},
	{Name: "maxIAT", Type: "F", Desc: "Maximum IAT"},
	{Name: "avgIAT", Type: "F", Desc: "Average IAT"},
	{Name: "stdIAT", Type: "F", Desc: "Standard deviation IAT"},
	{Name: "pktps", Type: "F", Desc: "Sent packets per second"},
	{Name: "bytps", Type: "F", Desc: "Sent bytes per second"},
	{Name: "pktAsm", Type: "F", Desc: "Packet stream asymmetry"},
	{Name: "bytAsm", Type: "F", Desc: "Byte stream asymmetry"},
}

var packetCols = []column.Column{
	{Name: "pktLen", Type: "U32", Desc: "Packet length on the wire"},
	{Name: "snapL3Len", Type: "U32", Desc: "Captured layer 3 length"},
	{Name: "snapL4Len", Type: "U32", Desc: "Captured layer 4 length"},
	{Name: "snapL7Len", Type: "U32", Desc: "Captured layer 7 length"},
	{Name: "l3Len", Type: "U32", Desc: "Layer 3 length"},
	{Name: "udpLen", Type: "U16", Desc: "UDP length field"},
	{Name: "l7Len", Type: "U16", Desc: "Layer 7 length"},
	{Name: "padLen", Type: "I32", Desc: "Padding length"},
}

// state is basicStats' per-flow record.
type state struct {
	n, bytes       uint64
	pad            int64
	minPl, maxPl   uint16
	minIAT, maxIAT float32
	avgIAT, varIAT float32
	avgPl, varPl   float32
	srcMAC         [6]byte // first packet's source MAC (L2 talker line)
}

// talker is a "biggest talker" candidate of the end report.
type talker struct {
	v    uint64
	ver  uint8
	addr [16]byte
	mac  [6]byte
	rec  uint32
}

// Plugin is the basicStats instance of one run.
type Plugin struct {
	env      *plugin.Env
	cfg      Config
	flowCols []column.Column // the flow columns of cfg
	flows    flow.Store[state]

	// End-report maxima over the flows output so far.
	maxPl       uint64
	maxBytps    float32
	maxBytpsPkt uint64
	anyL2       bool
	anyL3       bool
	l2Pkts      talker
	l2Bytes     talker
	l3Pkts      talker
	l3Bytes     talker
}

// New returns a basicStats plugin sharing env.
func New(env *plugin.Env) *Plugin { return NewConfig(env, DefaultConfig) }

// NewConfig returns a basicStats plugin with the output switches c.
func NewConfig(env *plugin.Env, c Config) *Plugin {
	bs := &Plugin{env: env, cfg: c}
	env.ReadsAtOutput(&bs.flows)
	for _, col := range flowCols {
		if c.has(col.Name) {
			bs.flowCols = append(bs.flowCols, col)
		}
	}
	return bs
}

// FlowColumns implements plugin.Plugin.
func (bs *Plugin) FlowColumns() []column.Column { return bs.flowCols }

// PacketColumns implements plugin.Plugin.
func (bs *Plugin) PacketColumns() []column.Column { return packetCols }

// NewFlow initialises the statistics (basicStats.md §1): the packet-size
// mean starts at the first packet's length, the IAT minimum at 4e12.
func (bs *Plugin) NewFlow(f *flow.Flow, p *decode.Packet) {
	s := bs.flows.At(f.Slot)
	*s = state{
		minPl:  65535,
		minIAT: 4.0e12,
		avgPl:  float32(p.PktLen),
		srcMAC: p.SrcMAC,
	}
}

// Packet applies the per-packet recurrences and writes the packet columns.
func (bs *Plugin) Packet(f *flow.Flow, p *decode.Packet, pw column.Writer) {
	s := bs.flows.At(f.Slot)
	pl := p.PktLen
	s.n++
	s.bytes += uint64(pl)
	s.pad += int64(p.PadLen)
	if pl < s.minPl {
		s.minPl = pl
	}
	if pl > s.maxPl {
		s.maxPl = pl
	}
	iat := iatOf(p.TsSec, p.TsNsec, f.PrevSec, f.PrevNsec)
	if iat < s.minIAT {
		s.minIAT = iat
	}
	if iat > s.maxIAT {
		s.maxIAT = iat
	}

	// Every float32 operation is rounded explicitly: T2 (SSE2, no FMA)
	// rounds each one, and Go could otherwise fuse multiply-adds.
	div := float32(s.n)
	m := float32(float32(pl) - s.avgPl)
	s.avgPl = float32(s.avgPl + float32(m/div))
	s.varPl = float32(s.varPl + float32(float32(float32(m*m)-s.varPl)/div))
	m = float32(iat - s.avgIAT)
	s.avgIAT = float32(s.avgIAT + float32(m/div))
	s.varIAT = float32(s.varIAT + float32(float32(float32(m*m)-s.varIAT)/div))

	if pw == nil {
		return
	}
	pw.ColU(uint64(p.WireLen))
	pw.ColI(int64(p.SnapL3Len))
	pw.ColI(int64(p.SnapL4Len))
	pw.ColI(int64(p.SnapL7Len))
	pw.ColI(int64(p.L3Len))
	pw.ColU(uint64(p.UDPLen))
	pw.ColU(uint64(uint16(p.L7Len))) // T2 prints it as uint16: −12 shows 65524
	pw.ColI(int64(p.PadLen))
}

// iatOf is basicStats.md §1's inter-arrival time: float32 seconds from an
// unsigned 32-bit subtraction plus float32 nanoseconds, summed in double.
func iatOf(sec uint64, nsec uint32, sec0 uint64, nsec0 uint32) float32 {
	ds := float32(uint32(sec) - uint32(sec0))
	dns := float32(int64(nsec) - int64(nsec0))
	return float32(float64(ds) + float64(dns)/1e9)
}

// FlowOutput writes the flow columns and feeds the end-report maxima.
func (bs *Plugin) FlowOutput(f *flow.Flow, w column.Writer) {
	s := bs.flows.At(f.Slot)
	var o, ob uint64
	if f.Partner != nil {
		r := bs.flows.At(f.Partner.Slot)
		o, ob = r.n, r.bytes
	}
	var avg float32
	if s.n != 0 {
		avg = float32(float32(s.bytes) / float32(s.n))
	}
	dSec, dNsec := f.Duration()
	d := float32(float64(uint32(dSec)) + float64(dNsec)/1e9)
	var pktps, bytps float32
	if d != 0 {
		pktps = float32(float32(s.n) / d)
		bytps = float32(float32(s.bytes) / d)
	}
	dir := float32(1)
	if f.Partner == nil && f.Inverted() {
		dir = -1
	}
	var pktAsm, bytAsm float32
	if s.n+o != 0 {
		pktAsm = float32(float32(dir*float32(float32(s.n)-float32(o))) / float32(s.n+o))
	}
	if s.bytes+ob != 0 {
		bytAsm = float32(float32(float32(s.bytes)-float32(ob)) / float32(s.bytes+ob))
	}

	c := &bs.cfg
	w.ColU(s.n)
	if c.RevCnt {
		w.ColU(o)
	}
	w.ColI(s.pad)
	w.ColU(s.bytes)
	if c.RevCnt {
		w.ColU(ob)
	}
	if c.PlStats {
		w.ColU(uint64(s.minPl))
		w.ColU(uint64(s.maxPl))
		w.Col()
		w.F32(avg)
		if c.StdDev {
			w.Col()
			w.F32(float32(math.Sqrt(float64(s.varPl))))
		}
	}
	if c.IATStats {
		w.Col()
		w.F32(s.minIAT)
		w.Col()
		w.F32(s.maxIAT)
		w.Col()
		w.F32(s.avgIAT)
		if c.StdDev {
			w.Col()
			w.F32(float32(math.Sqrt(float64(s.varIAT))))
		}
	}
	w.Col()
	w.F32(pktps)
	w.Col()
	w.F32(bytps)
	w.Col()
	w.F32(pktAsm)
	w.Col()
	w.F32(bytAsm)

	// End-report maxima: strictly greater replaces, so the first flow in
	// output order with the largest value wins.
	if float64(avg) > float64(bs.maxPl) {
		bs.maxPl = uint64(avg)
	}
	if bytps > bs.maxBytps {
		bs.maxBytps = bytps
		bs.maxBytpsPkt = s.n
	}
	if s.n == 0 {
		return
	}
	if f.IPVer == 4 || f.IPVer == 6 {
		bs.anyL3 = true
		bs.offer(&bs.l3Pkts, s.n, f, s)
		bs.offer(&bs.l3Bytes, s.bytes, f, s)
	} else {
		bs.anyL2 = true
		bs.offer(&bs.l2Pkts, s.n, f, s)
		bs.offer(&bs.l2Bytes, s.bytes, f, s)
	}
}

// offer replaces t by f when v is strictly greater.
func (bs *Plugin) offer(t *talker, v uint64, f *flow.Flow, s *state) {
	if v <= t.v {
		return
	}
	t.v = v
	t.ver = f.IPVer
	t.addr = f.Key.SrcIP
	t.mac = s.srcMAC
	t.rec = f.SrcSubnet
	if t.rec == 0 && bs.env.Subnets != nil && (f.IPVer == 4 || f.IPVer == 6) {
		// basicFlow normally resolved it; look up when it is not loaded.
		t.rec = bs.env.Subnets.Lookup(f.IPVer, &f.Key.SrcIP)
	}
}

// Report writes basicStats.md §4's lines.
func (bs *Plugin) Report(r *report.Report) {
	r.Plugin(name, "Flow max(pktload): "+u(bs.maxPl)+report.Suffix(bs.maxPl))
	b := uint64(float32(bs.maxBytps * 8))
	r.Plugin(name, "Flow max(b/s), pkts: "+u(b)+report.SuffixUnit(b, "b/s")+", "+u(bs.maxBytpsPkt)+report.Suffix(bs.maxBytpsPkt))
	pkts := float64(bs.env.Packets)
	bytes := float64(bs.env.ABytes + bs.env.BBytes)
	if bs.anyL2 {
		r.Plugin(name, "Biggest L2 flow talker: "+macString(bs.l2Pkts.mac)+": "+u(bs.l2Pkts.v)+report.Suffix(bs.l2Pkts.v)+" "+report.Pct(float64(bs.l2Pkts.v), pkts)+" packets")
		r.Plugin(name, "Biggest L2 flow talker: "+macString(bs.l2Bytes.mac)+": "+u(bs.l2Bytes.v)+report.Suffix(bs.l2Bytes.v)+" "+report.Pct(float64(bs.l2Bytes.v), bytes)+" bytes")
	}
	if bs.anyL3 {
		r.Plugin(name, "Biggest L3 flow talker: "+bs.ipLabel(&bs.l3Pkts)+": "+u(bs.l3Pkts.v)+report.Suffix(bs.l3Pkts.v)+" "+report.Pct(float64(bs.l3Pkts.v), pkts)+" packets")
		r.Plugin(name, "Biggest L3 flow talker: "+bs.ipLabel(&bs.l3Bytes)+": "+u(bs.l3Bytes.v)+report.Suffix(bs.l3Bytes.v)+" "+report.Pct(float64(bs.l3Bytes.v), bytes)+" bytes")
	}
}

// ipLabel is "addr" or "addr (CC)"; the initial empty record (no flow with
// L7 bytes) prints an empty address.
func (bs *Plugin) ipLabel(t *talker) string {
	var a string
	switch t.ver {
	case 4:
		a = netip.AddrFrom4([4]byte(t.addr[:4])).String()
	case 6:
		a = netip.AddrFrom16(t.addr).String()
	default:
		return ""
	}
	if bs.env.Subnets == nil || t.rec == 0 {
		return a
	}
	cc := bs.env.Subnets.Country(t.rec)
	if cc == "" || cc == "-" || (cc[0] >= '0' && cc[0] <= '9') {
		return a
	}
	return a + " (" + strings.ToUpper(cc) + ")"
}

func u(v uint64) string { return strconv.FormatUint(v, 10) }

func macString(m [6]byte) string {
	const hx = "0123456789abcdef"
	b := make([]byte, 0, 17)
	for i, c := range m {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hx[c>>4], hx[c&15])
	}
	return string(b)
}
