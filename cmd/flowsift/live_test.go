package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Live capture tests (issue 13): real packet sockets on a veth pair
// between two network namespaces the test creates; the traffic is made
// by this test binary itself (FLOWSIFT_TEST_TRAFFIC) inside them. What
// flowsift -i writes must equal what flowsift -r writes for tcpdump's
// capture of the same interface.

const (
	liveAddrA = "10.99.0.1"
	liveAddrB = "10.99.0.2"
)

func init() {
	switch os.Getenv("FLOWSIFT_TEST_TRAFFIC") {
	case "server":
		trafficServer()
		os.Exit(0)
	case "client":
		if err := trafficClient(); err != nil {
			fmt.Fprintln(os.Stderr, "traffic client:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// trafficServer: TCP 5001 reads everything then answers 1000 bytes; UDP
// 5002 echoes. Runs until killed.
func trafficServer() {
	ln, err := net.Listen("tcp4", liveAddrB+":5001")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	uc, err := net.ListenPacket("udp4", liveAddrB+":5002")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	go func() {
		buf := make([]byte, 2048)
		for {
			n, addr, err := uc.ReadFrom(buf)
			if err != nil {
				return
			}
			uc.WriteTo(buf[:n], addr)
		}
	}()
	fmt.Println("ready")
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			io.Copy(io.Discard, c)
			c.Write(bytes.Repeat([]byte("r"), 1000))
			c.Close()
		}()
	}
}

// trafficClient makes the test's traffic: TCP transfers, a refused
// connection (RST), UDP request/answers and ICMP echoes.
func trafficClient() error {
	for _, size := range []int{300000, 2000000, 20000} {
		c, err := net.Dial("tcp4", liveAddrB+":5001")
		if err != nil {
			return err
		}
		if _, err := c.Write(bytes.Repeat([]byte("d"), size)); err != nil {
			return err
		}
		c.(*net.TCPConn).CloseWrite()
		if _, err := io.Copy(io.Discard, c); err != nil {
			return err
		}
		c.Close()
	}
	if c, err := net.Dial("tcp4", liveAddrB+":5009"); err == nil {
		c.Close()
		return fmt.Errorf("port 5009 accepted a connection")
	}
	u, err := net.Dial("udp4", liveAddrB+":5002")
	if err != nil {
		return err
	}
	for i := 0; i < 5; i++ {
		u.Write([]byte("question " + strconv.Itoa(i)))
		u.SetReadDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 100)
		if _, err := u.Read(buf); err != nil {
			return err
		}
	}
	u.Close()
	ic, err := net.Dial("ip4:icmp", liveAddrB)
	if err != nil {
		return err
	}
	for seq := 1; seq <= 3; seq++ {
		msg := []byte{8, 0, 0, 0, 0x12, 0x34, 0, byte(seq), 'p', 'i', 'n', 'g'}
		var sum uint32
		for i := 0; i < len(msg); i += 2 {
			sum += uint32(msg[i])<<8 | uint32(msg[i+1])
		}
		sum = (sum >> 16) + (sum & 0xffff)
		sum += sum >> 16
		msg[2], msg[3] = byte(^sum>>8), byte(^sum)
		if _, err := ic.Write(msg); err != nil {
			return err
		}
		ic.SetReadDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 100)
		if _, err := ic.Read(buf); err != nil {
			return err
		}
	}
	ic.Close()
	return nil
}

