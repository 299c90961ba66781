package decode

import (
	"slices"
	"testing"

	"flowsift/internal/pcapgen"

	"flowsift/internal/header"
)

// fuzzLinks are the link types FuzzDecode exercises (selected by a byte).
var fuzzLinks = []uint32{LinkEthernet, LinkRaw, LinkNull, LinkSLL, LinkSLL2, LinkPPP,
	LinkCHDLC, LinkIPv4, LinkIPv6, LinkNFLOG, LinkPKTAP, LinkIPoIB, LinkFDDI, LinkRadiotap,
	LinkPPI, LinkFrameRelay, LinkPrism, LinkJuniperEther, LinkIEEE80211, LinkSymantec,
	LinkJuniperPPP, LinkJuniperPPPoE}

// FuzzDecode checks that arbitrary frames never panic, that every offset
// stays inside the capture and that the lengths are consistent.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	// Every hand-built frame of the dissector cases, on its link type.
	for _, c := range pcapgen.DissectCases() {
		if i := slices.Index(fuzzLinks, c.Link); i >= 0 {
			f.Add(c.Data, uint8(i))
		}
	}
	cfg := DefaultConfig()
	cfg.L4Sums = true
	d := NewDecoder(cfg)
	f.Fuzz(func(t *testing.T, data []byte, sel uint8) {
		link := fuzzLinks[int(sel)%len(fuzzLinks)]
		wire := len(data) + int(sel)%3*100 // sometimes snapped
		p := Packet{Num: 1, CapLen: uint32(len(data)), WireLen: uint32(wire), LinkType: link, Data: data}
		d.Decode(&p)
		n := len(data)
		for name, off := range map[string]int{"L3Off": p.L3Off, "L4Off": p.L4Off, "L7Off": p.L7Off,
			"L2Payload": p.L2Payload, "IP6HHOff": p.IP6HHOff, "IP6DOff": p.IP6DOff} {
			if off < 0 || off > n {
				t.Fatalf("%s = %d outside [0,%d]", name, off, n)
			}
		}
		if p.SnapL3Len < 0 || p.SnapL4Len < 0 || p.SnapL7Len < 0 || p.SnapL3Len > n {
			t.Fatalf("snap lengths %d %d %d (caplen %d)", p.SnapL3Len, p.SnapL4Len, p.SnapL7Len, n)
		}
		if p.SnapL7Len > p.SnapL4Len || p.SnapL4Len > p.SnapL3Len {
			t.Fatalf("snap lengths not nested: %d %d %d", p.SnapL3Len, p.SnapL4Len, p.SnapL7Len)
		}
		if len(p.Desc()) > MaxDesc {
			t.Fatalf("description %d bytes", len(p.Desc()))
		}
		ip := p.Kind == KindIPv4 || p.Kind == KindIPv6
		if ip && (p.L7Len < 0 && p.Kind == KindIPv4 && p.PktLen != 0 || !(p.L7Len < 0 && p.Kind == KindIPv4) && p.PktLen != uint16(p.L7Len)) {
			t.Fatalf("PktLen %d for l7 %d", p.PktLen, p.L7Len)
		}
		if p.L4Summed && header.Fold(p.L4Sum) != header.Fold(header.Sum(p.Data[p.L4Off:p.L4Off+p.L4Len])) {
			t.Fatalf("L4Sum %#x of %d bytes at %d", p.L4Sum, p.L4Len, p.L4Off)
		}
		_ = p.L7()
		_ = header.TCP(p.Data[p.L4Off:]).Options()
		_ = header.IPv4(p.Data[p.L3Off:]).Options()
	})
}
