package tcpdiag

import (
	"encoding/binary"
	"strconv"
	"testing"

	"flowsift/internal/decode"
	"flowsift/internal/flow"
	"flowsift/internal/plugin"
	"flowsift/internal/plugins/ptest"
	"flowsift/internal/tcptrack"
)

// FuzzTracker feeds arbitrary TCP headers, in both directions of one
// connection, through the shared tracker and tcpDiag: nothing may panic,
// and every count column must stay a number.
//
// Each record: ctl (bit 0 direction, bit 1 IPv6, bits 2-3 ECN), IP ID (2),
// payload length (2), time step in ms (1), header length (1), then that
// many raw TCP header bytes.
func FuzzTracker(f *testing.F) {
	rec := func(ctl byte, id, plen uint16, dt byte, hdr []byte) []byte {
		b := []byte{ctl}
		b = binary.BigEndian.AppendUint16(b, id)
		b = binary.BigEndian.AppendUint16(b, plen)
		return append(append(b, dt, byte(len(hdr))), hdr...)
	}
	tcp := func(seq, ack uint32, flags byte, opts ...byte) []byte {
		h := make([]byte, 20, 20+len(opts))
		binary.BigEndian.PutUint32(h[4:], seq)
		binary.BigEndian.PutUint32(h[8:], ack)
		h[12] = byte((20+len(opts))/4) << 4
		h[13] = flags
		h[15] = 0xff
		return append(h, opts...)
	}
	sack := []byte{1, 1, 5, 18, 0, 0, 0, 50, 0, 0, 0, 90, 0, 0, 0, 1, 0, 0, 0, 40}
	var seed []byte
	seed = append(seed, rec(0, 1, 0, 0, tcp(0, 0, 0x02, 2, 4, 5, 0xb4, 4, 2, 1, 1))...)
	seed = append(seed, rec(1, 9, 0, 1, tcp(7, 1, 0x12, 2, 4, 5, 0xb4, 4, 2, 1, 1))...)
	for i := uint32(0); i < 6; i++ {
		seed = append(seed, rec(0, uint16(2+i), 10, 1, tcp(1+10*i, 8, 0x10))...)
	}
	seed = append(seed, rec(1, 10, 0, 20, tcp(8, 21, 0x10, sack...))...)
	seed = append(seed, rec(0, 20, 10, 1, tcp(21, 8, 0x10))...)
	seed = append(seed, rec(0, 20, 10, 0, tcp(21, 8, 0x10))...)
	seed = append(seed, rec(0x0c, 21, 10, 1, tcp(0xfffffff0, 8, 0x10))...)
	f.Add(seed)
	f.Add([]byte{})
	f.Add(rec(2, 0, 0xffff, 255, tcp(0xffffffff, 0xffffffff, 0xff, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8)))

	f.Fuzz(func(t *testing.T, data []byte) {
		env := &plugin.Env{TCP: tcptrack.New()}
		p := New(env)
		a := &flow.Flow{Slot: 0, IPVer: 4, FlowInd: 1}
		b := &flow.Flow{Slot: 1, IPVer: 4, FlowInd: 1, Status: decode.StatInverted}
		a.Partner, b.Partner = b, a
		for _, fl := range []*flow.Flow{a, b} {
			env.TCP.NewFlow(fl)
			p.NewFlow(fl, nil)
		}
		var now int64 = 1e18
		var pk decode.Packet
		for len(data) >= 7 {
			ctl, id, plen, dt, n := data[0], binary.BigEndian.Uint16(data[1:]), int(binary.BigEndian.Uint16(data[3:])), data[5], int(data[6])
			data = data[7:]
			n = min(n, len(data), 60)
			hdr := data[:n]
			data = data[n:]
			now += int64(dt) * 1e6
			fl := a
			if ctl&1 != 0 {
				fl = b
			}
			pk = decode.Packet{Kind: decode.KindIPv4, Proto: 6, Data: hdr, SnapL4Len: len(hdr), L4Len: 20 + plen,
				IPID: uint32(id), ToS: ctl >> 2 & 3, TsSec: uint64(now / 1e9), TsNsec: uint32(now % 1e9)}
			if ctl&2 != 0 {
				pk.Kind = decode.KindIPv6
			}
			if len(hdr) >= 13 {
				pk.L4Len = int(hdr[12]>>4)*4 + plen
			}
			env.TCP.Begin(fl, &pk)
			row := &ptest.Row{}
			p.Packet(fl, &pk, row)
			env.TCP.End()
		}
		for _, fl := range []*flow.Flow{a, b} {
			row := &ptest.Row{}
			p.FlowOutput(fl, row)
			cells := row.Done()
			if len(cells) != len(flowCols) {
				t.Fatalf("%d cells for %d columns", len(cells), len(flowCols))
			}
			for i, c := range flowCols {
				if c.Type == "U32" {
					if _, err := strconv.ParseUint(cells[i], 10, 32); err != nil {
						t.Fatalf("%s = %q", c.Name, cells[i])
					}
				}
			}
		}
	})
}