// netnsPair creates two namespaces joined by a veth pair (vA in the
// first, 10.99.0.1; vB in the second, 10.99.0.2), IPv6 off so that no
// autoconfiguration chatter lands in one capture and not the other.
// It skips the test when that is not possible.
func netnsPair(t *testing.T) (nsA, nsB string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live capture test: needs root (network namespaces, packet sockets)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("live capture test: no 'ip' command (iproute2)")
	}
	id := strconv.Itoa(os.Getpid())
	nsA, nsB = "fsA"+id, "fsB"+id
	if out, err := exec.Command("ip", "netns", "add", nsA).CombinedOutput(); err != nil {
		t.Skipf("live capture test: cannot create a network namespace: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", nsA).Run() })
	if out, err := exec.Command("ip", "netns", "add", nsB).CombinedOutput(); err != nil {
		t.Skipf("live capture test: cannot create a network namespace: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", nsB).Run() })
	steps := [][]string{
		{"ip", "link", "add", "vA", "netns", nsA, "type", "veth", "peer", "name", "vB", "netns", nsB},
		{"ip", "netns", "exec", nsA, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"},
		{"ip", "netns", "exec", nsB, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"},
		{"ip", "netns", "exec", nsA, "sysctl", "-qw", "net.ipv6.conf.vA.disable_ipv6=1"},
		{"ip", "netns", "exec", nsB, "sysctl", "-qw", "net.ipv6.conf.vB.disable_ipv6=1"},
		{"ip", "-n", nsA, "addr", "add", liveAddrA + "/24", "dev", "vA"},
		{"ip", "-n", nsB, "addr", "add", liveAddrB + "/24", "dev", "vB"},
		{"ip", "-n", nsA, "link", "set", "vA", "up"},
		{"ip", "-n", nsB, "link", "set", "vB", "up"},
		{"ip", "-n", nsA, "link", "set", "lo", "up"},
		{"ip", "-n", nsB, "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
			t.Skipf("live capture test: %s: %v: %s", strings.Join(s, " "), err, out)
		}
	}
	return nsA, nsB
}

// inNS returns a command of this test binary run in namespace ns.
func inNS(t *testing.T, ns string, env string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, exe}, args...)...)
	cmd.Env = append(os.Environ(), env)
	return cmd
}

// trafficInNS is inNS for a traffic generator, pinned to one processor:
// packets sent from two processors are handed to each packet socket in
// whatever order the two processors interleave, which differs between
// flowsift's socket and tcpdump's; from one processor the order is one.
func trafficInNS(t *testing.T, ns string, env string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", ns, "taskset", "-c", "0", exe)
	cmd.Env = append(os.Environ(), env, "GOMAXPROCS=1")
	return cmd
}

// packetSockets counts the packet sockets of namespace ns that are bound
// to a protocol, i.e. receiving.
func packetSockets(ns string) int {
	out, err := exec.Command("ip", "netns", "exec", ns, "cat", "/proc/net/packet").Output()
	if err != nil {
		return -1
	}
	n := 0
	for _, line := range strings.Split(string(out), "\n")[1:] {
		if f := strings.Fields(line); len(f) > 3 && f[3] != "0000" {
			n++
		}
	}
	return n
}

func regexpFind(s, re string) string {
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countRows returns the rows of a flow file without the columns that
// depend on when a packet was timestamped (types F, D and U64.U32: times,
// rates, averages; tcpDiag's diagVantage), sorted. Two packet sockets on one interface see the
// same packets, but the kernel may take a timestamp for each of them:
// they can differ by a fraction of a microsecond.
func countRows(t *testing.T, prefix string) []string {
	t.Helper()
	hdr, err := os.ReadFile(prefix + "_headers.txt")
	if err != nil {
		t.Fatal(err)
	}
	var keep []bool
	for _, line := range strings.Split(string(hdr), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 3 || line[0] == '#' {
			continue
		}
		typ, name := f[1], f[2]
		// tcpDiag's diagVantage is judged from delays too (near zero on a
		// veth pair, where a fraction of a microsecond tips it).
		keep = append(keep, typ != "F" && typ != "D" && typ != "U64.U32" && name != "diagVantage")
	}
	var out []string
	for _, r := range rows(t, prefix+"_flows.txt") {
		var cols []string
		for i, v := range strings.Split(r, "\t") {
			if i < len(keep) && keep[i] {
				cols = append(cols, v)
			}
		}
		out = append(out, strings.Join(cols, "\t"))
	}
	sort.Strings(out)
	return out
}

func TestLiveCaptureLikeTcpdump(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("live capture test: tcpdump not installed (.ci/run installs it)")
	}
	for _, c := range []struct {
		name    string
		plugins string
		filter  []string
	}{
		{"all", "", nil},
		// With tcpDiag too, which relates capture losses to kernel drops.
		{"filter", "basicFlow,basicStats,tcpFlags,tcpStates,tcpDiag", []string{"tcp", "port", "5001", "or", "port", "5009", "or", "icmp"}},
	} {
		t.Run(c.name, func(t *testing.T) { liveVersusTcpdump(t, c.plugins, c.filter) })
	}
}

