package decode

import (
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"flowsift/internal/capture"
)

// refusedCaptures are captures in link types Tranalyzer 0.9.3 refuses
// (no golden flow file). testdata/tshark/NAME.conv holds
// `tshark -q -z conv,ip -z conv,ipv6 -z conv,tcp -z conv,udp -r FILE`.
var refusedCaptures = []struct {
	path, desc string // path under corpus/, expected description prefix
}{
	{"public/linktypes/decode-sll2-01.pcap", "sll2:"},
	{"public/linktypes/simple_http_sll2.pcap", "sll2:"},
	{"generated/15_linktype_sll2.pcap", "sll2:"},
	{"public/linktypes/nflog-http.pcap", "nflog:"},
	{"public/linktypes/LINKTYPE_PKTAP.pcap", "pktap:"},
	{"public/linktypes/ipoib.pcap", "ipoib:"},
	{"public/truncated-malformed/llc.pcap", "fddi:"},
}

// tsharkConv parses tshark's conversation tables into "KIND A B" → frames,
// with the endpoints sorted.
func tsharkConv(t *testing.T, path string) map[string]int {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	kind := ""
	for _, l := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasSuffix(l, "Conversations"):
			kind = strings.Fields(l)[0]
			continue
		case !strings.Contains(l, "<->"):
			continue
		}
		f := strings.Fields(l)
		if len(f) < 10 {
			t.Fatalf("%s: odd line %q", path, l)
		}
		n, err := strconv.Atoi(f[9])
		if err != nil {
			t.Fatalf("%s: odd line %q", path, l)
		}
		out[convKey(kind, f[0], f[2])] = n
	}
	return out
}

func convKey(kind, a, b string) string {
	if kind == "IPv4" || kind == "IPv6" {
		kind = "IP"
	}
	e := []string{a, b}
	sort.Strings(e)
	return kind + " " + e[0] + " " + e[1]
}

func endpoint(ip netip.Addr, port uint16) string {
	if ip.Is6() {
		return "[" + ip.String() + "]:" + strconv.Itoa(int(port))
	}
	return ip.String() + ":" + strconv.Itoa(int(port))
}

// TestRefusedLinkTypes decodes the captures Tranalyzer refuses and checks
// that the IP/TCP/UDP conversations agree with tshark's.
func TestRefusedLinkTypes(t *testing.T) {
	shared := sharedDir(t)
	for _, rc := range refusedCaptures {
		name := strings.TrimSuffix(filepath.Base(rc.path), filepath.Ext(rc.path))
		t.Run(name, func(t *testing.T) {
			want := tsharkConv(t, filepath.Join("testdata", "tshark", name+".conv"))
			cf, err := capture.Open(filepath.Join(shared, "corpus", rc.path))
			if err != nil {
				t.Skipf("capture: %v", err)
			}
			defer cf.Close()
			got := map[string]int{}
			d := NewDecoder(DefaultConfig())
			var rec capture.Record
			var p Packet
			for n := uint64(1); ; n++ {
				err := cf.Next(&rec)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				p = Packet{Num: n, CapLen: rec.CapLen, WireLen: rec.WireLen, LinkType: rec.LinkType, Data: rec.Data}
				d.Decode(&p)
				if !strings.HasPrefix(string(p.Desc()), rc.desc) {
					t.Errorf("#%d: description %q, want prefix %q", n, p.Desc(), rc.desc)
				}
				var src, dst netip.Addr
				switch p.Kind {
				case KindIPv4:
					src = netip.AddrFrom4([4]byte(p.SrcIP[:4]))
					dst = netip.AddrFrom4([4]byte(p.DstIP[:4]))
				case KindIPv6:
					src, dst = netip.AddrFrom16(p.SrcIP), netip.AddrFrom16(p.DstIP)
				default:
					continue
				}
				got[convKey("IP", src.String(), dst.String())]++
				switch p.Proto {
				case 6:
					got[convKey("TCP", endpoint(src, p.SrcPort), endpoint(dst, p.DstPort))]++
				case 17:
					got[convKey("UDP", endpoint(src, p.SrcPort), endpoint(dst, p.DstPort))]++
				}
			}
			for k, n := range want {
				if got[k] != n {
					t.Errorf("%s: tshark %d packets, ours %d", k, n, got[k])
				}
			}
			for k, n := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("%s: %d packets not in tshark's conversations", k, n)
				}
			}
		})
	}
}
