// Command tsharkcheck compares flowsift's tcpFlags analysis bits with
// tshark's tcp.analysis.* expert flags, per TCP flow direction, for every
// capture in corpus/generated, and prints a Markdown table:
//
//	go run ./tools/tsharkcheck -shared /work/shared [-v] [-keep DIR]
//
// A flow direction is src ip:port -> dst ip:port. tshark's per-packet
// flags are ORed per direction; flowsift's flow rows with the same 4-tuple
// (a split by timeout, a reused port) are ORed too. Only TCP counts.
//
// Categories (tshark field(s) / flowsift bits, tcpFlags.md §7):
//
//	retransmission  retransmission|fast_retransmission|spurious_retransmission
//	                / tcpAnomaly 0x0001|0x0002|0x0004 (SYN, timeout, fast)
//	duplicate ACK   duplicate_ack / tcpAnomaly 0x0008
//	zero window     zero_window / tcpFStat 0x0100 (window < WINMIN=1, no SYN/FIN/RST)
//	keep-alive      keep_alive / tcpAnomaly 0x0010
//	out-of-order    out_of_order / tcpAnomaly 0x0040
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"flowsift/internal/cli"
	"flowsift/internal/corpus"
)

// category is one compared analysis label.
type category struct {
	name   string
	fields []string // tshark fields, any non-empty one flags the packet
	col    string   // flowsift flow column holding the bits
	mask   uint64
}

var categories = []category{
	{"retransmission", []string{"tcp.analysis.retransmission", "tcp.analysis.fast_retransmission", "tcp.analysis.spurious_retransmission"}, "tcpAnomaly", 0x0007},
	{"duplicate ACK", []string{"tcp.analysis.duplicate_ack"}, "tcpAnomaly", 0x0008},
	{"zero window", []string{"tcp.analysis.zero_window"}, "tcpFStat", 0x0100},
	{"keep-alive", []string{"tcp.analysis.keep_alive"}, "tcpAnomaly", 0x0010},
	{"out-of-order", []string{"tcp.analysis.out_of_order"}, "tcpAnomaly", 0x0040},
}

// keyFields locate the flow direction; the analysis fields follow them.
var keyFields = []string{"frame.number", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst", "tcp.dstport"}

// dirKey is one TCP flow direction.
type dirKey struct{ src, dst netip.AddrPort }

func (k dirKey) String() string { return k.src.String() + " > " + k.dst.String() }

// flagged maps a direction to its category bits (bit i = categories[i]),
// with the first few tshark frame numbers per category for -v.
type flagged struct {
	bits   map[dirKey]uint
	frames map[dirKey][][]int
}

func newFlagged() *flagged {
	return &flagged{bits: map[dirKey]uint{}, frames: map[dirKey][][]int{}}
}

func (f *flagged) count(i int) int {
	n := 0
	for _, b := range f.bits {
		if b&(1<<i) != 0 {
			n++
		}
	}
	return n
}

// TsharkArgs are the arguments after "-r FILE" (also printed in the report).
func tsharkArgs() []string {
	args := []string{"-n", "-T", "fields", "-E", "separator=/t", "-E", "occurrence=l", "-Y", "tcp && !icmp && !icmpv6"}
	for _, f := range keyFields {
		args = append(args, "-e", f)
	}
	for _, c := range categories {
		for _, f := range c.fields {
			args = append(args, "-e", f)
		}
	}
	return args
}

func runTshark(tshark, capture string) (*flagged, error) {
	cmd := exec.Command(tshark, append([]string{"-r", capture}, tsharkArgs()...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %s", capture, err, stderr.String())
	}
	res := newFlagged()
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) < len(keyFields) {
			continue
		}
		frame, _ := strconv.Atoi(fs[0])
		k, ok := tsharkKey(fs[1:7])
		if !ok {
			continue
		}
		if _, seen := res.bits[k]; !seen {
			res.bits[k] = 0
			res.frames[k] = make([][]int, len(categories))
		}
		j := len(keyFields)
		for i, c := range categories {
			hit := false
			for range c.fields {
				if j < len(fs) && fs[j] != "" {
					hit = true
				}
				j++
			}
			if hit {
				res.bits[k] |= 1 << i
				res.frames[k][i] = append(res.frames[k][i], frame)
			}
		}
	}
	return res, sc.Err()
}

