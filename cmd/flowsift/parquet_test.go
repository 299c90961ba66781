package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// parquetRows opens a Parquet file as a reader would (footer, schema,
// every page) and returns its row count.
func parquetRows(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var n int64
	buf := make([]parquet.Row, 256)
	for _, rg := range pf.RowGroups() {
		rr := rg.Rows()
		for {
			k, err := rr.ReadRows(buf)
			n += int64(k)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		rr.Close()
	}
	if n != pf.NumRows() {
		t.Fatalf("%s: read %d rows, footer says %d", path, n, pf.NumRows())
	}
	return n
}

// TestParquetInterrupted: SIGINT while writing Parquet leaves complete,
// readable Parquet files holding every row of the text files.
func TestParquetInterrupted(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := signalWhileFed(t, syscall.SIGINT, "-r", "-", "-w", dir+"/", "-s", "--format", "text,parquet", "--no-progress")
	if code != 130 {
		t.Fatalf("exit %d, want 130; stderr %s", code, stderr.String())
	}
	for _, kind := range []string{"flows", "packets"} {
		text := rows(t, filepath.Join(dir, "stdin_"+kind+".txt"))
		n := parquetRows(t, filepath.Join(dir, "stdin_"+kind+".parquet"))
		if len(text) < 1000 || n != int64(len(text)) {
			t.Errorf("%s: %d Parquet rows, %d text rows", kind, n, len(text))
		}
	}

	// Parquet alone: the packet file is written in place (no tape); it
	// holds a row for every packet the end report counts.
	dir = t.TempDir()
	code, stdout, stderr := signalWhileFed(t, syscall.SIGINT, "-r", "-", "-w", dir+"/", "-s", "--format", "parquet", "--no-progress")
	if code != 130 {
		t.Fatalf("parquet alone: exit %d, want 130; stderr %s", code, stderr.String())
	}
	m := regexp.MustCompile(`Number of processed packets: (\d+)`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no packet count in the end report:\n%s", stdout.String())
	}
	want, _ := strconv.ParseInt(m[1], 10, 64)
	if n := parquetRows(t, filepath.Join(dir, "stdin_packets.parquet")); want < 1000 || n != want {
		t.Errorf("parquet alone: %d packet rows, the end report counts %d packets", n, want)
	}
	if n := parquetRows(t, filepath.Join(dir, "stdin_flows.parquet")); n < 1000 {
		t.Errorf("parquet alone: %d flow rows", n)
	}
}

// TestParquetDiskFull: a full disk or a file size limit while writing
// Parquet gives what it gives for text: exit status 1, the cause on
// stderr, every output file renamed NAME.partial.
func TestParquetDiskFull(t *testing.T) {
	dir := t.TempDir()
	capFile := filepath.Join(dir, "in.pcap")
	// Enough flows that each Parquet file outgrows the limits below
	// (the flood's regular values compress well: 3,000 flows made files
	// of under 32 KiB).
	writeFlood(t, capFile, 20000)
	check := func(out string, code int, stderr, cause string) {
		t.Helper()
		if code != 1 || !strings.Contains(stderr, cause) || !strings.Contains(stderr, "renamed") {
			t.Errorf("exit %d, stderr %q; want 1, %q and the renamed files", code, stderr, cause)
		}
		for _, kind := range []string{"flows", "packets"} {
			p := out + "_" + kind + ".parquet"
			if _, err := os.Stat(p); err == nil {
				t.Errorf("%s presented as complete", p)
			}
			if _, err := os.Stat(p + ".partial"); err != nil {
				t.Errorf("no %s.partial: %v", p, err)
			}
		}
	}
	if sh, err := exec.LookPath("sh"); err == nil {
		exe, _ := os.Executable()
		out := filepath.Join(dir, "out")
		cmd := exec.Command(sh, "-c", `ulimit -f 64 && exec "$0" "$@"`, exe, "-r", capFile, "-w", out, "-s", "--format", "parquet", "--no-progress")
		cmd.Env = append(os.Environ(), "FLOWSIFT_TEST_MAIN=1")
		var stderr bytes.Buffer
		cmd.Stderr, cmd.Stdout = &stderr, io.Discard
		check(out, exitCode(t, cmd.Run()), stderr.String(), "file too large")
	}
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	mnt := filepath.Join(dir, "small")
	os.Mkdir(mnt, 0o755)
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	defer syscall.Unmount(mnt, 0)
	out := filepath.Join(mnt, "out")
	cmd := command(t, "-r", capFile, "-w", out, "-s", "--format", "parquet", "--no-progress")
	var stderr bytes.Buffer
	cmd.Stderr, cmd.Stdout = &stderr, io.Discard
	check(out, exitCode(t, cmd.Run()), stderr.String(), "no space left on device")

	// An unwritable folder: the same error and status as text.
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o755)
	if err := syscall.Mount("tmpfs", ro, "tmpfs", syscall.MS_RDONLY, "size=64k"); err != nil {
		t.Skipf("no read-only tmpfs: %v", err)
	}
	defer syscall.Unmount(ro, 0)
	for _, format := range []string{"text", "parquet"} {
		cmd := command(t, "-r", capFile, "-w", ro+"/", "--format", format, "--no-progress")
		var stderr bytes.Buffer
		cmd.Stderr, cmd.Stdout = &stderr, io.Discard
		code := exitCode(t, cmd.Run())
		if code != 1 || !strings.Contains(stderr.String(), "cannot create") || !strings.Contains(stderr.String(), "read-only file system") {
			t.Errorf("read-only folder, %s: exit %d, stderr %q", format, code, stderr.String())
		}
	}
}

// TestParquetUnwritableFile: when the flow file itself cannot be created
// (a folder of that name), Parquet fails as text does: exit status 1, the
// file named, the run's other files renamed NAME.partial.
func TestParquetUnwritableFile(t *testing.T) {
	dir := t.TempDir()
	capFile := filepath.Join(dir, "in.pcap")
	writeFlood(t, capFile, 10)
	for _, c := range []struct{ format, ext string }{{"text", ".txt"}, {"parquet", ".parquet"}} {
		out := filepath.Join(dir, c.format)
		os.Mkdir(out+"_flows"+c.ext, 0o755)
		cmd := command(t, "-r", capFile, "-w", out, "--format", c.format, "--no-progress")
		var stderr bytes.Buffer
		cmd.Stderr, cmd.Stdout = &stderr, io.Discard
		code := exitCode(t, cmd.Run())
		if code != 1 || !strings.Contains(stderr.String(), "cannot create flow file") || !strings.Contains(stderr.String(), out+"_flows"+c.ext+": is a directory") {
			t.Errorf("%s: exit %d, stderr %q", c.format, code, stderr.String())
		}
		if _, err := os.Stat(out + "_headers.txt.partial"); err != nil {
			t.Errorf("%s: headers file not renamed .partial: %v", c.format, err)
		}
	}
}
