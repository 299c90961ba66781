package engine_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"flowsift/internal/cli"
	"flowsift/internal/corpus"
	"flowsift/internal/plugins/tcpflags"
	"flowsift/internal/t2diff"
)

// Columns of the core, basicFlow, basicStats and tcpStates (issue 2).
var coreFlowCols = strings.Fields(`dir flowInd flowStat timeFirst timeLast duration numHdrDesc numHdrs hdrDesc srcMac dstMac ethType vlanID srcIP srcPort dstIP dstPort l4Proto pktsSnt pktsRcvd padBytesSnt l7BytesSnt l7BytesRcvd minL7PktSz maxL7PktSz avgL7PktSz stdL7PktSz minIAT maxIAT avgIAT stdIAT pktps bytps pktAsm bytAsm tcpStatesAFlags`)

var corePacketCols = strings.Fields(`pktNo flowInd flowStat time pktIAT pktTrip flowDuration numHdrs hdrDesc vlanID srcMac dstMac ethType srcIP srcPort dstIP dstPort l4Proto pktLen snapL3Len snapL4Len snapL7Len l3Len udpLen l7Len padLen tcpStatesAFlags l7Content`)

// Columns of tcpFlags (issue 3).
var tcpFlagsFlowCols = strings.Fields(`tcpFStat ipMindIPID ipMaxdIPID ipMinTTL ipMaxTTL ipTTLChg ipToS ipFlags ipOptCnt ipOptCpCl_Num ip6OptCntHH_D ip6OptHH_D tcpISeqN tcpPSeqCnt tcpSeqSntBytes tcpSeqFaultCnt tcpPAckCnt tcpFlwLssAckRcvdBytes tcpAckFaultCnt tcpBFlgtMx tcpInitWinSz tcpAvgWinSz tcpMinWinSz tcpMaxWinSz tcpWinSzDwnCnt tcpWinSzUpCnt tcpWinSzChgDirCnt tcpWinSzThRt tcpFlags tcpAnomaly tcpJA4T tcpOptPktCnt tcpOptCnt tcpOptions tcpMSS tcpWS tcpMPTBF tcpMPF tcpMPAID tcpMPDSSF tcpTmS tcpTmER tcpEcI tcpUtm tcpBtm tcpSSASAATrip tcpRTTAckTripMin tcpRTTAckTripMax tcpRTTAckTripAvg tcpRTTAckTripJitAvg tcpRTTSseqAA tcpRTTAckJitAvg`)

var tcpFlagsPacketCols = strings.Fields(`ipToS ipID ipIDDiff ipFrag ipTTL ipHdrChkSum ipCalChkSum l4HdrChkSum l4CalChkSum ipFlags ip6HHOptLen ip6HHOpts ip6DOptLen ip6DOpts ipOptLen ipOpts seq ack seqMax seqDiff ackDiff seqLen ackLen seqFlowLen ackFlowLen tcpMLen tcpBFlgt tcpFStat tcpFlags tcpAnomaly tcpWin tcpWS tcpMSS tcpTmS tcpTmER tcpMPTyp tcpMPF tcpMPAID tcpMPDSSF tcpOptLen tcpOpts`)

// corpusRun is the one run over the corpus that the golden tests share.
var corpusRun struct {
	once   sync.Once
	shared string
	out    string
	caps   []corpus.Capture
	errs   []string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if corpusRun.out != "" {
		os.RemoveAll(corpusRun.out)
	}
	os.Exit(code)
}

// runCorpus runs flowsift -s over every corpus capture that has golden flow
// files (once per test binary) and returns the output folder, laid out like
// the golden folder, with each end report in NAME_stdout.txt.
func runCorpus(t *testing.T) (shared, out string, caps []corpus.Capture) {
	t.Helper()
	shared = corpus.SharedDir()
	if shared == "" {
		t.Skip("../shared (corpus and golden outputs) not found; set FLOWSIFT_SHARED to run golden tests")
	}
	cr := &corpusRun
	cr.once.Do(func() {
		cr.shared = shared
		all, err := corpus.List(shared)
		if err != nil {
			cr.errs = append(cr.errs, err.Error())
			return
		}
		cr.out, err = os.MkdirTemp("", "flowsift-golden-")
		if err != nil {
			cr.errs = append(cr.errs, err.Error())
			return
		}
		for _, c := range all {
			if _, ok := c.GoldenFile("flows"); !ok {
				continue
			}
			dir := filepath.Join(cr.out, c.Rel)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				cr.errs = append(cr.errs, err.Error())
				return
			}
			prefix := filepath.Join(dir, c.Name)
			stdout, err := os.Create(prefix + "_stdout.txt")
			if err != nil {
				cr.errs = append(cr.errs, err.Error())
				return
			}
			code := cli.Main([]string{"flowsift", "-r", c.Path, "-w", prefix, "-s"}, nil, stdout, io.Discard)
			stdout.Close()
			// 3: damaged input (truncated captures), still fully processed.
			if code != 0 && code != 3 {
				cr.errs = append(cr.errs, fmt.Sprintf("%s: exit status %d", c.Rel, code))
			}
			cr.caps = append(cr.caps, c)
		}
	})
	for _, e := range cr.errs {
		t.Error(e)
	}
	return cr.shared, cr.out, cr.caps
}