// tsharkKey builds the direction from ip.src ipv6.src srcport ip.dst ipv6.dst dstport.
func tsharkKey(f []string) (dirKey, bool) {
	pick := func(v4, v6 string) string {
		if v6 != "" {
			return v6
		}
		return v4
	}
	src, err1 := netip.ParseAddr(pick(f[0], f[1]))
	dst, err2 := netip.ParseAddr(pick(f[3], f[4]))
	sp, err3 := strconv.ParseUint(f[2], 10, 16)
	dp, err4 := strconv.ParseUint(f[5], 10, 16)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return dirKey{}, false
	}
	return dirKey{netip.AddrPortFrom(src.Unmap(), uint16(sp)), netip.AddrPortFrom(dst.Unmap(), uint16(dp))}, true
}

// runFlowsift runs flowsift in-process (packet mode, for investigation)
// into dir and reads back its flow file.
func runFlowsift(capture, dir string) (*flagged, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var stdout, stderr bytes.Buffer
	if code := cli.Main([]string{"flowsift", "-r", capture, "-w", dir + "/", "-s", "--no-progress"}, nil, &stdout, &stderr); code != 0 {
		return nil, fmt.Errorf("%s: flowsift exit %d: %s", capture, code, stderr.String())
	}
	return readFlows(filepath.Join(dir, corpus.Name(capture)+"_flows.txt"))
}

func readFlows(path string) (*flagged, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	res := newFlagged()
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	col := map[string]int{}
	for sc.Scan() {
		line := sc.Text()
		fs := strings.Split(line, "\t")
		if strings.HasPrefix(line, "%") {
			fs[0] = strings.TrimPrefix(fs[0], "%")
			for i, n := range fs {
				col[n] = i
			}
			for _, n := range []string{"srcIP", "srcPort", "dstIP", "dstPort", "l4Proto", "tcpAnomaly", "tcpFStat"} {
				if _, ok := col[n]; !ok {
					return nil, fmt.Errorf("%s: no column %s", path, n)
				}
			}
			continue
		}
		if len(col) == 0 || len(fs) < len(col) || fs[col["l4Proto"]] != "6" {
			continue
		}
		src, err1 := netip.ParseAddr(fs[col["srcIP"]])
		dst, err2 := netip.ParseAddr(fs[col["dstIP"]])
		sp, err3 := strconv.ParseUint(fs[col["srcPort"]], 10, 16)
		dp, err4 := strconv.ParseUint(fs[col["dstPort"]], 10, 16)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			continue
		}
		k := dirKey{netip.AddrPortFrom(src.Unmap(), uint16(sp)), netip.AddrPortFrom(dst.Unmap(), uint16(dp))}
		b := res.bits[k]
		for i, c := range categories {
			v, err := strconv.ParseUint(strings.TrimPrefix(fs[col[c.col]], "0x"), 16, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: bad %s %q", path, c.col, fs[col[c.col]])
			}
			if v&c.mask != 0 {
				b |= 1 << i
			}
		}
		res.bits[k] = b
	}
	return res, sc.Err()
}

