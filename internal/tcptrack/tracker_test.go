package tcptrack

import (
	"encoding/binary"
	"testing"
	"unsafe"

	"flowsift/internal/decode"
	"flowsift/internal/flow"
)

// header builds a TCP header with the given options (padded to 4 bytes).
func header(seq, ack uint32, flags uint8, win uint16, opts ...byte) []byte {
	for len(opts)%4 != 0 {
		opts = append(opts, 0)
	}
	h := make([]byte, 20, 20+len(opts))
	binary.BigEndian.PutUint32(h[4:], seq)
	binary.BigEndian.PutUint32(h[8:], ack)
	h[12] = byte((20+len(opts))/4) << 4
	h[13] = flags
	binary.BigEndian.PutUint16(h[14:], win)
	binary.BigEndian.PutUint16(h[16:], 0xbeef)
	return append(h, opts...)
}

func packet(h []byte, payload int, snap int) *decode.Packet {
	return &decode.Packet{Kind: decode.KindIPv4, Proto: 6, Data: h[:snap], SnapL4Len: snap, L4Len: len(h) + payload,
		IPID: 0x1234, ToS: 0x03, TTL: 63, TsSec: 2, TsNsec: 5}
}

func TestParseOptions(t *testing.T) {
	opts := []byte{2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10, 0, 0, 0, 9, 0, 0, 0, 4,
		5, 18, 0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0, 40}
	h := header(100, 200, FlagSYN|FlagACK, 65535, opts...)
	var s Segment
	Parse(packet(h, 7, len(h)), &s)
	want := Segment{TCP: true, Snap: len(h), HasSeqAck: true, HasFlags: true, Seq: 100, Ack: 200, Flags: FlagSYN | FlagACK,
		Win: 65535, HdrLen: len(h), Checksum: 0xbeef, PayloadLen: 7, OptsOK: true, HasMSS: true, MSS: 1460, HasWS: true, WS: 7,
		SACKPerm: true, HasTS: true, TSval: 9, TSecr: 4, NSACK: 2, SACK: [MaxSACK]Block{{10, 20}, {30, 40}},
		IPv4: true, IPID: 0x1234, ECN: 3, TTL: 63, Time: 2e9 + 5}
	if s != want {
		t.Errorf("got  %+v\nwant %+v", s, want)
	}
	if s.SeqLen() != 8 {
		t.Errorf("SeqLen %d, want 8 (payload and SYN)", s.SeqLen())
	}
}

// TestParseLinuxOptions: NOP, NOP, timestamps (read at once), then SACK
// blocks, which the walk reads on.
func TestParseLinuxOptions(t *testing.T) {
	h := header(100, 200, FlagACK, 1000, 1, 1, 8, 10, 0, 0, 1, 2, 0, 0, 3, 4, 1, 1, 5, 10, 0, 0, 0, 50, 0, 0, 0, 60)
	var s Segment
	Parse(packet(h, 0, len(h)), &s)
	if !s.OptsOK || !s.HasTS || s.TSval != 0x102 || s.TSecr != 0x304 || s.NSACK != 1 || s.SACK[0] != (Block{50, 60}) {
		t.Errorf("got %+v", s)
	}
}

func TestParseSnapped(t *testing.T) {
	h := header(100, 200, FlagACK, 1000, 8, 10, 0, 0, 0, 9, 0, 0, 0, 4)
	for _, tc := range []struct {
		snap               int
		seqAck, flags, opt bool
	}{{8, false, false, false}, {12, true, false, false}, {16, true, true, false}, {24, true, true, false}, {len(h), true, true, true}} {
		var s Segment
		Parse(packet(h, 0, tc.snap), &s)
		if !s.TCP || s.HasSeqAck != tc.seqAck || s.HasFlags != tc.flags || s.OptsOK != tc.opt || s.HasTS != tc.opt {
			t.Errorf("snap %d: %+v", tc.snap, s)
		}
	}
	// A malformed option ends the walk; what came before stays.
	var s Segment
	bad := header(1, 2, FlagACK, 1, 2, 4, 0x05, 0xb4, 5, 40, 0, 0)
	Parse(packet(bad, 0, len(bad)), &s)
	if !s.HasMSS || s.NSACK != 0 {
		t.Errorf("malformed SACK: %+v", s)
	}
	// Later fragments and other protocols carry no TCP header.
	p := packet(h, 0, len(h))
	p.FragOff = 3
	Parse(p, &s)
	if s.TCP {
		t.Error("later fragment parsed as TCP")
	}
}

