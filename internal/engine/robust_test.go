package engine_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"flowsift/internal/cli"
	"flowsift/internal/column"
	"flowsift/internal/corpus"
	"flowsift/internal/decode"
	"flowsift/internal/engine"
	"flowsift/internal/flow"
	"flowsift/internal/pcapgen"
	"flowsift/internal/plugin"
	"flowsift/internal/report"
)

// runTimeout bounds one run of a small capture (a hang is a failure).
const runTimeout = 2 * time.Minute

// result is what one guarded run produced.
type result struct {
	code           int
	stdout, stderr string
	panicked       string
}

// guardedRun runs flowsift in-process with args, turning a panic of the
// main goroutine into a failure and a run longer than runTimeout into a
// hang report.
func guardedRun(t *testing.T, args ...string) result {
	t.Helper()
	done := make(chan result, 1)
	go func() {
		var res result
		var stdout, stderr bytes.Buffer
		defer func() {
			if p := recover(); p != nil {
				res.panicked = fmt.Sprintf("%v\n%s", p, debug.Stack())
			}
			res.stdout, res.stderr = stdout.String(), stderr.String()
			done <- res
		}()
		res.code = cli.Main(append([]string{"flowsift", "--no-progress"}, args...), nil, &stdout, &stderr)
	}()
	select {
	case res := <-done:
		if res.panicked != "" {
			t.Fatalf("flowsift %v panicked: %s", args, res.panicked)
		}
		return res
	case <-time.After(runTimeout):
		t.Fatalf("flowsift %v still running after %v (hang)", args, runTimeout)
	}
	return result{}
}

