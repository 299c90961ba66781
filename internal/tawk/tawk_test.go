package tawk

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"flowsift/internal/colour/ptytest"
	"flowsift/internal/tcol"
)

func sharedDir(t *testing.T) string {
	t.Helper()
	// Only ../shared beside the repository (or $FLOWSIFT_SHARED): never a
	// path of one machine.
	for _, d := range []string{os.Getenv("FLOWSIFT_SHARED"), "../../../shared"} {
		if d == "" {
			continue
		}
		if st, err := os.Stat(filepath.Join(d, "golden", "tawk")); err == nil && st.IsDir() {
			return d
		}
	}
	t.Skip("../shared/golden/tawk not found beside the repository (set FLOWSIFT_SHARED): golden tawk tests skipped")
	return ""
}

// runTawk runs Main and returns stdout, stderr and the status.
func runTawk(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	rc := Main(args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), rc
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// shellWords splits a golden .cmd line (single-quoted words only).
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	in, have := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			in, have = !in, true
		case !in && (c == ' ' || c == '\n' || c == '\t'):
			if have {
				words = append(words, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if have {
		words = append(words, cur.String())
	}
	return words
}

// TestGolden runs every golden/tawk/*.cmd (from golden/, where the paths
// point) and compares with the reference output; -V output is compared
// after removing the colour codes, as the golden files were recorded.
func TestGolden(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "golden")
	cmds, _ := filepath.Glob(filepath.Join(dir, "tawk", "*.cmd"))
	if len(cmds) == 0 {
		t.Fatal("no golden commands")
	}
	for _, c := range cmds {
		id := strings.TrimSuffix(filepath.Base(c), ".cmd")
		t.Run(id, func(t *testing.T) {
			line, _ := os.ReadFile(c)
			want, err := os.ReadFile(filepath.Join(dir, "tawk", id+".out"))
			if err != nil {
				t.Fatal(err)
			}
			words := shellWords(string(line))
			if words[0] != "tawk" {
				t.Fatalf("unexpected command %q", line)
			}
			args := words[1:]
			for i, a := range args {
				if strings.Contains(a, "/") && !strings.ContainsAny(a, " {(") {
					args[i] = filepath.Join(dir, a)
				}
			}
			if strings.HasPrefix(id, "V") {
				// Tranalyzer's colours, as on a terminal.
				args = append([]string{"--color=always"}, args...)
			}
			got, errs, rc := runTawk(t, "", args...)
			if rc != 0 {
				t.Fatalf("rc=%d stderr=%s", rc, errs)
			}
			if strings.HasPrefix(id, "V") {
				if !strings.Contains(got, "\x1b[1;33m") {
					t.Errorf("-V output lacks colour codes")
				}
				got = ansi.ReplaceAllString(got, "")
			}
			if tc, err := os.ReadFile(filepath.Join(dir, "tawk", id+".tcol")); err == nil {
				var aligned bytes.Buffer
				if err := tcol.Align(strings.NewReader(got), &aligned); err != nil || aligned.String() != string(tc) {
					t.Errorf("tawk | tcol differs from golden %s.tcol", id)
				}
			}
			if got != string(want) {
				t.Errorf("output differs from golden %s.out\ngot:\n%.2000s\nwant:\n%.2000s", id, got, want)
			}
		})
	}
}

// TestVarDocBytes checks the exact bytes (colours included) of the
// worked example of the spec (§4.6) and the no-value form.
func TestVarDocBytes(t *testing.T) {
	got, _, rc := runTawk(t, "", "--color=always", "-V", "ipFlags=0x0044")
	want := "\n" +
		"The \x1b[1;33mipFlags\x1b[0m column with value \x1b[1m0x0044\x1b[0m is to be interpreted as follows:\n\n" +
		"\x1b[1m   bit | ipFlags | Description\x1b[0m\n" +
		"\x1b[1m   " + strings.Repeat("=", 77) + "\x1b[0m\n" +
		"\x1b[0;34m     2 | 0x0004  | IPv4 ID roll over\x1b[0m\n" +
		"\x1b[0m     6 | 0x0040  | IPv4: Don't Fragment bit, IPv6: reserve bit\x1b[0m\n" +
		"\n"
	if rc != 0 || got != want {
		t.Fatalf("rc=%d\ngot  %q\nwant %q", rc, got, want)
	}
	got, _, _ = runTawk(t, "", "--color=always", "-V", "tcpStatesAFlags")
	lines := strings.Split(got, "\n")
	// header(2) + 8 rows + 1 separator (after the 4th row), framing lines.
	if !strings.HasPrefix(got, "\nThe \x1b[1;33mtcpStatesAFlags\x1b[0m column is to be interpreted as follows:\n\n") {
		t.Fatalf("no-value title: %q", lines[1])
	}
	if lines[3+2+4] != "\x1b[0;33m\x1b[0m" {
		t.Errorf("separator keeps the previous colour: %q", lines[3+2+4])
	}
	if lines[3+2+4+4] != "\x1b[0;33m     7 | 0x80            | Potential evil behavior (scan)\x1b[0m" {
		t.Errorf("last row: %q", lines[3+2+4+4])
	}
}

func TestVarDocValues(t *testing.T) {
	rows := func(args ...string) []string {
		out, _, _ := runTawk(t, "", args...)
		var r []string
		for _, l := range strings.Split(ansi.ReplaceAllString(out, ""), "\n") {
			if strings.Contains(l, "|") && !strings.Contains(l, "bit |") {
				r = append(r, strings.TrimSpace(l))
			}
		}
		return r
	}
	// Decimal with leading zeros is not octal: 010 = bits 1 and 3.
	if r := rows("-V", "tcpAnomaly=010"); len(r) != 2 || !strings.HasPrefix(r[0], "1 |") || !strings.HasPrefix(r[1], "3 |") {
		t.Errorf("tcpAnomaly=010: %q", r)
	}
	if r := rows("-V", "tcpFlags=0"); len(r) != 0 {
		t.Errorf("=0 prints only the header: %q", r)
	}
	for _, bad := range []string{"tcpFlags=junk", "tcpAnomaly=zz", "tcpAnomaly=0x", "ipOptCpCl_Num=0x80_zz"} {
		out, errs, rc := runTawk(t, "", "-V", bad)
		name, val, _ := strings.Cut(bad, "=")
		want := "tawk: -V " + name + "=" + val + ": '" + val + "' is not a number (hexadecimal 0x... or decimal)\n"
		if rc != 2 || out != "" || errs != want {
			t.Errorf("-V %s: rc=%d out=%q err=%q", bad, rc, out, errs)
		}
	}
	if r := rows("-V", "flowStat=0x8000000000000001"); len(r) != 2 || !strings.Contains(r[1], "0x8000 0000 0000 0000 | PCAP packet length") {
		t.Errorf("64-bit flowStat: %q", r)
	}
	if r := rows("-V", "ipOptCpCl_Num=0x80_0x4"); len(r) != 1 || r[0] != "1, 0  | 0x80      |   2 | 0x0000 0004 | 0x82, Security" {
		t.Errorf("ipOptCpCl_Num=0x80_0x4: %q", r)
	}
	r := rows("-V", "ipOptCpCl_Num=0x40")
	if len(r) != 5 || !strings.Contains(r[0], "Time Stamp") || !strings.Contains(r[3], "0x9e") || !strings.Contains(r[4], "0xde") {
		t.Errorf("ipOptCpCl_Num=0x40: %q", r)
	}
	out, _, _ := runTawk(t, "", "--color=always", "-V", "ipOptCpCl_Num")
	if !strings.Contains(out, "\x1b[0m          | 0x00      |  26 | 0x0400 0000 |\x1b[0m\n") {
		t.Errorf("ipOptCpCl_Num rows 26-29 end after the number cell")
	}
	out, errs, rc := runTawk(t, "", "-V", "tcpFlags=0x2", "-V", "nosuch=1")
	if rc != 1 || !strings.Contains(errs, "No documentation available for variable 'nosuch'") || !strings.Contains(out, "SYN") {
		t.Errorf("unknown variable: rc=%d err=%q", rc, errs)
	}
}

func TestDecodeLog(t *testing.T) {
	p := filepath.Join(t.TempDir(), "report.txt")
	os.WriteFile(p, []byte("tcpFlags: Aggregated ipFlags=0x0004\nx a=b=c\nAggregated tcpStatesAFlags=0x01,\n"), 0o644)
	out, errs, rc := runTawk(t, "", "-L", p)
	out = ansi.ReplaceAllString(out, "")
	if rc != 1 || !strings.Contains(errs, "'a'") {
		// a=b=c has two '=' and is skipped; nothing else is unknown.
		if rc != 0 {
			t.Fatalf("rc=%d err=%q", rc, errs)
		}
	}
	if !strings.Contains(out, "ipFlags column with value 0x0004") || !strings.Contains(out, "IPv4 ID roll over") ||
		!strings.Contains(out, "tcpStatesAFlags column with value 0x01 ") {
		t.Errorf("-L output: %q", out)
	}
}

const flows = "%dir\tflowInd\tflowStat\tsrcIP\tsrcPort\tdstIP\tdstPort\tl4Proto\ttcpFlags\ttcpAnomaly\tnumBytesSnt\tipOptCpCl_Num\tvlanID\n" +
	"A\t1\t0x0000000000004000\t10.0.0.1\t1234\t10.0.0.2\t80\t6\t0x0712\t0x0008\t2500\t0x00_0x00000000\t\n" +
	"B\t1\t0x0000000000004001\t10.0.0.2\t80\t10.0.0.1\t1234\t6\t0x0019\t0x0000\t2000\t0x00_0x00000000\t\n" +
	"A\t2\t0x0000000000008000\tfe80::1\t53\tff02::fb\t53\t17\t0x0000\t0x0000\t999\t0x80_0x00000004\t7\n" +
	"A\t36\t0xc000000000004000\t192.168.1.5\t0\t8.8.8.8\t0\t1\t0x0000\t0x000c\t1024\t0x00_0x00000000\t\n"

func writeFlows(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x_flows.txt")
	if err := os.WriteFile(p, []byte(flows), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPrograms(t *testing.T) {
	f := writeFlows(t)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"bitsanyset keeps header", []string{"bitsanyset($tcpAnomaly, 0x000c) { print $flowInd }"}, "flowInd\n1\n36\n"},
		{"bitsallset", []string{"bitsallset($tcpAnomaly, 0xc) { print $flowInd }"}, "flowInd\n36\n"},
		{"-H drops header", []string{"-H", "bitsanyset($tcpAnomaly, 0x000c) { print $flowInd }"}, "1\n36\n"},
		{"flow(36)", []string{"flow(36) { print $dir, $flowInd }"}, "%dir\tflowInd\nA\t36\n"},
		{"!flow drops header", []string{"!flow(1) { print $flowInd }"}, "2\n36\n"},
		{"not(flow) keeps header", []string{"not(flow(1)) { print $flowInd }"}, "flowInd\n2\n36\n"},
		{"flow list/range", []string{"-H", `flow("2;30-40") { print $flowInd }`}, "2\n36\n"},
		{"flow hex range", []string{"-H", `flow("0x20-0x24") { print $flowInd }`}, "36\n"},
		{"flow single hex never matches", []string{"-H", `flow("0x24") { print $flowInd }`}, ""},
		{"numeric compare on header", []string{"$numBytesSnt > 1000 { print $flowInd }"}, "flowInd\n1\n1\n36\n"},
		{"equality drops header", []string{"$flowInd == 2 { print $srcIP }"}, "fe80::1\n"},
		{"column variable is its number", []string{"NR == 1 { print flowInd, tcpAnomaly, COL[\"srcIP\"], COL[4] }"}, "2\t10\t4\tsrcIP\n"},
		{"tcpflags string", []string{"{ print tcpflags() }"}, "tcpFlags\n...A..S.\n...AP..F\n........\n........\n"},
		{"tcpflags select", []string{"-H", `tcpflags("S!F") { print $dir }`}, "A\n"},
		{"port/proto", []string{"-H", `port(80) && tcp() { print $dir } proto("17") { print "udp" }`}, "A\nB\nudp\n"},
		{"port list hex", []string{"-H", `dport("0x50;53") { print NR }`}, "2\n4\n"},
		{"host/net", []string{"-H", `host("10.0.0.2") { print "h" NR } dnet("8.8.0.0/16") { print "n" NR } shost("fe80::/10") { print "6" NR }`}, "h2\nh3\n64\nn5\n"},
		{"ipv4 ipv6 ip", []string{"-H", `{ print ipv4(), ipv6(), ip() }`}, "1\t0\t1\n1\t0\t1\n0\t1\t1\n1\t0\t1\n"},
		{"tuples", []string{"flow(2) { print tuple2(); print tuple3(); print tuple4(); print tuple5(); print tuple6() }"},
			"srcIP\tdstIP\nsrcIP\tdstIP\tdstPort\nsrcIP\tsrcPort\tdstIP\tdstPort\nsrcIP\tsrcPort\tdstIP\tdstPort\tl4Proto\nsrcIP\tsrcPort\tdstIP\tdstPort\tl4Proto\tvlanID\n" +
				"fe80::1\tff02::fb\nfe80::1\tff02::fb\t53\nfe80::1\t53\tff02::fb\t53\nfe80::1\t53\tff02::fb\t53\t17\nfe80::1\t53\tff02::fb\t53\t17\t7\n"},
		{"hrnum", []string{"-H", "{ print hrnum($numBytesSnt), hrnum($numBytesSnt, 1), hrnum(1023999), hrnum(2000, 0, \"B\") }"},
			"2.50 K\t2500 (2.50 K)\t1024.00 K\t2 KB\n2 K\t2000 (2 K)\t1024.00 K\t2 KB\n999\t999\t1024.00 K\t2 KB\n1.02 K\t1024 (1.02 K)\t1024.00 K\t2 KB\n"},
		{"hrtime", []string{"-H", "NR == 2 { print hrtime(123), hrtime(3723), hrtime(0), hrtime(90061.5) }"}, "2m 3s\t1h 2m 3s\t0s\t1d 1h 1m 1.5s\n"},
		{"splitc/splitr", []string{"-H", `NR == 4 { print splitc($ipOptCpCl_Num, 1), splitc($ipOptCpCl_Num, -1), splitc($ipOptCpCl_Num), splitr("a;b;c", "1;-1", ","), splitc("\"a_b\"", 2) }`},
			"0x80\t0x00000004\t0x80\t0x00000004\ta,c\t\"b\"\n"},
		{"bit builtins", []string{"BEGIN { print and(\"0xffffffffffffffff\", \"0x8000000000000001\") == 2^63 + 1, or(1, 2, 4), xor(5, 1), lshift(1, 4), rshift(256, 4), strtonum(\"0x1F\"), strtonum(\"017\"), strtonum(\"1.5\"), (compl(0) > 0) }"},
			"1\t7\t4\t16\t16\t31\t15\t1.5\t1\n"},
		{"hex and octal literals", []string{"BEGIN { print 0x1F + 1, 010, 0.5, 0x0000000c }"}, "32\t8\t0.5\t12\n"},
		{"min max mean", []string{"{ max(numBytesSnt); min(numBytesSnt); mean(numBytesSnt) } END { print max(numBytesSnt), min(numBytesSnt), mean(numBytesSnt) }"}, "2500\t999\t1630.75\n"},
		{"ipinnet ipinrange", []string{"-H", `ipinnet($srcIP, "10.0.0.0", "255.0.0.0") { print "n" NR } ipinrange($dstIP, "8.8.8.0", "8.8.8.255") { print "r" NR }`}, "n2\nn3\nr5\n"},
		{"string helpers", []string{"BEGIN { print unquote(\"\\\"x\\\"\"), strip(\"  a b \"), chomp(\" c \"), quote(\"q\"), proto2str(6), ip2num(\"10.0.0.1\"), ip2hex(\"10.0.0.1\"), ip2str(167772161), mask2ipstr(20), ip6expand(\"::1\"), ip6compress(\"0:0:0:0:0:0:0:1\"), tobits(5, 4), utc(0), base64d(base64(\"hi\")) }"},
			"x\ta b\tc\t\"q\"\tTCP\t167772161\t0x0a000001\t10.0.0.1\t255.255.240.0\t0000:0000:0000:0000:0000:0000:0000:0001\t::1\t0101\t1970-01-01 00:00:00Z\thi\n"},
		{"hdr", []string{`hdr() || $flowInd == 36 { print $srcIP }`}, "srcIP\n192.168.1.5\n"},
		{"strneq drops header", []string{`strneq($dir, "A") { print NR }`}, "3\n"},
		{"valcontains", []string{"-H", `cvalcontains($ipOptCpCl_Num, "0x80") { print NR } rvalcontains("a;b", "b") && NR == 2 { print "r" }`}, "r\n4\n"},
		{"aggr", []string{`{ aggr($dir, $numBytesSnt) }`}, "%dir\tnumBytesSnt\nA\t4523\nB\t2000\n"},
		{"aggr count top", []string{`{ aggr($l4Proto, "", 1) }`}, "l4Proto\tCount\n6\t2\n"},
		{"aggrrep", []string{"-H", `{ aggrrep($ipOptCpCl_Num, 1, 0, 0, "_") }`}, "0x00\t3\n0x00000000\t3\n0x80\t1\n0x00000004\t1\n"},
		{"t2rsort", []string{`{ t2rsort(numBytesSnt, 2) }`}, strings.Split(flows, "\n")[0] + "\n" + strings.Split(flows, "\n")[1] + "\n" + strings.Split(flows, "\n")[2] + "\n"},
		{"user function named like library", []string{`function max(a, b) { return a > b ? a : b } BEGIN { print max(3, 4) }`}, "4\n"},
		{"variables named like library functions", []string{`NR == 2 { max = 1; ip = $srcIP; abs = 2; print max, ip, abs }`}, "1\t10.0.0.1\t2\n"},
		{"loop variable as field index", []string{`NR == 2 { for (i = 1; i <= 2; i++) printf "%s ", $i; print "" }`}, "A 1 \n"},
		{"-v and -O", []string{"-O", ",", "-v", "x=5", `NR == 2 { print $dir, x }`}, "A,5\n"},
		{"regex with $ inside", []string{`$srcIP ~ /^10\./ && /\$?A/ { print NR }`}, "2\n"},
		{"strings with $name untouched", []string{`NR == 1 { print "$nosuch", $dir }`}, "$nosuch\t%dir\n"},
		{"division not a regex", []string{`NR == 2 { print $numBytesSnt / 2 / 5 }`}, "250\n"},
	}
	for _, c := range cases {
		out, errs, rc := runTawk(t, "", append(c.args, f)...)
		if rc != 0 || out != c.want {
			t.Errorf("%s: rc=%d err=%q\ngot  %q\nwant %q", c.name, rc, errs, out, c.want)
		}
	}
}

func TestInputs(t *testing.T) {
	f := writeFlows(t)
	// Pipe: names resolved from the first header line (improvement on tawk).
	out, errs, rc := runTawk(t, flows, "-H", "bitsanyset($tcpAnomaly, 8) { print $flowInd, COL[\"srcIP\"] }")
	if rc != 0 || out != "1\t4\n36\t4\n" {
		t.Errorf("stdin: rc=%d err=%q out=%q", rc, errs, out)
	}
	// gzip file.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(flows))
	zw.Close()
	gzp := filepath.Join(t.TempDir(), "f.txt.gz")
	os.WriteFile(gzp, gz.Bytes(), 0o644)
	out, _, rc = runTawk(t, "", "flow(2) { print $srcIP, FILENAME }", gzp)
	if rc != 0 || out != "srcIP\t"+gzp+"\nfe80::1\t"+gzp+"\n" {
		t.Errorf("gzip: rc=%d out=%q", rc, out)
	}
	// -I form and -N header row / --csv.
	out, _, rc = runTawk(t, "", "-I", f, "-H", "flow(1) { print $dir }")
	if rc != 0 || out != "A\nB\n" {
		t.Errorf("-I: rc=%d out=%q", rc, out)
	}
	csv := filepath.Join(t.TempDir(), "c.csv")
	os.WriteFile(csv, []byte("a b,c-d,3x\n1,2,3\n"), 0o644)
	out, _, rc = runTawk(t, "", "--csv", "NR > 1 { print $c_d, $_3x, a_b }", csv)
	if rc != 0 || out != "2,3,1\n" {
		t.Errorf("--csv: rc=%d out=%q", rc, out)
	}
	// A second header row (concatenated files) rebuilds COL and is dropped with -H.
	out, _, rc = runTawk(t, "%x\ty\n1\t2\n%y\tx\n3\t4\n", "-H", `{ print $COL["x"] }`)
	if rc != 0 || out != "1\n4\n" {
		t.Errorf("second header: rc=%d out=%q", rc, out)
	}
	// -l listing.
	out, _, rc = runTawk(t, "", "-l", f)
	if rc != 0 || !strings.HasPrefix(out, "  1  dir\n  2  flowInd\n") {
		t.Errorf("-l: rc=%d out=%q", rc, out)
	}
	out, _, _ = runTawk(t, "", "-l=2", f)
	if !strings.HasPrefix(out, "  1  dir            2  flowInd\n") {
		t.Errorf("-l=2: %q", out)
	}
	// -c comment block.
	out, _, _ = runTawk(t, "", "-c", "-v", "a=1", "flow(99)", f)
	if !strings.HasPrefix(out, "# Generated with tawk from '"+f+"'\n# Date: ") || !strings.Contains(out, "# Variables and libraries used: -v a=\"1\"\n# Filter used: flow(99)\n") {
		t.Errorf("-c: %q", out)
	}
}

func TestErrors(t *testing.T) {
	f := writeFlows(t)
	cases := []struct {
		name string
		args []string
		rc   int
		want []string
	}{
		{"unknown column", []string{"bitsanyset($tcpAnomly, 4)", f}, 2,
			[]string{"unknown column $tcpAnomly at line 1, column 12; did you mean $tcpAnomaly?", "               ^"}},
		{"unknown column line 2", []string{"NR > 1 {\n  print $srcPrt }", f}, 2,
			[]string{"unknown column $srcPrt at line 2, column 9; did you mean $srcPort?"}},
		{"syntax error", []string{"{ print $dir ) }", f}, 2, []string{"syntax error at line 1, column 14", "    { print $dir ) }\n                 ^"}},
		{"syntax error at end", []string{"{ print $dir, ", f}, 2, []string{"syntax error at end of program"}},
		{"no program", []string{f}, 1, []string{"Program is required"}},
		{"-t", []string{"-t", "{ print $srcip }", f}, 1, []string{"Column 'srcip' not found", "Did you mean 'srcIP'?"}},
		{"missing column at run time", []string{"{ print $dir } END { print packet(3) }", f}, 2, []string{"Column 'pktNo' not found"}},
		{"runtime error", []string{"BEGIN { x = 1 / 0 }", f}, 2, []string{"division by zero"}},
		{"bad regex", []string{"/(/", f}, 2, []string{"tawk:"}},
		{"bad option", []string{"-Q", "1", f}, 2, []string{"unknown option -Q"}},
		{"missing file", []string{"-I", "/nonexistent/x", "1"}, 1, []string{"no such file"}},
		{"empty column name", []string{"1", writeFile(t, "%a\t\tb\n")}, 1, []string{"Column 2 has an empty name"}},
		{"unknown function doc", []string{"-d", "nosuch"}, 1, []string{"No documentation available for function 'nosuch'"}},
	}
	for _, c := range cases {
		_, errs, rc := runTawk(t, "", c.args...)
		if rc != c.rc {
			t.Errorf("%s: rc=%d want %d (stderr %q)", c.name, rc, c.rc, errs)
		}
		for _, w := range c.want {
			if !strings.Contains(errs, w) {
				t.Errorf("%s: stderr %q lacks %q", c.name, errs, w)
			}
		}
		if strings.Contains(errs, "internal error") {
			t.Errorf("%s: panic: %s", c.name, errs)
		}
	}
}

func writeFile(t *testing.T, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f.txt")
	os.WriteFile(p, []byte(s), 0o644)
	return p
}

// TestLibraryHelp: every library function has a signature and a one-line
// help, and -g lists them.
func TestLibraryHelp(t *testing.T) {
	seen := map[string]bool{}
	nat := (&natives{}).funcs()
	for _, f := range library {
		if seen[f.name] {
			t.Errorf("duplicate %s", f.name)
		}
		seen[f.name] = true
		if !strings.HasPrefix(f.sig, f.name+"(") || f.help == "" || strings.Contains(f.help, "\n") {
			t.Errorf("%s: bad doc %q / %q", f.name, f.sig, f.help)
		}
		if f.src == "" && nat[f.name] == nil {
			t.Errorf("%s: neither awk source nor native", f.name)
		}
	}
	out, _, rc := runTawk(t, "", "-g")
	if rc != 0 || !strings.Contains(out, "bitsanyset") || strings.Contains(out, "_validate_col") {
		t.Errorf("-g: rc=%d %q", rc, out)
	}
	out, _, _ = runTawk(t, "", "-d", "flow")
	if out != "flow([f])\n    selects flows by flowInd: number, list '1;5', range '1-3'; no argument: the flowInd\n" {
		t.Errorf("-d flow: %q", out)
	}
}

func TestInstallAliases(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "flowsift")
	os.WriteFile(exe, []byte("x"), 0o755)
	for i := 0; i < 2; i++ { // second run replaces the links
		if err := InstallAliases(dir, exe); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"tawk", "tcol"} {
		if target, err := os.Readlink(filepath.Join(dir, n)); err != nil || target != exe {
			t.Errorf("%s -> %q (%v)", n, target, err)
		}
	}
	os.Remove(filepath.Join(dir, "tcol"))
	os.WriteFile(filepath.Join(dir, "tcol"), []byte("mine"), 0o644)
	if err := InstallAliases(dir, exe); err == nil {
		t.Error("a regular file must not be replaced")
	}
}

