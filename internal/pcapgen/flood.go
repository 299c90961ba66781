package pcapgen

import (
	"io"
	"time"
)

// Flood writes an Ethernet pcap of n TCP SYN packets (n < 0: until a
// write fails), each opening a distinct flow: sources 10.x.y.z with
// varying ports towards 192.168.0.1:80, like a SYN flood. Packets are
// spaced by gap starting at 2009-02-13 23:31:30 UTC.
func Flood(w io.Writer, n int, gap time.Duration) error {
	pw, err := NewWriter(w, LinkEthernet, 65535)
	if err != nil {
		return err
	}
	fr := Frame{
		SrcMAC: [6]byte{0x02, 0, 0, 0, 0, 1}, DstMAC: [6]byte{0x02, 0, 0, 0, 0, 2},
		Src: []byte{10, 0, 0, 0}, Dst: []byte{192, 168, 0, 1}, Proto: 6,
		DstPort: 80, Flags: SYN, Window: 1024,
		TCPOpts: []byte{2, 4, 0x05, 0xb4},
	}
	buf := make([]byte, 0, 128)
	t := time.Unix(1234567890, 0)
	for i := 0; n < 0 || i < n; i++ {
		// 2^24 addresses × 4 ports: distinct 5-tuples for 67 million flows.
		fr.Src[1], fr.Src[2], fr.Src[3] = byte(i>>16), byte(i>>8), byte(i)
		fr.SrcPort = uint16(1024 + i>>24)
		fr.Seq = uint32(i) * 2654435761
		fr.IPID = uint16(i)
		ns := t.UnixNano()
		if err := pw.WritePacket(uint32(ns/1e9), uint32(ns%1e9), fr.Build(buf[:0]), 0); err != nil {
			return err
		}
		t = t.Add(gap)
	}
	return pw.Flush()
}
