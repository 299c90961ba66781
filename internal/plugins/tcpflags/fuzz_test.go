package tcpflags

import (
	"testing"

	"flowsift/internal/decode"
	"flowsift/internal/flow"
	"flowsift/internal/plugin"
	"flowsift/internal/plugins/ptest"
)

// fuzzPad pads TCP option bytes to a multiple of 4 and cuts them to the 40
// bytes a data offset can announce.
func fuzzPad(o []byte) []byte {
	if len(o) > 40 {
		o = o[:40]
	}
	for len(o)%4 != 0 {
		o = append(o, 0)
	}
	return o
}

// FuzzTCPOptions feeds arbitrary TCP (and MPTCP) option bytes through the
// plugin in a three-packet exchange: SYN with opts1, SYN/ACK with opts2,
// then a data segment with opts1 again. doff, when non-zero, overrides the
// data offset nibble (lying header lengths); cut snaps the packets. Every
// packet goes through the real decoder so the Packet is what the engine
// would hand over. Rows must have exactly one field per declared column.
func FuzzTCPOptions(f *testing.F) {
	ts := []byte{8, 10, 0, 0, 0, 1, 0, 0, 0, 0}
	f.Add([]byte{2, 4, 0x05, 0xb4, 4, 2, 1, 3, 3, 7}, []byte{2, 4, 0x05, 0xb4, 1, 1, 4, 2}, uint8(0), uint16(0), uint8(0))
	f.Add([]byte{30, 12, 0x00, 0x81, 1, 2, 3, 4, 5, 6, 7, 8}, []byte{30, 8, 0x20, 0x05, 0, 0, 0, 0, 30, 12, 0x11, 0x07, 1, 2, 3, 4, 5, 6, 7, 8}, uint8(0), uint16(0), uint8(1))
	f.Add([]byte{30, 20, 0x30, 0x01, 10, 0, 0, 9, 0x1f, 0x90, 1, 2, 3, 4, 5, 6, 7, 8}, []byte{30, 4, 0x40, 1, 30, 3, 0x50, 30, 2, 0x60}, uint8(0), uint16(0), uint8(0))
	f.Add(append([]byte{5, 10, 0, 0, 0, 1, 0, 0, 0, 2}, ts...), []byte{4, 2}, uint8(0), uint16(0), uint8(0))
	f.Add([]byte{2, 40, 1}, []byte{8, 0xff}, uint8(15), uint16(0), uint8(0))
	f.Add([]byte{3, 3, 14, 0, 30, 255}, []byte{0, 0, 30, 1}, uint8(6), uint16(30), uint8(1))
	f.Add([]byte{30, 0}, []byte{30, 40, 0x20, 0xff}, uint8(1), uint16(45), uint8(0))
	f.Fuzz(func(t *testing.T, opts1, opts2 []byte, doff uint8, cut uint16, variant uint8) {
		c := defaultConfig()
		if variant&1 != 0 {
			c.flgCnt, c.ipTos = true, 1
		}
		env := &plugin.Env{}
		pl := New(env, c)
		nPkt, nFlow := len(pl.PacketColumns()), len(pl.FlowColumns())
		dec := decode.NewDecoder(decode.DefaultConfig())
		a, b := &flow.Flow{Slot: 0}, &flow.Flow{Slot: 1, Status: decode.StatInverted}
		a.Partner, b.Partner = b, a
		segs := []seg{
			{t: 0, flags: fSYN, seq: 1000, win: 1024, opts: fuzzPad(opts1)},
			{fromB: true, t: 0.01, flags: fSYN | fACK, seq: 5000, ack: 1001, win: 2048, opts: fuzzPad(opts2)},
			{t: 0.02, flags: fACK | fPSH, seq: 1001, ack: 5001, win: 1024, opts: fuzzPad(opts1), payload: 10},
		}
		for i, s := range segs {
			built := build(s)
			data := built.Data
			if doff != 0 {
				data[20+12] = doff << 4
			}
			wire := len(data)
			if cut != 0 && int(cut) < len(data) {
				data = data[:cut]
			}
			p := &decode.Packet{Num: uint64(i + 1), TsSec: built.TsSec, TsNsec: built.TsNsec,
				CapLen: uint32(len(data)), WireLen: uint32(wire), LinkType: decode.LinkRaw, Data: data}
			dec.Decode(p)
			if p.Kind != decode.KindIPv4 {
				continue
			}
			fl := a
			if s.fromB {
				fl = b
			}
			if fl.FirstSec == 0 {
				fl.Start(p.TsSec, p.TsNsec)
				pl.NewFlow(fl, p)
			} else {
				fl.Arrive(p.TsSec, p.TsNsec)
			}
			env.Packets++
			var row ptest.Row
			pl.Packet(fl, p, &row)
			if n := len(row.Done()); n != nPkt {
				t.Fatalf("packet %d: %d fields, want %d", i+1, n, nPkt)
			}
		}
		for _, fl := range []*flow.Flow{a, b} {
			if fl.FirstSec == 0 {
				continue
			}
			var row ptest.Row
			pl.FlowOutput(fl, &row)
			if n := len(row.Done()); n != nFlow {
				t.Fatalf("flow row: %d fields, want %d", n, nFlow)
			}
		}
	})
}
