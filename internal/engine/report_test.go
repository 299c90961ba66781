package engine_test

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"flowsift/internal/cli"
)

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// runSpecific are the end-report lines whose values belong to one run
// (dates, PID, elapsed times, memory) or to the subnet database.
var runSpecific = regexp.MustCompile(`^(Date:|Tranalyzer 0\.9\.3 \(Anteater\), Cobra\. PID|Finished processing|Finished unloading|Memory usage|Processing file|\[INF\] IPv[46] Ver)`)

// reportExceptions are captures whose report differs from Tranalyzer's on
// purpose (docs/compat.md): pcapng files with interfaces of several link
// types, which Tranalyzer stops reading.
var reportExceptions = map[string]bool{
	"public/linktypes/pcapng-example":           true,
	"public/truncated-malformed/ipv4-malformed": true,
	// An empty capture: Tranalyzer prints a dump stop at the epoch, a
	// negative dump duration wrapped to 79 years and "Headers count: min:
	// 65535, max: 0"; flowsift prints none of these.
	"public/truncated-malformed/empty": true,
}

// correctedDiffers are captures whose report differs from Tranalyzer's
// only through the defects flowsift corrects by default (FIXT2BUGS,
// docs/compat.md); with core.FIXT2BUGS=0 and tcpFlags.FIXT2BUGS=0 their
// report must equal Tranalyzer's.
var correctedDiffers = map[string]bool{
	"generated/10_frag_crafted_ipv4":                     true, // SYN/ACK test on an uncaptured TCP header
	"generated/11_scan_udp":                              true, // DTLS read from an earlier frame's bytes
	"public/ip-fragmentation/fragmented-syn":             true, // wrapped L7 length: "SYN with L7 content"
	"public/truncated-malformed/tcp-malformed":           true, // wrapped L7 length
	"public/truncated-malformed/tcp_header_heapoverflow": true, // TCP header not captured
}

// unreproducible are captures in which Tranalyzer read bytes of frames that
// never reached it as packets (libpcap buffer contents): a 6-byte IPv4
// header, a 39-byte IPv6 header.
var unreproducible = map[string]bool{
	"public/truncated-malformed/ip4-trunc":           true,
	"public/truncated-malformed/ipv6_invalid_length": true,
}

// refused reports whether Tranalyzer refused the capture (exit status 1:
// a link type it cannot read); flowsift reads those (docs/compat.md).
func refused(rcFile string) bool {
	b, err := os.ReadFile(rcFile)
	return err == nil && strings.TrimSpace(string(b)) != "0"
}

func normalizeReport(b []byte) []string {
	var out []string
	for _, l := range strings.Split(ansi.ReplaceAllString(string(b), ""), "\n") {
		if l == "" || runSpecific.MatchString(l) {
			continue
		}
		out = append(out, l)
	}
	return out
}

// TestGoldenReport compares the end report of every corpus capture with
// Tranalyzer's, apart from run-specific lines.
func TestGoldenReport(t *testing.T) {
	if testing.Short() {
		t.Skip("golden corpus run skipped in -short mode")
	}
	_, out, caps := runCorpus(t)
	same, total := 0, 0
	for _, c := range caps {
		ref, ok := c.GoldenFile("stdout")
		rel := filepath.ToSlash(c.Rel)
		if !ok || reportExceptions[rel] || unreproducible[rel] {
			continue
		}
		if rc, _ := c.GoldenFile("rc"); refused(rc) {
			continue
		}
		want, err := os.ReadFile(ref)
		if err != nil {
			t.Fatal(err)
		}
		gotPath := filepath.Join(out, c.Rel, c.Name+"_stdout.txt")
		if correctedDiffers[rel] {
			prefix := filepath.Join(t.TempDir(), c.Name)
			gotPath = prefix + "_stdout.txt"
			stdout, err := os.Create(gotPath)
			if err != nil {
				t.Fatal(err)
			}
			cli.Main([]string{"flowsift", "-r", c.Path, "-w", prefix, "--set", "core.FIXT2BUGS=0", "--set", "tcpFlags.FIXT2BUGS=0"}, nil, stdout, io.Discard)
			stdout.Close()
		}
		got, err := os.ReadFile(gotPath)
		if err != nil {
			t.Fatal(err)
		}
		total++
		w, g := normalizeReport(want), normalizeReport(got)
		if strings.Join(w, "\n") == strings.Join(g, "\n") {
			same++
			continue
		}
		t.Errorf("%s: end report differs:\n%s", c.Rel, lineDiff(w, g))
	}
	t.Logf("end reports identical apart from run-specific lines: %d of %d", same, total)
}

// lineDiff shows the first differing lines.
func lineDiff(want, got []string) string {
	var b strings.Builder
	n := 0
	wi, gi := 0, 0
	for (wi < len(want) || gi < len(got)) && n < 8 {
		switch {
		case wi < len(want) && gi < len(got) && want[wi] == got[gi]:
			wi++
			gi++
			continue
		case wi < len(want) && !contains(got[gi:], want[wi]):
			b.WriteString("  - " + want[wi] + "\n")
			wi++
		case gi < len(got):
			b.WriteString("  + " + got[gi] + "\n")
			gi++
		default:
			b.WriteString("  - " + want[wi] + "\n")
			wi++
		}
		n++
	}
	return b.String()
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}
