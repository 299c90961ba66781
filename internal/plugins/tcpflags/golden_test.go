package tcpflags_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flowsift/internal/cli"
	"flowsift/internal/corpus"
	"flowsift/internal/plugins/tcpflags"
	"flowsift/internal/t2diff"
)

// The default-configuration golden comparison of every tcpFlags column is
// part of internal/engine's TestGoldenCorpus. This test covers the TCPFLGCNT
// variant (golden/variants/flgcnt: flow files of a T2 built with
// TCPFLGCNT=1), which also exercises the run-time switch plumbing.
var variantCols = strings.Fields(`tcpFStat ipMindIPID ipMaxdIPID ipMinTTL ipMaxTTL ipTTLChg ipToS ipFlags ipOptCnt ipOptCpCl_Num ip6OptCntHH_D ip6OptHH_D tcpISeqN tcpPSeqCnt tcpSeqSntBytes tcpSeqFaultCnt tcpPAckCnt tcpFlwLssAckRcvdBytes tcpAckFaultCnt tcpBFlgtMx tcpInitWinSz tcpAvgWinSz tcpMinWinSz tcpMaxWinSz tcpWinSzDwnCnt tcpWinSzUpCnt tcpWinSzChgDirCnt tcpWinSzThRt tcpFlags tcpAnomaly tcpCntF_S_R_P_A_U_E_C_FA_SA_RA_N_SF_SFR_RF_X tcpJA4T tcpOptPktCnt tcpOptCnt tcpOptions tcpMSS tcpWS tcpMPTBF tcpMPF tcpMPAID tcpMPDSSF tcpTmS tcpTmER tcpEcI tcpUtm tcpBtm tcpSSASAATrip tcpRTTAckTripMin tcpRTTAckTripMax tcpRTTAckTripAvg tcpRTTAckTripJitAvg tcpRTTSseqAA tcpRTTAckJitAvg`)

func TestGoldenFlgCntVariant(t *testing.T) {
	if testing.Short() {
		t.Skip("golden variant run skipped in -short mode")
	}
	shared := corpus.SharedDir()
	if shared == "" {
		t.Skip("../shared (corpus and golden outputs) not found; set FLOWSIFT_SHARED to run golden tests")
	}
	caps, err := corpus.List(shared)
	if err != nil {
		t.Fatal(err)
	}
	vdir := filepath.Join(shared, "golden", "variants", "flgcnt")
	out := t2diff.NewResult()
	tmp := t.TempDir()
	n := 0
	for _, c := range caps {
		// generated/NAME → generated/NAME; public/scans/NAME → public-scans/NAME.
		rel := strings.Replace(c.Rel, "public"+string(filepath.Separator), "public-", 1)
		ref := filepath.Join(vdir, rel, c.Name+"_flows.txt")
		if _, err := os.Stat(ref); err != nil {
			continue
		}
		prefix := filepath.Join(tmp, c.Name)
		if code := cli.Main([]string{"flowsift", "-r", c.Path, "-w", prefix, "--set", "tcpFlags.TCPFLGCNT=1"},
			nil, io.Discard, io.Discard); code != 0 {
			t.Errorf("%s: exit status %d", c.Rel, code)
			continue
		}
		rt, err := t2diff.Read(ref)
		if err != nil {
			t.Fatal(err)
		}
		ct, err := t2diff.Read(prefix + "_flows.txt")
		if err != nil {
			t.Fatal(err)
		}
		out.Compare(rt, ct, variantCols)
		n++
	}
	if n == 0 {
		t.Skip("no flgcnt variant golden files found")
	}
	skip := map[string]bool{}
	for _, c := range tcpflags.CorrectedColumns {
		skip[c] = true
	}
	t.Logf("%d captures: %s; without the corrected columns %v: %.3f%%", n, out.Summary(), tcpflags.CorrectedColumns, out.AgreementExcept(skip))
	for _, c := range out.Sorted() {
		if c.Pct() < 99 && !skip[c.Name] {
			t.Errorf("column %s agreement %.3f%% < 99%% (e.g. %s)", c.Name, c.Pct(), strings.Join(c.Examples, "; "))
		}
	}
	if a := out.AgreementExcept(skip); a < 99.5 {
		t.Errorf("agreement %.3f%% < 99.5%%", a)
	}
}
