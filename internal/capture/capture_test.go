package capture

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var orders = []order{binary.LittleEndian, binary.BigEndian}

func TestPcapVariants(t *testing.T) {
	for _, bo := range orders {
		for _, tc := range []struct {
			magic uint32
			frac  uint32
			nsec  uint32
		}{
			{magicMicro, 123456, 123456000},
			{magicNano, 123456789, 123456789},
			{magicKuz, 999999, 999999000},
		} {
			p := newPcap(bo, tc.magic, 2, 4, 65535, 1).
				rec(1000, tc.frac, 3, 60, []byte("abc")).
				rec(1001, 0, 0, 0, nil).
				rec(1002, 1, 5, 5, []byte("hello"))
			f := openBytes(t, p.b)
			recs, errs := readAll(t, f)
			if len(errs) != 0 {
				t.Fatalf("%v %x: errors %v", bo, tc.magic, errMsgs(errs))
			}
			small := uint32(1000)
			if tc.magic == magicNano {
				small = 1
			}
			want := []got{
				{1000, tc.nsec, 3, 60, 1, "abc"},
				{1001, 0, 0, 0, 1, ""},
				{1002, small, 5, 5, 1, "hello"},
			}
			if !reflect.DeepEqual(recs, want) {
				t.Errorf("%v %x: got %+v want %+v", bo, tc.magic, recs, want)
			}
			if f.Format() != "pcap" || f.LinkType() != 1 || f.Snaplen() != 65535 || f.BytesRead() != int64(len(p.b)) || f.Size() != 0 {
				t.Errorf("%v %x: format %q lt %d snap %d read %d/%d size %d", bo, tc.magic, f.Format(), f.LinkType(), f.Snaplen(), f.BytesRead(), len(p.b), f.Size())
			}
		}
	}
}

func TestPcapHeaderQuirks(t *testing.T) {
	// FCS bits in the link type field are masked; snaplen 0 becomes 262144.
	p := newPcap(binary.LittleEndian, magicMicro, 2, 4, 0, 0x30000001).rec(1, 2, 1, 1, []byte{9})
	f := openBytes(t, p.b)
	if f.LinkType() != 1 || f.Snaplen() != 262144 {
		t.Errorf("lt %d snap %d, want 1 262144", f.LinkType(), f.Snaplen())
	}
	// USBPcap's maximum is 1 MiB (libpcap max_snaplen_for_dlt).
	f = openBytes(t, newPcap(binary.LittleEndian, magicMicro, 2, 4, 0, 249).b)
	if f.Snaplen() != 1<<20 {
		t.Errorf("USBPcap snap %d, want %d", f.Snaplen(), 1<<20)
	}
	// Version 2.2: caplen and len are swapped in the record header.
	p = newPcap(binary.BigEndian, magicMicro, 2, 2, 100, 1).rec(5, 6, 60, 4, []byte("wxyz"))
	recs, errs := readAll(t, openBytes(t, p.b))
	if len(errs) != 0 || len(recs) != 1 || recs[0].caplen != 4 || recs[0].wire != 60 || recs[0].data != "wxyz" {
		t.Errorf("swapped lengths: %+v %v", recs, errMsgs(errs))
	}
	// Version 2.3: swapped only when caplen > len.
	p = newPcap(binary.BigEndian, magicMicro, 2, 3, 100, 1).rec(5, 6, 60, 4, []byte("wxyz")).rec(5, 7, 2, 9, []byte("ab"))
	recs, errs = readAll(t, openBytes(t, p.b))
	if len(errs) != 0 || len(recs) != 2 || recs[0].caplen != 4 || recs[1].caplen != 2 || recs[1].wire != 9 {
		t.Errorf("maybe-swapped lengths: %+v %v", recs, errMsgs(errs))
	}
	// Microsecond overflow carries into seconds.
	p = newPcap(binary.LittleEndian, magicMicro, 2, 4, 100, 1).rec(5, 2500000, 0, 0, nil)
	recs, _ = readAll(t, openBytes(t, p.b))
	if len(recs) != 1 || recs[0].sec != 7 || recs[0].nsec != 500000000 {
		t.Errorf("usec carry: %+v", recs)
	}
}

