// Package basicflow is the basicFlow plugin (spec basicFlow.md): identity
// and timing of a flow — status, timestamps, header descriptions, MACs,
// VLANs, addresses with their subnet data, ports and protocol.
package basicflow

import (
	"flowsift/internal/column"
	"flowsift/internal/decode"
	"flowsift/internal/flow"
	"flowsift/internal/plugin"
	"flowsift/internal/report"
)

// Limits of the default build (basicFlow.md header).
const (
	maxDesc = 4 // header descriptions kept per flow
	maxMAC  = 3 // distinct MACs kept per direction and side
)

// Register adds basicFlow to r.
func Register(r *plugin.Registry) {
	r.Add(&plugin.Registration{
		Name:    "basicFlow",
		Order:   100,
		Version: "0.9.3",
		Default: true,
		Switches: []plugin.Switch{
			{Name: "BFO_MAC", Default: "1", Help: "1: srcMac and dstMac columns; 0: none"},
			{Name: "BFO_ETHERTYPE", Default: "1", Help: "1: ethType column; 0: none"},
			{Name: "BFO_VLAN", Default: "1", Help: "1: vlanID column; 0: none"},
			{Name: "BFO_SUBNET_TEST", Default: "1", Help: "1: country and organisation of each address (srcIPCC, srcIPOrg, dstIPCC, dstIPOrg; --geo); 0: no lookup, no columns"},
		},
		New: func(env *plugin.Env, s plugin.Settings) (plugin.Plugin, error) {
			c := Config{MAC: s.Bool("BFO_MAC"), EthType: s.Bool("BFO_ETHERTYPE"), VLAN: s.Bool("BFO_VLAN"), Subnet: s.Bool("BFO_SUBNET_TEST")}
			return NewConfig(env, c), nil
		},
	})
}

// Config holds the output switches; the default build has them all on.
type Config struct {
	MAC, EthType, VLAN, Subnet bool
}

// DefaultConfig is Tranalyzer's default build.
var DefaultConfig = Config{MAC: true, EthType: true, VLAN: true, Subnet: true}

// keep returns cols without the columns that cfg switches off.
func (c Config) keep(cols []column.Column) []column.Column {
	var out []column.Column
	for _, col := range cols {
		switch col.Name {
		case "srcMac", "dstMac":
			if !c.MAC {
				continue
			}
		case "ethType":
			if !c.EthType {
				continue
			}
		case "vlanID":
			if !c.VLAN {
				continue
			}
		case "srcIPCC", "srcIPOrg", "dstIPCC", "dstIPOrg":
			if !c.Subnet {
				continue
			}
		}
		out = append(out, col)
	}
	return out
}

var flowCols = []column.Column{
	{Name: "flowStat", Type: "H64", Desc: "Flow status and warnings"},
	{Name: "timeFirst", Type: "U64.U32", Desc: "Date time of first packet"},
	{Name: "timeLast", Type: "U64.U32", Desc: "Date time of last packet"},
	{Name: "duration", Type: "U64.U32", Desc: "Flow duration", Duration: true},
	{Name: "numHdrDesc", Type: "U8", Desc: "Number of different headers descriptions"},
	{Name: "numHdrs", Type: "U16:R", Desc: "Number of headers (depth) in hdrDesc"},
	{Name: "hdrDesc", Type: "SC:R", Desc: "Headers description"},
	{Name: "srcMac", Type: "MAC:R", Desc: "Mac source"},
	{Name: "dstMac", Type: "MAC:R", Desc: "Mac destination"},
	{Name: "ethType", Type: "H16", Desc: "Ethernet type"},
	{Name: "vlanID", Type: "U16:R", Desc: "VLAN IDs"},
	{Name: "srcIP", Type: "IPX", Desc: "Source IP address"},
	{Name: "srcIPCC", Type: "SC", Desc: "Source IP country"},
	{Name: "srcIPOrg", Type: "S", Desc: "Source IP organization"},
	{Name: "srcPort", Type: "U16", Desc: "Source port"},
	{Name: "dstIP", Type: "IPX", Desc: "Destination IP address"},
	{Name: "dstIPCC", Type: "SC", Desc: "Destination IP country"},
	{Name: "dstIPOrg", Type: "S", Desc: "Destination IP organization"},
	{Name: "dstPort", Type: "U16", Desc: "Destination port"},
	{Name: "l4Proto", Type: "U8", Desc: "Layer 4 protocol"},
}

