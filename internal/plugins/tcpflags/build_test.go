package tcpflags

import (
	"encoding/binary"
	"testing"

	"flowsift/internal/decode"
	"flowsift/internal/flow"
	"flowsift/internal/header"
	"flowsift/internal/plugin"
	"flowsift/internal/plugins/ptest"
)

// seg describes one hand-built IPv4 packet.
type seg struct {
	fromB      bool // direction: B→A (else A→B)
	t          float64
	id         uint16
	ttl        uint8
	tos        uint8
	df         bool
	proto      uint8 // 0 = TCP
	flags      uint8
	seq, ack   uint32
	win        uint16
	opts       []byte
	payload    int
	badL4      bool
	badL3      bool
	ipOpts     []byte
	udpLenDiff int
}

var (
	ipA = [4]byte{10, 0, 0, 1}
	ipB = [4]byte{10, 0, 0, 2}
)

// build makes the decode.Packet of s (no link layer: L3 at offset 0).
func build(s seg) *decode.Packet {
	proto := s.proto
	if proto == 0 {
		proto = protoTCP
	}
	ihl := 20 + len(s.ipOpts)
	var l4h int
	switch proto {
	case protoTCP:
		l4h = 20 + len(s.opts)
	default:
		l4h = 8
	}
	total := ihl + l4h + s.payload
	d := make([]byte, total)
	d[0] = 0x40 | byte(ihl/4)
	d[1] = s.tos
	binary.BigEndian.PutUint16(d[2:], uint16(total))
	binary.BigEndian.PutUint16(d[4:], s.id)
	if s.df {
		d[6] = 0x40
	}
	ttl := s.ttl
	if ttl == 0 {
		ttl = 64
	}
	d[8] = ttl
	d[9] = proto
	src, dst := ipA, ipB
	if s.fromB {
		src, dst = ipB, ipA
	}
	copy(d[12:], src[:])
	copy(d[16:], dst[:])
	copy(d[20:], s.ipOpts)
	ck := ^uint16(header.Fold(sum16(d[:ihl], 10)))
	if s.badL3 {
		ck ^= 0x1111
	}
	binary.BigEndian.PutUint16(d[10:], ck)
	l4 := d[ihl:]
	sp, dp := uint16(40000), uint16(80)
	if s.fromB {
		sp, dp = dp, sp
	}
	binary.BigEndian.PutUint16(l4[0:], sp)
	binary.BigEndian.PutUint16(l4[2:], dp)
	for i := 0; i < s.payload; i++ {
		l4[l4h+i] = byte('a' + i%26)
	}
	field := 16
	if proto == protoTCP {
		binary.BigEndian.PutUint32(l4[4:], s.seq)
		binary.BigEndian.PutUint32(l4[8:], s.ack)
		l4[12] = byte(l4h/4) << 4
		l4[13] = s.flags
		binary.BigEndian.PutUint16(l4[14:], s.win)
		copy(l4[20:], s.opts)
	} else {
		field = 6
		binary.BigEndian.PutUint16(l4[4:], uint16(l4h+s.payload+s.udpLenDiff))
	}
	ps := header.PseudoSum(src[:], dst[:], proto, uint32(len(l4)))
	c := ^uint16(header.Fold(sum16(l4, field) + ps))
	if s.badL4 {
		c ^= 0x00ff
	}
	binary.BigEndian.PutUint16(l4[field:], c)

	p := &decode.Packet{
		Data: d, CapLen: uint32(total), WireLen: uint32(total),
		Kind: decode.KindIPv4, L3Off: 0, L3HdrLen: ihl, L3Len: total, SnapL3Len: total,
		Proto: proto, TTL: ttl, ToS: s.tos, IPID: uint32(s.id),
		L4Off: ihl, L4HdrLen: l4h, L4Len: total - ihl, SnapL4Len: total - ihl,
		L7Off: ihl + l4h, L7Len: s.payload, SnapL7Len: s.payload, PktLen: uint16(s.payload),
		SrcPort: sp, DstPort: dp,
	}
	if s.df {
		p.FragWord = 0x4000
	}
	copy(p.SrcIP[:], src[:])
	copy(p.DstIP[:], dst[:])
	sec := uint64(s.t)
	p.TsSec = 1000 + sec
	p.TsNsec = uint32((s.t-float64(sec))*1e9 + 0.5)
	return p
}

// conv drives the plugin over a conversation of A (first packet's sender)
// and B, like the engine does, recording packet rows.
type conv struct {
	t    *testing.T
	pl   *Plugin
	env  *plugin.Env
	a, b *flow.Flow
	rows [][]string // packet rows
	cols []string
}

func newConv(t *testing.T, c config) *conv {
	env := &plugin.Env{}
	pl := New(env, c)
	cv := &conv{t: t, pl: pl, env: env}
	for _, col := range pl.PacketColumns() {
		cv.cols = append(cv.cols, col.Name)
	}
	return cv
}

func (c *conv) send(s seg) []string {
	p := build(s)
	c.env.Packets++
	var f *flow.Flow
	if s.fromB {
		if c.b == nil {
			c.b = &flow.Flow{Slot: 1}
			if c.a != nil {
				c.b.Partner, c.a.Partner = c.a, c.b
				c.b.Status |= decode.StatInverted
			}
			c.b.Start(p.TsSec, p.TsNsec)
			c.pl.NewFlow(c.b, p)
		} else {
			c.b.Arrive(p.TsSec, p.TsNsec)
		}
		f = c.b
	} else {
		if c.a == nil {
			c.a = &flow.Flow{Slot: 0}
			if c.b != nil {
				c.b.Partner, c.a.Partner = c.a, c.b
			}
			c.a.Start(p.TsSec, p.TsNsec)
			c.pl.NewFlow(c.a, p)
		} else {
			c.a.Arrive(p.TsSec, p.TsNsec)
		}
		f = c.a
	}
	var row ptest.Row
	c.pl.Packet(f, p, &row)
	fields := row.Done()
	if len(fields) != len(c.cols) {
		c.t.Fatalf("packet row has %d fields, want %d", len(fields), len(c.cols))
	}
	c.rows = append(c.rows, fields)
	return fields
}

// pv returns the named packet column of a row.
func (c *conv) pv(row []string, name string) string {
	for i, n := range c.cols {
		if n == name {
			return row[i]
		}
	}
	c.t.Fatalf("no packet column %s", name)
	return ""
}

// flowRow outputs f and returns its columns by name.
func (c *conv) flowRow(f *flow.Flow) map[string]string {
	var row ptest.Row
	c.pl.FlowOutput(f, &row)
	fields := row.Done()
	cols := c.pl.FlowColumns()
	if len(fields) != len(cols) {
		c.t.Fatalf("flow row has %d fields, want %d", len(fields), len(cols))
	}
	m := map[string]string{}
	for i, col := range cols {
		m[col.Name] = fields[i]
	}
	return m
}

func expect(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}
