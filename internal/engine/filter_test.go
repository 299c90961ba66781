package engine_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"flowsift/internal/cli"
	"flowsift/internal/corpus"
	"flowsift/internal/filter"
)

// filterExprs are the acceptance expressions of issue 13: every kind of
// primitive tcpdump users type, chosen so that most select part of the
// corpus (10.9.0.0/16 and fd00:9::/64 are the generated captures'
// networks, 8080 their server port).
var filterExprs = []string{
	"host 10.9.0.2",
	"src host 10.9.0.1",
	"net 10.0.0.0/8",
	"dst net 10.9.0.0/24",
	"port 8080",
	"tcp port 80",
	"udp port 53",
	"portrange 1-1024",
	"tcp dst portrange 8000-9000",
	"tcp",
	"udp",
	"icmp or icmp6",
	"arp",
	"ip proto 47",
	"tcp[tcpflags] & tcp-syn != 0",
	"tcp[tcpflags] & (tcp-rst|tcp-fin) != 0",
	"ip6",
	"ip6 and tcp",
	"host fd00:9::2",
	"vlan",
	"vlan and tcp",
	"vlan 100",
	"mpls",
	"greater 1000",
	"less 100",
	"ether host 02:00:00:09:00:01",
	"ether broadcast or ether multicast",
	"not tcp",
	"not (tcp or udp) and not arp",
	"(tcp port 8080 or udp) and not host 10.9.0.3",
}

// filterPublic are the public captures of the comparison: every link
// type of the corpus, VLAN/QinQ/MPLS/PPPoE, pcapng, nanosecond pcap.
var filterPublic = []string{
	"linktypes/null_loopback.pcap",
	"linktypes/null-loopback-ipv6-tcp.pcap",
	"linktypes/raw_ip.pcap",
	"linktypes/tcp-syslog.pcap",
	"ip-fragmentation/frag-ip-tcp.pcap",
	"linktypes/sll.pcap",
	"linktypes/tcp-handshake-nano.pcap",
	"linktypes/simple_http_sll2.pcap",
	"linktypes/PPP_TCP_compression.cap",
	"linktypes/4-byte_AS_numbers_Full_Support.cap",
	"linktypes/pcapng-example.pcapng",
	"encapsulation/mixed-vlan-mpls.pcap",
	"encapsulation/vlan-qinqinq.pcap",
	"encapsulation/mpls-basic.pcap",
	"encapsulation/pppoe-session-http.pcap",
	"encapsulation/EoMPLS.cap",
	"ipv6/ftp-ipv6.pcap",
	"ipv6/four_ipv6_http_streams.pcap",
	"tcp-options/mptcp-v1.pcap",
	"truncated-malformed/llc.pcap",
}

// runFlowsift runs flowsift on in (with filter words) into dir and
// returns the exit code, stderr, and the flow and packet files.
func runFlowsift(t *testing.T, in, dir string, words ...string) (int, string, []byte) {
	t.Helper()
	var stderr bytes.Buffer
	args := append([]string{"flowsift", "-r", in, "-w", dir + "/", "-s", "--no-progress"}, words...)
	code := cli.Main(args, nil, io.Discard, &stderr)
	if code != 0 {
		return code, stderr.String(), nil
	}
	name := corpus.Name(in)
	flows, err := os.ReadFile(filepath.Join(dir, name+"_flows.txt"))
	if err != nil {
		t.Fatal(err)
	}
	pkts, err := os.ReadFile(filepath.Join(dir, name+"_packets.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return code, stderr.String(), append(flows, pkts...)
}

// tcpdumpFilter writes the packets of in that tcpdump's filter passes to
// out (nanosecond pcap, so that no timestamp is rounded).
func tcpdumpFilter(in, out, expr string) (string, error) {
	args := []string{"--time-stamp-precision=nano", "-r", in, "-w", out}
	if expr != "" {
		args = append(args, expr)
	}
	cmd := exec.Command("tcpdump", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	return stderr.String(), err
}

// TestFilterLikeTcpdump: for every expression and capture, flowsift's
// own filtering gives the same flow and packet files as flowsift on
// what tcpdump's filter let through (issue 13, acceptance point 1).
func TestFilterLikeTcpdump(t *testing.T) {
	if !filter.Available {
		t.Skip("built without cgo: no filters")
	}
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("tcpdump not installed (.ci/run installs it)")
	}
	shared := corpus.SharedDir()
	if shared == "" {
		t.Skip("no ../shared corpus")
	}
	var caps []string
	gen, _ := filepath.Glob(filepath.Join(shared, "corpus/generated/*.pcap*"))
	caps = append(caps, gen...)
	for _, p := range filterPublic {
		caps = append(caps, filepath.Join(shared, "corpus/public", p))
	}
	var compared, refused, matchedSome atomic.Int64
	var mu sync.Mutex
	var skipped []string
	skip := func(s string) {
		mu.Lock()
		skipped = append(skipped, s)
		mu.Unlock()
	}
	t.Run("captures", func(t *testing.T) {
		for _, capPath := range caps {
			name := corpus.Name(capPath)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				tmp := t.TempDir()
				// Only captures libpcap reads like flowsift can be compared:
				// without a filter both ways must agree already.
				base := filepath.Join(tmp, "base.pcap")
				if msg, err := tcpdumpFilter(capPath, base, ""); err != nil {
					skip(name + ": tcpdump cannot read it: " + lastLine(msg))
					return
				}
				_, _, want := runFlowsift(t, base, filepath.Join(tmp, "bB"))
				_, _, got := runFlowsift(t, capPath, filepath.Join(tmp, "bA"))
				if !bytes.Equal(got, want) {
					skip(name + ": libpcap reads it differently from flowsift (no filter)")
					return
				}
				for ei, expr := range filterExprs {
					out := filepath.Join(tmp, "f.pcap")
					msg, tdErr := tcpdumpFilter(capPath, out, expr)
					codeA, errA, gotA := runFlowsift(t, capPath, filepath.Join(tmp, "A", strconv.Itoa(ei)), strings.Fields(expr)...)
					if tdErr != nil {
						// tcpdump refuses the expression for this link type:
						// flowsift must refuse it too, with libpcap's reason.
						reason := strings.TrimPrefix(lastLine(msg), "tcpdump: ")
						if codeA != 2 || !strings.Contains(errA, reason) {
							t.Errorf("%q: tcpdump refused it (%s), flowsift exit %d: %s", expr, reason, codeA, errA)
						}
						refused.Add(1)
						continue
					}
					if codeA != 0 {
						t.Errorf("%q: flowsift exit %d: %s", expr, codeA, errA)
						continue
					}
					_, _, wantB := runFlowsift(t, out, filepath.Join(tmp, "B", strconv.Itoa(ei)))
					if !bytes.Equal(gotA, wantB) {
						t.Errorf("%q: flow/packet files differ from flowsift on tcpdump's output", expr)
						continue
					}
					if bytes.Count(gotA, []byte("\n")) > 2 && !bytes.Equal(gotA, got) {
						matchedSome.Add(1)
					}
					compared.Add(1)
				}
			})
		}
	})
	t.Logf("%d (expression, capture) pairs compared equal, %d refused by both; %d pairs select a non-empty proper subset; %d captures skipped",
		compared.Load(), refused.Load(), matchedSome.Load(), len(skipped))
	for _, s := range skipped {
		t.Logf("skipped %s", s)
	}
	if compared.Load() < 1000 || matchedSome.Load() < 200 {
		t.Errorf("too few comparisons: %d pairs, %d discriminating", compared.Load(), matchedSome.Load())
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}