func liveVersusTcpdump(t *testing.T, plugins string, filter []string) {
	var pluginArgs []string
	if plugins != "" {
		pluginArgs = []string{"--plugins", plugins}
	}
	nsA, nsB := netnsPair(t)
	dir := t.TempDir()
	lossy := false
	if err := exec.Command("ip", "netns", "exec", nsB, "tc", "qdisc", "add", "dev", "vB", "root", "netem", "loss", "2%").Run(); err == nil {
		lossy = true
	} else {
		t.Log("no netem in this kernel: plain transfers without loss")
	}

	server := trafficInNS(t, nsB, "FLOWSIFT_TEST_TRAFFIC=server")
	sout, _ := server.StdoutPipe()
	server.Stderr = os.Stderr
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { server.Process.Kill(); server.Wait() }()
	if line, _ := bufio.NewReader(sout).ReadString('\n'); line != "ready\n" {
		t.Fatalf("traffic server: %q", line)
	}

	tcpdumpFile := filepath.Join(dir, "tcpdump.pcap")
	td := exec.Command("ip", append([]string{"netns", "exec", nsA, "tcpdump", "-i", "vA", "-B", "65536", "--time-stamp-precision=nano", "-w", tcpdumpFile}, filter...)...)
	tdPipe, _ := td.StderrPipe()
	if err := td.Start(); err != nil {
		t.Fatal(err)
	}
	defer td.Process.Kill()
	tdr := bufio.NewReader(tdPipe)
	if line, _ := tdr.ReadString('\n'); !strings.HasPrefix(line, "tcpdump: listening on vA") {
		t.Fatalf("tcpdump: %q", line)
	}
	var tdErr bytes.Buffer
	tdDone := make(chan struct{})
	go func() { io.Copy(&tdErr, tdr); close(tdDone) }()

	savedPcap := filepath.Join(dir, "saved.pcapng")
	fsArgs := append([]string{"-i", "vA", "-w", dir + "/live/", "--no-progress", "--write-pcap", savedPcap}, pluginArgs...)
	fs := inNS(t, nsA, "FLOWSIFT_TEST_MAIN=1", append(fsArgs, filter...)...)
	var fsOut, fsErr bytes.Buffer
	fs.Stdout, fs.Stderr = &fsOut, &fsErr
	if err := fs.Start(); err != nil {
		t.Fatal(err)
	}
	defer fs.Process.Kill()
	waitFor(t, "flowsift to capture", func() bool { return packetSockets(nsA) >= 2 })

	client := trafficInNS(t, nsA, "FLOWSIFT_TEST_TRAFFIC=client")
	if out, err := client.CombinedOutput(); err != nil {
		t.Fatalf("traffic client: %v: %s", err, out)
	}
	// Flows are written as they end: the refused connection (RST,
	// timeout 0.1 s) appears while the capture goes on.
	liveFlows := filepath.Join(dir, "live", "vA_flows.txt")
	waitFor(t, "the RST flow in the live flow file", func() bool {
		b, _ := os.ReadFile(liveFlows)
		return bytes.Contains(b, []byte("\t5009\t"))
	})
	time.Sleep(300 * time.Millisecond) // the last ring blocks (100 ms timeout)
	fs.Process.Signal(syscall.SIGINT)
	td.Process.Signal(syscall.SIGINT)
	if err := fs.Wait(); err != nil {
		t.Fatalf("flowsift -i: %v\n%s", err, fsErr.String())
	}
	<-tdDone
	td.Wait()
	if fsErr.Len() > 0 {
		t.Errorf("flowsift stderr: %s", fsErr.String())
	}

	ref := exec.Command(os.Args[0], append([]string{"-r", tcpdumpFile, "-w", dir + "/ref/", "--no-progress"}, pluginArgs...)...)
	ref.Env = append(os.Environ(), "FLOWSIFT_TEST_MAIN=1")
	if out, err := ref.CombinedOutput(); err != nil {
		t.Fatalf("flowsift -r: %v: %s", err, out)
	}
	// tcpdump's buffer is as large as flowsift's ring (64 MiB; its
	// default of 2 MiB overflowed on a busy machine): a frame it lost
	// would void the comparison.
	if d := regexpFind(tdErr.String(), `(\d+) packets dropped by kernel`); d != "0" {
		t.Fatalf("tcpdump lost %s packets: no reference to compare with\n%s", d, tdErr.String())
	}
	got := countRows(t, filepath.Join(dir, "live", "vA"))
	want := countRows(t, filepath.Join(dir, "ref", "tcpdump"))
	if len(got) < 8 {
		t.Errorf("only %d flows captured", len(got))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("live flow file differs from flowsift -r on tcpdump's capture:\n--- live\n%s\n--- tcpdump\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The end report has the kernel's counters; tcpdump saw as many.
	report := fsOut.String()
	m := regexpFind(report, `Number of packets received by the kernel: (\d+)`)
	if m == "" {
		t.Fatalf("no kernel counters in the end report:\n%s", report)
	}
	if !strings.Contains(report, "Number of packets dropped by the kernel: 0 ") {
		t.Errorf("kernel drops on a quiet veth:\n%s", report)
	}
	if plugins != "" && !strings.Contains(report, "tcpDiag: Live capture: 0 of "+m+" packets dropped by the kernel") {
		t.Errorf("no tcpDiag live capture line:\n%s", report)
	}
	// --write-pcap saved exactly the frames flowsift processed: read back,
	// they give the same flow file, timestamps included; the file ends
	// with the kernel's counters.
	saved := exec.Command(os.Args[0], append([]string{"-r", savedPcap, "-w", dir + "/saved/", "--no-progress"}, pluginArgs...)...)
	saved.Env = append(os.Environ(), "FLOWSIFT_TEST_MAIN=1")
	if out, err := saved.CombinedOutput(); err != nil {
		t.Fatalf("flowsift -r saved.pcapng: %v: %s", err, out)
	}
	liveAll, _ := os.ReadFile(liveFlows)
	savedAll, _ := os.ReadFile(filepath.Join(dir, "saved", "saved_flows.txt"))
	if !sameRows(liveAll, savedAll) {
		t.Errorf("flows of the saved pcapng differ from the live ones:\n%s\n---\n%s", liveAll, savedAll)
	}
	if out, err := exec.Command("tcpdump", "-r", savedPcap, "-c", "1").CombinedOutput(); err != nil {
		t.Errorf("tcpdump cannot read the saved pcapng: %v: %s", err, out)
	}
	recv, drop := isbCounters(t, savedPcap)
	if strconv.FormatUint(recv, 10) != m || drop != 0 {
		t.Errorf("saved pcapng statistics: received %d dropped %d; end report: %s", recv, drop, m)
	}
	t.Logf("%d flows, kernel received %s packets, tcpdump: %s; lossy link: %v", len(got), m, lastLine(tdErr.String()), lossy)
}

// TestLiveCaptureErrors: each failure is one line on stderr with the
// documented exit status, and no output file or folder is created.
func TestLiveCaptureErrors(t *testing.T) {
	dir := t.TempDir()
	fout := filepath.Join(dir, "F")
	os.WriteFile(fout, []byte("tcp port\n# unfinished\n"), 0o644)
	sample := filepath.Join("..", "..", "testdata", "sample.pcap")
	// An empty raw-IP capture (pcap header only, LINKTYPE_RAW).
	rawIP := filepath.Join(dir, "raw.pcap")
	os.WriteFile(rawIP, []byte("\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x04\x00\x65\x00\x00\x00"), 0o644)
	cases := []struct {
		name   string
		args   []string
		userNS bool // run without CAP_NET_RAW over the host's network
		code   int
		msg    string
	}{
		{"no such interface", []string{"-i", "nosuch0"}, false, 1, "nosuch0: no such network interface"},
		{"bad filter, live", []string{"-i", "lo", "tcp", "prot", "80"}, false, 2, "flowsift: bad filter expression 'tcp prot 80': can't parse filter expression: syntax error"},
		{"bad filter, file", []string{"-r", sample, "host", "300.1.2.3"}, false, 2, "flowsift: bad filter expression 'host 300.1.2.3': invalid IPv4 address '300.1.2.3'"},
		{"bad filter file", []string{"-r", sample, "-F", fout}, false, 2, "flowsift: bad filter expression 'tcp port': can't parse filter expression: syntax error"},
		{"filter for another link type", []string{"-r", rawIP, "ether", "host", "0:1:2:3:4:5"}, false, 2, "flowsift: bad filter expression 'ether host 0:1:2:3:4:5': ethernet addresses supported only on ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel"},
		{"no permission", []string{"-i", "lo"}, true, 1, "live capture on lo needs the CAP_NET_RAW capability"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.userNS && os.Geteuid() != 0 {
				// Unprivileged, the plain run is the test.
				c.userNS = false
			}
			out := filepath.Join(dir, "out"+strconv.Itoa(i))
			cmd := command(t, append(c.args, "-w", out+"/", "--no-progress")...)
			if c.userNS {
				// A user namespace of its own: root in there, but without
				// any capability over the host's network namespace.
				cmd.SysProcAttr = &syscall.SysProcAttr{
					Cloneflags:  syscall.CLONE_NEWUSER,
					UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
					GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
				}
			}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			code := exitCode(t, cmd.Run())
			if c.userNS && code != 0 && strings.Contains(stderr.String(), "operation not permitted") && !strings.Contains(stderr.String(), "CAP_NET_RAW") {
				t.Skipf("cannot run in a user namespace here: %s", stderr.String())
			}
			lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
			if code != c.code || len(lines) != 1 || !strings.Contains(lines[0], c.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d and one line with %q", code, stderr.String(), c.code, c.msg)
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout: %q", stdout.String())
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s exists after the error", out)
			}
		})
	}
}

// sameRows compares two flow files as sets of rows (the live file has
// early-ended flows first).
func sameRows(a, b []byte) bool {
	ra := strings.Split(strings.TrimSpace(string(a)), "\n")
	rb := strings.Split(strings.TrimSpace(string(b)), "\n")
	sort.Strings(ra)
	sort.Strings(rb)
	return len(ra) > 1 && strings.Join(ra, "\n") == strings.Join(rb, "\n")
}

// isbCounters returns isb_ifrecv and isb_ifdrop of the interface
// statistics block that ends a pcapng file written by flowsift.
func isbCounters(t *testing.T, path string) (recv, drop uint64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ne := binary.NativeEndian
	last := int(ne.Uint32(b[len(b)-4:]))
	blk := b[len(b)-last:]
	if ne.Uint32(blk) != 5 {
		t.Fatalf("last block has type %d, not an interface statistics block", ne.Uint32(blk))
	}
	opts := blk[20 : len(blk)-4]
	for len(opts) >= 4 {
		code, n := ne.Uint16(opts), int(ne.Uint16(opts[2:]))
		if code == 0 {
			break
		}
		v := opts[4 : 4+n]
		switch code {
		case 4:
			recv = ne.Uint64(v)
		case 5:
			drop = ne.Uint64(v)
		}
		opts = opts[4+(n+3)/4*4:]
	}
	return recv, drop
}
