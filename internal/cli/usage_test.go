package cli

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"

	"flowsift/internal/colour/ptytest"
	"flowsift/internal/pcapgen"
	"flowsift/internal/subnet/mmdbtest"
)

// TestUsageErrors: every bad command line, the plugin and switch errors
// included, is reported one way: "flowsift: ", the suggestion, no colour,
// exit status 2, and nothing written.
func TestUsageErrorsOneStyle(t *testing.T) {
	dir := t.TempDir()
	pcap := writeCapture(t, dir, "t.pcap")
	known := pluginNames()
	if !strings.HasPrefix(known, "basicFlow, basicStats, tcpFlags, tcpStates") {
		t.Fatalf("plugins %q", known)
	}
	cases := []struct {
		args []string
		want string // first line of stderr
	}{
		{[]string{"--set", "foo.BAR=1"}, `flowsift: --set foo.BAR: unknown plugin "foo" (known: core, ` + known + `; see 'flowsift config')`},
		{[]string{"--set", "tcpFlags.NOPE=1"}, `flowsift: --set tcpFlags.NOPE: plugin tcpFlags has no switch "NOPE" (see 'flowsift config')`},
		{[]string{"--set", "tcpFlags.IPTOS=7"}, `flowsift: --set tcpFlags: IPTOS must be 0, 1 or 2 (see 'flowsift config tcpFlags')`},
		{[]string{"--set", "tcpFlags.IPTOS=x"}, `flowsift: --set tcpFlags.IPTOS=x: IPTOS takes a number`},
		{[]string{"--plugins", "nope"}, `flowsift: --plugins: unknown plugin "nope" (known: ` + known + `; see 'flowsift config')`},
		{[]string{"--set", "core.NOPE=1"}, `flowsift: --set core.NOPE: the core has no switch "NOPE" (see 'flowsift config')`},
		{[]string{"--color=sometimes"}, `flowsift: --color=sometimes: want auto, always or never`},
		{[]string{"-f", "0"}, `flowsift: -f 0: want a positive number`},
		{[]string{"--geo", "a", "--geo", "b", "--geo", "c", "--geo", "d", "--geo", "e"}, `flowsift: --geo: at most 4 databases (e.g. a country and an ASN database)`},
	}
	for _, c := range cases {
		code, stdout, stderr := run(append([]string{"-r", pcap, "-w", filepath.Join(dir, "o")}, c.args...)...)
		first, rest, _ := strings.Cut(stderr, "\n")
		if code != 2 || first != c.want || rest != "Try 'flowsift --help' for more information.\n" || stdout != "" {
			t.Errorf("%v: exit %d, stderr %q", c.args, code, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "o_flows.txt")); err == nil {
		t.Error("a usage error wrote a flow file")
	}
	if code, _, stderr := run("install-aliases"); code != 2 || !strings.HasPrefix(stderr, "flowsift: install-aliases needs one folder") {
		t.Errorf("install-aliases without DIR: exit %d, %q", code, stderr)
	}
	if code, _, stderr := run("config", "nope"); code != 2 || !strings.HasPrefix(stderr, `flowsift: config: unknown plugin "nope" (known: core, basicFlow`) {
		t.Errorf("config nope: exit %d, %q", code, stderr)
	}
}

// TestNoOutputWithoutPackets: an input that yields no packet at all (a
// missing file, a folder, an empty file, a file that is no capture, a
// capture damaged before its first packet) writes no file, says so, and
// exits 1; a valid capture without packets is a real "0 flows" result.
func TestNoOutputWithoutPackets(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.pcap")
	os.WriteFile(empty, nil, 0o644)
	text := filepath.Join(dir, "notes.pcap")
	os.WriteFile(text, []byte("these are my notes, not a capture\n"), 0o644)
	// A pcap header, then a record header claiming 2 GB.
	damaged := filepath.Join(dir, "damaged.pcap")
	var hdr bytes.Buffer
	w, _ := pcapgen.NewWriter(&hdr, pcapgen.LinkEthernet, 65535)
	w.Flush()
	os.WriteFile(damaged, append(hdr.Bytes(), 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x7f), 0o644)
	cases := []struct{ in, cause string }{
		{filepath.Join(dir, "nonexistent.pcap"), "cannot open: no such file or directory"},
		{dir, "is a directory"},
		{empty, "empty file"},
		{text, ""},
		{damaged, ""},
	}
	for _, c := range cases {
		out := filepath.Join(dir, "out") + "/"
		code, stdout, stderr := run("-r", c.in, "-w", out, "-s", "-l")
		if code != 1 || !strings.Contains(stderr, c.cause) || !strings.HasSuffix(stderr, "[ERR] no packet could be read: no output written\n") {
			t.Errorf("%s: exit %d, stderr %q", c.in, code, stderr)
		}
		if files, _ := os.ReadDir(out); len(files) != 0 {
			t.Errorf("%s: files written: %v", c.in, files)
		}
		if stdout != "" {
			t.Errorf("%s: stdout %q", c.in, stdout)
		}
	}
	// A capture with a header and no packet: a real result, exit 0.
	valid := filepath.Join(dir, "nopackets.pcap")
	os.WriteFile(valid, hdr.Bytes(), 0o644)
	if code, _, stderr := run("-r", valid, "-w", filepath.Join(dir, "v")); code != 0 {
		t.Errorf("capture without packets: exit %d: %s", code, stderr)
	} else if b, err := os.ReadFile(filepath.Join(dir, "v_flows.txt")); err != nil || strings.Count(string(b), "\n") != 1 {
		t.Errorf("capture without packets: flow file %q, %v", b, err)
	}
	// A list whose files are all missing: nothing written either.
	list := filepath.Join(dir, "list.txt")
	os.WriteFile(list, []byte(filepath.Join(dir, "a.pcap")+"\n"+filepath.Join(dir, "b.pcap")+"\n"), 0o644)
	code, _, stderr := run("-R", list, "-w", filepath.Join(dir, "l"))
	if code != 1 || strings.Count(stderr, "cannot open: no such file or directory") != 2 {
		t.Errorf("-R of missing files: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "l_flows.txt")); err == nil {
		t.Error("-R of missing files wrote l_flows.txt")
	}
}

// TestOutputNames: the files are named after the input without its
// capture and compression extensions.
func TestOutputNames(t *testing.T) {
	dir := t.TempDir()
	src := writeCapture(t, dir, "src.pcap")
	data, _ := os.ReadFile(src)
	for _, c := range []struct{ in, want string }{
		{"big.pcap.gz", "big"}, {"x.pcapng.cap", "x"}, {"trace.pcap", "trace"},
		{"day.2024", "day"}, {"noext", "noext"}, {"v1.2.pcap", "v1.2"},
	} {
		in := filepath.Join(dir, c.in)
		os.WriteFile(in, data, 0o644) // gzip is recognised by content, not name
		if c.in == "big.pcap.gz" {
			in = gzipFile(t, src, in)
		}
		if code, _, stderr := run("-r", in); code != 0 {
			t.Fatalf("%s: exit %d: %s", c.in, code, stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, c.want+"_flows.txt")); err != nil {
			t.Errorf("%s: %v", c.in, err)
		}
		out := filepath.Join(dir, "out") + "/"
		if code, _, _ := run("-r", in, "-w", out); code != 0 {
			t.Fatalf("%s -w: exit %d", c.in, code)
		}
		if _, err := os.Stat(out + c.want + "_flows.txt"); err != nil {
			t.Errorf("%s -w DIR: %v", c.in, err)
		}
	}
	// A dot in a folder name is no extension.
	sub := filepath.Join(dir, "case.v2")
	os.Mkdir(sub, 0o755)
	os.WriteFile(filepath.Join(sub, "trace"), data, 0o644)
	if code, _, _ := run("-r", filepath.Join(sub, "trace")); code != 0 {
		t.Fatal("case.v2/trace: failed")
	}
	if _, err := os.Stat(filepath.Join(sub, "trace_flows.txt")); err != nil {
		t.Errorf("case.v2/trace: %v", err)
	}
}

// TestReadOnlyInputFolder: without -w the files go next to the input; when
// that folder is not writable the error says to use -w DIR (root: a
// read-only tmpfs).
func TestReadOnlyInputFolder(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a read-only tmpfs needs root")
	}
	dir := t.TempDir()
	src := writeCapture(t, dir, "evidence.pcap")
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o755)
	if err := syscall.Mount("tmpfs", ro, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	defer syscall.Unmount(ro, 0)
	data, _ := os.ReadFile(src)
	os.WriteFile(filepath.Join(ro, "evidence.pcap"), data, 0o644)
	if err := syscall.Mount("", ro, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Skipf("cannot remount read-only: %v", err)
	}
	code, _, stderr := run("-r", filepath.Join(ro, "evidence.pcap"))
	if code != 1 || !strings.Contains(stderr, "read-only file system (without -w the output goes next to the input, in "+ro+"/; use -w DIR to write it elsewhere)") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// TestColour: the report and the messages are coloured on a terminal
// only: never in a file (stdout redirected, -l log file), not with
// NO_COLOR or TERM=dumb; --color=always|never override.
func TestColour(t *testing.T) {
	dir := t.TempDir()
	pcap := writeCapture(t, dir, "t.pcap")
	master, tty, err := ptytest.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer master.Close()
	defer tty.Close()
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "xterm")
	file := func(name string) *os.File {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	hasEsc := func(path string) bool {
		b, _ := os.ReadFile(path)
		return bytes.Contains(b, []byte("\x1b["))
	}
	// stdout and stderr redirected to files.
	out, errf := file("report.txt"), file("stderr.txt")
	unknown := filepath.Join(dir, "unknown-linktype.pcap")
	writeLinkType(t, unknown, 4242)
	Main([]string{"flowsift", "-r", unknown, "-w", filepath.Join(dir, "a")}, nil, out, errf)
	if hasEsc(out.Name()) || hasEsc(errf.Name()) {
		t.Error("colour escapes in redirected stdout/stderr")
	}
	if b, _ := os.ReadFile(errf.Name()); !strings.HasPrefix(string(b), "[WRN] "+unknown+": unknown link type 4242") {
		t.Errorf("stderr: %q", b)
	}
	// -l: the log file never gets colour, even with --color=always.
	Main([]string{"flowsift", "-r", pcap, "-w", filepath.Join(dir, "b"), "-l", "--color=always"}, nil, io.Discard, io.Discard)
	if hasEsc(filepath.Join(dir, "b_log.txt")) {
		t.Error("colour escapes in the -l log file")
	}
	// --color=always into a file: colour.
	always := file("always.txt")
	Main([]string{"flowsift", "-r", pcap, "-w", filepath.Join(dir, "c"), "--color=always"}, nil, always, io.Discard)
	if !hasEsc(always.Name()) {
		t.Error("--color=always: no colour")
	}
	spaced := file("spaced.txt")
	if code := Main([]string{"flowsift", "-r", pcap, "-w", filepath.Join(dir, "c"), "--color", "always"}, nil, spaced, io.Discard); code != 0 || !hasEsc(spaced.Name()) {
		t.Errorf("--color always: exit %d, colour %v", code, hasEsc(spaced.Name()))
	}
	// On a terminal: colour, unless NO_COLOR, TERM=dumb or --color=never.
	for _, c := range []struct {
		env, val string
		args     []string
		want     bool
	}{
		{"NO_COLOR", "", nil, true},
		{"NO_COLOR", "1", nil, false},
		{"TERM", "dumb", nil, false},
		{"NO_COLOR", "", []string{"--color=never"}, false},
	} {
		t.Setenv(c.env, c.val)
		var got bytes.Buffer
		code := runOn(t, tty, master, &got, append([]string{"flowsift", "-r", pcap, "-w", filepath.Join(dir, "d")}, c.args...))
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		if has := bytes.Contains(got.Bytes(), []byte("\x1b[1;34m[INF]")); has != c.want {
			t.Errorf("%s=%s %v on a terminal: colour %v, want %v", c.env, c.val, c.args, has, c.want)
		}
		if !strings.Contains(got.String(), "Number of processed packets: 2") {
			t.Errorf("report on the terminal incomplete: %q", got.String())
		}
		t.Setenv("NO_COLOR", "")
		t.Setenv("TERM", "xterm")
	}
}

// runOn runs Main with stdout on the terminal tty and copies what the
// terminal shows (from master) into got.
func runOn(t *testing.T, tty, master *os.File, got *bytes.Buffer, argv []string) int {
	t.Helper()
	done := make(chan struct{})
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			got.Write(buf[:n])
			if err != nil || bytes.HasSuffix(got.Bytes(), []byte("\x00END\n")) {
				break
			}
		}
		close(done)
	}()
	code := Main(argv, nil, tty, io.Discard)
	tty.Write([]byte("\x00END\n"))
	<-done
	return code
}