func TestPcapCaplenAboveSnaplen(t *testing.T) {
	// Like libpcap (trunc-hdr.pcap in the corpus): cut to the snap length,
	// skip the rest, no error.
	p := newPcap(binary.LittleEndian, magicMicro, 2, 4, 4, 1).
		rec(1, 0, 8, 78, []byte("abcdefgh")).
		rec(2, 0, 3, 3, []byte("xyz"))
	recs, errs := readAll(t, openBytes(t, p.b))
	want := []got{{1, 0, 4, 78, 1, "abcd"}, {2, 0, 3, 3, 1, "xyz"}}
	if len(errs) != 0 || !reflect.DeepEqual(recs, want) {
		t.Errorf("got %+v %v want %+v", recs, errMsgs(errs), want)
	}
}

func TestPcapTruncated(t *testing.T) {
	p := newPcap(binary.LittleEndian, magicMicro, 2, 4, 100, 1).rec(1, 0, 3, 3, []byte("abc"))
	full := len(p.b)
	p.rec(2, 0, 10, 10, []byte("0123456789"))
	// Cut in the data of record 2.
	f := openBytes(t, p.b[:len(p.b)-4])
	recs, errs := readAll(t, f)
	if len(recs) != 1 || len(errs) != 1 {
		t.Fatalf("recs %+v errs %v", recs, errMsgs(errs))
	}
	e := errs[0]
	if e.Fatal || e.Record != 2 || e.Offset != int64(full) || e.Msg != "truncated dump file; tried to read 10 captured bytes, only got 6" {
		t.Errorf("error %+v", e)
	}
	if e.Error() != "test: record 2 at byte 43: truncated dump file; tried to read 10 captured bytes, only got 6" {
		t.Errorf("Error() = %q", e.Error())
	}
	// Cut after one byte of the record header (like http-mime-truncated.pcap).
	recs, errs = readAll(t, openBytes(t, p.b[:full+1]))
	if len(recs) != 1 || len(errs) != 1 || errs[0].Msg != "truncated dump file; tried to read 16 header bytes, only got 1" {
		t.Errorf("recs %+v errs %v", recs, errMsgs(errs))
	}
}

