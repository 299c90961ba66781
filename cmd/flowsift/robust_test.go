package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"flowsift/internal/pcapgen"
)

// ioctlGetInt is ioctl(fd, req, &int) (standard library only).
func ioctlGetInt(fd int, req uint) (int, error) {
	var v int32
	_, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(unsafe.Pointer(&v)))
	if e != 0 {
		return 0, e
	}
	return int(v), nil
}

// The tests below run flowsift as a real process (signals, resource
// limits, mounts): the test binary re-executes itself as the command.
func TestMain(m *testing.M) {
	if os.Getenv("FLOWSIFT_TEST_MAIN") == "1" {
		os.Args[0] = "flowsift"
		main()
		return
	}
	os.Exit(m.Run())
}

// command returns the flowsift process for args.
func command(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "FLOWSIFT_TEST_MAIN=1")
	return cmd
}

// exitCode runs cmd and returns its exit status.
func exitCode(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return ee.ExitCode()
}

// synFlood writes n SYN packets of distinct flows to w (n < 0: until a
// write fails).
func synFlood(w io.Writer, n int) error { return pcapgen.Flood(w, n, 10*time.Microsecond) }

// rows returns the data lines of a flowsift text file and checks that each
// has the header's number of fields.
func rows(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if !strings.HasPrefix(lines[0], "%") {
		t.Fatalf("%s: no header line", path)
	}
	n := strings.Count(lines[0], "\t")
	for i, l := range lines[1:] {
		if strings.Count(l, "\t") != n {
			t.Fatalf("%s line %d: %d fields, want %d", path, i+2, strings.Count(l, "\t")+1, n+1)
		}
	}
	return lines[1:]
}

// signalWhileFed runs flowsift with args on an endless SYN flood fed
// through stdin and sends it sig once 4 MB went into the pipe (64 KB
// buffer: flowsift has then read and processed packets). It returns the
// exit status and what flowsift printed.
func signalWhileFed(t *testing.T, sig syscall.Signal, args ...string) (code int, stdout, stderr *bytes.Buffer) {
	t.Helper()
	cmd := command(t, args...)
	stdout, stderr = &bytes.Buffer{}, &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	counter := &countWriter{w: in, at: 4 << 20, reached: make(chan struct{})}
	fed := make(chan error, 1)
	go func() { fed <- synFlood(counter, -1) }()
	<-counter.reached
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	code = exitCode(t, cmd.Wait())
	in.Close()
	<-fed // the feeder stops on the broken pipe
	return code, stdout, stderr
}

// TestSignalStopsReading: SIGINT and SIGTERM while flowsift reads an
// endless capture from stdin stop the reading; every flow read so far is
// written (one row per SYN packet processed), the end report is printed,
// and the exit status is 130 or 143.
func TestSignalStopsReading(t *testing.T) {
	for _, c := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(c.sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			code, stdout, stderr := signalWhileFed(t, c.sig, "-r", "-", "-w", dir+"/", "-s", "--no-progress")
			if code != c.code {
				t.Fatalf("exit status %d, want %d; stderr:\n%s", code, c.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), "interrupted by "+map[int]string{130: "SIGINT", 143: "SIGTERM"}[c.code]) {
				t.Errorf("stderr lacks the interruption message:\n%s", stderr.String())
			}
			if !strings.Contains(stdout.String(), "Number of processed      flows: ") {
				t.Errorf("no end report on stdout:\n%s", stdout.String())
			}
			flows := rows(t, filepath.Join(dir, "stdin_flows.txt"))
			pkts := rows(t, filepath.Join(dir, "stdin_packets.txt"))
			// Every packet is a SYN of a new flow: as many flow rows as packets.
			if len(pkts) < 1000 || len(flows) != len(pkts) {
				t.Errorf("%d packets, %d flows: want the same number, at least 1000", len(pkts), len(flows))
			}
		})
	}
}