// Packet-file columns: vlanID sits before the MACs here (basicFlow.md §2).
// Types name the packet file's own text forms.
var packetCols = []column.Column{
	{Name: "flowStat", Type: "H64", Desc: "Flow status and warnings"},
	{Name: "time", Type: "U64.U32", Desc: "Packet time"},
	{Name: "pktIAT", Type: "D", Desc: "Packet inter-arrival time", Text: column.TextFixed9},
	{Name: "pktTrip", Type: "D", Desc: "Time since the partner flow's last packet", Text: column.TextFixed9},
	{Name: "flowDuration", Type: "D", Desc: "Flow duration", Text: column.TextFixed9},
	{Name: "numHdrs", Type: "U16", Desc: "Number of headers (depth) in hdrDesc"},
	{Name: "hdrDesc", Type: "SC", Desc: "Headers description", Text: column.TextRaw},
	{Name: "vlanID", Type: "U16:R", Desc: "VLAN IDs"},
	{Name: "srcMac", Type: "MAC", Desc: "Mac source"},
	{Name: "dstMac", Type: "MAC", Desc: "Mac destination"},
	{Name: "ethType", Type: "H16", Desc: "Ethernet type"},
	{Name: "srcIP", Type: "IPX", Desc: "Source IP address"},
	{Name: "srcIPCC", Type: "SC", Desc: "Source IP country", Text: column.TextRaw},
	{Name: "srcIPOrg", Type: "SC", Desc: "Source IP organization", Text: column.TextRaw},
	{Name: "srcPort", Type: "U16", Desc: "Source port"},
	{Name: "dstIP", Type: "IPX", Desc: "Destination IP address"},
	{Name: "dstIPCC", Type: "SC", Desc: "Destination IP country", Text: column.TextRaw},
	{Name: "dstIPOrg", Type: "SC", Desc: "Destination IP organization", Text: column.TextRaw},
	{Name: "dstPort", Type: "U16", Desc: "Destination port"},
	{Name: "l4Proto", Type: "U8", Desc: "Layer 4 protocol"},
}

// state is basicFlow's per-flow record (32 bytes). A stored header
// description is its text's id in the plugin's run-wide table (a handful
// of distinct descriptions serve all flows) and its header count. Nearly
// every flow shows one description and one MAC pair: the first of each is
// kept here, the others in an extra record from the plugin's pool
// (extra), taken when a flow shows a second one.
type state struct {
	descID                         uint32
	descHdrs                       uint16
	srcMAC, dstMAC                 [6]byte
	vlan                           [decode.MaxVLANRecorded]uint16
	nDesc, nSrcMAC, nDstMAC, nVLAN uint8
	extra                          int32 // reference into Plugin.extras, 0 = none
}

// extra holds a flow's header descriptions and MACs after the first.
type extra struct {
	descIDs        [maxDesc - 1]uint32
	descHdrs       [maxDesc - 1]uint16
	srcMAC, dstMAC [maxMAC - 1][6]byte
}

// Plugin is the basicFlow instance of one run.
type Plugin struct {
	env    *plugin.Env
	cfg    Config
	flows  flow.Store[state]
	extras flow.Pool[extra] // by state.extra
	// The columns of this configuration.
	flowCols, packetCols []column.Column
	// Interned header descriptions: texts[id], and ids by text.
	texts []string
	ids   map[string]uint32
}

// New returns a basicFlow plugin of the default build sharing env.
func New(env *plugin.Env) *Plugin { return NewConfig(env, DefaultConfig) }

// NewConfig returns a basicFlow plugin with the output switches c.
func NewConfig(env *plugin.Env, c Config) *Plugin {
	p := &Plugin{env: env, cfg: c, ids: map[string]uint32{},
		flowCols: c.keep(flowCols), packetCols: c.keep(packetCols)}
	env.ReadsAtOutput(&p.flows)
	return p
}

