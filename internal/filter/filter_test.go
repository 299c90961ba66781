//go:build cgo

package filter

import (
	"encoding/binary"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"flowsift/internal/capture"
)

// Expressions is the acceptance table (issue 13): every kind of primitive
// tcpdump users type. The engine's tcpdump comparison uses it too.
var testExprs = []string{
	"tcp",
	"udp",
	"icmp",
	"ip6",
	"arp",
	"host 10.0.0.1",
	"src host 192.168.1.1",
	"net 10.0.0.0/8",
	"dst net 192.168.0.0/16",
	"port 80",
	"tcp port 80",
	"udp port 53",
	"portrange 1-1024",
	"tcp dst portrange 8000-9000",
	"tcp[tcpflags] & tcp-syn != 0",
	"tcp[tcpflags] & (tcp-rst|tcp-fin) != 0",
	"vlan",
	"vlan and tcp",
	"mpls",
	"greater 1000",
	"less 100",
	"ether host 00:00:00:00:00:01",
	"ether broadcast",
	"not tcp",
	"not (tcp or udp)",
	"ip and (tcp port 80 or udp port 53)",
	"ip6 and tcp",
	"ip[8] < 64",
	"ip proto 47",
	"icmp6 or ip6 proto 58",
}

func sharedCorpus(t testing.TB) string {
	for _, d := range []string{"../../../shared/corpus", "/work/shared/corpus"} {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
	}
	return ""
}

type frame struct {
	lt      uint32
	data    []byte
	wireLen uint32
}

func loadFrames(t testing.TB, path string, max int) []frame {
	f, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.AllowMixedInterfaces(true)
	var out []frame
	var rec capture.Record
	for len(out) < max {
		if err := f.Next(&rec); err != nil {
			if _, ok := err.(*capture.Error); ok && !err.(*capture.Error).Fatal {
				continue
			}
			break
		}
		out = append(out, frame{rec.LinkType, append([]byte(nil), rec.Data...), rec.WireLen})
	}
	return out
}

// TestMatchLikeLibpcap runs every table expression on real frames of
// several link types through Match and through libpcap's interpreter.
func TestMatchLikeLibpcap(t *testing.T) {
	paths := []string{"../../testdata/sample.pcap"}
	if c := sharedCorpus(t); c != "" {
		for _, p := range []string{"public/encapsulation/mixed-vlan-mpls.pcap", "public/encapsulation/vlan-qinqinq.pcap",
			"public/linktypes/raw_ip.pcap", "public/linktypes/sll.pcap", "public/linktypes/null_loopback.pcap",
			"public/ipv6/ftp-ipv6.pcap", "public/linktypes/simple_http_sll2.pcap", "generated/15_vlan_8021q.pcap"} {
			paths = append(paths, filepath.Join(c, p))
		}
	}
	compared, accepted := 0, 0
	for _, path := range paths {
		frames := loadFrames(t, path, 3000)
		for _, expr := range testExprs {
			flt := New(expr, false)
			for _, fr := range frames {
				p, err := flt.Prepare(fr.lt, false)
				if err != nil {
					continue
				}
				got := flt.Match(fr.lt, fr.data, fr.wireLen, false)
				want := referenceMatch(p.ins, fr.data, fr.wireLen)
				if got != want {
					t.Fatalf("%s: %q: frame of %d bytes: Match %v, libpcap %v", path, expr, len(fr.data), got, want)
				}
				// Cut frames exercise the out-of-bounds rules.
				for _, cut := range []int{0, 13, 14, 20, 34, 40, 54} {
					if cut < len(fr.data) {
						if g, w := p.Match(fr.data[:cut], fr.wireLen), referenceMatch(p.ins, fr.data[:cut], fr.wireLen); g != w {
							t.Fatalf("%s: %q: frame cut to %d: Match %v, libpcap %v", path, expr, cut, g, w)
						}
					}
				}
				compared++
				if got {
					accepted++
				}
			}
		}
	}
	if compared == 0 || accepted == 0 || accepted == compared {
		t.Fatalf("compared %d, accepted %d: the table does not discriminate", compared, accepted)
	}
	t.Logf("%d (expression, frame) pairs, %d accepted", compared, accepted)
}

func TestCompileErrors(t *testing.T) {
	for _, c := range []struct{ expr, msg string }{
		{"tcp prot 80", "can't parse filter expression: syntax error"},
		{"host 300.1.1.1", "invalid IPv4 address '300.1.1.1'"},
		{"tcp and", "can't parse filter expression: syntax error"},
		{"port 99999", "illegal port number 99999 > 65535"},
	} {
		_, err := Compile(c.expr, 1, File)
		if err == nil || err.Error() != c.msg {
			t.Errorf("%q: got %v, want %q", c.expr, err, c.msg)
		}
	}
	// An expression valid for Ethernet but not for raw IP.
	if _, err := Compile("ether host 00:00:00:00:00:01", 101, File); err == nil {
		t.Error("ether host on raw IP compiled")
	}
}

func TestFilterPerLinkType(t *testing.T) {
	f := New("ether broadcast", false)
	bcast := make([]byte, 60)
	for i := 0; i < 6; i++ {
		bcast[i] = 0xff
	}
	if !f.Match(1, bcast, 60, false) {
		t.Error("Ethernet broadcast frame rejected")
	}
	if f.Match(101, bcast, 60, false) {
		t.Error("raw IP frame accepted by an Ethernet-only expression")
	}
	if len(f.Failed) != 1 || f.Failed[0] != 101 || f.Err(101) == nil {
		t.Errorf("Failed = %v, Err(101) = %v", f.Failed, f.Err(101))
	}
}

func TestReadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("# web traffic\ntcp port 80  # http\n\tand not host 10.0.0.1\n#end"), 0o644)
	got, err := ReadFile(p)
	if err != nil || got != "tcp port 80 and not host 10.0.0.1" {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, err := ReadFile(p + "x"); err == nil || err.Error() != "cannot read filter file: "+p+"x: no such file or directory" {
		t.Fatalf("missing file: %v", err)
	}
}

func TestMatchNoAllocs(t *testing.T) {
	p, err := Compile("tcp[tcpflags] & tcp-syn != 0 and not port 22", 1, File)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 60)
	if n := testing.AllocsPerRun(100, func() { p.Match(data, 60) }); n != 0 {
		t.Fatalf("%v allocations per Match", n)
	}
}

// programFromBytes turns fuzz input into instructions (8 bytes each).
func programFromBytes(b []byte) []Instruction {
	var ins []Instruction
	for len(b) >= 8 && len(ins) < 64 {
		ins = append(ins, Instruction{Code: binary.BigEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.BigEndian.Uint32(b[4:])})
		b = b[8:]
	}
	return ins
}

// readsUnsetMemory reports whether some path through the program loads a
// scratch memory word that no earlier instruction on that path stored
// (jumps only go forward, so one pass over the instructions suffices).
func readsUnsetMemory(ins []Instruction) bool {
	const all = uint16(0xffff)
	set := make([]uint16, len(ins)+1) // words stored on every path reaching pc
	reached := make([]bool, len(ins)+1)
	for i := range set {
		set[i] = all
	}
	set[0], reached[0] = 0, true
	flow := func(to int, s uint16) {
		set[to] &= s
		reached[to] = true
	}
	for pc, in := range ins {
		if !reached[pc] {
			continue
		}
		s := set[pc]
		switch in.Code {
		case clsLD | mdMEM, clsLDX | mdMEM:
			if s&(1<<in.K) == 0 {
				return true
			}
		case clsST, clsSTX:
			s |= 1 << in.K
		}
		switch {
		case in.Code&0x07 == clsRET:
		case in.Code == clsJMP|jmpJA:
			flow(pc+1+int(in.K), s)
		case in.Code&0x07 == clsJMP:
			flow(pc+1+int(in.Jt), s)
			flow(pc+1+int(in.Jf), s)
		default:
			flow(pc+1, s)
		}
	}
	return false
}

// FuzzProgram: any program that validates runs exactly like libpcap's
// interpreter on any frame, and never panics.
func FuzzProgram(f *testing.F) {
	for _, expr := range testExprs[:8] {
		p, err := Compile(expr, 1, File)
		if err != nil {
			f.Fatal(err)
		}
		var b []byte
		for _, in := range p.ins {
			b = binary.BigEndian.AppendUint16(b, in.Code)
			b = append(b, in.Jt, in.Jf)
			b = binary.BigEndian.AppendUint32(b, in.K)
		}
		f.Add(b, []byte("\xff\xff\xff\xff\xff\xff\x00\x01\x02\x03\x04\x05\x08\x00\x45\x00\x00\x28"), uint32(60))
	}
	f.Fuzz(func(t *testing.T, prog, data []byte, wireLen uint32) {
		p, err := NewProgram(programFromBytes(prog))
		if err != nil || readsUnsetMemory(p.ins) {
			return // libpcap's scratch memory is not initialised: no reference
		}
		if g, w := p.Match(data, wireLen), referenceMatch(p.ins, data, wireLen); g != w {
			t.Fatalf("Match %v, libpcap %v", g, w)
		}
	})
}

// FuzzMatch: the table's programs on arbitrary frames.
func FuzzMatch(f *testing.F) {
	var progs []*Program
	for _, expr := range testExprs {
		p, err := Compile(expr, 1, File)
		if err != nil {
			f.Fatal(err)
		}
		progs = append(progs, p)
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 8; i++ {
		b := make([]byte, rng.Intn(100))
		rng.Read(b)
		f.Add(b, uint32(len(b)))
	}
	f.Fuzz(func(t *testing.T, data []byte, wireLen uint32) {
		for i, p := range progs {
			if g, w := p.Match(data, wireLen), referenceMatch(p.ins, data, wireLen); g != w {
				t.Fatalf("%q: Match %v, libpcap %v", testExprs[i], g, w)
			}
		}
	})
}

// TestNullLinkTypeByteOrder: for BSD loopback captures libpcap compiles
// the address family test for the file's byte order and, for IPv6, for
// every OS's value of AF_INET6 (24, 28, 30); for a live capture only for
// this host's (10). Compile follows it (found by TestFilterLikeTcpdump
// on public/linktypes/null_loopback.pcap, written on macOS).
func TestNullLinkTypeByteOrder(t *testing.T) {
	ipv6 := append([]byte{0x60, 0, 0, 0, 0, 0, 59, 64}, make([]byte, 32)...)
	le := append([]byte{30, 0, 0, 0}, ipv6...) // macOS AF_INET6, little-endian file
	be := append([]byte{0, 0, 0, 30}, ipv6...) // the same from a big-endian file
	for _, c := range []struct {
		src   Source
		frame []byte
		want  bool
	}{
		{File, le, true}, {File, be, false},
		{FileSwapped, be, true}, {FileSwapped, le, false},
		{Live, le, false}, // on Linux, AF_INET6 is 10
		{Live, append([]byte{10, 0, 0, 0}, ipv6...), true},
	} {
		p, err := Compile("ip6", 0, c.src)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Match(c.frame, uint32(len(c.frame))); got != c.want {
			t.Errorf("source %d, family bytes % x: match %v, want %v", c.src, c.frame[:4], got, c.want)
		}
	}
}
