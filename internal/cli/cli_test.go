package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flowsift/internal/filter"
	"flowsift/internal/pcapgen"
)

// writeCapture writes a small two-packet TCP capture and returns its path.
func writeCapture(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := pcapgen.NewWriter(f, pcapgen.LinkEthernet, 65535)
	if err != nil {
		t.Fatal(err)
	}
	a, b := []byte{10, 0, 0, 1}, []byte{10, 0, 0, 2}
	fr := pcapgen.Frame{Src: a, Dst: b, Proto: 6, SrcPort: 40000, DstPort: 80, Flags: pcapgen.SYN, Window: 1000}
	if err := w.WritePacket(100, 0, fr.Build(nil), 0); err != nil {
		t.Fatal(err)
	}
	fr = pcapgen.Frame{Src: b, Dst: a, Proto: 6, SrcPort: 80, DstPort: 40000, Flags: pcapgen.SYN | pcapgen.ACK, Ack: 1, Window: 1000}
	if err := w.WritePacket(100, 500, fr.Build(nil), 0); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return path
}

func run(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = Main(append([]string{"flowsift"}, args...), nil, &o, &e)
	return code, o.String(), e.String()
}

func TestOutputNaming(t *testing.T) {
	dir := t.TempDir()
	pcap := writeCapture(t, dir, "trace.pcap")
	outDir := filepath.Join(dir, "results")
	if err := os.Mkdir(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string // flow file expected
	}{
		{[]string{"-r", pcap}, filepath.Join(dir, "trace_flows.txt")},
		{[]string{"-r", pcap, "-w", outDir}, filepath.Join(outDir, "trace_flows.txt")},
		{[]string{"-r", pcap, "-w", filepath.Join(dir, "new") + "/"}, filepath.Join(dir, "new", "trace_flows.txt")},
		{[]string{"-r", pcap, "-w", filepath.Join(dir, "deep", "x", "pre")}, filepath.Join(dir, "deep", "x", "pre_flows.txt")},
		{[]string{"-r" + pcap, "-s", "-w", filepath.Join(dir, "glued")}, filepath.Join(dir, "glued_flows.txt")},
	}
	for _, c := range cases {
		code, _, stderr := run(c.args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, stderr)
		}
		b, err := os.ReadFile(c.want)
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if lines := strings.Count(string(b), "\n"); lines != 3 { // header + A + B
			t.Errorf("%v: %d lines, want 3", c.args, lines)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "glued_packets.txt")); err != nil {
		t.Errorf("-s did not write the packet file: %v", err)
	}
}

func TestLogFileTakesTheReport(t *testing.T) {
	dir := t.TempDir()
	pcap := writeCapture(t, dir, "t.pcap")
	code, stdout, _ := run("-r", pcap, "-w", filepath.Join(dir, "o"), "-l")
	if code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q: want 0 and nothing on stdout", code, stdout)
	}
	b, err := os.ReadFile(filepath.Join(dir, "o_log.txt"))
	if err != nil || !strings.Contains(string(b), "Number of processed packets: 2") {
		t.Errorf("log file: %v\n%s", err, b)
	}
}