// TestNoPanics feeds malformed programs and arguments; each must end
// with an error status and message, never an internal error.
func TestNoPanics(t *testing.T) {
	f := writeFlows(t)
	progs := []string{"", "{", "}", "$", "$$", "$(", "/", "/abc", "0x", "0xZZ", "\"abc", "function", "function f(", "BEGIN {",
		"{ print $dir[1] }", "{ $tcpFlags(1) }", "{ getline < }", "flow(", "@", "&", "{ print > }", "$ dir", "-", "!",
		"{ x = \"a\" ~ ( }", "func f() { return }", "BEGIN { printf \"%d %d\", 1 }", "BEGIN { split() }",
		"BEGIN { gensub(\"(\", \"x\", \"g\", \"y\") }", "BEGIN { exit 3 }", "{ print $-1 }", "BEGIN { _t2die(\"boom\") }"}
	for _, p := range progs {
		_, errs, rc := runTawk(t, "", p, f)
		if strings.Contains(errs, "internal error") {
			t.Errorf("%q: %s", p, errs)
		}
		if rc != 0 && errs == "" && p != "BEGIN { exit 3 }" {
			t.Errorf("%q: rc=%d without a message", p, rc)
		}
	}
	var out, errb bytes.Buffer
	if rc := Main([]string{"{ print }"}, nil, &out, &errb); rc != 0 || out.Len() != 0 {
		t.Errorf("nil stdin: rc=%d err=%q", rc, errb.String())
	}
	_, _, rc := runTawk(t, "", "BEGIN { exit 3 }")
	if rc != 3 {
		t.Errorf("exit status: %d", rc)
	}
	for _, args := range [][]string{{"-I"}, {"-N"}, {"-N", "x"}, {"-s"}, {"-V"}, {"-d"}, {"-v"}, {"-f", "/nonexistent"}, {"-L", "/nonexistent"}, {"--zeek"}, {"-l"}} {
		_, errs, rc := runTawk(t, "", args...)
		if rc == 0 || errs == "" || strings.Contains(errs, "internal error") {
			t.Errorf("%q: rc=%d err=%q", args, rc, errs)
		}
	}
}