// FlowColumns implements plugin.Plugin.
func (bf *Plugin) FlowColumns() []column.Column { return bf.flowCols }

// PacketColumns implements plugin.Plugin.
func (bf *Plugin) PacketColumns() []column.Column { return bf.packetCols }

// NewFlow records the VLAN tags of the first packet and resolves the
// subnet records of both addresses (basicFlow.md §3, §4).
func (bf *Plugin) NewFlow(f *flow.Flow, p *decode.Packet) {
	s := bf.flows.At(f.Slot)
	if s.extra != 0 {
		bf.extras.Put(s.extra)
	}
	*s = state{}
	s.nVLAN = p.NumVLANTCI
	if int(s.nVLAN) > len(s.vlan) {
		s.nVLAN = uint8(len(s.vlan))
	}
	copy(s.vlan[:], p.VLANTCI[:s.nVLAN])

	f.SrcSubnet, f.DstSubnet = 0, 0
	if db := bf.env.Subnets; db != nil && bf.cfg.Subnet && (f.IPVer == 4 || f.IPVer == 6) {
		f.SrcSubnet = db.Lookup(f.IPVer, &f.Key.SrcIP)
		f.DstSubnet = db.Lookup(f.IPVer, &f.Key.DstIP)
		if db.IsTor(f.SrcSubnet) || db.IsTor(f.DstSubnet) {
			f.Status |= decode.StatTor
			bf.env.Status |= decode.StatTor
		}
	}
}

// Packet updates the descriptions and MACs, and in packet mode writes the
// packet columns.
func (bf *Plugin) Packet(f *flow.Flow, p *decode.Packet, pw column.Writer) {
	s := bf.flows.At(f.Slot)
	bf.addDesc(s, f, p)
	macs := p.HasMAC && f.Status&decode.StatNoEthernet == 0
	if macs {
		bf.addMACs(s, p.SrcMAC, p.DstMAC)
	}

	if pw == nil {
		return
	}
	iat := secDiff(p.TsSec, p.TsNsec, f.PrevSec, f.PrevNsec)
	if iat < 0 {
		// Timestamp jump: only basicFlow's packet mode sets it here.
		f.Status |= decode.StatTimeJump
		bf.env.Status |= decode.StatTimeJump
	}

	pw.ColH(f.Status, 16)
	pw.Col()
	pw.Time(uint64(uint32(p.TsSec)), p.TsNsec)
	pw.Col()
	pw.Fixed9(iat)
	pw.Col()
	pw.Fixed9(trip(f, p))
	pw.Col()
	pw.Fixed9(secDiff(p.TsSec, p.TsNsec, f.FirstSec, f.FirstNsec))
	pw.ColU(uint64(p.NumHdrs))
	pw.Col()
	pw.Raw(p.Desc())
	if bf.cfg.VLAN {
		pw.Col()
		if p.NumVLAN > 0 {
			for i := uint8(0); i < s.nVLAN; i++ {
				if i > 0 {
					pw.Rep()
				}
				pw.U(uint64(s.vlan[i]))
			}
		}
	}
	if bf.cfg.MAC {
		pw.Col()
		if macs {
			pw.MAC(p.SrcMAC)
		}
		pw.Col()
		if macs {
			pw.MAC(p.DstMAC)
		}
	}
	if bf.cfg.EthType {
		pw.ColH(uint64(p.EthType), 4)
	}

	if f.IPVer != 4 && f.IPVer != 6 {
		// L2 flow: the IP fields stay empty (nine with the subnet columns).
		n := 5
		if bf.cfg.Subnet {
			n = 9
		}
		for i := 0; i < n; i++ {
			pw.Col()
		}
		return
	}
	ports := hasPorts(f.Key.Proto)
	bf.packetEndpoint(pw, f.IPVer, &f.Key.SrcIP, f.SrcSubnet, ports, p.SrcPort)
	bf.packetEndpoint(pw, f.IPVer, &f.Key.DstIP, f.DstSubnet, ports, p.DstPort)
	pw.ColU(uint64(p.Proto))
}

