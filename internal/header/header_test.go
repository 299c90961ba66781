package header

import "testing"

func TestIPv4View(t *testing.T) {
	b := IPv4{0x46, 0xb8, 0x00, 0x54, 0x12, 0x34, 0x40, 0x00, 0x3f, 0x06, 0xab, 0xcd,
		10, 0, 0, 1, 192, 168, 1, 2, 1, 1, 0, 0}
	if !b.Valid() || b.Version() != 4 || b.IHL() != 6 || b.HeaderLength() != 24 || b.TOS() != 0xb8 ||
		b.TotalLength() != 84 || b.ID() != 0x1234 || b.FlagsFragOff() != 0x4000 || b.FragmentOffset() != 0 ||
		b.MoreFragments() || b.TTL() != 63 || b.Protocol() != 6 || b.Checksum() != 0xabcd {
		t.Fatalf("fields wrong")
	}
	if b.SrcAddr() != [4]byte{10, 0, 0, 1} || b.DstAddr() != [4]byte{192, 168, 1, 2} {
		t.Fatalf("addresses %v %v", b.SrcAddr(), b.DstAddr())
	}
	if o := b.Options(); len(o) != 4 || o[0] != 1 {
		t.Fatalf("options %v", o)
	}
	// Truncated views read zeros.
	s := b[:10]
	if s.Valid() || s.Checksum() != 0 || s.SrcAddr() != [4]byte{} || s.Protocol() != 6 || len(s.Options()) != 0 {
		t.Fatalf("truncated view")
	}
	if (IPv4{}).TotalLength() != 0 || (IPv4{}).Version() != 0 {
		t.Fatal("empty view")
	}
}

func TestTCPView(t *testing.T) {
	b := TCP{0x01, 0xbb, 0xc3, 0x50, 0, 0, 0, 1, 0, 0, 0, 2, 0x60, 0x12, 0xff, 0xff, 0x12, 0x34, 0, 0, 2, 4, 5, 0xb4}
	if b.SrcPort() != 443 || b.DstPort() != 50000 || b.Seq() != 1 || b.Ack() != 2 || b.DataOffset() != 6 ||
		b.HeaderLength() != 24 || b.Flags() != TCPFlagSYN|TCPFlagACK || b.Window() != 65535 || b.Checksum() != 0x1234 {
		t.Fatal("fields wrong")
	}
	if o := b.Options(); len(o) != 4 || o[1] != 4 {
		t.Fatalf("options %v", o)
	}
	if o := b[:22].Options(); len(o) != 2 {
		t.Fatalf("clipped options %v", o)
	}
	if b[:3].DstPort() != 0 || b[:3].SrcPort() != 443 {
		t.Fatal("truncated ports")
	}
}

func TestIPv6AndExtViews(t *testing.T) {
	b := make(IPv6, 40)
	b[0], b[1], b[2], b[3] = 0x6a, 0xb1, 0x23, 0x45
	b[4], b[5], b[6], b[7] = 0, 20, 44, 64
	b[8], b[39] = 0x20, 1
	if !b.Valid() || b.Version() != 6 || b.TrafficClass() != 0xab || b.FlowLabel() != 0x12345 ||
		b.PayloadLength() != 20 || b.NextHeader() != 44 || b.HopLimit() != 64 || b.SrcAddr()[0] != 0x20 || b.DstAddr()[15] != 1 {
		t.Fatal("fields wrong")
	}
	f := IPv6Fragment{17, 0, 0x05, 0xa9, 0xde, 0xad, 0xbe, 0xef}
	if f.NextHeader() != 17 || f.FragmentOffset() != 181 || !f.More() || f.ID() != 0xdeadbeef || f.OffsetWord() != 0x05a9 {
		t.Fatal("fragment header")
	}
	if (IPv6Ext{6, 1}).Length() != 16 || (IPv6Ext{}).Length() != 8 {
		t.Fatal("ext length")
	}
}

func TestGREHeaderLength(t *testing.T) {
	for _, tc := range []struct {
		flags uint16
		want  int
	}{{0x0000, 4}, {0x8000, 8}, {0x2000, 8}, {0x3000, 12}, {0xb000, 16}, {0x3081, 16}, {0x2001, 8}} {
		g := GRE{byte(tc.flags >> 8), byte(tc.flags), 0x88, 0x0b}
		if g.HeaderLength() != tc.want || g.Protocol() != 0x880b {
			t.Errorf("flags %#04x: length %d, want %d", tc.flags, g.HeaderLength(), tc.want)
		}
	}
}

func TestSmallViews(t *testing.T) {
	e := Ethernet{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x81, 0}
	if !e.Valid() || e.DstAddr() != [6]byte{1, 2, 3, 4, 5, 6} || e.SrcAddr() != [6]byte{7, 8, 9, 10, 11, 12} || e.Type() != 0x8100 {
		t.Fatal("ethernet")
	}
	v := VLAN{0xa0, 0x64, 0x08, 0x00}
	if v.TCI() != 0xa064 || v.ID() != 100 || v.Type() != 0x0800 || !IsVLANTPID(0x88a8) || IsVLANTPID(0x0800) {
		t.Fatal("vlan")
	}
	u := UDP{0, 53, 0xd4, 0x31, 0, 20, 0xbe, 0xef}
	if !u.Valid() || u.SrcPort() != 53 || u.DstPort() != 54321 || u.Length() != 20 || u.Checksum() != 0xbeef {
		t.Fatal("udp")
	}
	m := MPLS{0x00, 0x01, 0x41, 0x40}
	if m.Label() != 20 || !m.BottomOfStack() || m.TTL() != 64 {
		t.Fatal("mpls")
	}
	i := ICMP{8, 0, 0xf7, 0xff, 0, 1, 0, 2}
	if !i.Valid() || i.Type() != 8 || i.ID() != 1 || i.Seq() != 2 || i.Checksum() != 0xf7ff {
		t.Fatal("icmp")
	}
}
