// Package pcapgen writes classic pcap files and builds Ethernet/IPv4/IPv6
// TCP, UDP and ICMP frames with correct checksums. It makes the sample
// capture of the quick start, hand-built test inputs and the flow-flood
// capture of the robustness tests.
package pcapgen

import (
	"bufio"
	"encoding/binary"
	"io"
)

// Writer writes a little-endian, nanosecond-resolution pcap file.
type Writer struct {
	w   *bufio.Writer
	hdr [16]byte
}

// LinkEthernet is LINKTYPE_ETHERNET.
const LinkEthernet = 1

// NewWriter writes the file header and returns the writer.
func NewWriter(w io.Writer, linkType uint32, snaplen uint32) (*Writer, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b23c4d) // nanosecond magic
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], snaplen)
	binary.LittleEndian.PutUint32(h[20:], linkType)
	if _, err := bw.Write(h[:]); err != nil {
		return nil, err
	}
	return &Writer{w: bw}, nil
}

// WritePacket writes one record; wireLen 0 means len(data).
func (w *Writer) WritePacket(sec, nsec uint32, data []byte, wireLen int) error {
	if wireLen == 0 {
		wireLen = len(data)
	}
	binary.LittleEndian.PutUint32(w.hdr[0:], sec)
	binary.LittleEndian.PutUint32(w.hdr[4:], nsec)
	binary.LittleEndian.PutUint32(w.hdr[8:], uint32(len(data)))
	binary.LittleEndian.PutUint32(w.hdr[12:], uint32(wireLen))
	if _, err := w.w.Write(w.hdr[:]); err != nil {
		return err
	}
	_, err := w.w.Write(data)
	return err
}

// Flush writes buffered data.
func (w *Writer) Flush() error { return w.w.Flush() }

// TCP flag bits.
const (
	FIN = 0x01
	SYN = 0x02
	RST = 0x04
	PSH = 0x08
	ACK = 0x10
	URG = 0x20
	ECE = 0x40
	CWR = 0x80
)

// Frame describes one packet to build. Src/Dst are 4 bytes (IPv4) or 16
// bytes (IPv6).
type Frame struct {
	SrcMAC, DstMAC [6]byte
	VLAN           []uint16 // TCIs, outermost first
	Src, Dst       []byte
	Proto          uint8 // 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6
	TTL            uint8
	TOS            uint8
	IPID           uint16
	DF             bool
	SrcPort        uint16
	DstPort        uint16
	Seq, Ack       uint32
	Flags          uint8
	Window         uint16
	TCPOpts        []byte // raw option bytes, padded to 4 by Build
	ICMPType       uint8
	ICMPCode       uint8
	Payload        []byte
	BadL4Checksum  bool
}

// Build appends the Ethernet frame to b and returns it.
func (f *Frame) Build(b []byte) []byte {
	b = append(b, f.DstMAC[:]...)
	b = append(b, f.SrcMAC[:]...)
	for _, tci := range f.VLAN {
		b = append(b, 0x81, 0x00, byte(tci>>8), byte(tci))
	}
	v6 := len(f.Src) == 16
	if v6 {
		b = append(b, 0x86, 0xdd)
	} else {
		b = append(b, 0x08, 0x00)
	}
	l4 := f.l4()
	ttl := f.TTL
	if ttl == 0 {
		ttl = 64
	}
	if v6 {
		ip := make([]byte, 40)
		ip[0] = 0x60 | f.TOS>>4
		ip[1] = f.TOS << 4
		binary.BigEndian.PutUint16(ip[4:], uint16(len(l4)))
		ip[6] = f.Proto
		ip[7] = ttl
		copy(ip[8:], f.Src)
		copy(ip[24:], f.Dst)
		f.fillL4Checksum(l4, pseudo6(f.Src, f.Dst, f.Proto, len(l4)))
		b = append(b, ip...)
	} else {
		ip := make([]byte, 20)
		ip[0] = 0x45
		ip[1] = f.TOS
		binary.BigEndian.PutUint16(ip[2:], uint16(20+len(l4)))
		binary.BigEndian.PutUint16(ip[4:], f.IPID)
		if f.DF {
			ip[6] = 0x40
		}
		ip[8] = ttl
		ip[9] = f.Proto
		copy(ip[12:], f.Src)
		copy(ip[16:], f.Dst)
		binary.BigEndian.PutUint16(ip[10:], ^Checksum(0, ip))
		var ps uint32
		if f.Proto != 1 {
			ps = pseudo4(f.Src, f.Dst, f.Proto, len(l4))
		}
		f.fillL4Checksum(l4, ps)
		b = append(b, ip...)
	}
	return append(b, l4...)
}

