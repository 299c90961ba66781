package colour_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"flowsift/internal/colour"
	"flowsift/internal/colour/ptytest"
)

// TestEnabled: colour on a real terminal only; /dev/null, a pipe and a
// file are not terminals; NO_COLOR and TERM=dumb turn it off; always and
// never override everything.
func TestEnabled(t *testing.T) {
	master, tty, err := ptytest.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer master.Close()
	defer tty.Close()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	pr, pw, _ := os.Pipe()
	defer pr.Close()
	defer pw.Close()
	file, _ := os.Create(filepath.Join(t.TempDir(), "f"))
	defer file.Close()
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "xterm")
	cases := []struct {
		name string
		w    any
		want bool
	}{{"terminal", tty, true}, {"/dev/null", null, false}, {"pipe", pw, false}, {"file", file, false}, {"buffer", &bytes.Buffer{}, false}}
	for _, c := range cases {
		w, _ := c.w.(interface{ Write([]byte) (int, error) })
		if got := colour.Enabled(w, colour.Auto); got != c.want {
			t.Errorf("auto on %s: %v, want %v", c.name, got, c.want)
		}
		if !colour.Enabled(w, colour.Always) || colour.Enabled(w, colour.Never) {
			t.Errorf("always/never on %s not obeyed", c.name)
		}
	}
	t.Setenv("NO_COLOR", "1")
	if colour.Enabled(tty, colour.Auto) {
		t.Error("NO_COLOR=1 ignored")
	}
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "dumb")
	if colour.Enabled(tty, colour.Auto) {
		t.Error("TERM=dumb ignored")
	}
	for _, c := range []struct {
		in   string
		want colour.Mode
		ok   bool
	}{{"auto", colour.Auto, true}, {"always", colour.Always, true}, {"never", colour.Never, true}, {"sometimes", colour.Auto, false}} {
		m, err := colour.ParseMode(c.in)
		if m != c.want || (err == nil) != c.ok {
			t.Errorf("ParseMode(%q) = %v, %v", c.in, m, err)
		}
	}
}
