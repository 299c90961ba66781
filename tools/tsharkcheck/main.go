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
//	spurious retr.  spurious_retransmission / tcpAnomaly 0x0080 ("sequence
//	                mess, rather spurious retransmission"; informational)
//	lost segment    lost_segment / tcpAnomaly 0x0200 ("previous packet not
//	                captured"; informational)
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
	// Extra: the closest Tranalyzer bit to Wireshark's spurious label
	// (segment below what the peer already acknowledged).
	{"spurious retr.", []string{"tcp.analysis.spurious_retransmission"}, "tcpAnomaly", 0x0080},
	{"lost segment", []string{"tcp.analysis.lost_segment"}, "tcpAnomaly", 0x0200},
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
	pkts   []int          // flagged packets per category (-1: not known)
	labels map[int]string // tshark: frame number -> its labels, for -xtab
}

func newFlagged() *flagged {
	p := make([]int, len(categories))
	for i := range p {
		p[i] = -1
	}
	return &flagged{bits: map[dirKey]uint{}, frames: map[dirKey][][]int{}, pkts: p, labels: map[int]string{}}
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
	for _, f := range analysisFields() {
		args = append(args, "-e", f)
	}
	return args
}

// analysisFields lists the categories' tshark fields once each, in order.
func analysisFields() []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range categories {
		for _, f := range c.fields {
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	return out
}

func runTshark(tshark, capture string) (*flagged, error) {
	cmd := exec.Command(tshark, append([]string{"-r", capture}, tsharkArgs()...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %s", capture, err, stderr.String())
	}
	fieldIndex := map[string]int{}
	for i, f := range analysisFields() {
		fieldIndex[f] = len(keyFields) + i
	}
	res := newFlagged()
	for i := range res.pkts {
		res.pkts[i] = 0
	}
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
		var lab []string
		for i, f := range analysisFields() {
			if j := len(keyFields) + i; j < len(fs) && fs[j] != "" {
				lab = append(lab, strings.TrimPrefix(f, "tcp.analysis."))
			}
		}
		if lab != nil {
			res.labels[frame] = strings.Join(lab, "+")
		}
		for i, c := range categories {
			hit := false
			for _, f := range c.fields {
				if j := fieldIndex[f]; j < len(fs) && fs[j] != "" {
					hit = true
				}
			}
			if hit {
				res.bits[k] |= 1 << i
				res.frames[k][i] = append(res.frames[k][i], frame)
				res.pkts[i]++
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
	res, err := readFlows(filepath.Join(dir, corpus.Name(capture)+"_flows.txt"))
	if err != nil {
		return nil, err
	}
	return res, countPackets(filepath.Join(dir, corpus.Name(capture)+"_packets.txt"), res.pkts)
}

// countPackets counts the TCP packets of a packet file carrying each
// category's bits.
func countPackets(path string, pkts []int) error {
	var col map[string]int
	for i := range pkts {
		pkts[i] = 0
	}
	return eachRow(path, func(c map[string]int, fs []string) error {
		col = c
		if fs[col["l4Proto"]] != "6" {
			return nil
		}
		for i, cat := range categories {
			v, err := strconv.ParseUint(strings.TrimPrefix(fs[col[cat.col]], "0x"), 16, 64)
			if err == nil && v&cat.mask != 0 {
				pkts[i]++
			}
		}
		return nil
	})
}

// eachRow calls fn for every data row of a Tranalyzer text file with the
// column index of its header.
func eachRow(path string, fn func(col map[string]int, fs []string) error) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
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
					return fmt.Errorf("%s: no column %s", path, n)
				}
			}
			continue
		}
		if len(col) == 0 || len(fs) < len(col) {
			continue
		}
		if err := fn(col, fs); err != nil {
			return err
		}
	}
	return sc.Err()
}

func readFlows(path string) (*flagged, error) {
	res := newFlagged()
	err := eachRow(path, func(col map[string]int, fs []string) error {
		if fs[col["l4Proto"]] != "6" {
			return nil
		}
		src, err1 := netip.ParseAddr(fs[col["srcIP"]])
		dst, err2 := netip.ParseAddr(fs[col["dstIP"]])
		sp, err3 := strconv.ParseUint(fs[col["srcPort"]], 10, 16)
		dp, err4 := strconv.ParseUint(fs[col["dstPort"]], 10, 16)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			return nil
		}
		k := dirKey{netip.AddrPortFrom(src.Unmap(), uint16(sp)), netip.AddrPortFrom(dst.Unmap(), uint16(dp))}
		b := res.bits[k]
		for i, c := range categories {
			v, err := strconv.ParseUint(strings.TrimPrefix(fs[col[c.col]], "0x"), 16, 64)
			if err != nil {
				return fmt.Errorf("%s: bad %s %q", path, c.col, fs[col[c.col]])
			}
			if v&c.mask != 0 {
				b |= 1 << i
			}
		}
		res.bits[k] = b
		return nil
	})
	return res, err
}