// corpusFiles lists every capture under shared/corpus.
func corpusFiles(t *testing.T) []string {
	shared := corpus.SharedDir()
	if shared == "" {
		t.Skip("../shared not found (set FLOWSIFT_SHARED): corpus robustness tests skipped")
	}
	var files []string
	filepath.WalkDir(filepath.Join(shared, "corpus"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && !strings.HasSuffix(p, ".tsv") && !strings.HasSuffix(p, ".md") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatal("no capture under", shared)
	}
	return files
}

// TestCorpusNoPanicNoHang runs every corpus capture (packet mode) and
// checks the exit status and the shape of every output row.
func TestCorpusNoPanicNoHang(t *testing.T) {
	files := corpusFiles(t)
	out := t.TempDir()
	codes := map[int]int{}
	defer func() { t.Logf("%d captures, exit statuses %v", len(files), codes) }()
	for i, f := range files {
		prefix := filepath.Join(out, fmt.Sprint(i))
		res := guardedRun(t, "-r", f, "-w", prefix, "-s")
		codes[res.code]++
		switch res.code {
		case 0, 3:
		case 1:
			// Only a file no reader accepts may fail as a whole.
			if !strings.Contains(res.stderr, f) {
				t.Errorf("%s: exit 1 without naming the file: %q", f, res.stderr)
			}
			continue
		default:
			t.Errorf("%s: exit %d: %s", f, res.code, res.stderr)
			continue
		}
		flows := checkRows(t, prefix+"_flows.txt", 1)
		pkts := checkRows(t, prefix+"_packets.txt", 1)
		for ind := range pkts {
			if ind != "0" && !flows[ind] {
				t.Errorf("%s: flow %s has packets but no flow row", f, ind)
			}
		}
		os.Remove(prefix + "_flows.txt")
		os.Remove(prefix + "_packets.txt")
		os.Remove(prefix + "_headers.txt")
	}
}

// recordEnds returns the end offset of every record (pcap) or block
// (pcapng) of a well-formed little- or big-endian capture.
func recordEnds(data []byte) (ends []int, packet []bool) {
	if len(data) >= 4 && binary.LittleEndian.Uint32(data) == 0x0A0D0D0A {
		bo := binary.ByteOrder(binary.LittleEndian)
		if binary.LittleEndian.Uint32(data[8:]) != 0x1A2B3C4D {
			bo = binary.BigEndian
		}
		for off := 0; off+12 <= len(data); {
			typ, l := bo.Uint32(data[off:]), int(bo.Uint32(data[off+4:]))
			off += l
			ends = append(ends, off)
			packet = append(packet, typ == 6 || typ == 3 || typ == 2)
		}
		return ends, packet
	}
	bo := binary.ByteOrder(binary.LittleEndian)
	if m := binary.BigEndian.Uint32(data); m == 0xa1b2c3d4 || m == 0xa1b23c4d {
		bo = binary.BigEndian
	}
	ends = append(ends, 24)
	packet = append(packet, false)
	for off := 24; off+16 <= len(data); {
		off += 16 + int(bo.Uint32(data[off+8:]))
		ends = append(ends, off)
		packet = append(packet, true)
	}
	return ends, packet
}

// TestTruncatedEverywhere cuts three small captures (pcapng; tunnels;
// fragments) at every byte offset. A cut inside the file header (pcapng:
// the SHB and the first IDB) or inside the first packet record is input
// without a packet (exit 1, no output); a cut at a record boundary is a complete
// capture (exit 0); any other cut is damaged input (exit 3) with one
// warning naming the file, the record and its byte offset. In every case
// each complete record before the cut is processed (one packet row each)
// and every flow is written.
func TestTruncatedEverywhere(t *testing.T) {
	shared := corpus.SharedDir()
	if shared == "" {
		t.Skip("../shared not found (set FLOWSIFT_SHARED): truncation test skipped")
	}
	dir := t.TempDir()
	for _, rel := range []string{
		"public/tcp-flags/tcp_handshake.pcapng",
		"public/encapsulation/gre-erspan-vxlan.pcap",
		"public/ip-fragmentation/teardrop.pcap",
	} {
		data, err := os.ReadFile(filepath.Join(shared, "corpus", rel))
		if err != nil {
			t.Fatal(err)
		}
		ends, isPkt := recordEnds(data)
		if ends[len(ends)-1] != len(data) {
			t.Fatalf("%s: records end at %d, file has %d bytes", rel, ends[len(ends)-1], len(data))
		}
		// Like libpcap, opening a pcapng reads the SHB and the first IDB.
		hdrEnd := ends[0]
		if !isPkt[0] && len(ends) > 1 && !isPkt[1] && data[0] == 0x0a {
			hdrEnd = ends[1]
		}
		in := filepath.Join(dir, "cut.pcap")
		for cut := 0; cut <= len(data); cut++ {
			if err := os.WriteFile(in, data[:cut], 0o644); err != nil {
				t.Fatal(err)
			}
			res := guardedRun(t, "-r", in, "-w", dir+"/", "-s", "--set", "core.HASHTABLE_SIZE=16")
			// What a reader must deliver: every whole record before the cut.
			complete, boundary, pkts := 0, cut == 0, 0
			for i, e := range ends {
				if e <= cut {
					complete = i + 1
					if isPkt[i] {
						pkts++
					}
				}
				boundary = boundary || e == cut
			}
			want := 3
			switch {
			case cut < hdrEnd:
				want = 1
			case boundary:
				want = 0
			case pkts == 0:
				// Damaged before the first packet: nothing to show, no
				// output that would pass for "0 flows".
				want = 1
				if _, err := os.Stat(filepath.Join(dir, "cut_flows.txt")); err == nil {
					t.Errorf("%s cut at %d: no packet read, yet cut_flows.txt written", rel, cut)
				}
			}
			if res.code != want {
				t.Errorf("%s cut at %d: exit %d, want %d; stderr %q", rel, cut, res.code, want, res.stderr)
				continue
			}
			if want == 1 {
				continue
			}
			// The damaged record starts where the last whole one ends.
			loc := fmt.Sprintf("%s: record %d at byte %d: ", in, pkts+1, ends[complete-1])
			if want == 3 && (strings.Count(res.stderr, "\n") != 1 || !strings.Contains(res.stderr, loc)) {
				t.Errorf("%s cut at %d: want one warning %q, got %q", rel, cut, loc, res.stderr)
			}
			if want == 0 && res.stderr != "" {
				t.Errorf("%s cut at %d (record boundary): stderr %q", rel, cut, res.stderr)
			}
			flows := checkRows(t, filepath.Join(dir, "cut_flows.txt"), 1)
			rows := checkRows(t, filepath.Join(dir, "cut_packets.txt"), 0)
			if len(rows) != pkts {
				t.Errorf("%s cut at %d: %d packet rows, want the %d whole records", rel, cut, len(rows), pkts)
			}
			for ind := range checkRows(t, filepath.Join(dir, "cut_packets.txt"), 1) {
				if ind != "0" && !flows[ind] {
					t.Errorf("%s cut at %d: flow %s lost", rel, cut, ind)
				}
			}
		}
	}
}

// pcapngOf builds a little-endian pcapng (SHB, Ethernet IDB, one EPB per
// frame).
func pcapngOf(frames [][]byte) []byte {
	le := binary.LittleEndian
	block := func(b []byte, typ uint32, body []byte) []byte {
		l := uint32(12 + (len(body)+3)&^3)
		b = le.AppendUint32(b, typ)
		b = le.AppendUint32(b, l)
		b = append(b, body...)
		for len(body)%4 != 0 {
			b = append(b, 0)
			body = append(body, 0)
		}
		return le.AppendUint32(b, l)
	}
	var b []byte
	shb := le.AppendUint32(nil, 0x1A2B3C4D)
	shb = le.AppendUint16(shb, 1)
	shb = le.AppendUint16(shb, 0)
	shb = le.AppendUint64(shb, ^uint64(0))
	b = block(b, 0x0A0D0D0A, shb)
	idb := le.AppendUint16(nil, 1)
	idb = le.AppendUint16(idb, 0)
	idb = le.AppendUint32(idb, 65535)
	b = block(b, 1, idb)
	for i, f := range frames {
		epb := le.AppendUint32(nil, 0)
		ts := uint64(1e15 + i*1000)
		epb = le.AppendUint32(epb, uint32(ts>>32))
		epb = le.AppendUint32(epb, uint32(ts))
		epb = le.AppendUint32(epb, uint32(len(f)))
		epb = le.AppendUint32(epb, uint32(len(f)))
		epb = append(epb, f...)
		b = block(b, 6, epb)
	}
	return b
}

// synFrames returns n SYN frames of distinct flows.
func synFrames(n int) [][]byte {
	var out [][]byte
	for i := 0; i < n; i++ {
		fr := pcapgen.Frame{Src: []byte{10, 0, 0, byte(i + 1)}, Dst: []byte{10, 0, 1, 1}, Proto: 6,
			SrcPort: uint16(1000 + i), DstPort: 80, Flags: pcapgen.SYN, Window: 512}
		out = append(out, fr.Build(nil))
	}
	return out
}

func pcapOf(t *testing.T, frames [][]byte) []byte {
	var b bytes.Buffer
	w, err := pcapgen.NewWriter(&b, pcapgen.LinkEthernet, 65535)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		w.WritePacket(uint32(1000+i), 0, f, 0)
	}
	w.Flush()
	return b.Bytes()
}