// writeLinkType writes a capture of one frame with an unknown link type.
func writeLinkType(t *testing.T, path string, link uint32) {
	t.Helper()
	var b bytes.Buffer
	w, err := pcapgen.NewWriter(&b, link, 65535)
	if err != nil {
		t.Fatal(err)
	}
	w.WritePacket(1, 0, []byte{1, 2, 3, 4, 5, 6, 7, 8}, 0)
	w.Flush()
	os.WriteFile(path, b.Bytes(), 0o644)
}

// TestVersionHelp: -V, --version and 'flowsift version' print the same
// line; help, config PLUGIN and config --help work; --help names the
// default output place, the exit statuses, -w - and tawk -L.
func TestVersionHelp(t *testing.T) {
	_, v1, _ := run("-V")
	_, v2, _ := run("--version")
	_, v3, _ := run("version")
	if v1 != v2 || v1 != v3 || !strings.HasPrefix(v1, "flowsift 0.1.0") {
		t.Errorf("versions differ: %q %q %q", v1, v2, v3)
	}
	info := &debug.BuildInfo{Settings: []debug.BuildSetting{
		{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "f43aba6e97df429f745d5c9f4c6eaf5935c3d660"},
		{Key: "vcs.time", Value: "2026-11-26T04:47:58Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got := buildRevision(info, true); got != " (rev f43aba6e97df, 2026-11-26T04:47:58Z, modified)" {
		t.Errorf("buildRevision: %q", got)
	}
	if got := buildRevision(&debug.BuildInfo{}, true); got != "" {
		t.Errorf("no VCS stamp: %q", got)
	}
	code, help, _ := run("help")
	_, help2, _ := run("--help")
	if code != 0 || help != help2 {
		t.Error("'flowsift help' differs from --help")
	}
	for _, want := range []string{"NEXT TO THE INPUT", "big.pcap.gz -> big_flows.txt", "-w -", "tawk -L", "Exit status: 0", "2 bad command line", "3 some input damaged or\nmissing", "--color=WHEN", "--geo FILE"} {
		if !strings.Contains(help, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
	code, cfg, _ := run("config", "tcpFlags")
	if code != 0 || !strings.HasPrefix(cfg, "Plugin tcpFlags ") || strings.Contains(cfg, "Plugin basicFlow") || strings.Contains(cfg, "core.") {
		t.Errorf("config tcpFlags: exit %d\n%s", code, cfg)
	}
	if code, out, _ := run("config", "--help"); code != 0 || !strings.HasPrefix(out, "Usage: flowsift config [PLUGIN]") {
		t.Errorf("config --help: exit %d %q", code, out)
	}
	missing := filepath.Join(t.TempDir(), "no", "bin")
	if code, _, stderr := run("install-aliases", missing); code != 1 ||
		stderr != "flowsift: install-aliases: folder "+missing+" does not exist (create it first, or name a folder on your PATH)\n" {
		t.Errorf("install-aliases missing DIR: exit %d %q", code, stderr)
	}
}

// TestGeoTwice: --geo twice combines a country and an ASN database:
// srcIPCC from the one, srcIPOrg from the other.
func TestGeoTwice(t *testing.T) {
	dir := t.TempDir()
	country := filepath.Join(dir, "country.mmdb")
	asn := filepath.Join(dir, "asn.mmdb")
	os.WriteFile(country, mmdbtest.Build(map[string]map[string][]byte{
		"8.8.8.0/24": {"country": mmdbtest.Map(map[string][]byte{"iso_code": mmdbtest.Str("US")})},
		"1.1.1.0/24": {"country": mmdbtest.Map(map[string][]byte{"iso_code": mmdbtest.Str("AU")})},
	}), 0o644)
	os.WriteFile(asn, mmdbtest.Build(map[string]map[string][]byte{
		"8.8.0.0/16": {"autonomous_system_organization": mmdbtest.Str("GOOGLE")},
	}), 0o644)
	path := filepath.Join(dir, "dns.pcap")
	f, _ := os.Create(path)
	w, _ := pcapgen.NewWriter(f, pcapgen.LinkEthernet, 65535)
	fr := pcapgen.Frame{Src: []byte{1, 1, 1, 1}, Dst: []byte{8, 8, 8, 8}, Proto: 17, SrcPort: 5353, DstPort: 53}
	w.WritePacket(100, 0, fr.Build(nil), 0)
	w.Flush()
	f.Close()
	code, _, stderr := run("-r", path, "-w", filepath.Join(dir, "o"), "--geo", country, "--geo", asn)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "o_flows.txt"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	col := map[string]int{}
	for i, n := range strings.Split(strings.TrimPrefix(lines[0], "%"), "\t") {
		col[n] = i
	}
	row := strings.Split(lines[1], "\t")
	got := []string{row[col["srcIPCC"]], row[col["srcIPOrg"]], row[col["dstIPCC"]], row[col["dstIPOrg"]]}
	if strings.Join(got, "|") != `au|"-"|us|"GOOGLE"` {
		t.Errorf("geo columns %q", got)
	}
	evil := filepath.Join(dir, "evil.mmdb")
	os.WriteFile(evil, append(mmdbtest.Marker, 0xe0), 0o644)
	code, _, stderr = run("-r", path, "-w", filepath.Join(dir, "e"), "--geo", evil)
	if code != 1 || !strings.Contains(stderr, "--geo "+evil+": not a usable MaxMind database") {
		t.Errorf("bad database: exit %d %q", code, stderr)
	}
}

// gzipFile writes src gzip-compressed to dst and returns dst.
func gzipFile(t *testing.T, src, dst string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	zw.Close()
	if err := os.WriteFile(dst, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}