// TestNoHeader: on a file without a column header (a headers file, a
// capture) $name names no column: an error with exit status 2 instead of
// whole lines or binary; $1 and plain awk still work.
func TestNoHeader(t *testing.T) {
	dir := t.TempDir()
	headers := filepath.Join(dir, "x_headers.txt")
	os.WriteFile(headers, []byte("# Date: 1\n# flowsift\n1\tC\tdir\tFlow direction\n"), 0o644)
	pcap := filepath.Join(dir, "x.pcap")
	os.WriteFile(pcap, []byte("\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00"), 0o644)
	for _, in := range []string{headers, pcap} {
		out, errs, rc := runTawk(t, "", "{ print $srcIP }", in)
		want := "tawk: " + in + " has no column header (no line starting with '%' followed by column names), so $srcIP names no column: give a flowsift/Tranalyzer flow or packet file, -N ROW for the row holding the names, or use $1, $2, ...\n"
		if rc != 2 || out != "" || errs != want {
			t.Errorf("%s: rc=%d out=%q err=%q", in, rc, out, errs)
		}
	}
	out, _, rc := runTawk(t, "", "-F", "\t", "NR == 3 { print $3 }", headers)
	if rc != 0 || out != "dir\n" {
		t.Errorf("$3 on a file without header: rc=%d out=%q", rc, out)
	}
	// A -v variable used as $name is a field number, not a column.
	out, _, rc = runTawk(t, "", "-v", "n=2", "NR == 3 { print $n }", headers)
	if rc != 0 || out != "C\n" {
		t.Errorf("$n with -v n=2: rc=%d out=%q", rc, out)
	}
}