func compare(t *testing.T, caps []corpus.Capture, out, kind string, cols []string) *t2diff.Result {
	t.Helper()
	res := t2diff.NewResult()
	for _, c := range caps {
		ref, ok := c.GoldenFile(kind)
		if !ok {
			continue
		}
		rt, err := t2diff.Read(ref)
		if err != nil {
			t.Fatal(err)
		}
		ct, err := t2diff.Read(filepath.Join(out, c.Rel, c.Name+"_"+kind+".txt"))
		if err != nil {
			t.Errorf("%s: %v", c.Rel, err)
			continue
		}
		res.Compare(rt, ct, cols)
	}
	return res
}

// check asserts the acceptance thresholds: overall ≥ minAll, every column
// ≥ minCol, rows ≥ minRows.
func check(t *testing.T, label string, r *t2diff.Result, minAll, minCol, minRows float64, except ...string) {
	t.Helper()
	skip := map[string]bool{}
	for _, c := range except {
		skip[c] = true
	}
	t.Logf("%s: %s; without %v: %.3f%%", label, r.Summary(), except, r.AgreementExcept(skip))
	cols := r.Sorted()
	sort.SliceStable(cols, func(i, j int) bool { return cols[i].Pct() < cols[j].Pct() })
	for _, c := range cols {
		if c.Pct() < 100 {
			t.Logf("  %-24s %8.3f%% (%d/%d) e.g. %s", c.Name, c.Pct(), c.Agree, c.Total, strings.Join(c.Examples, "; "))
		}
		if c.Pct() < minCol && !skip[c.Name] {
			t.Errorf("%s: column %s agreement %.3f%% < %.1f%%", label, c.Name, c.Pct(), minCol)
		}
	}
	if a := r.AgreementExcept(skip); a < minAll {
		t.Errorf("%s: agreement %.3f%% < %.1f%%", label, a, minAll)
	}
	if r.RowsPct() < minRows {
		t.Errorf("%s: rows matched %.3f%% < %.1f%%", label, r.RowsPct(), minRows)
	}
}

func TestGoldenCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("golden corpus run skipped in -short mode")
	}
	_, out, caps := runCorpus(t)
	check(t, "core flows", compare(t, caps, out, "flows", coreFlowCols), 99.5, 99, 99.5)
	check(t, "core packets", compare(t, caps, out, "packets", corePacketCols), 99.5, 99, 99.5)
	check(t, "tcpFlags flows", compare(t, caps, out, "flows", tcpFlagsFlowCols), 99.5, 99, 99.5, tcpflags.CorrectedColumns...)
	check(t, "tcpFlags packets", compare(t, caps, out, "packets", tcpFlagsPacketCols), 99.5, 99, 99.5, tcpflags.CorrectedColumns...)
}

// TestGoldenHeaders checks that the flow and packet header lines (column
// names and order) are identical to Tranalyzer's.
func TestGoldenHeaders(t *testing.T) {
	shared := corpus.SharedDir()
	if shared == "" {
		t.Skip("../shared not found; set FLOWSIFT_SHARED to run golden tests")
	}
	c := corpus.Capture{Path: filepath.Join(shared, "corpus", "generated", "01_clean_http_ipv4.pcap"),
		Rel: "generated/01_clean_http_ipv4", Name: "01_clean_http_ipv4",
		Golden: filepath.Join(shared, "golden", "generated", "01_clean_http_ipv4")}
	out := t.TempDir()
	prefix := filepath.Join(out, c.Name)
	if code := cli.Main([]string{"flowsift", "-r", c.Path, "-w", prefix, "-s"}, nil, io.Discard, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, kind := range []string{"flows", "packets"} {
		ref, _ := c.GoldenFile(kind)
		want := firstLine(t, ref)
		got := firstLine(t, prefix+"_"+kind+".txt")
		if want != got {
			t.Errorf("%s header differs:\nwant %s\ngot  %s", kind, want, got)
		}
	}
	// Column lines of the headers file (after the '# Col No.' line).
	ref, _ := c.GoldenFile("headers")
	if w, g := columnLines(t, ref), columnLines(t, prefix+"_headers.txt"); w != g {
		t.Errorf("headers file columns differ:\nwant\n%s\ngot\n%s", w, g)
	}
}

func firstLine(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, _, _ := strings.Cut(string(b), "\n")
	return s
}

func columnLines(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, cols, _ := strings.Cut(string(b), "# Col No.")
	return cols
}
