package engine_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"flowsift/internal/cli"
	"flowsift/internal/corpus"
	"flowsift/internal/t2diff"
)

// conv is one conversation: frames from the left to the right endpoint and
// back, endpoints ordered so that equal conversations compare equal.
type conv struct {
	kind          string // "TCP", "UDP", "IPv4", "IPv6"
	left, right   string
	fwd, rev, tot int
}

func (c conv) String() string {
	return fmt.Sprintf("%s %s <-> %s: %d -> / %d <-", c.kind, c.left, c.right, c.fwd, c.rev)
}

func canonical(c conv) conv {
	if c.left > c.right {
		c.left, c.right = c.right, c.left
		c.fwd, c.rev = c.rev, c.fwd
	}
	return c
}

// readTshark parses tshark's "-z conv,..." tables.
func readTshark(t *testing.T, path string) []conv {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []conv
	kind := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasSuffix(line, " Conversations") {
			kind = strings.TrimSuffix(line, " Conversations")
			continue
		}
		fs := strings.Fields(line)
		if len(fs) < 11 || fs[1] != "<->" {
			continue
		}
		// A <-> B  framesBA bytes unit  framesAB bytes unit  total bytes unit start dur
		rev, _ := strconv.Atoi(fs[3])
		fwd, _ := strconv.Atoi(fs[6])
		tot, _ := strconv.Atoi(fs[9])
		out = append(out, canonical(conv{kind: kind, left: fs[0], right: fs[2], fwd: fwd, rev: rev, tot: tot}))
	}
	return out
}

// flowsiftConvs builds the same tables from a flow file.
func flowsiftConvs(t *testing.T, path string) []conv {
	t.Helper()
	tab, err := t2diff.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	col := func(name string) int {
		for i, n := range tab.Header {
			if n == name {
				return i
			}
		}
		t.Fatalf("%s: no column %s", path, name)
		return -1
	}
	sip, sp, dip, dp, proto, pkts := col("srcIP"), col("srcPort"), col("dstIP"), col("dstPort"), col("l4Proto"), col("pktsSnt")
	acc := map[string]*conv{}
	add := func(kind, a, b string, n int) {
		c := canonical(conv{kind: kind, left: a, right: b, fwd: n})
		k := kind + " " + c.left + " " + c.right
		e := acc[k]
		if e == nil {
			e = &conv{kind: kind, left: c.left, right: c.right}
			acc[k] = e
		}
		e.fwd += c.fwd
		e.rev += c.rev
		e.tot += n
	}
	for _, r := range tab.Rows {
		if r[sip] == "-" {
			continue // layer-2 flow
		}
		n, _ := strconv.Atoi(r[pkts])
		ipKind := "IPv4"
		if strings.Contains(r[sip], ":") {
			ipKind = "IPv6"
		}
		add(ipKind, r[sip], r[dip], n)
		switch r[proto] {
		case "6":
			add("TCP", r[sip]+":"+r[sp], r[dip]+":"+r[dp], n)
		case "17":
			add("UDP", r[sip]+":"+r[sp], r[dip]+":"+r[dp], n)
		}
	}
	var out []conv
	for _, c := range acc {
		out = append(out, *c)
	}
	return out
}

func sortConvs(cs []conv) []string {
	var s []string
	for _, c := range cs {
		s = append(s, c.String())
	}
	sort.Strings(s)
	return s
}

// TestRefusedLinkTypesMatchTshark checks the link types Tranalyzer refuses
// (Linux cooked v2, NFLOG, PKTAP, IP over InfiniBand, FDDI): flowsift's
// conversations, with packets per direction, equal tshark's (recorded by
// tools/tshark-conv.sh in testdata/tshark).
func TestRefusedLinkTypesMatchTshark(t *testing.T) {
	shared := corpus.SharedDir()
	if shared == "" {
		t.Skip("../shared not found; set FLOWSIFT_SHARED to run golden tests")
	}
	files := map[string]string{
		"simple_http_sll2": "public/linktypes/simple_http_sll2.pcap",
		"decode-sll2-01":   "public/linktypes/decode-sll2-01.pcap",
		"nflog-http":       "public/linktypes/nflog-http.pcap",
		"LINKTYPE_PKTAP":   "public/linktypes/LINKTYPE_PKTAP.pcap",
		"ipoib":            "public/linktypes/ipoib.pcap",
		"llc":              "public/truncated-malformed/llc.pcap",
		"15_linktype_sll2": "generated/15_linktype_sll2.pcap",
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			want := readTshark(t, filepath.Join("testdata", "tshark", name+".txt"))
			if len(want) == 0 {
				t.Fatal("no conversations recorded")
			}
			prefix := filepath.Join(t.TempDir(), name)
			capPath := filepath.Join(shared, "corpus", files[name])
			if code := cli.Main([]string{"flowsift", "-r", capPath, "-w", prefix}, nil, io.Discard, io.Discard); code != 0 {
				t.Fatalf("exit %d", code)
			}
			got := flowsiftConvs(t, prefix+"_flows.txt")
			w, g := sortConvs(want), sortConvs(got)
			if strings.Join(w, "\n") != strings.Join(g, "\n") {
				t.Errorf("conversations differ\ntshark:\n  %s\nflowsift:\n  %s", strings.Join(w, "\n  "), strings.Join(g, "\n  "))
			}
		})
	}
}
