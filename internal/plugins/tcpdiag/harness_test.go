package tcpdiag_test

import (
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"

	"flowsift/internal/engine"
	"flowsift/internal/pcapgen"
	"flowsift/internal/plugins"
	"flowsift/internal/t2diff"
)

// pkt is one hand-built TCP segment between client A (10.0.0.1:40000) and
// server B (10.0.0.2:80).
type pkt struct {
	at    float64 // ms since the start of the capture
	fromB bool
	seq   uint32
	ack   uint32
	flags uint8
	n     int    // payload bytes
	id    uint16 // IPv4 ID
	ts    uint32 // TSval; 0 = no timestamp option
	ecr   uint32
	sack  [][2]uint32
	tos   uint8
	win   uint16
}

const (
	isnA = 1000
	isnB = 500000
	mss  = 1000
)

var diagPlugins = []string{"basicFlow", "basicStats", "tcpFlags", "tcpStates", "tcpDiag"}

// result holds a run's flow rows by direction and packet classes in order.
type result struct {
	flow    map[string]map[string]string // "A"/"B" → column → cell
	classes []string
}

func (r *result) get(t *testing.T, dir, col string) string {
	t.Helper()
	row, ok := r.flow[dir]
	if !ok {
		t.Fatalf("no %s row", dir)
	}
	v, ok := row[col]
	if !ok {
		t.Fatalf("no column %s", col)
	}
	return v
}

// expect checks several columns of one direction.
func (r *result) expect(t *testing.T, dir string, want map[string]string) {
	t.Helper()
	for c, w := range want {
		if got := r.get(t, dir, c); got != w {
			t.Errorf("%s %s = %s, want %s", dir, c, got, w)
		}
	}
}

func options(p pkt) []byte {
	var o []byte
	if p.ts != 0 {
		o = append(o, 1, 1, 8, 10)
		o = binary.BigEndian.AppendUint32(o, p.ts)
		o = binary.BigEndian.AppendUint32(o, p.ecr)
	}
	if len(p.sack) > 0 {
		o = append(o, 1, 1, 5, byte(2+8*len(p.sack)))
		for _, b := range p.sack {
			o = binary.BigEndian.AppendUint32(o, b[0])
			o = binary.BigEndian.AppendUint32(o, b[1])
		}
	}
	if p.flags&pcapgen.SYN != 0 {
		o = append(o, 2, 4, byte(mss>>8), byte(mss&0xff), 1, 1, 4, 2)
	}
	return o
}

// run writes the segments into a capture (IPv4, or IPv6 with v6) and
// analyses it in packet mode with tcpDiag.
func run(t *testing.T, v6 bool, pkts []pkt) *result {
	t.Helper()
	dir := t.TempDir()
	cap := filepath.Join(dir, "x.pcap")
	f, err := os.Create(cap)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pcapgen.NewWriter(f, 1, 65535)
	if err != nil {
		t.Fatal(err)
	}
	a, b := []byte{10, 0, 0, 1}, []byte{10, 0, 0, 2}
	if v6 {
		a = []byte{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
		b = []byte{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}
	}
	for _, p := range pkts {
		fr := pcapgen.Frame{Src: a, Dst: b, Proto: 6, SrcPort: 40000, DstPort: 80, Seq: p.seq, Ack: p.ack,
			Flags: p.flags, Window: p.win, IPID: p.id, DF: true, TOS: p.tos, TCPOpts: options(p), Payload: make([]byte, p.n)}
		if fr.Window == 0 {
			fr.Window = 65000
		}
		if p.fromB {
			fr.Src, fr.Dst, fr.SrcPort, fr.DstPort = b, a, 80, 40000
		}
		fr.SrcMAC[5], fr.DstMAC[5] = 1, 2
		data := fr.Build(nil)
		ns := int64(p.at*1e6) + 1_700_000_000_000_000_000
		if err := w.WritePacket(uint32(ns/1e9), uint32(ns%1e9), data, len(data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	opts := &engine.Options{ReadFile: cap, Inputs: []string{cap}, Prefix: dir + "/", PacketMode: true,
		Plugins: diagPlugins, Sets: map[string]string{}}
	if st := engine.Run(opts, plugins.Registry(), io.Discard, io.Discard); st != 0 {
		t.Fatalf("run exit %d", st)
	}
	res := &result{flow: map[string]map[string]string{}}
	for _, row := range readTable(t, filepath.Join(dir, "x_flows.txt")) {
		res.flow[row["dir"]] = row
	}
	for _, row := range readTable(t, filepath.Join(dir, "x_packets.txt")) {
		res.classes = append(res.classes, row["diagPktClass"])
	}
	return res
}

// readTable reads a flowsift text file into rows keyed by column name.
func readTable(t *testing.T, path string) []map[string]string {
	t.Helper()
	tb, err := t2diff.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return tb.Records()
}

// conn builds a connection step by step: a handshake whose timing puts the
// capture at the receiver of A's data (nearServer) or at its sender, then
// data and ACKs.
type conn struct {
	pkts     []pkt
	now      float64
	rtt      float64
	idA, idB uint16
	ts       bool
	tsA      uint32
	idStride uint16 // 1: per-socket counter; larger: no usable ID order
}

func newConn(nearServer, ts bool, rtt float64) *conn {
	c := &conn{rtt: rtt, idA: 100, idB: 7000, ts: ts, tsA: 5000, idStride: 1}
	tsv := func(v uint32) uint32 {
		if ts {
			return v
		}
		return 0
	}
	c.add(pkt{seq: isnA, flags: pcapgen.SYN, id: c.nextA(), ts: tsv(c.tsA)})
	if nearServer {
		c.now += 0.1
	} else {
		c.now += rtt
	}
	c.add(pkt{fromB: true, seq: isnB, ack: isnA + 1, flags: pcapgen.SYN | pcapgen.ACK, ts: tsv(9000), ecr: tsv(c.tsA)})
	if nearServer {
		c.now += rtt
	} else {
		c.now += 0.1
	}
	c.add(pkt{seq: isnA + 1, ack: isnB + 1, flags: pcapgen.ACK, id: c.nextA(), ts: tsv(c.tsA), ecr: tsv(9000)})
	return c
}

func (c *conn) nextA() uint16 {
	id := c.idA
	c.idA += c.idStride
	return id
}

func (c *conn) add(p pkt) {
	p.at = c.now
	if p.fromB && p.id == 0 {
		p.id = c.idB
		c.idB++
	}
	c.pkts = append(c.pkts, p)
}

// data adds A's segment number i (0-based, mss bytes each) after gap ms,
// with the next IP ID and the timestamp tick given.
func (c *conn) data(gap float64, i int, tick uint32) {
	c.now += gap
	p := pkt{seq: isnA + 1 + uint32(i*mss), ack: isnB + 1, flags: pcapgen.ACK | pcapgen.PSH, n: mss, id: c.nextA()}
	if c.ts {
		p.ts, p.ecr = c.tsA+tick, 9000
	}
	c.add(p)
}

// ack adds B's acknowledgement of A's first n segments, with SACK blocks
// given as segment ranges [from, to).
func (c *conn) ack(gap float64, n int, sack ...[2]int) {
	c.now += gap
	p := pkt{fromB: true, seq: isnB + 1, ack: isnA + 1 + uint32(n*mss), flags: pcapgen.ACK}
	if c.ts {
		p.ts, p.ecr = 9001, c.tsA
	}
	for _, s := range sack {
		p.sack = append(p.sack, [2]uint32{isnA + 1 + uint32(s[0]*mss), isnA + 1 + uint32(s[1]*mss)})
	}
	c.add(p)
}