// TestInputErrors: each broken input gives one message naming the file
// (and, inside a capture, the record number and byte offset), the rest is
// processed, every flow is written, and the exit status tells.
func TestInputErrors(t *testing.T) {
	dir := t.TempDir()
	frames := synFrames(10)
	good := pcapOf(t, frames)
	// Record offsets: 24 + k·(16 + len(frame)), all frames the same size.
	recSize := 16 + len(frames[0])
	absurd := bytes.Clone(good)
	binary.LittleEndian.PutUint32(absurd[24+4*recSize+8:], 0x7ffffff0) // record 5 caplen
	huge := bytes.Clone(good)
	binary.LittleEndian.PutUint32(huge[24+4*recSize+8:], 300000) // > 256 KiB and > snaplen
	ng := pcapngOf(frames)
	ngEnds, _ := recordEnds(ng)
	badBlock := bytes.Clone(ng)
	// EPB of frame 5 (blocks: SHB, IDB, EPB1..): its leading length lies.
	binary.LittleEndian.PutUint32(badBlock[ngEnds[5]+4:], 0x00fffff0)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(good)
	zw.Close()
	cutGz := gz.Bytes()[:gz.Len()*2/3]
	unknownLink := bytes.Clone(good)
	binary.LittleEndian.PutUint32(unknownLink[20:], 4242)
	os.Mkdir(filepath.Join(dir, "adir"), 0o755)

	cases := []struct {
		name string
		data []byte // nil: not created
		code int
		msg  string // substring of the one stderr line
		rows int    // flow rows expected (code != 1; -1: some)
	}{
		{"empty.pcap", []byte{}, 1, "empty.pcap: empty file", 0},
		{"text.pcap", []byte("this is not a capture file\n"), 1, "text.pcap: not a pcap or pcapng file", 0},
		{"missing.pcap", nil, 1, "missing.pcap: cannot open: no such file or directory", 0},
		{"adir", nil, 1, "adir: is a directory", 0},
		{"absurd.pcap", absurd, 3, "absurd.pcap: record 5 at byte " + fmt.Sprint(24+4*recSize) + ": ", 9},
		{"huge.pcap", huge, 3, "huge.pcap: record 5 at byte " + fmt.Sprint(24+4*recSize) + ": ", 9},
		{"badblock.pcapng", badBlock, 3, "badblock.pcapng: record 5 at byte " + fmt.Sprint(ngEnds[5]) + ": ", 9},
		{"cut.pcapng", ng[:len(ng)-7], 3, "cut.pcapng: record 10 at byte " + fmt.Sprint(ngEnds[10]) + ": ", 9},
		{"cut.pcap.gz", cutGz, 3, "cut.pcap.gz: record ", -1},
		{"good.pcap.gz", gz.Bytes(), 0, "", 10},
		{"unknownlink.pcap", unknownLink, 0, "unknownlink.pcap: unknown link type 4242", 0},
		{"good.pcapng", ng, 0, "", 10},
	}
	for _, c := range cases {
		path := filepath.Join(dir, c.name)
		if c.data != nil {
			os.WriteFile(path, c.data, 0o644)
		}
		res := guardedRun(t, "-r", path, "-w", filepath.Join(dir, "out")+"/")
		t.Logf("%s: exit %d, stderr %q", c.name, res.code, res.stderr)
		if res.code != c.code {
			t.Errorf("%s: exit %d, want %d; stderr %q", c.name, res.code, c.code, res.stderr)
		}
		lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
		if c.code == 1 {
			// The cause, then the consequence: no output at all.
			if len(lines) != 2 || !strings.Contains(lines[0], path) || !strings.Contains(lines[0], c.msg) ||
				lines[1] != "[ERR] no packet could be read: no output written" {
				t.Errorf("%s: stderr %q, want the cause and 'no output written'", c.name, res.stderr)
			}
			if files, _ := os.ReadDir(filepath.Join(dir, "out")); len(files) != 0 {
				t.Errorf("%s: output written: %v", c.name, files)
			}
			continue
		}
		if c.msg == "" {
			if res.stderr != "" {
				t.Errorf("%s: stderr %q, want nothing", c.name, res.stderr)
			}
		} else if len(lines) != 1 || !strings.Contains(lines[0], path) || !strings.Contains(lines[0], c.msg) {
			t.Errorf("%s: stderr %q, want one line with %q", c.name, res.stderr, c.msg)
		}
		base := strings.TrimSuffix(c.name, ".gz")
		base = strings.TrimSuffix(base, filepath.Ext(base))
		flows := checkRows(t, filepath.Join(dir, "out", base+"_flows.txt"), 1)
		if c.rows >= 0 && len(flows) != c.rows || len(flows) == 0 && c.code == 3 {
			t.Errorf("%s: %d flows written, want %d", c.name, len(flows), c.rows)
		}
		if c.code == 3 && !strings.Contains(res.stdout, "pcap_dispatch failed") {
			t.Errorf("%s: end report lacks the pcap_dispatch warning", c.name)
		}
	}
}