// TestCSVOnTabFile: --csv on a TAB-separated flow file reads the header
// as one column; the error says so instead of offering the whole header
// line as "did you mean".
func TestCSVOnTabFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "x_flows.txt")
	os.WriteFile(f, []byte("%dir\tflowInd\tsrcIP\n A\t1\t10.0.0.1\n"), 0o644)
	out, errs, rc := runTawk(t, "", "--csv", "{ print $srcIP }", f)
	want := "tawk: unknown column $srcIP: the header row of " + f + " is one single column; the file is TAB-separated, not comma-separated (drop --csv)\n"
	if rc != 2 || out != "" || errs != want {
		t.Errorf("rc=%d out=%q err=%q", rc, out, errs)
	}
	// -t: no suggestion made of the whole header line.
	_, errs, rc = runTawk(t, "", "--csv", "-t", "{ print $srcIP }", f)
	if rc != 1 || strings.Contains(errs, "Did you mean") || errs != "Column 'srcIP' not found\n" {
		t.Errorf("-t: rc=%d err=%q", rc, errs)
	}
}

// TestColourOnlyOnTerminal: -V output is plain in a pipe or a file and
// coloured on a terminal (unless NO_COLOR).
func TestColourOnlyOnTerminal(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "xterm")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(pr); done <- b }()
	rc := Main([]string{"-V", "tcpFlags=0x02"}, nil, pw, io.Discard)
	pw.Close()
	got := <-done
	if rc != 0 || bytes.Contains(got, []byte("\x1b")) || !bytes.Contains(got, []byte("The tcpFlags column with value 0x02 ")) {
		t.Errorf("-V | cat: rc=%d %q", rc, got)
	}
	master, tty, err := ptytest.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer master.Close()
	defer tty.Close()
	for _, c := range []struct {
		noColor string
		want    bool
	}{{"", true}, {"1", false}} {
		t.Setenv("NO_COLOR", c.noColor)
		Main([]string{"-V", "tcpFlags=0x02"}, nil, tty, io.Discard)
		buf := make([]byte, 4096)
		n, _ := master.Read(buf)
		if has := bytes.Contains(buf[:n], []byte("\x1b[1;33mtcpFlags")); has != c.want {
			t.Errorf("NO_COLOR=%q on a terminal: colour %v, want %v (%q)", c.noColor, has, c.want, buf[:n])
		}
	}
}
