// Command truthtable prints the accuracy table of docs/accuracy.md: for
// every truth capture and data direction, the ground truth next to
// flowsift's tcpDiag, Tranalyzer 0.9.3's per-packet labels (golden packet
// files) and tshark's expert labels.
//
//	go run ./tools/truthtable [-shared ../shared] > table.md
//
// Tranalyzer: data packets of the direction whose tcpAnomaly has a
// retransmission bit (0x0002 timeout, 0x0004 fast), 0x0080 (spurious),
// 0x0040 (out-of-order), 0x0200 (previous packet not captured: its loss
// signal). tshark: data frames labelled retransmission, fast
// retransmission or spurious retransmission (all three count as
// retransmissions), spurious retransmission, out-of-order, and "previous
// segment(s) not captured". Neither has a network-duplicate, CE or
// capture-loss count of its own.
package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"flowsift/internal/corpus"
	"flowsift/internal/engine"
	"flowsift/internal/plugins"
	"flowsift/internal/t2diff"
)

type counts struct{ lost, retx, spur, reord, dup, ce, caploss int }

func main() {
	shared := flag.String("shared", corpus.SharedDir(), "the shared folder")
	minData := flag.Int("min", 20, "directions with at least this many data segments")
	flag.Parse()
	dir := filepath.Join(*shared, "corpus", "truth")
	f, err := os.Open(filepath.Join(dir, "truth.tsv"))
	check(err)
	rd := csv.NewReader(f)
	rd.Comma, rd.LazyQuotes = '\t', true
	recs, err := rd.ReadAll()
	check(err)
	h := map[string]int{}
	for i, c := range recs[0] {
		h[c] = i
	}
	tmp, err := os.MkdirTemp("", "truthtable")
	check(err)
	defer os.RemoveAll(tmp)
	_, tsharkErr := exec.LookPath("tshark")

	fmt.Println("| capture (side) | data | lost | retransmitted | spurious | reordered | duplicated | CE | capture loss |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, r := range recs[1:] {
		g := func(k string) string { return r[h[k]] }
		n := atoi(g("data_segments_seen_in_this_file"))
		if n < *minData {
			continue
		}
		file := g("file")
		name := strings.TrimSuffix(file, ".pcap")
		truth := counts{atoi(g("lost")), atoi(g("retransmitted")), atoi(g("spurious_retx")), atoi(g("reordered")),
			atoi(g("duplicated")), atoi(g("ce_marked")), atoi(g("capture_dropped"))}
		fs := flowsift(filepath.Join(dir, file), tmp, g("src"), g("sport"))
		t2 := tranalyzer(filepath.Join(*shared, "golden", "truth", name, name+"_packets.txt"), g("src"), g("sport"))
		cell := func(get func(counts) int, withT2, withTshark bool, ts counts) string {
			s := fmt.Sprintf("**%d** / %d", get(truth), get(fs))
			if withT2 {
				s += fmt.Sprintf(" / %d", get(t2))
			} else {
				s += " / –"
			}
			if withTshark && tsharkErr == nil {
				s += fmt.Sprintf(" / %d", get(ts))
			} else {
				s += " / –"
			}
			return s
		}
		var ts counts
		if tsharkErr == nil {
			ts = tshark(filepath.Join(dir, file), g("src"), g("sport"))
		}
		fmt.Printf("| %s (%s) | %d | %s | %s | %s | %s | %s | %s | %s |\n", name, g("side"), n,
			cell(func(c counts) int { return c.lost }, true, true, ts),
			cell(func(c counts) int { return c.retx }, true, true, ts),
			cell(func(c counts) int { return c.spur }, true, true, ts),
			cell(func(c counts) int { return c.reord }, true, true, ts),
			cell(func(c counts) int { return c.dup }, false, false, ts),
			cell(func(c counts) int { return c.ce }, false, false, ts),
			cell(func(c counts) int { return c.caploss }, false, false, ts))
	}
}

// flowsift runs the capture with tcpDiag and returns the direction's counts.
func flowsift(capture, tmp, src, sport string) counts {
	name := strings.TrimSuffix(filepath.Base(capture), ".pcap")
	out := filepath.Join(tmp, name) + "/"
	opts := &engine.Options{ReadFile: capture, Inputs: []string{capture}, Prefix: out, Sets: map[string]string{},
		Plugins: []string{"basicFlow", "basicStats", "tcpFlags", "tcpStates", "tcpDiag"}}
	if st := engine.Run(opts, plugins.Registry(), io.Discard, os.Stderr); st != 0 {
		fatal(fmt.Errorf("%s: exit %d", capture, st))
	}
	for _, row := range table(filepath.Join(out, name+"_flows.txt")) {
		if row["l4Proto"] == "6" && row["srcIP"] == src && row["srcPort"] == sport {
			return counts{atoi(row["diagLost"]), atoi(row["diagRetx"]), atoi(row["diagRetxSpur"]), atoi(row["diagReord"]),
				atoi(row["diagDup"]), atoi(row["diagCE"]), atoi(row["diagCapLoss"])}
		}
	}
	fatal(fmt.Errorf("%s: no row for %s:%s", capture, src, sport))
	return counts{}
}

// tranalyzer counts the labels of the direction's data packets in a golden
// packet file.
func tranalyzer(path, src, sport string) counts {
	var c counts
	for _, row := range table(path) {
		if row["srcIP"] != src || row["srcPort"] != sport || row["l4Proto"] != "6" || atoi(row["l7Len"]) == 0 {
			continue
		}
		a, err := strconv.ParseUint(strings.TrimPrefix(row["tcpAnomaly"], "0x"), 16, 16)
		check(err)
		if a&0x0006 != 0 {
			c.retx++
		}
		if a&0x0080 != 0 {
			c.spur++
		}
		if a&0x0040 != 0 {
			c.reord++
		}
		if a&0x0200 != 0 {
			c.lost++
		}
	}
	return c
}

// tshark counts tshark's expert labels on the direction's data frames.
func tshark(capture, src, sport string) counts {
	addr := "ip.src"
	if strings.Contains(src, ":") {
		addr = "ipv6.src"
	}
	out, err := exec.Command("tshark", "-r", capture, "-Y",
		fmt.Sprintf("%s==%s && tcp.srcport==%s && tcp.len>0 && tcp.analysis.flags", addr, src, sport),
		"-T", "fields", "-e", "_ws.expert.message").Output()
	check(err)
	var c counts
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.Contains(line, "spurious retransmission"):
			c.spur++
			c.retx++
		case strings.Contains(line, "retransmission"):
			c.retx++
		}
		if strings.Contains(line, "out-of-order") {
			c.reord++
		}
		if strings.Contains(line, "not captured") {
			c.lost++
		}
	}
	return c
}

func table(path string) []map[string]string {
	t, err := t2diff.Read(path)
	check(err)
	return t.Records()
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func check(err error) {
	if err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "truthtable:", err)
	os.Exit(1)
}