// packetEndpoint writes one side's address, country, organisation and port
// (the port only for protocols that have ports).
func (bf *Plugin) packetEndpoint(pw column.Writer, ver uint8, addr *[16]byte, subnet uint32, ports bool, port uint16) {
	pw.Col()
	pw.IP(ver, addr)
	if bf.cfg.Subnet {
		pw.Col()
		pw.RawString(bf.country(subnet))
		pw.Col()
		pw.RawString(bf.org(subnet))
	}
	pw.Col()
	if ports {
		pw.U(uint64(port))
	}
}

// FlowOutput writes the flow-file columns.
func (bf *Plugin) FlowOutput(f *flow.Flow, w column.Writer) {
	s := bf.flows.At(f.Slot)
	w.ColH(f.Status, 16)
	w.Col()
	w.Time(uint64(uint32(f.FirstSec)), f.FirstNsec)
	w.Col()
	w.Time(uint64(uint32(f.LastSec)), f.LastNsec)
	w.Col()
	w.Time(f.Duration())
	x := bf.extras.Of(s.extra)
	w.ColU(uint64(s.nDesc))
	w.Col()
	for i := uint8(0); i < s.nDesc; i++ {
		if i > 0 {
			w.Rep()
		}
		_, hdrs := s.desc(x, i)
		w.U(uint64(hdrs))
	}
	w.Col()
	for i := uint8(0); i < s.nDesc; i++ {
		if i > 0 {
			w.Rep()
		}
		id, _ := s.desc(x, i)
		w.StrClassString(bf.texts[id])
	}
	if bf.cfg.MAC {
		w.Col()
		for i := uint8(0); i < s.nSrcMAC; i++ {
			if i > 0 {
				w.Rep()
				w.MAC(x.srcMAC[i-1])
			} else {
				w.MAC(s.srcMAC)
			}
		}
		w.Col()
		for i := uint8(0); i < s.nDstMAC; i++ {
			if i > 0 {
				w.Rep()
				w.MAC(x.dstMAC[i-1])
			} else {
				w.MAC(s.dstMAC)
			}
		}
	}
	if bf.cfg.EthType {
		w.ColH(uint64(f.EthType), 4)
	}
	if bf.cfg.VLAN {
		w.Col()
		for i := uint8(0); i < s.nVLAN; i++ {
			if i > 0 {
				w.Rep()
			}
			w.U(uint64(s.vlan[i]))
		}
	}
	ip := f.IPVer == 4 || f.IPVer == 6
	var sp, dp uint16
	var proto uint8
	if ip {
		sp, dp, proto = f.Key.SrcPort, f.Key.DstPort, f.Key.Proto
	}
	w.Col()
	w.IP(f.IPVer, &f.Key.SrcIP)
	if bf.cfg.Subnet {
		w.Col()
		w.StrClassString(bf.country(f.SrcSubnet))
		w.Col()
		w.StrString(bf.org(f.SrcSubnet))
	}
	w.ColU(uint64(sp))
	w.Col()
	w.IP(f.IPVer, &f.Key.DstIP)
	if bf.cfg.Subnet {
		w.Col()
		w.StrClassString(bf.country(f.DstSubnet))
		w.Col()
		w.StrString(bf.org(f.DstSubnet))
	}
	w.ColU(uint64(dp))
	w.ColU(uint64(proto))
}

// Report implements plugin.Plugin: basicFlow has no report lines.
func (bf *Plugin) Report(*report.Report) {}

func (bf *Plugin) country(rec uint32) string {
	if bf.env.Subnets == nil || rec == 0 {
		return "-"
	}
	return bf.env.Subnets.Country(rec)
}

func (bf *Plugin) org(rec uint32) string {
	if bf.env.Subnets == nil || rec == 0 {
		return "-"
	}
	return bf.env.Subnets.Org(rec)
}