func TestSeqExtWraps(t *testing.T) {
	e := &Endpoint{}
	if got := e.SeqExt(0xfffffff0); got != 1<<32+0xfffffff0 {
		t.Fatalf("first: %#x", got)
	}
	Update(e, nil, &Segment{TCP: true, HasFlags: true, Seq: 0xfffffff0, Flags: FlagACK, PayloadLen: 0x20})
	if e.SndMaxExt != 1<<32+0xfffffff0+0x20 {
		t.Fatalf("SndMaxExt %#x", e.SndMaxExt)
	}
	// After the wrap, 0x10 lies 0x20 above 0xfffffff0.
	if got := e.SeqExt(0x10); got != e.SndMaxExt {
		t.Errorf("SeqExt(0x10) = %#x, want %#x", got, e.SndMaxExt)
	}
	// And a retransmission from before the wrap stays below it.
	if got := e.SeqExt(0xfffffff8); got >= e.SndMaxExt {
		t.Errorf("SeqExt(0xfffffff8) = %#x not below %#x", got, e.SndMaxExt)
	}
}

func TestWindowScaleNeedsBothSYNs(t *testing.T) {
	c, s := &Endpoint{}, &Endpoint{}
	Update(c, s, &Segment{TCP: true, HasFlags: true, Flags: FlagSYN, Win: 64240, OptsOK: true, HasWS: true, WS: 7})
	if c.WSOK {
		t.Fatal("scale agreed after one SYN")
	}
	Update(s, c, &Segment{TCP: true, HasFlags: true, Flags: FlagSYN | FlagACK, Win: 65160, OptsOK: true, HasWS: true, WS: 9})
	Update(c, s, &Segment{TCP: true, HasFlags: true, Flags: FlagACK, Win: 502})
	if !c.WSOK || !s.WSOK || c.EffWin != 502<<7 {
		t.Errorf("WSOK %v/%v EffWin %d, want %d", c.WSOK, s.WSOK, c.EffWin, 502<<7)
	}
	if !c.SynSeen || c.SynAckSeen || !s.SynAckSeen {
		t.Errorf("SYN flags: client %v/%v server %v", c.SynSeen, c.SynAckSeen, s.SynAckSeen)
	}
}

func TestIPIDCounters(t *testing.T) {
	perSocket, global := &Endpoint{}, &Endpoint{}
	for i := 0; i < 20; i++ {
		Update(perSocket, nil, &Segment{TCP: true, HasFlags: true, Flags: FlagACK, IPv4: true, IPID: uint16(65530 + i)})
		Update(global, nil, &Segment{TCP: true, HasFlags: true, Flags: FlagACK, IPv4: true, IPID: uint16(7 * i)})
	}
	if !perSocket.IPIDSequential() || !perSocket.IPIDPerSocket() {
		t.Errorf("per-socket counter (wrapping) not recognised: %+v", perSocket)
	}
	if !global.IPIDSequential() || global.IPIDPerSocket() {
		t.Errorf("host-wide counter taken for per-socket: %+v", global)
	}
	random := &Endpoint{}
	for i := 0; i < 20; i++ {
		Update(random, nil, &Segment{TCP: true, HasFlags: true, Flags: FlagACK, IPv4: true, IPID: uint16(i * 40503)})
	}
	if random.IPIDSequential() {
		t.Error("random IDs taken for a counter")
	}
}

func TestTrackerEndpointsOnDemand(t *testing.T) {
	tr := New()
	a := &flow.Flow{Slot: 3}
	h := header(5, 0, FlagSYN, 100)
	tr.NewFlow(a)
	tr.Begin(a, packet(h, 0, len(h)))
	if tr.Self() != nil || tr.Seg.Seq != 5 {
		t.Fatal("endpoints kept without KeepEndpoints, or no parse")
	}
	tr.End()
	tr.KeepEndpoints()
	tr.NewFlow(a)
	p := packet(h, 0, len(h))
	tr.Begin(a, p)
	if !tr.Current(p) || tr.Self() == nil || tr.Self().Active {
		t.Fatal("state before the first packet")
	}
	tr.End()
	if e := tr.Endpoint(a); !e.Active || !e.SynSeen || e.SndMaxExt != e.SeqExt(5)+1 {
		t.Errorf("after End: %+v", e)
	}
}