// lyingFrames are hand-built frames whose headers lie, one case each.
type lyingFrame struct {
	name    string
	sec     uint32
	nsec    uint32
	data    []byte
	wire    int
	stat    uint64 // flowStat bits the packet row must have
	ipFlags string // expected ipFlags packet column ("" = not checked)
	desc    string // expected hdrDesc ("" = not checked)
}

func lyingFrames() []lyingFrame {
	be := binary.BigEndian
	base := func(i int) pcapgen.Frame {
		return pcapgen.Frame{Src: []byte{10, 1, byte(i), 1}, Dst: []byte{10, 2, byte(i), 2}, Proto: 6,
			SrcPort: uint16(2000 + i), DstPort: 80, Flags: pcapgen.SYN, Window: 512, IPID: 0x1234}
	}
	// build edits a valid frame and fixes its IPv4 header checksum.
	build := func(i int, edit func(b []byte) []byte) []byte {
		fr := base(i)
		b := edit(fr.Build(nil))
		if hl := int(b[14]&15) * 4; hl >= 20 && len(b) >= 14+hl {
			b[24], b[25] = 0, 0
			be.PutUint16(b[24:], ^pcapgen.Checksum(0, b[14:14+hl]))
		}
		return b
	}
	var out []lyingFrame
	add := func(name string, sec uint32, data []byte, stat uint64, ipFlags string) {
		out = append(out, lyingFrame{name: name, sec: sec, data: data, stat: stat, ipFlags: ipFlags})
	}
	// Snapped: 54 bytes captured of a 100-byte frame whose IP length is 86.
	out = append(out, lyingFrame{name: "IP length beyond the capture", sec: 11, data: build(2, func(b []byte) []byte { be.PutUint16(b[16:], 86); return b }), wire: 100, stat: 1 << 33})
	add("IP total length 0", 11, build(11, func(b []byte) []byte { be.PutUint16(b[16:], 0); return b }), 1<<47, "")
	// IHL 6 with an option whose length byte is 0.
	add("zero-length IPv4 option", 12, build(3, func(b []byte) []byte {
		b = append(b[:34], append([]byte{0x07, 0, 0, 0}, b[34:]...)...)
		b[14] = 0x46
		be.PutUint16(b[16:], uint16(len(b)-14))
		return b
	}), 0, "0x0001")
	add("IPv4 option longer than the options", 13, build(4, func(b []byte) []byte {
		b = append(b[:34], append([]byte{0x83, 40, 4, 0}, b[34:]...)...)
		b[14] = 0x46
		be.PutUint16(b[16:], uint16(len(b)-14))
		return b
	}), 0, "")
	add("TCP data offset past the data", 14, build(5, func(b []byte) []byte { b[14+20+12] = 0xf0; return b }), 0, "")
	add("TCP option length overrun", 15, build(6, func(b []byte) []byte {
		fr := base(6)
		fr.TCPOpts = []byte{2, 44, 5, 0xb4, 8, 200, 1, 1}
		return fr.Build(nil)
	}), 0, "")
	// One flow: +0.5 s, back 0.4 s within the same second (bit 51, ipFlags
	// 0x8000), back 50 s (no bit: Tranalyzer subtracts the seconds as
	// uint32, tcpFlags.md §5.4).
	id := func(v uint16) func(b []byte) []byte {
		return func(b []byte) []byte { be.PutUint16(b[18:], v); return b }
	}
	out = append(out,
		lyingFrame{name: "time", sec: 100, nsec: 500e6, data: build(7, id(1))},
		lyingFrame{name: "time backwards 0.4 s", sec: 100, nsec: 100e6, data: build(7, id(2)), stat: 1 << 51, ipFlags: "0x8000"},
		lyingFrame{name: "time backwards 50 s", sec: 50, data: build(7, id(3)), ipFlags: "0x0000"})
	// The same frame three times: dt 0 (ipFlags 0x4000), then consecutive
	// duplicate IP id (bit 44; the first packet's id is not remembered,
	// flow/table.go).
	add("frame", 101, build(8, func(b []byte) []byte { return b }), 0, "0x0000")
	add("duplicate frame", 101, build(8, func(b []byte) []byte { return b }), 0, "0x4000")
	add("duplicate frame again", 101, build(8, func(b []byte) []byte { return b }), 1<<44, "0x4000")
	// Overlapping fragments (teardrop): 0..36 with MF, then offset 24.
	frag := func(i int, word uint16, pay int) []byte {
		fr := base(i)
		fr.Proto, fr.Payload = 17, make([]byte, pay)
		b := fr.Build(nil)
		be.PutUint16(b[20:], word)
		b[24], b[25] = 0, 0
		be.PutUint16(b[24:], ^pcapgen.Checksum(0, b[14:34]))
		return b
	}
	// Later fragments: bit 43 (stop dissecting), no L4 checksum (0x0800);
	// past 65535: "out of range" 0x0010 and "position error" 0x0100.
	add("first fragment", 102, frag(9, 0x2000, 28), 1<<36|1<<39, "0x0020")
	add("overlapping fragment", 102, frag(9, 3, 20), 1<<36|1<<43, "0x4800")
	add("fragment past 65535", 103, frag(9, 8190, 100), 1<<36|1<<43, "0x0910")
	// IPv6 with a chain of 100 destination options headers.
	v6 := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x86, 0xdd, 0x60, 0, 0, 0, 0x03, 0x20, 60, 64}
	v6 = append(v6, make([]byte, 32)...)
	v6[22+15], v6[22+31] = 1, 2
	for i := 0; i < 100; i++ {
		v6 = append(v6, 60, 0, 1, 4, 0, 0, 0, 0)
	}
	// At most 5 extension headers are walked (core.md §4.3).
	out = append(out, lyingFrame{name: "100 IPv6 extension headers", sec: 104, data: v6, stat: 1 << 59,
		desc: "eth:ipv6:ipv6.dstopts:ipv6.dstopts:ipv6.dstopts:ipv6.dstopts:ipv6.dstopts"})
	// 50 nested IPv4-in-IPv4 headers around a UDP datagram.
	inner := frag(10, 0, 8)[14:]
	for i := 0; i < 50; i++ {
		h := make([]byte, 20)
		copy(h, inner[:20])
		h[9] = 4
		be.PutUint16(h[2:], uint16(20+len(inner)))
		h[10], h[11] = 0, 0
		be.PutUint16(h[10:], ^pcapgen.Checksum(0, h))
		inner = append(h, inner...)
	}
	// Two IP headers are dissected; the rest is the L4 payload of the
	// second one (IP-in-IP, bit 17).
	out = append(out, lyingFrame{name: "50 nested tunnels", sec: 105, data: append([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 8, 0}, inner...),
		stat: 1<<17 | 1<<58, desc: "eth:ipv4:ipv4:ipv4"})
	return out
}

