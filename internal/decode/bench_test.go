package decode

import (
	"errors"
	"io"
	"path/filepath"
	"testing"

	"flowsift/internal/capture"
)

// benchFrames loads every frame of a corpus capture into memory.
func benchFrames(b *testing.B, rel string) []capture.Record {
	shared := sharedDir(b)
	cf, err := capture.Open(filepath.Join(shared, "corpus", rel))
	if err != nil {
		b.Skipf("capture: %v", err)
	}
	defer cf.Close()
	var out []capture.Record
	var rec capture.Record
	for {
		err := cf.Next(&rec)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		r := rec
		r.Data = append([]byte(nil), rec.Data...)
		out = append(out, r)
	}
	return out
}

// BenchmarkDecode decodes the frames of a mixed capture (Ethernet, VLAN,
// IPv4/IPv6, ARP, LLC, ...); one op is one frame.
func BenchmarkDecode(b *testing.B) {
	for _, rel := range []string{"public/mixed-real/many-protocols.pcap", "public/encapsulation/erspan.pcap"} {
		for _, stale := range []bool{true, false} {
			name := filepath.Base(rel)
			if !stale {
				name += "/nostale"
			}
			b.Run(name, func(b *testing.B) {
				frames := benchFrames(b, rel)
				if len(frames) == 0 {
					b.Skip("no frames")
				}
				cfg := DefaultConfig()
				cfg.StaleBytes = stale
				d := NewDecoder(cfg)
				var p Packet
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					r := &frames[i%len(frames)]
					p = Packet{Num: uint64(i), CapLen: r.CapLen, WireLen: r.WireLen, LinkType: r.LinkType, Data: r.Data}
					d.Decode(&p)
				}
			})
		}
	}
}