// TestDeferredEndpoints: the only reader of the endpoints may take their
// updates (ResetEndpoint, Fold) before the first packet; the packet side
// then parses the options but neither hands out nor updates endpoints,
// and Fold leaves an endpoint as End would.
func TestDeferredEndpoints(t *testing.T) {
	two := New()
	two.KeepEndpoints()
	two.KeepEndpoints()
	if two.DeferEndpoints() {
		t.Error("deferred with two readers")
	}
	late := New()
	late.KeepEndpoints()
	first := &flow.Flow{Slot: 0}
	late.NewFlow(first)
	late.Begin(first, packet(header(1, 0, FlagSYN, 100), 0, 20))
	late.End()
	if late.DeferEndpoints() {
		t.Error("deferred after a packet")
	}

	a, b := &flow.Flow{Slot: 1}, &flow.Flow{Slot: 2}
	a.Partner, b.Partner = b, a
	ts := []byte{1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 4, 1, 1, 5, 10, 0, 0, 0, 10, 0, 0, 0, 20}
	pkts := []struct {
		f *flow.Flow
		h []byte
	}{
		{a, header(100, 0, FlagSYN, 1000, 3, 3, 7)},
		{b, header(500, 101, FlagSYN|FlagACK, 2000, 3, 3, 5)},
		{a, header(101, 501, FlagACK, 900, ts...)},
		{b, header(501, 150, FlagACK, 800, ts...)},
	}
	kept, deferred := New(), New()
	kept.KeepEndpoints()
	deferred.KeepEndpoints()
	if !deferred.DeferEndpoints() {
		t.Fatal("the only reader could not defer")
	}
	for _, f := range []*flow.Flow{a, b} {
		kept.NewFlow(f)
		deferred.NewFlow(f)
		deferred.ResetEndpoint(f.Slot)
	}
	for i, x := range pkts {
		kept.Begin(x.f, packet(x.h, 49, len(x.h)))
		kept.End()
		deferred.Begin(x.f, packet(x.h, 49, len(x.h)))
		if deferred.Self() != nil || deferred.Peer() != nil {
			t.Fatalf("packet %d: endpoints handed out on the packet side", i)
		}
		if deferred.Seg != kept.Seg {
			t.Fatalf("packet %d: segment %+v, want %+v (options parsed)", i, deferred.Seg, kept.Seg)
		}
		seg := deferred.Seg // the reader's copy
		deferred.End()
		self, peer := deferred.Endpoints(x.f.Slot, x.f.Partner.Slot)
		before := *self
		Fold(self, peer, &seg)
		if *self == before {
			t.Fatalf("packet %d: Fold changed nothing", i)
		}
	}
	for _, f := range []*flow.Flow{a, b} {
		if got, want := *deferred.Endpoint(f), *kept.Endpoint(f); got != want {
			t.Errorf("slot %d: %+v, want %+v", f.Slot, got, want)
		}
	}
	if _, peer := deferred.Endpoints(1, -1); peer != nil {
		t.Error("a lone flow has a peer")
	}
}

// TestEndpointIsOneLine keeps an endpoint on one cache line: a packet
// touches its own direction's and its partner's.
func TestEndpointIsOneLine(t *testing.T) {
	if n := unsafe.Sizeof(Endpoint{}); n != 64 {
		t.Errorf("Endpoint is %d bytes, want 64", n)
	}
}

// BenchmarkParse parses the segment most captures are full of: an ACK
// with Linux' options (NOP, NOP, timestamps).
func BenchmarkParse(b *testing.B) {
	h := header(100, 200, FlagACK, 1000, 1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 4)
	p := packet(h, 1448, len(h))
	var s Segment
	for b.Loop() {
		Parse(p, &s)
	}
	if !s.HasTS {
		b.Fatal("no timestamps")
	}
}

// FuzzParseOptions: parseOptions, which reads NOP, NOP, timestamps at
// once, gives on any options what reading them one by one as RFC 9293
// §3.2 lays them out gives (refOptions, the test's own reader).
func FuzzParseOptions(f *testing.F) {
	f.Add([]byte{1, 1, 8, 10, 0, 0, 1, 2, 0, 0, 3, 4, 1, 1, 5, 10, 0, 0, 0, 50, 0, 0, 0, 60})
	f.Add([]byte{1, 1, 8, 10, 0, 0, 1, 2, 0, 0, 3})
	f.Add([]byte{2, 4, 5, 0xb4, 1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 4})
	f.Add([]byte{1, 1, 8, 10, 0, 0, 1, 2, 0, 0, 3, 4, 8, 10, 0, 0, 0, 7, 0, 0, 0, 8})
	f.Fuzz(func(t *testing.T, o []byte) {
		var got, want Segment
		parseOptions(o, &got)
		refOptions(o, &want)
		if got != want {
			t.Fatalf("options % x:\ngot  %+v\nwant %+v", o, got, want)
		}
	})
}

// refOptions reads options kind by kind: End ends them, NOP is one byte,
// every other kind has a length byte counting itself and the kind; a
// length below 2 or past the end ends the reading.
func refOptions(o []byte, s *Segment) {
	for len(o) > 0 && o[0] != 0 {
		if o[0] == 1 {
			o = o[1:]
			continue
		}
		if len(o) < 2 || o[1] < 2 || int(o[1]) > len(o) {
			return
		}
		kind, v := o[0], o[2:o[1]]
		o = o[o[1]:]
		switch {
		case kind == 2 && len(v) == 2:
			s.HasMSS, s.MSS = true, binary.BigEndian.Uint16(v)
		case kind == 3 && len(v) == 1:
			s.HasWS, s.WS = true, v[0]
		case kind == 4:
			s.SACKPerm = true
		case kind == 5:
			for ; len(v) >= 8 && s.NSACK < MaxSACK; v = v[8:] {
				s.SACK[s.NSACK] = Block{binary.BigEndian.Uint32(v), binary.BigEndian.Uint32(v[4:])}
				s.NSACK++
			}
		case kind == 8 && len(v) == 8:
			s.HasTS, s.TSval, s.TSecr = true, binary.BigEndian.Uint32(v), binary.BigEndian.Uint32(v[4:])
		}
	}
}
