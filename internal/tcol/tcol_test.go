package tcol

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flowsift/internal/colour/ptytest"
)

func align(t *testing.T, in string) string {
	t.Helper()
	var out bytes.Buffer
	if err := Align(strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestAlignRules(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"basic", "a\tbb\tc\nddd\te\tf\n", "a    bb  c\nddd  e   f\n"},
		{"empty cells kept", "a\t\tc\n\tb\t\n", "a     c\n   b  \n"},
		{"blank lines dropped", "a\tb\n\n \t \t\n\t\nc\td\n", "a  b\nc  d\n"},
		{"short rows padded", "a\tb\tc\nxx\n", "a   b  c\nxx     \n"},
		{"no final newline", "a\tb", "a  b\n"},
		{"multibyte width", "é\tx\nab\ty\n", "é   x\nab  y\n"},
		{"wide chars", "日本\tx\na\ty\n", "日本  x\na     y\n"},
		{"nbsp kept", "\u00a0\n", "\u00a0\n"},
		{"controls zero width", "a\x01b\tx\nabcdefgh\ty\n\x1b[0;31mr\x1b[0m\tz\n", "a\x01b        x\nabcdefgh  y\n\x1b[0;31mr\x1b[0m         z\n"},
		{"invalid bytes escaped", "\xff\xfe\tz\nq\tw\n", "\\xff\\xfe  z\nq         w\n"},
	}
	for _, c := range cases {
		if got := align(t, c.in); got != c.want {
			t.Errorf("%s: got %q want %q", c.name, got, c.want)
		}
	}
}

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
	t.Skip("../shared/golden/tawk not found beside the repository (set FLOWSIFT_SHARED): golden tcol tests skipped")
	return ""
}

func TestGoldenTcol(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "golden", "tawk")
	outs, _ := filepath.Glob(filepath.Join(dir, "*.out"))
	n := 0
	for _, o := range outs {
		want, err := os.ReadFile(strings.TrimSuffix(o, ".out") + ".tcol")
		if err != nil {
			continue
		}
		in, err := os.ReadFile(o)
		if err != nil {
			t.Fatal(err)
		}
		n++
		if got := align(t, string(in)); got != string(want) {
			t.Errorf("%s: output differs from golden .tcol", filepath.Base(o))
		}
	}
	if n == 0 {
		t.Fatal("no .out/.tcol pairs found")
	}
}

func TestMainFileAndErrors(t *testing.T) {
	p := filepath.Join(t.TempDir(), "in.txt")
	os.WriteFile(p, []byte("x\ty\nlonger\tz\n"), 0o644)
	var out, errb bytes.Buffer
	if rc := Main([]string{p}, nil, &out, &errb); rc != 0 || out.String() != "x       y\nlonger  z\n" {
		t.Fatalf("rc=%d out=%q err=%q", rc, out.String(), errb.String())
	}
	out.Reset()
	if rc := Main([]string{filepath.Join(t.TempDir(), "missing")}, nil, &out, &errb); rc != 1 {
		t.Fatalf("missing file: rc=%d", rc)
	}
	out.Reset()
	if rc := Main(nil, strings.NewReader("a\tb\n"), &out, &errb); rc != 0 || out.String() != "a  b\n" {
		t.Fatalf("stdin: rc=%d out=%q", rc, out.String())
	}
}

// TestPagerOnlyOnTerminal: /dev/null is a character device, not a
// terminal: tcol writes to it directly instead of starting $PAGER (which
// failed with "broken pipe" when the pager did not read its input). On a
// real terminal the pager runs.
func TestPagerOnlyOnTerminal(t *testing.T) {
	in := filepath.Join(t.TempDir(), "f")
	os.WriteFile(in, []byte("a\tb\nccc\td\n"), 0o644)
	t.Setenv("PAGER", "/bin/echo PAGER-RAN")
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	var stderr bytes.Buffer
	if rc := Main([]string{in}, nil, null, &stderr); rc != 0 || stderr.Len() != 0 {
		t.Errorf("tcol > /dev/null: rc %d, stderr %q", rc, stderr.String())
	}
	master, tty, err := ptytest.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer master.Close()
	defer tty.Close()
	rc := Main([]string{in}, nil, tty, &stderr)
	buf := make([]byte, 256)
	n, _ := master.Read(buf)
	// echo does not read its input: the pager's exit closes the pipe; what
	// matters is that the pager was started on the terminal.
	if !strings.HasPrefix(string(buf[:n]), "PAGER-RAN") {
		t.Errorf("on a terminal the pager did not run: rc %d, screen %q, stderr %q", rc, buf[:n], stderr.String())
	}
}
