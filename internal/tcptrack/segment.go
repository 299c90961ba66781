// Package tcptrack is the TCP state that several plugins read: the current
// packet's TCP header parsed once (Segment) and, per flow direction, the
// endpoint state it updates (Endpoint: initial sequence number, highest
// sequence sent, acknowledgements, window and scale, MSS, SACK, timestamps,
// IP ID history). The engine parses each packet before the plugins run
// (Begin) and folds it into the endpoint after them (End), so during a
// plugin's Packet call the endpoints hold the state before this packet and
// Seg describes the packet itself. Sequence arithmetic is wrap-safe: values
// are extended to 64 bits relative to the stream (SeqExt).
package tcptrack

import (
	"encoding/binary"

	"flowsift/internal/decode"
)

// TCP flag bits.
const (
	FlagFIN = 0x01
	FlagSYN = 0x02
	FlagRST = 0x04
	FlagPSH = 0x08
	FlagACK = 0x10
	FlagURG = 0x20
	FlagECE = 0x40
	FlagCWR = 0x80
)

// MaxSACK is the most SACK blocks one option can carry (40 option bytes).
const MaxSACK = 4

// Block is a SACK block [Left, Right) in the peer's sequence space.
type Block struct{ Left, Right uint32 }

// Segment is the current packet's TCP header. Fields beyond the captured
// bytes are zero and the Has* flags say what was captured.
type Segment struct {
	// TCP is true for an IP flow's TCP packet carrying the start of its
	// TCP header (not a later fragment).
	TCP bool
	// Snap is the number of captured TCP header bytes (up to the header
	// length).
	Snap int
	// HasSeqAck: sequence and acknowledgement numbers captured (12 bytes);
	// HasFlags: flags and window captured (16 bytes).
	HasSeqAck, HasFlags bool
	Seq, Ack            uint32
	Flags               uint8
	Win                 uint16
	HdrLen              int
	Checksum            uint16
	// PayloadLen is the TCP payload length from the IP length fields (not
	// the captured length); 0 when the header length is inconsistent.
	PayloadLen int

	// Options (only when the whole option area was captured: OptsOK).
	OptsOK   bool
	HasMSS   bool
	MSS      uint16
	HasWS    bool
	WS       uint8
	SACKPerm bool
	HasTS    bool
	TSval    uint32
	TSecr    uint32
	NSACK    int
	SACK     [MaxSACK]Block

	// IP fields that TCP analysis uses.
	IPv4 bool
	IPID uint16
	ECN  uint8 // 0 not-ECT, 1 ECT(1), 2 ECT(0), 3 CE
	TTL  uint8

	// Time of the packet in nanoseconds since the epoch.
	Time int64
}

// Data reports whether the segment carries payload.
func (s *Segment) Data() bool { return s.PayloadLen > 0 }

// SeqLen is the sequence space the segment occupies (payload, SYN, FIN).
func (s *Segment) SeqLen() int {
	n := s.PayloadLen
	if s.Flags&FlagSYN != 0 {
		n++
	}
	if s.Flags&FlagFIN != 0 {
		n++
	}
	return n
}

// Parse fills s from p. It reads only captured bytes and never allocates.
func Parse(p *decode.Packet, s *Segment) { parse(p, s, true) }

// parse fills s; the options are walked only when opts is set (OptsOK
// then says whether they were captured).
func parse(p *decode.Packet, s *Segment, opts bool) {
	*s = Segment{}
	s.Time = int64(p.TsSec)*1e9 + int64(p.TsNsec)
	if p.Kind == decode.KindL2 {
		return
	}
	s.IPv4 = p.Kind == decode.KindIPv4
	s.IPID = uint16(p.IPID)
	s.ECN = p.ToS & 3
	s.TTL = p.TTL
	if p.Proto != 6 || p.FragOff != 0 || p.SnapL4Len <= 0 || p.L4Off < 0 || p.L4Off >= len(p.Data) {
		return
	}
	h := p.Data[p.L4Off:]
	if len(h) > p.SnapL4Len {
		h = h[:p.SnapL4Len]
	}
	s.TCP = true
	if len(h) < 12 {
		s.Snap = len(h)
		return
	}
	s.HasSeqAck = true
	s.Seq = binary.BigEndian.Uint32(h[4:])
	s.Ack = binary.BigEndian.Uint32(h[8:])
	if len(h) < 16 {
		s.Snap = len(h)
		return
	}
	s.HasFlags = true
	s.HdrLen = int(h[12]>>4) * 4
	s.Flags = h[13]
	s.Win = binary.BigEndian.Uint16(h[14:])
	if len(h) >= 18 {
		s.Checksum = binary.BigEndian.Uint16(h[16:])
	}
	if s.HdrLen >= 20 && p.L4Len >= s.HdrLen {
		s.PayloadLen = p.L4Len - s.HdrLen
	}
	if s.HdrLen < 20 {
		s.Snap = min(len(h), 20)
		return
	}
	s.Snap = min(len(h), s.HdrLen)
	if opts && len(h) >= s.HdrLen {
		s.OptsOK = true
		parseOptions(h[20:s.HdrLen], s)
	}
}

// parseOptions reads the options the trackers use; a malformed option ends
// the walk (what was read before stays).
func parseOptions(o []byte, s *Segment) {
	// Nearly every segment of a Linux or BSD connection starts its
	// options with NOP, NOP, timestamps (RFC 7323 appendix A): read
	// them at once, and walk only what follows (SACK blocks).
	if len(o) >= 12 && binary.BigEndian.Uint32(o) == 0x0101080a {
		s.HasTS = true
		s.TSval = binary.BigEndian.Uint32(o[4:])
		s.TSecr = binary.BigEndian.Uint32(o[8:])
		o = o[12:]
	}
	for i := 0; i < len(o); {
		k := o[i]
		if k == 0 {
			return
		}
		if k == 1 {
			i++
			continue
		}
		if i+1 >= len(o) {
			return
		}
		n := int(o[i+1])
		if n < 2 || i+n > len(o) {
			return
		}
		v := o[i+2 : i+n]
		switch k {
		case 2:
			if len(v) == 2 {
				s.HasMSS, s.MSS = true, binary.BigEndian.Uint16(v)
			}
		case 3:
			if len(v) == 1 {
				s.HasWS, s.WS = true, v[0]
			}
		case 4:
			s.SACKPerm = true
		case 5:
			for j := 0; j+8 <= len(v) && s.NSACK < MaxSACK; j += 8 {
				s.SACK[s.NSACK] = Block{binary.BigEndian.Uint32(v[j:]), binary.BigEndian.Uint32(v[j+4:])}
				s.NSACK++
			}
		case 8:
			if len(v) == 8 {
				s.HasTS = true
				s.TSval = binary.BigEndian.Uint32(v)
				s.TSecr = binary.BigEndian.Uint32(v[4:])
			}
		}
		i += n
	}
}