// TestPacketsThatLie: each lying frame is decoded as far as it is valid,
// raises the flowStat/ipFlags bits the spec gives it, and nothing panics.
// A zero-length record and a record longer than the snap length ride
// along.
func TestPacketsThatLie(t *testing.T) {
	frames := lyingFrames()
	var b bytes.Buffer
	w, _ := pcapgen.NewWriter(&b, pcapgen.LinkEthernet, 1500)
	w.WritePacket(1, 0, nil, 60) // zero-length record
	// IHL 3: dropped by the dissector (bit 46, no flow, no packet row).
	ihl3 := pcapgen.Frame{Src: []byte{10, 1, 1, 1}, Dst: []byte{10, 2, 1, 2}, Proto: 6, SrcPort: 1, DstPort: 2}
	bad := ihl3.Build(nil)
	bad[14] = 0x43
	w.WritePacket(2, 0, bad, 0)
	for _, f := range frames {
		w.WritePacket(f.sec, f.nsec, f.data, f.wire)
	}
	w.Flush()
	data := b.Bytes()
	// A record longer than the snap length (1500) is cut to it, as libpcap
	// does.
	fr := pcapgen.Frame{Src: []byte{10, 9, 9, 9}, Dst: []byte{10, 9, 9, 8}, Proto: 17, SrcPort: 5, DstPort: 6, Payload: make([]byte, 1900)}
	long := fr.Build(nil)
	rec := binary.LittleEndian.AppendUint32(nil, 200)
	rec = binary.LittleEndian.AppendUint32(rec, 0)
	rec = binary.LittleEndian.AppendUint32(rec, uint32(len(long)))
	rec = binary.LittleEndian.AppendUint32(rec, uint32(len(long)))
	data = append(append(data, rec...), long...)

	dir := t.TempDir()
	in := filepath.Join(dir, "lies.pcap")
	os.WriteFile(in, data, 0o644)
	res := guardedRun(t, "-r", in, "-w", dir+"/", "-s")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	pb, err := os.ReadFile(filepath.Join(dir, "lies_packets.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(pb), "\n"), "\n")
	hdr := strings.Split(strings.TrimPrefix(lines[0], "%"), "\t")
	col := map[string]int{}
	for i, h := range hdr {
		col[h] = i
	}
	// The zero-length record and the IHL-3 frame count as packets 1 and 2
	// but have no row.
	if len(lines)-1 != len(frames)+1 {
		t.Fatalf("%d packet rows, want %d:\n%s\nstderr %s", len(lines)-1, len(frames)+1, string(pb), res.stderr)
	}
	for i, f := range frames {
		row := strings.Split(lines[1+i], "\t")
		if row[0] != strconv.Itoa(i+3) {
			t.Fatalf("%s: row has pktNo %s, want %d", f.name, row[0], i+3)
		}
		stat, _ := strconv.ParseUint(strings.TrimPrefix(row[col["flowStat"]], "0x"), 16, 64)
		if stat&f.stat != f.stat {
			t.Errorf("%s: flowStat %#x lacks %#x", f.name, stat, f.stat)
		}
		if f.desc != "" && row[col["hdrDesc"]] != f.desc {
			t.Errorf("%s: hdrDesc %s, want %s", f.name, row[col["hdrDesc"]], f.desc)
		}
		if f.ipFlags != "" && row[col["ipFlags"]] != f.ipFlags {
			t.Errorf("%s: ipFlags %s, want %s", f.name, row[col["ipFlags"]], f.ipFlags)
		}
	}
	last := strings.Split(lines[len(lines)-1], "\t")
	if last[col["snapL3Len"]] != strconv.Itoa(1500-14) || last[col["l3Len"]] != strconv.Itoa(len(long)-14) {
		t.Errorf("record beyond the snap length: snapL3Len %s l3Len %s, want %d and %d",
			last[col["snapL3Len"]], last[col["l3Len"]], 1500-14, len(long)-14)
	}
	checkRows(t, filepath.Join(dir, "lies_flows.txt"), 1)
	if !strings.Contains(res.stdout, "Aggregated flowStat=0x0c0") || !strings.Contains(res.stdout, "IPv4 header length < 20 bytes") {
		t.Errorf("end report lacks bit 46 (IHL 3):\n%s", res.stdout)
	}
}

// boom is a plugin that panics on its packet at (the second if 0).
type boom struct{ n, at int }

func (b *boom) FlowColumns() []column.Column {
	return []column.Column{{Name: "boom", Type: "U8", Desc: "boom"}}
}
func (b *boom) PacketColumns() []column.Column     { return nil }
func (b *boom) NewFlow(*flow.Flow, *decode.Packet) {}
func (b *boom) Packet(*flow.Flow, *decode.Packet, column.Writer) {
	if b.n++; b.n == max(b.at, 2) {
		panic("boom")
	}
}
func (b *boom) FlowOutput(_ *flow.Flow, w column.Writer) { w.Col(); w.U(0) }
func (b *boom) Report(*report.Report)                    {}

// TestPanicSafetyNet: a panic in the run (a plugin bug here) gives an
// error naming the packet, exit status 1 and the output files renamed
// *.partial instead of a crash with truncated files under their names.
func TestPanicSafetyNet(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pcap")
	os.WriteFile(in, pcapOf(t, synFrames(5)), 0o644)
	reg := &plugin.Registry{}
	reg.Add(&plugin.Registration{Name: "boom", Order: 1, Version: "0", New: func(*plugin.Env, plugin.Settings) (plugin.Plugin, error) {
		return &boom{}, nil
	}})
	var stdout, stderr bytes.Buffer
	opts := &engine.Options{ReadFile: in, Inputs: []string{in}, Prefix: dir + "/", Plugins: []string{"boom"}, Sets: map[string]string{}}
	code := engine.Run(opts, reg, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "internal error after packet 2 (please report): boom") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "in_flows.txt")); err == nil {
		t.Error("in_flows.txt left under its final name")
	}
	if _, err := os.Stat(filepath.Join(dir, "in_flows.txt.partial")); err != nil {
		t.Error(err)
	}
}
