package capture

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

func TestLinkTypeName(t *testing.T) {
	// Expected strings are libpcap 1.10.3's (pcap_datalink_val_to_*).
	for _, tc := range []struct {
		lt, dlt    uint32
		desc, name string
	}{
		{0, 0, "BSD loopback", "NULL"},
		{1, 1, "Ethernet", "EN10MB"},
		{9, 9, "PPP", "PPP"},
		{10, 10, "FDDI", "FDDI"},
		{12, 12, "Raw IP", "RAW"},
		{101, 12, "Raw IP", "RAW"},
		{100, 11, "RFC 1483 LLC-encapsulated ATM", "ATM_RFC1483"},
		{106, 19, "Linux Classical IP over ATM", "ATM_CLIP"},
		{50, 50, "PPP over serial", "PPP_SERIAL"},
		{104, 104, "Cisco HDLC", "C_HDLC"},
		{105, 105, "802.11", "IEEE802_11"},
		{107, 107, "Frame Relay", "FRELAY"},
		{113, 113, "Linux cooked v1", "LINUX_SLL"},
		{127, 127, "802.11 plus radiotap header", "IEEE802_11_RADIO"},
		{192, 192, "Per-Packet Information", "PPI"},
		{228, 228, "Raw IPv4", "IPV4"},
		{229, 229, "Raw IPv6", "IPV6"},
		{239, 239, "Linux netfilter log messages", "NFLOG"},
		{242, 242, "RFC 4391 IP-over-Infiniband", "IPOIB"},
		{258, 258, "Apple DLT_PKTAP", "PKTAP"},
		{276, 276, "Linux cooked v2", "LINUX_SLL2"},
		{289, 289, "ATSC Link-Layer Protocol packets", "ATSC_ALP"},
		{0x30000001, 1, "Ethernet", "EN10MB"}, // FCS bits masked
		{2, 2, "", ""},
		{147, 147, "", ""}, // USER0: no name in libpcap
		{100000, 100000, "", ""},
	} {
		desc, name := LinkTypeName(tc.lt)
		if desc != tc.desc || name != tc.name || DLT(tc.lt) != tc.dlt {
			t.Errorf("%d: (%q, %q) DLT %d, want (%q, %q) %d", tc.lt, desc, name, DLT(tc.lt), tc.desc, tc.name, tc.dlt)
		}
	}
	for i := 1; i < len(linkTypes); i++ {
		if linkTypes[i-1].dlt >= linkTypes[i].dlt {
			t.Fatalf("linkTypes not sorted at %d", i)
		}
	}
}

func TestOpenStdin(t *testing.T) {
	p := newPcap(binary.LittleEndian, magicMicro, 2, 4, 0, 1).rec(3, 4, 1, 1, []byte("z"))
	path := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(path, p.b, 0o644); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	saved := os.Stdin
	os.Stdin = in
	defer func() { os.Stdin = saved }()
	f, err := Open("-")
	if err != nil {
		t.Fatal(err)
	}
	recs, errs := readAll(t, f)
	if len(recs) != 1 || len(errs) != 0 || f.Size() != 0 || f.name != "stdin" {
		t.Errorf("recs %+v errs %v size %d name %q", recs, errMsgs(errs), f.Size(), f.name)
	}
}