func main() {
	shared := flag.String("shared", corpus.SharedDir(), "shared folder (corpus/generated)")
	tshark := flag.String("tshark", "tshark", "tshark binary")
	keep := flag.String("keep", "", "keep flowsift outputs (flows and packets) in this folder")
	verbose := flag.Bool("v", false, "list the flow directions behind every disagreement")
	only := flag.String("only", "", "only captures whose name contains this")
	xtab := flag.Bool("xtab", false, "also cross-tabulate tshark labels against flowsift's per-packet tcpAnomaly")
	flag.Parse()
	if *shared == "" {
		fmt.Fprintln(os.Stderr, "tsharkcheck: no shared folder (-shared or FLOWSIFT_SHARED)")
		os.Exit(1)
	}
	caps, _ := filepath.Glob(filepath.Join(*shared, "corpus", "generated", "*.pcap*"))
	sort.Strings(caps)
	if *only != "" {
		var sel []string
		for _, c := range caps {
			if strings.Contains(filepath.Base(c), *only) {
				sel = append(sel, c)
			}
		}
		caps = sel
	}
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
	if err := report(os.Stdout, *tshark, filepath.Join(*shared, "golden"), caps, out, *verbose, *xtab); err != nil {
		fmt.Fprintln(os.Stderr, "tsharkcheck:", err)
		os.Exit(1)
	}
}

// goldCount is the golden count for category i (-1: all categories, "0"
// if all are zero), "n/a" without a golden flow file.
func goldCount(g *flagged, i int) string {
	if g == nil {
		return "n/a"
	}
	if i >= 0 {
		return strconv.Itoa(g.count(i))
	}
	n := 0
	for j := range categories {
		n += g.count(j)
	}
	return strconv.Itoa(n)
}

func report(w io.Writer, tshark, golden string, caps []string, out string, verbose, xtab bool) error {
	ver, _ := exec.Command(tshark, "--version").Output()
	first, _, _ := strings.Cut(string(ver), "\n")
	fmt.Fprintf(w, "tshark: %s\n\n", strings.TrimSpace(first))
	fmt.Fprintf(w, "tshark command: `tshark -r CAPTURE %s`\n\n", strings.Join(quoteArgs(tsharkArgs()), " "))
	fmt.Fprintln(w, "| capture | category | tshark flows | flowsift flows | agree? | Tranalyzer (golden) flows | tshark pkts | flowsift pkts |")
	fmt.Fprintln(w, "|---|---|---:|---:|---|---:|---:|---:|")
	var details, cross strings.Builder
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
		if xtab {
			if err := crossTab(&cross, name, ts, filepath.Join(out, name, name+"_packets.txt")); err != nil {
				return err
			}
		}
		// Tranalyzer's own flow file tells whether a difference is
		// flowsift's or inherited from Tranalyzer's definitions.
		gold, err := readFlows(filepath.Join(golden, "generated", name, name+"_flows.txt"))
		if err != nil {
			gold = nil
		}
		allZero := true
		for i := range categories {
			if ts.count(i) != 0 || fs.count(i) != 0 || (gold != nil && gold.count(i) != 0) {
				allZero = false
			}
		}
		if allZero {
			fmt.Fprintf(w, "| %s | all %d | 0 | 0 | yes | %s | 0 | 0 |\n", name, len(categories), goldCount(gold, -1))
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
			fmt.Fprintf(w, "| %s | %s | %d | %d | %s | %s | %d | %d |\n", name, cat.name, a, b, ok, goldCount(gold, i), ts.pkts[i], fs.pkts[i])
		}
	}
	fmt.Fprintf(w, "\nCounts agree in %d of %d (capture, category) pairs.\n", agree, total)
	if cross.Len() > 0 {
		fmt.Fprintf(w, "\n| capture | tshark labels | flowsift tcpAnomaly (bits 0-9) | packets |\n|---|---|---|---:|\n%s", cross.String())
	}
	if verbose && details.Len() > 0 {
		fmt.Fprintf(w, "\nFlow directions flagged by only one tool (tshark frame numbers, first 8):\n\n%s", details.String())
	}
	return nil
}

// crossTab counts the TCP packets by (tshark labels, flowsift tcpAnomaly
// bits 0x03ff) pairs, joining on frame number = pktNo; unlabelled pairs are
// skipped.
func crossTab(w io.Writer, name string, ts *flagged, packets string) error {
	type pair struct{ lab, bits string }
	n := map[pair]int{}
	err := eachRow(packets, func(col map[string]int, fs []string) error {
		i, ok := col["pktNo"]
		if !ok || fs[col["l4Proto"]] != "6" {
			return nil
		}
		frame, _ := strconv.Atoi(fs[i])
		v, _ := strconv.ParseUint(strings.TrimPrefix(fs[col["tcpAnomaly"]], "0x"), 16, 64)
		p := pair{ts.labels[frame], fmt.Sprintf("0x%04x", v&0x03ff)}
		if p.lab != "" || v&0x03ff != 0 {
			n[p]++
		}
		return nil
	})
	if err != nil {
		return err
	}
	pairs := make([]pair, 0, len(n))
	for p := range n {
		pairs = append(pairs, p)
	}
	sort.Slice(pairs, func(a, b int) bool {
		if n[pairs[a]] != n[pairs[b]] {
			return n[pairs[a]] > n[pairs[b]]
		}
		return pairs[a].lab+pairs[a].bits < pairs[b].lab+pairs[b].bits
	})
	for _, p := range pairs {
		lab := p.lab
		if lab == "" {
			lab = "-"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %d |\n", name, lab, p.bits, n[p])
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