// TestSignalQuietPipe: SIGINT while flowsift waits on a quiet stdin pipe
// (fewer packets than a reader batch, pipe kept open) ends the run at
// once; every packet already read is processed and written.
func TestSignalQuietPipe(t *testing.T) {
	dir := t.TempDir()
	cmd := command(t, "-r", "-", "-w", dir+"/", "-s", "--no-progress")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdin = pr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pr.Close()
	defer pw.Close()
	const n = 100
	if err := synFlood(pw, n); err != nil {
		t.Fatal(err)
	}
	// Wait until flowsift has read everything from the pipe.
	for {
		k, err := ioctlGetInt(int(pw.Fd()), syscall.TIOCINQ) // FIONREAD
		if err != nil {
			t.Skipf("FIONREAD on a pipe: %v", err)
		}
		if k == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := exitCode(t, cmd.Wait()); code != 130 {
		t.Fatalf("exit status %d, want 130; stderr:\n%s", code, stderr.String())
	}
	flows := rows(t, filepath.Join(dir, "stdin_flows.txt"))
	pkts := rows(t, filepath.Join(dir, "stdin_packets.txt"))
	if len(flows) != n || len(pkts) != n {
		t.Errorf("%d flows, %d packets written; want %d each", len(flows), len(pkts), n)
	}
}

// countWriter closes reached once at bytes went through.
type countWriter struct {
	w       io.Writer
	n, at   int
	reached chan struct{}
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	if c.n < c.at && c.n+n >= c.at {
		close(c.reached)
	}
	c.n += n
	return n, err
}

// TestOutputErrors: an output folder that cannot be created or written
// gives an error naming it and exit status 1.
func TestOutputErrors(t *testing.T) {
	dir := t.TempDir()
	capFile := filepath.Join(dir, "in.pcap")
	writeFlood(t, capFile, 10)
	file := filepath.Join(dir, "plain")
	os.WriteFile(file, nil, 0o644)
	cases := [][]string{
		{"-w", file + "/sub/"},        // a folder under a regular file
		{"-w", file + "/sub/prefix"},  // the same with a prefix
		{"-w", "/proc/flowsift/out/"}, // procfs refuses mkdir
	}
	for _, c := range cases {
		cmd := command(t, append([]string{"-r", capFile, "--no-progress"}, c...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		code := exitCode(t, cmd.Run())
		if code != 1 || !strings.Contains(stderr.String(), "cannot create output folder") {
			t.Errorf("%v: exit %d, stderr %q", c, code, stderr.String())
		}
	}
	// The end report cannot be written (stdout on a full device): exit 1,
	// but the flow files are complete and keep their names.
	if full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0); err == nil {
		cmd := command(t, "-r", capFile, "-w", filepath.Join(dir, "full"), "--no-progress")
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = full, &stderr
		code := exitCode(t, cmd.Run())
		full.Close()
		if code != 1 || !strings.Contains(stderr.String(), "no space left on device") {
			t.Errorf("stdout on /dev/full: exit %d, stderr %q", code, stderr.String())
		}
		if n := len(rows(t, filepath.Join(dir, "full_flows.txt"))); n != 10 {
			t.Errorf("stdout on /dev/full: %d flows, want 10", n)
		}
	}
	if os.Geteuid() == 0 {
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o755)
		if err := syscall.Mount("tmpfs", ro, "tmpfs", syscall.MS_RDONLY, "size=64k"); err != nil {
			t.Logf("no read-only tmpfs (%v): unwritable folder case skipped", err)
			return
		}
		defer syscall.Unmount(ro, 0)
		cmd := command(t, "-r", capFile, "-w", ro+"/", "--no-progress")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		code := exitCode(t, cmd.Run())
		if code != 1 || !strings.Contains(stderr.String(), "read-only file system") {
			t.Errorf("read-only folder: exit %d, stderr %q", code, stderr.String())
		}
	}
}

func writeFlood(t *testing.T, path string, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := synFlood(f, n); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// checkDiskFull checks a run that ran out of space: exit status 1, an
// error naming the cause, and no output file under its final name; the
// incomplete ones are renamed *.partial.
func checkDiskFull(t *testing.T, out string, code int, stderr, cause string) {
	t.Helper()
	if code != 1 || !strings.Contains(stderr, cause) {
		t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr, cause)
	}
	if !strings.Contains(stderr, "renamed") {
		t.Errorf("stderr does not say which files are incomplete: %q", stderr)
	}
	for _, kind := range []string{"flows", "packets"} {
		if _, err := os.Stat(out + "_" + kind + ".txt"); err == nil {
			t.Errorf("%s_%s.txt presented as complete after a full disk", out, kind)
		}
	}
	if _, err := os.Stat(out + "_flows.txt.partial"); err != nil {
		t.Errorf("no partial flow file: %v", err)
	}
}

// TestDiskFullRlimit: a file size limit (RLIMIT_FSIZE, SIGXFSZ ignored by
// the Go runtime, so writes fail with EFBIG) stands for a full disk.
func TestDiskFullRlimit(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh for ulimit")
	}
	dir := t.TempDir()
	capFile := filepath.Join(dir, "in.pcap")
	writeFlood(t, capFile, 3000)
	exe, _ := os.Executable()
	out := filepath.Join(dir, "out")
	// ulimit -f counts 1024-byte blocks in dash and bash: 64 KiB.
	cmd := exec.Command(sh, "-c", `ulimit -f 64 && exec "$0" "$@"`, exe, "-r", capFile, "-w", out, "-s", "--no-progress")
	cmd.Env = append(os.Environ(), "FLOWSIFT_TEST_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = io.Discard
	code := exitCode(t, cmd.Run())
	checkDiskFull(t, out, code, stderr.String(), "file too large")
}

// TestDiskFullTmpfs: a 64 KiB tmpfs fills up (root only).
func TestDiskFullTmpfs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	capFile := filepath.Join(dir, "in.pcap")
	writeFlood(t, capFile, 3000)
	mnt := filepath.Join(dir, "small")
	os.Mkdir(mnt, 0o755)
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	defer syscall.Unmount(mnt, 0)
	out := filepath.Join(mnt, "out")
	cmd := command(t, "-r", capFile, "-w", out, "-s", "--no-progress")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	code := exitCode(t, cmd.Run())
	checkDiskFull(t, out, code, stderr.String(), "no space left on device")
}

