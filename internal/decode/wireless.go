package decode

import "flowsift/internal/header"

// wirelessLink dissects the 802.11 link types: radiotap and Prism headers
// (little-endian lengths) or a bare 802.11 frame.
func (d *Decoder) wirelessLink() {
	p := d.p
	b := d.b
	hl := 0
	switch p.LinkType & 0x03ffffff {
	case LinkRadiotap:
		d.add("radiotap")
		hl = int(header.U8(b, 2)) | int(header.U8(b, 3))<<8
		if hl < 8 {
			hl = d.n + 1
		}
	case LinkPrism:
		d.add("prism")
		hl = 144
		if d.n >= 8 && header.Be32(b, 0) == 0x00000044 {
			hl = int(b[4]) | int(b[5])<<8 | int(b[6])<<16 | int(b[7])<<24
		}
	}
	if hl > d.n || hl < 0 {
		p.Status |= StatL2Snapped
		return
	}
	d.wlan(hl)
}

// CAPWAP (RFC 5415) header fields: the first 32-bit word holds the
// preamble, HLEN (header length in 4-byte words, optional radio MAC and
// wireless-specific information included), RID, WBID and the T/F/L/W/M/K
// flags; the second word the fragment id and offset.
const (
	capwapPortControl = 5246
	capwapPortData    = 5247
	capwapMinSize     = 8
	capwapFlagT       = 0x100 // payload in the native format of WBID (else 802.3)
	capwapFlagF       = 0x080 // fragment
	capwapFlagK       = 0x008 // data channel keep-alive: message elements, no frame
	capwapWBID80211   = 1
)

// capwap dissects a CAPWAP header at in; data tells the data channel (port
// 5247, "capwap.data") from the control channel ("capwap"). Only data
// packets carry a frame; it is decapsulated unless the packet is a later
// fragment, a keep-alive or DTLS-protected.
func (d *Decoder) capwap(in int, data bool) {
	p := d.p
	b := d.b
	p.Status |= StatCAPWAP
	if !data {
		d.add("capwap")
		return
	}
	d.add("capwap.data")
	if d.n-in < capwapMinSize {
		return
	}
	w := header.Be32(b, in)
	if w>>24 != 0 { // version 0, type 0; type 1 is a DTLS record
		p.Status |= StatStopDissect
		return
	}
	hl := int(w>>19&0x1f) * 4
	if hl < capwapMinSize || w&capwapFlagK != 0 {
		return
	}
	if w&capwapFlagF != 0 && header.Be16(b, in+6)>>3 != 0 {
		// A later fragment holds the middle of the inner frame.
		return
	}
	off := in + hl
	if w&capwapFlagT == 0 {
		d.ethernet(off)
		return
	}
	if w>>9&0x1f != capwapWBID80211 {
		p.Status |= StatStopDissect
		return
	}
	if d.deeper() {
		d.wlan(off)
	}
}

// IEEE 802.11 frame control (first byte: version, type, subtype; second
// byte: flags).
const (
	wlanTypeData    = 2
	wlanSubNoData   = 0x4 // null and CF-only subtypes carry no body
	wlanSubQoS      = 0x8
	wlanFlagToDS    = 0x01
	wlanFlagFromDS  = 0x02
	wlanFlagProtect = 0x40
	wlanFlagOrder   = 0x80 // QoS data: an HT control field follows QoS control
	wlanHdrSize     = 24
	wlanQoSAMSDU    = 0x80 // QoS control: the body is an A-MSDU
)

// wlanAddr gives the offsets of the destination and source addresses an
// 802.11 data frame's ToDS/FromDS bits imply (IEEE 802.11 table 9-26):
// no DS (DA, SA, BSSID), to AP (BSSID, SA, DA), from AP (DA, BSSID, SA),
// WDS (RA, TA, DA, SA).
var wlanAddr = [4][2]int{{4, 10}, {16, 10}, {4, 16}, {16, 24}}

// wlan dissects an 802.11 frame at off: data frames continue with their
// LLC/SNAP body; management, control, null-data, protected and A-MSDU
// frames stop dissection.
func (d *Decoder) wlan(off int) {
	p := d.p
	b := d.b
	d.add("wlan")
	fc := header.U8(b, off)
	flags := header.U8(b, off+1)
	ds := flags & (wlanFlagToDS | wlanFlagFromDS)
	hl := wlanHdrSize
	if ds == wlanFlagToDS|wlanFlagFromDS {
		hl += 6 // fourth address
	}
	if d.n-off < hl {
		p.Status |= StatL2Snapped
		return
	}
	typ, sub := fc>>2&3, fc>>4
	if fc&3 != 0 || typ != wlanTypeData || sub&wlanSubNoData != 0 {
		p.Status |= StatStopDissect
		return
	}
	amsdu := false
	if sub&wlanSubQoS != 0 {
		amsdu = header.U8(b, off+hl)&wlanQoSAMSDU != 0
		hl += 2
		if flags&wlanFlagOrder != 0 {
			hl += 4
		}
	}
	// Inside a tunnel the MACs stay those of the last Ethernet header
	// (basicFlow.md §1.3 takes Ethernet MACs); on an 802.11 link they are
	// the frame's source and destination.
	if !d.haveIP {
		a := wlanAddr[ds]
		d.hasMAC = true
		copy(d.dst[:], b[off+a[0]:off+a[0]+6])
		copy(d.src[:], b[off+a[1]:off+a[1]+6])
		d.l2Snap, d.l2Pad = off+hl, off+hl
	}
	if flags&wlanFlagProtect != 0 || amsdu {
		p.Status |= StatStopDissect
		return
	}
	d.llc(off+hl, -1)
}