func (f *Frame) l4() []byte {
	switch f.Proto {
	case 6:
		opts := f.TCPOpts
		for len(opts)%4 != 0 {
			opts = append(opts[:len(opts):len(opts)], 0)
		}
		h := make([]byte, 20+len(opts), 20+len(opts)+len(f.Payload))
		binary.BigEndian.PutUint16(h[0:], f.SrcPort)
		binary.BigEndian.PutUint16(h[2:], f.DstPort)
		binary.BigEndian.PutUint32(h[4:], f.Seq)
		binary.BigEndian.PutUint32(h[8:], f.Ack)
		h[12] = byte((20 + len(opts)) / 4 << 4)
		h[13] = f.Flags
		binary.BigEndian.PutUint16(h[14:], f.Window)
		copy(h[20:], opts)
		return append(h, f.Payload...)
	case 17:
		h := make([]byte, 8, 8+len(f.Payload))
		binary.BigEndian.PutUint16(h[0:], f.SrcPort)
		binary.BigEndian.PutUint16(h[2:], f.DstPort)
		binary.BigEndian.PutUint16(h[4:], uint16(8+len(f.Payload)))
		return append(h, f.Payload...)
	default: // ICMP / ICMPv6 echo-style header
		h := make([]byte, 8, 8+len(f.Payload))
		h[0], h[1] = f.ICMPType, f.ICMPCode
		binary.BigEndian.PutUint16(h[4:], f.SrcPort) // identifier
		binary.BigEndian.PutUint16(h[6:], f.DstPort) // sequence
		return append(h, f.Payload...)
	}
}

func (f *Frame) fillL4Checksum(l4 []byte, pseudo uint32) {
	off := 2
	switch f.Proto {
	case 6:
		off = 16
	case 17:
		off = 6
	}
	sum := ^Checksum(pseudo, l4)
	if f.Proto == 17 && sum == 0 {
		sum = 0xffff
	}
	if f.BadL4Checksum {
		sum ^= 0x5a5a
	}
	binary.BigEndian.PutUint16(l4[off:], sum)
}

// Checksum folds the one's-complement sum of data onto initial.
func Checksum(initial uint32, data []byte) uint16 {
	sum := initial
	for i := 0; i+1 < len(data); i += 2 {
		sum += uint32(data[i])<<8 | uint32(data[i+1])
	}
	if len(data)%2 == 1 {
		sum += uint32(data[len(data)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return uint16(sum)
}

func pseudo4(src, dst []byte, proto uint8, l int) uint32 {
	var s uint32
	for i := 0; i < 4; i += 2 {
		s += uint32(src[i])<<8 | uint32(src[i+1])
		s += uint32(dst[i])<<8 | uint32(dst[i+1])
	}
	return s + uint32(proto) + uint32(l)
}

func pseudo6(src, dst []byte, proto uint8, l int) uint32 {
	var s uint32
	for i := 0; i < 16; i += 2 {
		s += uint32(src[i])<<8 | uint32(src[i+1])
		s += uint32(dst[i])<<8 | uint32(dst[i+1])
	}
	return s + uint32(proto) + uint32(l)
}