func TestListFileIsOneCapture(t *testing.T) {
	dir := t.TempDir()
	a := writeCapture(t, dir, "a.pcap")
	b := writeCapture(t, dir, "b.pcap")
	list := filepath.Join(dir, "list.txt")
	body := "# captures\n" + a + "\n" + filepath.Join(dir, "missing.pcap") + "\r\n" + b + "\n"
	if err := os.WriteFile(list, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	// The missing file in the middle is named on stderr and makes the exit
	// status 3 (README); the others are read as one capture.
	code, stdout, stderr := run("-R", list, "-w", filepath.Join(dir, "o"))
	missing := filepath.Join(dir, "missing.pcap")
	if code != 3 || stderr != "[ERR] "+missing+": cannot open: no such file or directory\n" {
		t.Fatalf("exit %d, stderr %q; want 3 and the missing file named", code, stderr)
	}
	for _, want := range []string{"Processing file no. 1 of 3: " + a, "Processing file no. 3 of 3: " + b, "Number of processed packets: 4"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// The same conversation in both files is one flow pair: flows survive
	// file boundaries.
	flows, _ := os.ReadFile(filepath.Join(dir, "o_flows.txt"))
	if n := strings.Count(string(flows), "\n"); n != 3 {
		t.Errorf("flow file has %d lines, want 3:\n%s", n, flows)
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	badFilter := "bad filter expression 'tcp prot 80': can't parse filter expression: syntax error"
	if !filter.Available {
		badFilter = "BPF filters are unavailable"
	}
	pcap := writeCapture(t, dir, "t.pcap")
	cases := []struct {
		args []string
		msg  string
	}{
		{nil, "One of '-r', '-R', '-D' or '-i' option is required"},
		{[]string{"-r", pcap, "-R", pcap}, "can only be used exclusively"},
		{[]string{"-r"}, "option requires an argument -- 'r'"},
		{[]string{"-q"}, "invalid option -- 'q'"},
		{[]string{"-r", pcap, "--set", "tcpFlags.NOPE=1"}, `has no switch "NOPE"`},
		{[]string{"-r", pcap, "--set", "nosuch.X=1"}, `unknown plugin "nosuch"`},
		{[]string{"-r", pcap, "--set", "tcpFlags.WINMIN=abc"}, "takes a number"},
		{[]string{"-r", pcap, "--plugins", "basicFlow,nosuch"}, `unknown plugin "nosuch"`},
	}
	for _, c := range cases {
		code, _, stderr := run(c.args...)
		if code != 2 || !strings.HasPrefix(stderr, "flowsift: ") || !strings.Contains(stderr, c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.msg)
		}
	}
	// Issue 13's usage errors: exit status 2.
	cases = []struct {
		args []string
		msg  string
	}{
		{[]string{"-r", pcap, "tcp", "prot", "80"}, badFilter},
		{[]string{"-r", pcap, pcap}, pcap + " is a file, not a filter expression"},
		{[]string{"-r", pcap, "-F", filepath.Join(dir, "nofilter")}, "cannot read filter file: " + filepath.Join(dir, "nofilter") + ": no such file or directory"},
		{[]string{"-i", "lo", "-S", "0"}, "-S 0: want a snap length from 1 to 262144"},
		{[]string{"-i", "lo", "-B", "x"}, "-B x: want a ring size from 2 to 65536 MiB"},
		{[]string{"-i", "lo", "-r", pcap}, "can only be used exclusively"},
	}
	for _, c := range cases {
		code, _, stderr := run(c.args...)
		if code != 2 || !strings.Contains(stderr, c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.msg)
		}
	}
}

// TestFilterWords: the words after the options are one expression, as
// for tcpdump; -F reads it from a file and wins over the words.
func TestFilterWords(t *testing.T) {
	if !filter.Available {
		t.Skip("built without cgo: no filters")
	}
	dir := t.TempDir()
	pcap := writeCapture(t, dir, "t.pcap")
	count := func(args ...string) string {
		code, stdout, stderr := run(append([]string{"-r", pcap, "-w", filepath.Join(dir, "o")}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		for _, l := range strings.Split(stdout, "\n") {
			if v, ok := strings.CutPrefix(l, "Number of processed packets: "); ok {
				return v
			}
		}
		return "0"
	}
	all := count()
	if all == "0" {
		t.Fatal("the test capture has no packets")
	}
	if n := count("not", "ip", "and", "not", "ip6"); n != "0" {
		t.Errorf("'not ip and not ip6' let %s packets through", n)
	}
	if n := count("ip", "or", "ip6"); n != all {
		t.Errorf("'ip or ip6': %s packets, want %s", n, all)
	}
	f := filepath.Join(dir, "F")
	os.WriteFile(f, []byte("# nothing passes\nnot ip and not ip6 # comment\n"), 0o644)
	code, _, stderr := run("-r", pcap, "-w", filepath.Join(dir, "o"), "-F", f, "ip")
	if code != 0 || !strings.Contains(stderr, "-F "+f+" given: ignoring the expression \"ip\"") {
		t.Errorf("-F with words: exit %d, stderr %q", code, stderr)
	}
	if n := count("-F", f); n != "0" {
		t.Errorf("-F: %s packets", n)
	}
}

func TestMissingInputIsAnError(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := run("-r", filepath.Join(dir, "nope.pcap"), "-w", filepath.Join(dir, "o"))
	if code != 1 || !strings.Contains(stderr, "nope.pcap") {
		t.Errorf("exit %d, stderr %q; want 1 naming the file", code, stderr)
	}
}

func TestPluginSelectionAndSwitches(t *testing.T) {
	dir := t.TempDir()
	pcap := writeCapture(t, dir, "t.pcap")
	prefix := filepath.Join(dir, "o")
	code, _, stderr := run("-r", pcap, "-w", prefix, "--plugins", "tcpStates,basicFlow", "--set", "tcpFlags.TCPFLGCNT=1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, _ := os.ReadFile(prefix + "_flows.txt")
	header, _, _ := strings.Cut(string(b), "\n")
	if !strings.HasPrefix(header, "%dir\tflowInd\tflowStat\t") || !strings.HasSuffix(header, "\tl4Proto\ttcpStatesAFlags") {
		t.Errorf("header %q: want basicFlow columns then tcpStates (plugin order)", header)
	}
	code, _, _ = run("-r", pcap, "-w", prefix, "--set", "tcpFlags.TCPFLGCNT=1")
	b, _ = os.ReadFile(prefix + "_flows.txt")
	if code != 0 || !strings.Contains(string(b), "\ttcpAnomaly\ttcpCntF_S_R_P_A_U_E_C_FA_SA_RA_N_SF_SFR_RF_X\ttcpJA4T\t") {
		t.Errorf("TCPFLGCNT=1 did not add its column after tcpAnomaly")
	}
}

func TestConfigListsEverySwitch(t *testing.T) {
	code, stdout, _ := run("config")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"core.HASHTABLE_SIZE", "tcpFlags.TCPFLGCNT", "tcpFlags.IPCHECKSUM", "Plugin basicFlow", "Plugin tcpStates"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("config output lacks %q", want)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, a := range []string{"-h", "--help"} {
		if code, out, _ := run(a); code != 0 || !strings.Contains(out, "--set PLUGIN.SWITCH=VALUE") {
			t.Errorf("%s: exit %d", a, code)
		}
	}
	if code, out, _ := run("--version"); code != 0 || !strings.HasPrefix(out, "flowsift ") {
		t.Errorf("--version: exit %d %q", code, out)
	}
}

func TestFlowsToStdout(t *testing.T) {
	dir := t.TempDir()
	pcap := writeCapture(t, dir, "t.pcap")
	code, stdout, stderr := run("-r", pcap, "-w", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(stdout, "%dir\tflowInd\t") || strings.Count(stdout, "\n") != 3 {
		t.Errorf("stdout is not the flow file:\n%s", stdout)
	}
	b, err := os.ReadFile(filepath.Join(dir, "t_log.txt"))
	if err != nil || !strings.Contains(string(b), "Number of processed packets: 2") {
		t.Errorf("-w - must write the report to the log file: %v", err)
	}
}