// TestTruncateEverywhere cuts small captures at every byte offset: no panic,
// no hang, every complete record before the cut is delivered.
func TestTruncateEverywhere(t *testing.T) {
	pc := newPcap(binary.LittleEndian, magicNano, 2, 4, 0, 1)
	var pcapEnds []int
	for i := 0; i < 5; i++ {
		d := bytes.Repeat([]byte{byte(i)}, 10+i*7)
		pc.rec(uint32(100+i), uint32(i), uint32(len(d)), uint32(len(d)), d)
		pcapEnds = append(pcapEnds, len(pc.b))
	}
	ng := (&ngB{}).shb(binary.BigEndian).idb(1, 0)
	var ngEnds []int
	isbEnd := 0
	for i := 0; i < 5; i++ {
		d := bytes.Repeat([]byte{byte(i)}, 10+i*7)
		ng.epb(0, uint64(i)*1e6, uint32(len(d)), uint32(len(d)), d)
		ngEnds = append(ngEnds, len(ng.b))
		if i == 2 {
			ng.block(btISB, make([]byte, 12))
			isbEnd = len(ng.b)
		}
	}
	for _, tc := range []struct {
		name  string
		b     []byte
		ends  []int
		hdr   int
		other int // another block boundary
	}{{"pcap", pc.b, pcapEnds, 24, 24}, {"pcapng", ng.b, ngEnds, 28 + 20, isbEnd}} {
		for cut := 0; cut <= len(tc.b); cut++ {
			f, err := NewReader("cut", bytes.NewReader(tc.b[:cut]))
			if cut < tc.hdr {
				if err == nil {
					t.Errorf("%s cut %d: Open succeeded on a truncated header", tc.name, cut)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s cut %d: %v", tc.name, cut, err)
			}
			recs, errs := readAll(t, f)
			want := 0
			for _, e := range tc.ends {
				if e <= cut {
					want++
				}
			}
			if len(recs) != want {
				t.Errorf("%s cut %d: %d records, want %d", tc.name, cut, len(recs), want)
			}
			for _, e := range errs {
				if e.Fatal {
					t.Errorf("%s cut %d: fatal error %v", tc.name, cut, e)
				}
			}
			clean := cut == len(tc.b) || cut == tc.hdr || cut == tc.other
			for _, e := range tc.ends {
				clean = clean || e == cut
			}
			if clean != (len(errs) == 0) {
				t.Errorf("%s cut %d: errors %v", tc.name, cut, errMsgs(errs))
			}
		}
	}
}

func TestPcapResync(t *testing.T) {
	p := newPcap(binary.LittleEndian, magicMicro, 2, 4, 65535, 1)
	for i := 0; i < 3; i++ {
		p.rec(1000+uint32(i), 0, 4, 4, []byte{1, 2, 3, byte(i)})
	}
	bad := len(p.b)
	p.rec(1003, 0, 0x7fffff00, 4, []byte{1, 2, 3, 3}) // absurd caplen
	p.rec(1004, 0, 4, 4, []byte{1, 2, 3, 4})
	p.rec(1005, 0, 4, 4, []byte{1, 2, 3, 5})
	recs, errs := readAll(t, openBytes(t, p.b))
	if len(errs) != 1 || errs[0].Fatal || errs[0].Offset != int64(bad) || errs[0].Record != 4 ||
		errs[0].Msg != "invalid packet capture length 2147483392, bigger than snaplen of 65535 (skipped 20 bytes to the next valid record)" {
		t.Fatalf("errors %+v", errs)
	}
	if len(recs) != 5 || recs[3].sec != 1004 || recs[4].sec != 1005 || recs[4].data != "\x01\x02\x03\x05" {
		t.Errorf("records %+v", recs)
	}

	// Garbage inserted between records.
	p = newPcap(binary.BigEndian, magicNano, 2, 4, 1500, 1).rec(50, 0, 2, 2, []byte("ok"))
	p.b = append(p.b, bytes.Repeat([]byte{0xff}, 37)...)
	p.rec(51, 0, 2, 2, []byte("ok")).rec(52, 0, 2, 2, []byte("ok"))
	recs, errs = readAll(t, openBytes(t, p.b))
	if len(recs) != 3 || len(errs) != 1 || !strings.Contains(errs[0].Msg, "skipped 37 bytes") {
		t.Errorf("records %+v errors %v", recs, errMsgs(errs))
	}

	// Nothing valid after the bad header.
	p = newPcap(binary.LittleEndian, magicMicro, 2, 4, 1500, 1).rec(50, 0, 2, 2, []byte("ok"))
	p.b = append(p.b, bytes.Repeat([]byte{0xff}, 100)...)
	recs, errs = readAll(t, openBytes(t, p.b))
	if len(recs) != 1 || len(errs) != 1 || errs[0].Fatal {
		t.Errorf("records %+v errors %v", recs, errs)
	}
}

func TestPcapng(t *testing.T) {
	for _, bo := range orders {
		n := (&ngB{}).shb(bo)
		n.block(btNRB, make([]byte, 8))                                                               // ignored before the first IDB
		n.idb(1, 0, n.opt(2, []byte("eth0")), n.opt(9, []byte{9}))                                    // ns
		n.idb(1, 0, n.opt(9, []byte{0x80 | 10}), n.opt(14, bo.AppendUint64(nil, uint64(1e9))))        // 2^-10 s, +1e9 s
		n.idb(1, 0, n.opt(9, []byte{3}), n.opt(14, bo.AppendUint64(nil, uint64(0xffffffffffffff9c)))) // ms, -100 s
		n.idb(1, 0, n.opt(9, []byte{12}))                                                             // ps
		n.idb(1, 0)                                                                                   // default µs
		n.epb(0, 1700000000123456789, 3, 64, []byte("abc"))
		n.epb(1, 5*1024+1023, 2, 2, []byte("de"))
		n.block(btISB, make([]byte, 20))
		n.epb(2, 200500, 1, 1, []byte("f"))
		n.epb(3, 1234567890123456789, 1, 1, []byte("g"))
		n.pb(4, 42000001, 4, 1000, []byte("hijk"))
		n.spb(5, []byte("lmnop"))
		n.block(btCB, []byte("custom data"))
		f := openBytes(t, n.b)
		recs, errs := readAll(t, f)
		if len(errs) != 0 {
			t.Fatalf("%v: errors %v", bo, errMsgs(errs))
		}
		want := []got{
			{1700000000, 123456789, 3, 64, 1, "abc"},
			{1000000005, 999023437, 2, 2, 1, "de"}, // 1023/1024 s = 0.9990234375 -> floor
			{100, 500000000, 1, 1, 1, "f"},         // 200.5 s - 100 s
			{1234567, 890123456, 1, 1, 1, "g"},
			{42, 1000, 4, 1000, 1, "hijk"},
			{0, 0, 5, 5, 1, "lmnop"}, // SPB: no timestamp, interface 0
		}
		if !reflect.DeepEqual(recs, want) {
			t.Errorf("%v:\n got %+v\nwant %+v", bo, recs, want)
		}
		if f.Format() != "pcapng" || f.LinkType() != 1 || f.Snaplen() != 262144 || f.BytesRead() != int64(len(n.b)) {
			t.Errorf("%v: format %q lt %d snap %d read %d of %d", bo, f.Format(), f.LinkType(), f.Snaplen(), f.BytesRead(), len(n.b))
		}
	}
}

func TestPcapngSections(t *testing.T) {
	// Two sections of different byte orders; the second section's
	// interfaces replace the first's.
	n := (&ngB{}).shb(binary.LittleEndian).idb(1, 0).idb(1, 0, (&ngB{bo: binary.LittleEndian}).opt(9, []byte{9}))
	n.epb(1, 7e9+5, 1, 1, []byte("a"))
	n.shb(binary.BigEndian).idb(1, 0, (&ngB{bo: binary.BigEndian}).opt(9, []byte{9}))
	n.epb(0, 8e9+6, 1, 1, []byte("b"))
	n.epb(1, 0, 1, 1, []byte("c")) // interface 1 belongs to the old section
	n.epb(0, 9e9, 1, 1, []byte("d"))
	recs, errs := readAll(t, openBytes(t, n.b))
	want := []got{{7, 5, 1, 1, 1, "a"}, {8, 6, 1, 1, 1, "b"}, {9, 0, 1, 1, 1, "d"}}
	if !reflect.DeepEqual(recs, want) {
		t.Errorf("got %+v want %+v", recs, want)
	}
	if len(errs) != 1 || errs[0].Fatal || errs[0].Record != 3 ||
		errs[0].Msg != "a packet arrived on interface 1, but there's no Interface Description Block for that interface" {
		t.Errorf("errors %+v", errs)
	}
}

func TestPcapngInterfaceRules(t *testing.T) {
	build := func() []byte {
		n := (&ngB{}).shb(binary.LittleEndian).idb(1, 0)
		n.epb(0, 1e6, 1, 1, []byte("a"))
		n.idb(113, 0)   // other link type
		n.idb(1, 65535) // other snap length
		n.idb(1, 1<<20) // adjusted to 262144: same as the first
		n.epb(1, 2e6, 1, 1, []byte("b"))
		n.epb(2, 3e6, 1, 1, []byte("c"))
		n.epb(0, 4e6, 1, 1, []byte("d"))
		return n.b
	}
	// Default: libpcap 1.10's rules (pcapng-example.pcapng, ipv4-malformed.pcap).
	recs, errs := readAll(t, openBytes(t, build()))
	wantMsgs := []string{
		"an interface has a type 113 different from the type of the first interface",
		"an interface has a snapshot length 65535 different from the snapshot length of the first interface",
		"a packet arrived on interface 2, but there's no Interface Description Block for that interface",
	}
	if !reflect.DeepEqual(errMsgs(errs), wantMsgs) {
		t.Errorf("errors %q", errMsgs(errs))
	}
	// The third IDB is accepted and becomes interface 1.
	want := []got{{1, 0, 1, 1, 1, "a"}, {2, 0, 1, 1, 1, "b"}, {4, 0, 1, 1, 1, "d"}}
	if !reflect.DeepEqual(recs, want) {
		t.Errorf("got %+v want %+v", recs, want)
	}
	// Mixed interfaces allowed: every packet, with its own link type.
	f := openBytes(t, build())
	f.AllowMixedInterfaces(true)
	recs, errs = readAll(t, f)
	want = []got{{1, 0, 1, 1, 1, "a"}, {2, 0, 1, 1, 113, "b"}, {3, 0, 1, 1, 1, "c"}, {4, 0, 1, 1, 1, "d"}}
	if len(errs) != 0 || !reflect.DeepEqual(recs, want) {
		t.Errorf("mixed: got %+v %v want %+v", recs, errMsgs(errs), want)
	}
}

func TestPcapngBadBlocks(t *testing.T) {
	n := (&ngB{}).shb(binary.LittleEndian).idb(1, 100)
	n.epb(0, 1e6, 1, 1, []byte("a"))
	n.epb(0, 2e6, 101, 101, make([]byte, 101)) // caplen > snaplen
	n.epb(0, 3e6, 9, 9, []byte("short"))       // caplen > data in block
	bad := len(n.b)
	n.epb(0, 4e6, 1, 1, []byte("b"))
	binary.LittleEndian.PutUint32(n.b[bad+4:], 0x7ffffff0) // absurd total length
	n.epb(0, 5e6, 1, 1, []byte("c"))
	mism := len(n.b)
	n.epb(0, 6e6, 1, 1, []byte("d"))
	binary.LittleEndian.PutUint32(n.b[len(n.b)-4:], 40) // trailer mismatch
	n.epb(0, 7e6, 1, 1, []byte("e"))
	n.b = append(n.b, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3) // junk
	n.epb(0, 8e6, 1, 1, []byte("f"))
	recs, errs := readAll(t, openBytes(t, n.b))
	var data string
	for _, r := range recs {
		data += r.data
	}
	if data != "acef" {
		t.Errorf("records %q", data)
	}
	want := []string{
		"invalid packet capture length 101, bigger than snaplen of 100",
		"block of type 6 in pcapng dump file is too short",
		"pcapng block size 2147483632 > maximum 393248 (skipped 36 bytes to the next valid block)",
		"block total length in header and trailer don't match (skipped 36 bytes to the next valid block)",
		"block in pcapng dump file has a length of 100860417 that is not a multiple of 4 (skipped 7 bytes to the next valid block)",
	}
	if !reflect.DeepEqual(errMsgs(errs), want) {
		t.Errorf("errors\n%q\nwant\n%q", errMsgs(errs), want)
	}
	if errs[2].Offset != int64(bad) || errs[3].Offset != int64(mism) {
		t.Errorf("offsets %d %d, want %d %d", errs[2].Offset, errs[3].Offset, bad, mism)
	}
	for _, e := range errs {
		if e.Fatal {
			t.Errorf("fatal: %v", e)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ngNoIDB := (&ngB{}).shb(binary.LittleEndian).block(btNRB, make([]byte, 4)).b
	ngPktFirst := (&ngB{}).shb(binary.LittleEndian).spb(1, []byte("x")).b
	badVer := newPcap(binary.LittleEndian, magicMicro, 1, 0, 0, 1).b
	for _, tc := range []struct{ path, msg string }{
		{write("empty", nil), "empty file"},
		{dir, "is a directory"},
		{write("text", []byte("hello, world\n")), "not a pcap or pcapng file"},
		{write("short", []byte{0xd4, 0xc3}), "not a pcap or pcapng file (only 2 bytes)"},
		{write("trunc", newPcap(binary.LittleEndian, magicMicro, 2, 4, 0, 1).b[:20]), "truncated pcap file header (20 of 24 bytes)"},
		{write("ver", badVer), "archaic pcap savefile format"},
		{write("noidb", ngNoIDB), "the capture file has no Interface Description Blocks"},
		{write("pktfirst", ngPktFirst), "the capture file has a packet block before any Interface Description Blocks"},
		{write("gzjunk", []byte{0x1f, 0x8b, 0, 0}), "invalid gzip stream: unexpected EOF"},
		{write("gzempty", gz(t, nil)), "empty file"},
	} {
		f, err := Open(tc.path)
		var e *Error
		if err == nil || !errors.As(err, &e) {
			t.Errorf("%s: Open = %v, %v", tc.path, f, err)
			continue
		}
		if e.Msg != tc.msg || !e.Fatal || e.File != tc.path || e.Error() != tc.path+": "+tc.msg {
			t.Errorf("%s: error %+v, want %q", tc.path, e, tc.msg)
		}
	}
	_, err := Open(filepath.Join(dir, "missing.pcap"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasSuffix(err.Error(), "missing.pcap: cannot open: no such file or directory") {
		t.Errorf("missing file: %v", err)
	}
}

func gz(t testing.TB, b ...[]byte) []byte {
	var out bytes.Buffer
	for _, m := range b { // one gzip member each
		w := gzip.NewWriter(&out)
		w.Write(m)
		w.Close()
	}
	if len(b) == 0 {
		w := gzip.NewWriter(&out)
		w.Close()
	}
	return out.Bytes()
}

func TestGzip(t *testing.T) {
	p := newPcap(binary.LittleEndian, magicMicro, 2, 4, 0, 101).rec(1, 2, 3, 3, []byte("xyz")).rec(4, 5, 1, 1, []byte("w"))
	n := (&ngB{}).shb(binary.BigEndian).idb(228, 0).epb(0, 3e6, 2, 2, []byte("ng"))
	dir := t.TempDir()
	for _, tc := range []struct {
		name, format string
		raw          []byte
		file         []byte
		nrec         int
	}{
		{"p.gz", "pcap (gzip)", p.b, gz(t, p.b), 2},
		{"n.whatever", "pcapng (gzip)", n.b, gz(t, n.b), 1},
		{"multi", "pcap (gzip)", p.b, gz(t, p.b[:30], p.b[30:]), 2},
	} {
		path := filepath.Join(dir, tc.name)
		os.WriteFile(path, tc.file, 0o644)
		f, err := Open(path)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		recs, errs := readAll(t, f)
		if len(recs) != tc.nrec || len(errs) != 0 || f.Format() != tc.format || f.BytesRead() != int64(len(tc.raw)) {
			t.Errorf("%s: %d recs %v format %q read %d", tc.name, len(recs), errMsgs(errs), f.Format(), f.BytesRead())
		}
		// Size: the uncompressed size from the (last member's) trailer.
		wantSize := int64(len(tc.raw))
		if tc.name == "multi" {
			wantSize = int64(len(p.b) - 30)
		}
		if f.Size() != wantSize {
			t.Errorf("%s: Size %d want %d", tc.name, f.Size(), wantSize)
		}
		f.Close()
	}
	// Truncated gzip stream: records before the cut, then a non-fatal error.
	big := newPcap(binary.LittleEndian, magicMicro, 2, 4, 0, 1)
	for i := 0; i < 2000; i++ {
		big.rec(uint32(i), 0, 20, 20, []byte("0123456789abcdefghij"))
	}
	z := gz(t, big.b)
	f := openBytes(t, z[:len(z)/2])
	recs, errs := readAll(t, f)
	if len(recs) == 0 || len(recs) >= 2000 || len(errs) != 1 || errs[0].Fatal {
		t.Errorf("truncated gzip: %d recs, errors %v", len(recs), errs)
	}
	// Corrupt gzip data: a fatal error.
	zc := append([]byte(nil), z...)
	for i := 30; i < len(zc)-20; i += 7 {
		zc[i] ^= 0x55
	}
	f, err := NewReader("corrupt", bytes.NewReader(zc))
	if err == nil {
		_, errs = readAll(t, f)
		if len(errs) == 0 || !errs[len(errs)-1].Fatal {
			t.Errorf("corrupt gzip: errors %v", errs)
		}
	}
}

func TestLargeRecords(t *testing.T) {
	// D-Bus allows 128 MiB records: served from the growing scratch buffer.
	d := bytes.Repeat([]byte("0123456789abcdef"), (3<<20)/16)
	p := newPcap(binary.LittleEndian, magicMicro, 2, 4, 0, 231).rec(1, 0, uint32(len(d)), uint32(len(d)), d).rec(2, 0, 3, 3, []byte("end"))
	recs, errs := readAll(t, openBytes(t, p.b))
	if len(errs) != 0 || len(recs) != 2 || recs[0].data != string(d) || recs[1].data != "end" {
		t.Errorf("%d recs %v", len(recs), errMsgs(errs))
	}
	// A lying 100 MiB length on a tiny file allocates at most one chunk.
	p = newPcap(binary.LittleEndian, magicMicro, 2, 4, 0, 231).rec(1, 0, 100<<20, 100<<20, []byte("tiny"))
	f := openBytes(t, p.b)
	recs, errs = readAll(t, f)
	if len(recs) != 0 || len(errs) != 1 || cap(f.scratch) > 2<<20 {
		t.Errorf("%d recs %v scratch %d", len(recs), errMsgs(errs), cap(f.scratch))
	}
}

// TestReadBuffersReused: the read buffers of a file read to its end serve
// the next file (a run over many captures does not allocate 1 MiB per
// file), and nothing the earlier file left in them reaches the next one.
func TestReadBuffersReused(t *testing.T) {
	capture := func(fill string) (b []byte, want []got) {
		p := newPcap(binary.LittleEndian, magicMicro, 2, 4, 0, 1)
		for i := 0; i < 3000; i++ {
			data := strings.Repeat(fill, 100+i%50)
			p.rec(uint32(i), 0, uint32(len(data)), uint32(len(data)), []byte(data))
			want = append(want, got{uint64(i), 0, uint32(len(data)), uint32(len(data)), 1, data})
		}
		return p.b, want
	}
	a, wantA := capture("a")
	b, wantB := capture("b")

	// A gzip file, read to the end: both of its buffers go back.
	fa := openBytes(t, gz(t, a))
	bufs := map[*bufio.Reader]bool{fa.br: true, fa.raw: true}
	if recs, errs := readAll(t, fa); len(errs) != 0 || !slices.Equal(recs, wantA) {
		t.Fatalf("gzip file: %d records, errors %v", len(recs), errMsgs(errs))
	}
	fa.Close()
	readBuffers.Lock()
	kept := 0
	for _, br := range readBuffers.free {
		if bufs[br] {
			kept++
		}
	}
	readBuffers.Unlock()
	if kept != 2 {
		t.Errorf("%d of the gzip file's two read buffers kept for the next file", kept)
	}
	// A plain file closed before its end keeps its buffer out of reuse: a
	// reader may still be blocked in a read into it.
	fb := openBytes(t, b)
	if !bufs[fb.br] {
		t.Errorf("the next file got a new read buffer, not a closed file's")
	}
	half := fb.br
	var r Record
	for i := 0; i < 100; i++ {
		if err := fb.Next(&r); err != nil {
			t.Fatal(err)
		}
	}
	fb.Close()
	if err := fb.Next(&r); err != io.EOF {
		t.Errorf("Next after Close: %v, want io.EOF", err)
	}
	readBuffers.Lock()
	for _, br := range readBuffers.free {
		if br == half {
			t.Errorf("the buffer of a file closed before its end was kept for reuse")
		}
	}
	readBuffers.Unlock()
	// The next files read exactly their own records.
	for _, tc := range []struct {
		name string
		file []byte
		want []got
	}{{"plain", a, wantA}, {"gzip after plain", gz(t, b), wantB}, {"plain after gzip", b, wantB}} {
		f := openBytes(t, tc.file)
		recs, errs := readAll(t, f)
		f.Close()
		if len(errs) != 0 || !slices.Equal(recs, tc.want) {
			t.Errorf("%s: %d records (want %d), errors %v", tc.name, len(recs), len(tc.want), errMsgs(errs))
		}
	}
}