func main() {
	shared := flag.String("shared", corpus.SharedDir(), "shared folder (corpus/generated)")
	tshark := flag.String("tshark", "tshark", "tshark binary")
	keep := flag.String("keep", "", "keep flowsift outputs (flows and packets) in this folder")
	verbose := flag.Bool("v", false, "list the flow directions behind every disagreement")
	flag.Parse()
	if *shared == "" {
		fmt.Fprintln(os.Stderr, "tsharkcheck: no shared folder (-shared or FLOWSIFT_SHARED)")
		os.Exit(1)
	}
	caps, _ := filepath.Glob(filepath.Join(*shared, "corpus", "generated", "*.pcap*"))
	sort.Strings(caps)
	if len(caps) == 0 {
		fmt.Fprintln(os.Stderr, "tsharkcheck: no captures in", filepath.Join(*shared, "corpus", "generated"))
		os.Exit(1)
	}
	out := *keep
	if out == "" {
		tmp, err := os.MkdirTemp("", "tsharkcheck")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer os.RemoveAll(tmp)
		out = tmp
	}
	if err := report(os.Stdout, *tshark, caps, out, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "tsharkcheck:", err)
		os.Exit(1)
	}
}

func report(w io.Writer, tshark string, caps []string, out string, verbose bool) error {
	ver, _ := exec.Command(tshark, "--version").Output()
	first, _, _ := strings.Cut(string(ver), "\n")
	fmt.Fprintf(w, "tshark: %s\n\n", strings.TrimSpace(first))
	fmt.Fprintf(w, "tshark command: `tshark -r CAPTURE %s`\n\n", strings.Join(quoteArgs(tsharkArgs()), " "))
	fmt.Fprintln(w, "| capture | category | tshark flows | flowsift flows | agree? |")
	fmt.Fprintln(w, "|---|---|---:|---:|---|")
	var details strings.Builder
	agree, total := 0, 0
	for _, c := range caps {
		name := corpus.Name(c)
		ts, err := runTshark(tshark, c)
		if err != nil {
			return err
		}
		fs, err := runFlowsift(c, filepath.Join(out, name))
		if err != nil {
			return err
		}
		allZero := true
		for i := range categories {
			if ts.count(i) != 0 || fs.count(i) != 0 {
				allZero = false
			}
		}
		if allZero {
			fmt.Fprintf(w, "| %s | all five | 0 | 0 | yes |\n", name)
			agree += len(categories)
			total += len(categories)
			continue
		}
		for i, cat := range categories {
			a, b := ts.count(i), fs.count(i)
			ok := "yes"
			total++
			if a == b {
				agree++
			} else {
				ok = "**no**"
			}
			// Equal counts can still hide different flows: show them too.
			if diff := diffDirs(ts, fs, i); diff != "" {
				if a == b {
					ok = "yes (other flows)"
				}
				if verbose {
					fmt.Fprintf(&details, "- %s, %s:\n%s", name, cat.name, diff)
				}
			}
			fmt.Fprintf(w, "| %s | %s | %d | %d | %s |\n", name, cat.name, a, b, ok)
		}
	}
	fmt.Fprintf(w, "\nCounts agree in %d of %d (capture, category) pairs.\n", agree, total)
	if verbose && details.Len() > 0 {
		fmt.Fprintf(w, "\nFlow directions flagged by only one tool (tshark frame numbers, first 8):\n\n%s", details.String())
	}
	return nil
}

// diffDirs lists the directions flagged for category i by only one tool.
func diffDirs(ts, fs *flagged, i int) string {
	keys := map[dirKey]bool{}
	for k := range ts.bits {
		keys[k] = true
	}
	for k := range fs.bits {
		keys[k] = true
	}
	var lines []string
	for k := range keys {
		a, b := ts.bits[k]&(1<<i) != 0, fs.bits[k]&(1<<i) != 0
		switch {
		case a && !b:
			fr := ts.frames[k][i]
			if len(fr) > 8 {
				fr = fr[:8]
			}
			lines = append(lines, fmt.Sprintf("  - tshark only: %s (%d frames: %v)\n", k, len(ts.frames[k][i]), fr))
		case b && !a:
			_, seen := ts.bits[k]
			lines = append(lines, fmt.Sprintf("  - flowsift only: %s (direction seen by tshark: %v)\n", k, seen))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "")
}

func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " \t&!|") {
			a = "'" + a + "'"
		}
		out[i] = a
	}
	return out
}
