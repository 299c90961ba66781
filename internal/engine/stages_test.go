package engine

import (
	"io"
	"testing"

	"flowsift/internal/capture"
	"flowsift/internal/decode"
	"flowsift/internal/flow"
	"flowsift/internal/sink"
)

// stagePackets reads one pass of the corpus (see loadLoop) into decoded
// packets with their own data, and the flow each one found in a table.
func stagePackets(b *testing.B, r *runner, lc *loopCapture) ([]decode.Packet, []*flow.Flow) {
	lc.reset(1)
	f, err := capture.NewReader("loop", lc)
	if err != nil {
		b.Fatal(err)
	}
	var pkts []decode.Packet
	var flows []*flow.Flow
	var rec capture.Record
	for f.Next(&rec) == nil {
		if rec.CapLen == 0 {
			continue
		}
		p := decode.Packet{TsSec: rec.TsSec, TsNsec: rec.TsNsec, CapLen: rec.CapLen,
			WireLen: rec.WireLen, LinkType: rec.LinkType, Data: append([]byte(nil), rec.Data...)}
		r.dec.Decode(&p)
		p.View = append([]byte(nil), p.View...)
		p.Data = p.View[:len(p.Data):len(p.Data)]
		if p.Kind == decode.KindNone {
			continue
		}
		r.table.Expire(p.TsSec, p.TsNsec)
		fl, res := r.table.Packet(&p)
		if res == flow.Created {
			for _, pl := range r.plugins {
				pl.NewFlow(fl, &p)
			}
		}
		pkts = append(pkts, p)
		flows = append(flows, fl)
	}
	return pkts, flows
}

// BenchmarkStages times the parts of the per-packet path on one pass of
// the corpus in memory; one op is one packet (or one flow row):
// decode, flow lookup (timeouts and table), each plugin's update, and the
// text formatting of flow rows.
func BenchmarkStages(b *testing.B) {
	lc := loadLoop(b)
	r := newTestRunner(b, false, lc)
	pkts, flows := stagePackets(b, r, lc)
	n := len(pkts)

	b.Run("decode", func(b *testing.B) {
		d := decode.NewDecoder(decode.DefaultConfig())
		var p decode.Packet
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			q := &pkts[i%n]
			p = decode.Packet{TsSec: q.TsSec, TsNsec: q.TsNsec, CapLen: q.CapLen, WireLen: q.WireLen,
				LinkType: q.LinkType, Data: q.Data}
			d.Decode(&p)
		}
	})

	b.Run("flowLookup", func(b *testing.B) {
		var global uint64
		t := flow.NewTable(0, func(*flow.Flow, byte) {}, &global)
		// Each pass through the packets is shifted 1000 s, so flows time
		// out and are created again as on a long capture.
		shift := uint64(0)
		run := func(from, to int) {
			for i := from; i < to; i++ {
				if i%n == 0 {
					shift += 1000 + uint64(pkts[n-1].TsSec-pkts[0].TsSec)
				}
				p := pkts[i%n]
				p.TsSec += shift
				t.Expire(p.TsSec, p.TsNsec)
				t.Packet(&p)
			}
		}
		run(0, 2*n) // warm up: storage and index sized
		b.ReportAllocs()
		b.ResetTimer()
		run(0, b.N)
	})

	for _, pl := range r.plugins {
		b.Run("update/"+pl.Reg.Name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				pl.Packet(flows[i%n], &pkts[i%n], nil)
			}
		})
	}

	b.Run("flowRow", func(b *testing.B) {
		w := sink.NewText(io.Discard)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			f := flows[i%n]
			w.Col()
			w.Dir('A')
			w.Col()
			w.U(f.FlowInd)
			for _, pl := range r.plugins {
				pl.FlowOutput(f, w)
			}
			w.EndRow()
		}
	})
}
