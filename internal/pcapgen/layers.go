package pcapgen

import "encoding/binary"

// Layer builders for hand-made encapsulations: each returns one header
// followed by its payload, so that frames are written inside out, e.g.
// Eth(dst, src, 0x0800, IPv4(17, a, b, UDP(…))).

// Cat concatenates byte slices into a new one.
func Cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// Be16 is v in network byte order.
func Be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

// Be32 is v in network byte order.
func Be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// Le16 is v in little-endian byte order (radiotap, PPI, Prism, NFLOG).
func Le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }

// Le32 is v in little-endian byte order.
func Le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// Eth is an Ethernet II header with type (or 802.3 length) typ.
func Eth(dst, src [6]byte, typ uint16, payload []byte) []byte {
	return Cat(dst[:], src[:], Be16(typ), payload)
}

// VLAN is an 802.1Q tag body (TCI, inner type) to follow a TPID.
func VLAN(tci, typ uint16, payload []byte) []byte {
	return Cat(Be16(tci), Be16(typ), payload)
}

// IPv4 is a 20-byte IPv4 header (TTL 64, DF, valid checksum) carrying
// proto, with payload.
func IPv4(proto uint8, src, dst [4]byte, payload []byte) []byte {
	h := make([]byte, 20)
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
	binary.BigEndian.PutUint16(h[4:], 0x4242)
	h[6] = 0x40
	h[8] = 64
	h[9] = proto
	copy(h[12:], src[:])
	copy(h[16:], dst[:])
	binary.BigEndian.PutUint16(h[10:], ^Checksum(0, h))
	return append(h, payload...)
}

// IPv6 is a 40-byte IPv6 header (hop limit 64) with next header nh.
func IPv6(nh uint8, src, dst [16]byte, payload []byte) []byte {
	h := make([]byte, 40)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	h[6] = nh
	h[7] = 64
	copy(h[8:], src[:])
	copy(h[24:], dst[:])
	return append(h, payload...)
}

// UDP is a UDP header (checksum 0: none) with payload.
func UDP(sp, dp uint16, payload []byte) []byte {
	return Cat(Be16(sp), Be16(dp), Be16(uint16(8+len(payload))), Be16(0), payload)
}

// TCP is a 20-byte TCP header with flags and payload (checksum 0).
func TCP(sp, dp uint16, flags uint8, payload []byte) []byte {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h[0:], sp)
	binary.BigEndian.PutUint16(h[2:], dp)
	binary.BigEndian.PutUint32(h[4:], 1000)
	h[12] = 5 << 4
	h[13] = flags
	binary.BigEndian.PutUint16(h[14:], 8192)
	return append(h, payload...)
}

// SNAP is an 802.2 LLC/SNAP header (AA AA 03, OUI 0) announcing typ.
func SNAP(typ uint16, payload []byte) []byte {
	return Cat([]byte{0xaa, 0xaa, 0x03, 0, 0, 0}, Be16(typ), payload)
}

// IEEE 802.11 frame control flags (second byte).
const (
	WLANToDS    = 0x01
	WLANFromDS  = 0x02
	WLANProtect = 0x40
	WLANOrder   = 0x80
)

// WLANData is an IEEE 802.11 data frame: frame control (subtype sub,
// flags), duration, the three or four addresses, sequence control, QoS
// control for QoS subtypes (sub&8) and HT control when WLANOrder is set
// on a QoS frame. addr holds address 1..4 in frame order (the fourth is
// used with ToDS and FromDS both set).
func WLANData(sub, flags uint8, addr [4][6]byte, qos uint16, payload []byte) []byte {
	b := []byte{0x08 | sub<<4, flags, 0x2c, 0x00}
	b = append(b, addr[0][:]...)
	b = append(b, addr[1][:]...)
	b = append(b, addr[2][:]...)
	b = append(b, 0x10, 0x00) // sequence control
	if flags&(WLANToDS|WLANFromDS) == WLANToDS|WLANFromDS {
		b = append(b, addr[3][:]...)
	}
	if sub&8 != 0 {
		b = append(b, Le16(qos)...)
		if flags&WLANOrder != 0 {
			b = append(b, 0, 0, 0, 0)
		}
	}
	return append(b, payload...)
}

// CAPWAP header flags (RFC 5415 §4.3).
const (
	CAPWAPFlagT = 0x100 // native frame of the wireless binding (else 802.3)
	CAPWAPFlagF = 0x080 // fragment
	CAPWAPFlagL = 0x040 // last fragment
	CAPWAPFlagW = 0x020 // wireless specific information present
	CAPWAPFlagM = 0x010 // radio MAC address present
	CAPWAPFlagK = 0x008 // keep-alive
)

// CAPWAP is a CAPWAP header (preamble version 0 type 0) with radio id 1,
// wireless binding wbid and flags; radioMAC and wsi are the optional
// fields (each padded to 4 bytes), fragID/fragOff the fragment fields
// (offset in 8-byte units).
func CAPWAP(wbid uint8, flags uint32, radioMAC, wsi []byte, fragID, fragOff uint16, payload []byte) []byte {
	var opt []byte
	if len(radioMAC) > 0 {
		flags |= CAPWAPFlagM
		opt = append(opt, byte(len(radioMAC)))
		opt = append(opt, radioMAC...)
		for len(opt)%4 != 0 {
			opt = append(opt, 0)
		}
	}
	if len(wsi) > 0 {
		flags |= CAPWAPFlagW
		w := append([]byte{byte(len(wsi))}, wsi...)
		for len(w)%4 != 0 {
			w = append(w, 0)
		}
		opt = append(opt, w...)
	}
	hlen := uint32(8+len(opt)) / 4
	w0 := hlen<<19 | 1<<14 | uint32(wbid&0x1f)<<9 | flags&0x1ff
	return Cat(Be32(w0), Be16(fragID), Be16(fragOff<<3), opt, payload)
}
