package explain

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"flowsift/internal/corpus"
	"flowsift/internal/engine"
	"flowsift/internal/plugins"
)

var update = flag.Bool("update", false, "rewrite the golden texts in testdata/")

func analyze(t testing.TB, path string, xo Options) *Result {
	t.Helper()
	opts := &engine.Options{ReadFile: path, Inputs: []string{path}, Sets: map[string]string{}}
	res, err := AnalyzeFlow(opts, plugins.Registry(), xo)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return res
}

func codes(r *Result) map[string]bool {
	m := map[string]bool{}
	for _, f := range r.Findings {
		m[f.Code] = true
	}
	return m
}

func shared(t *testing.T) string {
	d := corpus.SharedDir()
	if d == "" {
		t.Skip("no ../shared corpus")
	}
	return d
}

// Every line of EXPLAIN.tsv: the codes a capture must and must not show.
func TestExplainTable(t *testing.T) {
	dir := filepath.Join(shared(t), "corpus", "generated")
	f, err := os.Open(filepath.Join(dir, "EXPLAIN.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := append(strings.Split(line, "\t"), "", "")
		n++
		name, must, mustNot := fs[0], fs[1], fs[2]
		t.Run(name, func(t *testing.T) {
			got := codes(analyze(t, filepath.Join(dir, name), Options{}))
			for _, c := range strings.Split(must, ",") {
				if c != "" && !got[c] {
					t.Errorf("missing %s (got %v)", c, keys(got))
				}
			}
			for _, c := range strings.Split(mustNot, ",") {
				if c != "" && got[c] {
					t.Errorf("false %s", c)
				}
			}
		})
	}
	if n < 40 {
		t.Errorf("only %d lines in EXPLAIN.tsv", n)
	}
}

func keys(m map[string]bool) []string {
	var l []string
	for k := range m {
		l = append(l, k)
	}
	sort.Strings(l)
	return l
}

// truth.tsv: what the captures' ground truth says explain must (not) report.
func TestExplainTruth(t *testing.T) {
	dir := filepath.Join(shared(t), "corpus", "truth")
	f, err := os.Open(filepath.Join(dir, "truth.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd := csv.NewReader(f)
	rd.Comma, rd.LazyQuotes, rd.FieldsPerRecord = '\t', true, -1
	recs, err := rd.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	type want struct{ must, mustNot map[string]bool }
	per := map[string]*want{}
	var order []string
	for _, r := range recs[1:] {
		num := func(k string) int { v, _ := strconv.Atoi(r[col[k]]); return v }
		if num("data_segments_seen_in_this_file") < 20 {
			continue
		}
		file := r[col["file"]]
		w := per[file]
		if w == nil {
			w = &want{map[string]bool{}, map[string]bool{}}
			per[file] = w
			order = append(order, file)
		}
		loss := "loss_upstream"
		if r[col["side"]] == "sender" {
			loss = "loss_downstream"
		}
		lost, reo, dup, ce, spur := num("lost"), num("reordered"), num("duplicated"), num("ce_marked"), num("spurious_retx")
		if lost >= 3 {
			w.must[loss] = true
		}
		if lost == 0 {
			w.mustNot["loss_upstream"], w.mustNot["loss_downstream"] = true, true
		}
		if reo >= 50 {
			w.must["reordering"] = true
		}
		if reo == 0 {
			w.mustNot["reordering"] = true
		}
		if dup >= 5 {
			w.must["network_duplicates"] = true
		}
		if dup == 0 {
			w.mustNot["network_duplicates"] = true
		}
		if ce >= 5 {
			w.must["ecn_congestion"] = true
		}
		if spur >= 10 {
			w.must["spurious_retransmissions"] = true
		}
		if num("capture_dropped") >= 3 {
			w.must["capture_loss"] = true
		} else {
			w.mustNot["capture_loss"] = true
		}
	}
	if len(order) < 20 {
		t.Fatalf("only %d truth captures", len(order))
	}
	for _, file := range order {
		w := per[file]
		t.Run(file, func(t *testing.T) {
			got := codes(analyze(t, filepath.Join(dir, file), Options{}))
			for c := range w.must {
				if !got[c] {
					t.Errorf("missing %s (got %v)", c, keys(got))
				}
			}
			for c := range w.mustNot {
				if got[c] && !w.must[c] {
					t.Errorf("false %s", c)
				}
			}
		})
	}
}

// The text of chosen captures, word for word (go test -update rewrites).
func TestGoldenText(t *testing.T) {
	type tc struct {
		name, path string
		xo         Options
	}
	cases := []tc{
		{"sample", "../../testdata/sample.pcap", Options{}},
		{"sample_flow1", "../../testdata/sample.pcap", Options{Flow: 1}},
	}
	if d := corpus.SharedDir(); d != "" {
		g := filepath.Join(d, "corpus", "generated")
		cases = append(cases,
			tc{"02_loss_bulk_receiver_side", filepath.Join(g, "02_loss_bulk_receiver_side.pcap"), Options{}},
			tc{"03_reorder_receiver_side", filepath.Join(g, "03_reorder_receiver_side.pcap"), Options{}},
			tc{"05_zero_window", filepath.Join(g, "05_zero_window.pcap"), Options{}},
			tc{"05_zero_window_flow3", filepath.Join(g, "05_zero_window.pcap"), Options{Flow: 3}},
			tc{"08_synack_lost_return_path", filepath.Join(g, "08_synack_lost_return_path.pcap"), Options{}},
			tc{"11_scan_syn", filepath.Join(g, "11_scan_syn.pcap"), Options{}},
			tc{"16_ttl_change_crafted", filepath.Join(g, "16_ttl_change_crafted.pcap"), Options{}},
		)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteText(&b, analyze(t, c.path, c.xo), TextOptions{}); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", c.name+".txt")
			if *update {
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got := b.String(); got != string(want) {
				t.Errorf("text differs from %s:\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
			_, body, _ := strings.Cut(b.String(), "\n") // the first line names the file
			for _, bad := range []string{"0x", "diag", "tcpAnomaly", "flowStat", "loss_", "_window", "syn_", "reset_"} {
				if strings.Contains(body, bad) {
					t.Errorf("the text shows %q: internal names or hex", bad)
				}
			}
		})
	}
}

// The agreed JSON shape: exactly capture, health and findings at the top;
// code, severity, summary, flows, evidence in each finding.
func TestJSONShape(t *testing.T) {
	res := analyze(t, "../../testdata/sample.pcap", Options{})
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sortedKeys(top), ","); got != "capture,findings,health" {
		t.Fatalf("top-level keys %s", got)
	}
	var findings []map[string]json.RawMessage
	if err := json.Unmarshal(top["findings"], &findings); err != nil {
		t.Fatal(err)
	}
	if len(findings) != 3 {
		t.Fatalf("%d findings, want 3", len(findings))
	}
	seen := map[string]bool{}
	for _, f := range findings {
		for _, k := range []string{"code", "severity", "summary", "flows", "evidence"} {
			if _, ok := f[k]; !ok {
				t.Errorf("finding without %q: %s", k, f["code"])
			}
		}
		var code, sev, sum string
		var flows []uint64
		var ev map[string]any
		json.Unmarshal(f["code"], &code)
		json.Unmarshal(f["severity"], &sev)
		json.Unmarshal(f["summary"], &sum)
		if err := json.Unmarshal(f["flows"], &flows); err != nil || len(flows) == 0 {
			t.Errorf("%s: flows %s", code, f["flows"])
		}
		if err := json.Unmarshal(f["evidence"], &ev); err != nil {
			t.Errorf("%s: evidence %s", code, f["evidence"])
		}
		if sev != SevInfo && sev != SevWarning && sev != SevError {
			t.Errorf("%s: severity %q", code, sev)
		}
		if sum == "" || seen[code] {
			t.Errorf("%s: empty summary or code twice", code)
		}
		seen[code] = true
	}
	want := map[string][]uint64{"loss_upstream": {1}, "zero_window": {1}, "refused": {4, 5, 6}}
	for _, f := range res.Findings {
		if w, ok := want[f.Code]; !ok || len(w) != len(f.Flows) {
			t.Errorf("finding %s flows %v, want %v", f.Code, f.Flows, want[f.Code])
		}
	}
	if res.Findings[0].Code != "loss_upstream" || res.Findings[0].Severity != SevError {
		t.Errorf("first finding %s %s, want the loss as an error", res.Findings[0].Code, res.Findings[0].Severity)
	}
	if ev := res.Findings[0].Evidence; ev["lost_segments"] != uint64(1) || ev["first_packet"] != uint64(13) {
		t.Errorf("loss evidence %v", ev)
	}
	if !res.Health.Complete || res.Capture.Packets != 28 || len(res.Capture.Summaries) != 4 {
		t.Errorf("health %+v, packets %d, %d summaries", res.Health, res.Capture.Packets, len(res.Capture.Summaries))
	}
}

func sortedKeys(m map[string]json.RawMessage) []string {
	var l []string
	for k := range m {
		l = append(l, k)
	}
	sort.Strings(l)
	return l
}

// --flow N: the timeline of one flow; an unknown flow says so.
func TestFlowDetail(t *testing.T) {
	res := analyze(t, "../../testdata/sample.pcap", Options{Flow: 1})
	d := res.Capture.Detail
	if d == nil || !d.Found || d.Handshake == nil {
		t.Fatalf("detail %+v", d)
	}
	if d.Handshake.SynPkt == 0 || d.Handshake.SynAckPkt <= d.Handshake.SynPkt || d.Handshake.AckPkt <= d.Handshake.SynAckPkt {
		t.Errorf("handshake %+v", d.Handshake)
	}
	kinds := map[string]int{}
	for _, e := range d.Events {
		kinds[e.Kind]++
	}
	for _, k := range []string{"handshake", "data", "zero_window", "close"} {
		if kinds[k] == 0 {
			t.Errorf("no %s event in %v", k, kinds)
		}
	}
	res = analyze(t, "../../testdata/sample.pcap", Options{Flow: 99})
	if d := res.Capture.Detail; d == nil || d.Found {
		t.Errorf("flow 99: %+v", d)
	}
}

// All summaries with --all, problem flows only without.
func TestSummariesAll(t *testing.T) {
	all := analyze(t, "../../testdata/sample.pcap", Options{All: true})
	if len(all.Capture.Summaries) != all.Capture.Flows || all.Capture.Flows != 6 {
		t.Errorf("%d summaries for %d flows", len(all.Capture.Summaries), all.Capture.Flows)
	}
	if !all.Capture.Summaries[0].Problem || all.Capture.Summaries[len(all.Capture.Summaries)-1].Problem {
		t.Errorf("problem flows do not come first")
	}
}

// AnalyzeFlowForTest runs explain on one file (fuzzing).
func AnalyzeFlowForTest(path string, flowN uint64) (*Result, error) {
	opts := &engine.Options{ReadFile: path, Inputs: []string{path}, Sets: map[string]string{}}
	return AnalyzeFlow(opts, plugins.Registry(), Options{Flow: flowN})
}

// Without -w and --flow, explain counts packets and bytes in the facts
// plugin instead of loading basicStats: the result must be the one with
// basicStats loaded (a basicStats switch, set to its default, loads it).
func TestCountsWithoutBasicStats(t *testing.T) {
	var paths []string
	for _, d := range []string{"generated", "truth"} {
		l, _ := filepath.Glob(filepath.Join(shared(t), "corpus", d, "*.pcap"))
		paths = append(paths, l...)
	}
	if len(paths) < 40 {
		t.Fatalf("%d captures in the corpus", len(paths))
	}
	for _, path := range paths {
		var out [2][]byte
		for i, sets := range []map[string]string{{}, {"basicStats.BS_PL_STATS": "1"}} {
			opts := &engine.Options{ReadFile: path, Inputs: []string{path}, Sets: sets}
			res, err := AnalyzeFlow(opts, plugins.Registry(), Options{All: true})
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if out[i], err = json.Marshal(res); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(out[0], out[1]) {
			t.Errorf("%s: the counts of the facts plugin differ from basicStats'", filepath.Base(path))
		}
	}
}

// With -w the flow file is the one of the plugins explain runs, basicStats
// included, and the facts plugin adds no count column of its own.
func TestFlowFileKeepsBasicStats(t *testing.T) {
	path := filepath.Join(shared(t), "corpus", "generated", "01_clean_http_ipv4.pcap")
	prefix := filepath.Join(t.TempDir(), "out")
	opts := &engine.Options{ReadFile: path, Inputs: []string{path}, Sets: map[string]string{}, Prefix: prefix}
	if _, err := AnalyzeFlow(opts, plugins.Registry(), Options{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(prefix + "_flows.txt")
	if err != nil {
		t.Fatal(err)
	}
	header, _, _ := strings.Cut(string(b), "\n")
	cols := strings.Split(strings.TrimPrefix(header, "%"), "\t")
	if !slices.Contains(cols, "pktsSnt") || !slices.Contains(cols, "avgIAT") || slices.Contains(cols, "xPktsSnt") {
		t.Errorf("flow file columns %v", cols)
	}
}