// TestUnreadableInput: a capture the user may not read gives one error
// naming it and exit status 1; as one of several inputs, the others are
// processed and the exit status is 3. As root, flowsift runs as nobody
// (a copy of the test binary in a world-readable folder).
func TestUnreadableInput(t *testing.T) {
	dir, err := os.MkdirTemp("", "flowsift-unreadable-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o777)
	good := filepath.Join(dir, "good.pcap")
	writeFlood(t, good, 3)
	os.Chmod(good, 0o644)
	secret := filepath.Join(dir, "secret.pcap")
	writeFlood(t, secret, 3)
	os.Chmod(secret, 0)
	list := filepath.Join(dir, "list.txt")
	os.WriteFile(list, []byte(secret+"\n"+good+"\n"), 0o644)

	exe, _ := os.Executable()
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		b, err := os.ReadFile(exe)
		if err != nil {
			t.Fatal(err)
		}
		exe = filepath.Join(dir, "flowsift.test")
		if err := os.WriteFile(exe, b, 0o755); err != nil {
			t.Fatal(err)
		}
		cred = &syscall.Credential{Uid: 65534, Gid: 65534}
	}
	run := func(args ...string) (int, string) {
		cmd := exec.Command(exe, append(args, "-w", dir+"/", "--no-progress")...)
		cmd.Env = append(os.Environ(), "FLOWSIFT_TEST_MAIN=1")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr, cmd.Stdout = &stderr, io.Discard
		return exitCode(t, cmd.Run()), stderr.String()
	}
	// Nothing readable: the error, the consequence, and no output file
	// (an empty result would pass for a real "0 flows").
	if code, stderr := run("-r", secret); code != 1 ||
		stderr != "[ERR] "+secret+": cannot open: permission denied\n[ERR] no packet could be read: no output written\n" {
		t.Errorf("-r unreadable: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "secret_flows.txt")); err == nil {
		t.Error("-r unreadable wrote secret_flows.txt")
	}
	code, stderr := run("-R", list)
	if code != 3 || !strings.Contains(stderr, secret+": cannot open: permission denied") {
		t.Errorf("-R with an unreadable file: exit %d, stderr %q", code, stderr)
	}
	if rows := rows(t, filepath.Join(dir, "list_flows.txt")); len(rows) != 3 {
		t.Errorf("%d flows from the readable file, want 3", len(rows))
	}
}

// TestBrokenPipe: "flowsift -r x -w - | head" where head exits early: the
// closed stdout is an output error like a full disk (exit 1, stderr says
// so), not a death by SIGPIPE (exit 141) that leaves an empty x_log.txt
// under its final name; the headers and log files become *.partial.
func TestBrokenPipe(t *testing.T) {
	dir := t.TempDir()
	capFile := filepath.Join(dir, "x.pcap")
	writeFlood(t, capFile, 20000)
	cmd := command(t, "-r", capFile, "-w", "-", "--no-progress")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Read the header line, then go away like head -1.
	buf := make([]byte, 1)
	for buf[0] != '\n' {
		if _, err := out.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	out.Close()
	code := exitCode(t, cmd.Wait())
	if code != 1 || !strings.Contains(stderr.String(), "broken pipe") {
		t.Errorf("exit %d, stderr %q; want 1 and the broken pipe named", code, stderr.String())
	}
	for _, name := range []string{"x_log.txt", "x_headers.txt"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s presented as complete after the output was cut", name)
		}
		if _, err := os.Stat(filepath.Join(dir, name+".partial")); err != nil {
			t.Errorf("no %s.partial: %v", name, err)
		}
	}
}