// addDesc applies basicFlow.md §1.2: a known description refreshes its
// header count, a new one is appended while fewer than four are stored;
// once four are stored every packet sets bit 48 on the flow (not globally).
func (bf *Plugin) addDesc(s *state, f *flow.Flow, p *decode.Packet) {
	if s.nDesc == maxDesc {
		f.Status |= decode.StatDescOverrun
		return
	}
	text := p.Desc()
	if s.nDesc > 0 && bf.texts[s.descID] == string(text) {
		s.descHdrs = p.NumHdrs
		return
	}
	if s.nDesc == 0 {
		s.descID, s.descHdrs = bf.intern(text), p.NumHdrs
		s.nDesc = 1
		return
	}
	x := bf.extraFor(s)
	for i := uint8(1); i < s.nDesc; i++ {
		if bf.texts[x.descIDs[i-1]] == string(text) {
			x.descHdrs[i-1] = p.NumHdrs
			return
		}
	}
	x.descIDs[s.nDesc-1] = bf.intern(text)
	x.descHdrs[s.nDesc-1] = p.NumHdrs
	s.nDesc++
}

// desc returns the id and header count of description i (x: the flow's
// extra record, nil if it has none).
func (s *state) desc(x *extra, i uint8) (uint32, uint16) {
	if i == 0 {
		return s.descID, s.descHdrs
	}
	return x.descIDs[i-1], x.descHdrs[i-1]
}

// addMACs records the packet's MACs (basicFlow.md §1.3): up to maxMAC
// distinct ones per side, the first in the flow's record.
func (bf *Plugin) addMACs(s *state, src, dst [6]byte) {
	if s.nSrcMAC == 0 {
		s.srcMAC, s.nSrcMAC = src, 1
	} else if s.srcMAC != src {
		x := bf.extraFor(s)
		s.nSrcMAC = 1 + addMAC(&x.srcMAC, s.nSrcMAC-1, src)
	}
	if s.nDstMAC == 0 {
		s.dstMAC, s.nDstMAC = dst, 1
	} else if s.dstMAC != dst {
		x := bf.extraFor(s)
		s.nDstMAC = 1 + addMAC(&x.dstMAC, s.nDstMAC-1, dst)
	}
}

// extraFor returns s's extra record, taking a zeroed one from the pool on
// first use.
func (bf *Plugin) extraFor(s *state) *extra {
	x, _ := bf.extras.For(&s.extra)
	return x
}

// intern returns the id of text, adding it on first sight (the lookup
// with a converted key does not allocate).
func (bf *Plugin) intern(text []byte) uint32 {
	if id, ok := bf.ids[string(text)]; ok {
		return id
	}
	id := uint32(len(bf.texts))
	str := string(text)
	bf.texts = append(bf.texts, str)
	bf.ids[str] = id
	return id
}

// addMAC appends m to list (n entries) if it is new and there is room.
func addMAC(list *[maxMAC - 1][6]byte, n uint8, m [6]byte) uint8 {
	for i := uint8(0); i < n; i++ {
		if list[i] == m {
			return n
		}
	}
	if int(n) < len(list) {
		list[n] = m
		n++
	}
	return n
}

// secDiff is T2's double time difference with an unsigned 32-bit second
// subtraction and a signed nanosecond term (basicFlow.md §2).
func secDiff(sec uint64, nsec uint32, sec0 uint64, nsec0 uint32) float64 {
	return float64(uint32(sec)-uint32(sec0)) + float64(int64(nsec)-int64(nsec0))/1e9
}

// trip is pktTrip: time since the partner's last packet, with signed
// seconds and float32 nanosecond operands whose difference is rounded to
// float32 (checked on all 43,011 non-zero golden values).
func trip(f *flow.Flow, p *decode.Packet) float64 {
	r := f.Partner
	if r == nil {
		return 0
	}
	ns := float32(float32(p.TsNsec) - float32(r.LastNsec))
	return float64(int64(p.TsSec)-int64(r.LastSec)) + float64(ns)/1e9
}

// hasPorts reports the protocols whose ports the packet file prints.
func hasPorts(proto uint8) bool {
	switch proto {
	case 6, 17, 132, 136: // TCP, UDP, SCTP, UDP-Lite
		return true
	}
	return false
}
