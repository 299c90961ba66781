// Package tcol aligns TAB-separated text in columns, reproducing
// util-linux `column -t -s $'\t'` (2.38) as Tranalyzer's tcol uses it.
package tcol

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"unicode"
	"unicode/utf8"

	"flowsift/internal/colour"
)

const usage = `Usage: tcol [FILE]
Align the TAB-separated columns of FILE (or standard input) for reading.
When standard output is a terminal the result is shown through $PAGER
(default: less -S).
`

// Main runs tcol with args (program name excluded) and returns the exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	in := stdin
	for _, a := range args {
		switch a {
		case "-h", "--help", "-?":
			io.WriteString(stdout, usage)
			return 0
		}
	}
	if len(args) > 1 {
		fmt.Fprintf(stderr, "tcol: too many arguments\n%s", usage)
		return 2
	}
	if len(args) == 1 && args[0] != "-" {
		f, err := os.Open(args[0])
		if err != nil {
			fmt.Fprintf(stderr, "tcol: %v\n", err)
			return 1
		}
		defer f.Close()
		in = f
	}
	out, wait := pager(stdout, stderr)
	bw := bufio.NewWriterSize(out, 64*1024)
	err := Align(in, bw)
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if wait != nil {
		if werr := wait(); err == nil {
			err = werr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "tcol: %v\n", err)
		return 1
	}
	return 0
}

// pager returns the writer to use: a pager's stdin when stdout is a
// terminal (as tcol pipes into less), stdout itself otherwise.
func pager(stdout, stderr io.Writer) (io.Writer, func() error) {
	// A real terminal only: /dev/null is a character device too.
	f, ok := stdout.(*os.File)
	if !ok || !colour.IsTerminal(f) {
		return stdout, nil
	}
	argv := []string{"less", "-S"}
	if p := strings.Fields(os.Getenv("PAGER")); len(p) > 0 {
		argv = p
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout = f
	cmd.Stderr = stderr
	w, err := cmd.StdinPipe()
	if err != nil {
		return stdout, nil
	}
	if err := cmd.Start(); err != nil {
		return stdout, nil
	}
	return w, func() error {
		w.Close()
		cmd.Wait() // quitting the pager early is not an error
		return nil
	}
}

// Align reads all of r (the whole table is needed to know the widths)
// and writes it aligned to w.
func Align(r io.Reader, w io.Writer) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	var rows [][]string
	var widths []int
	s := string(data)
	for len(s) > 0 {
		line := s
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		if blank(line) {
			continue
		}
		cells := strings.Split(line, "\t")
		for i, c := range cells {
			wd := Width(c)
			if i == len(widths) {
				widths = append(widths, wd)
			} else if wd > widths[i] {
				widths[i] = wd
			}
		}
		rows = append(rows, cells)
	}
	n := len(widths)
	var pad []byte
	for _, cells := range rows {
		for i := 0; i < n; i++ {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			if _, err := io.WriteString(w, encode(c)); err != nil {
				return err
			}
			if i == n-1 {
				break
			}
			k := widths[i] - Width(c) + 2
			for len(pad) < k {
				pad = append(pad, ' ')
			}
			if _, err := w.Write(pad[:k]); err != nil {
				return err
			}
		}
		if _, err := io.WriteString(w, "\n"); err != nil {
			return err
		}
	}
	return nil
}

// encode replaces invalid UTF-8 bytes by \xHH, as column does.
func encode(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			fmt.Fprintf(&b, "\\x%02x", s[i])
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// blank reports whether line holds nothing but spaces and TABs
// (column drops such lines).
func blank(line string) bool {
	for i := 0; i < len(line); i++ {
		if line[i] != ' ' && line[i] != '\t' {
			return false
		}
	}
	return true
}

// Width returns the number of terminal cells s occupies as column counts
// them: control characters and ANSI colour sequences take none, combining
// and format characters none, East Asian wide characters two, and an
// invalid byte four (it is printed as \xHH, see encode).
func Width(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == 0x1b && i < len(s) && s[i] == '[':
				// CSI sequence: skip parameters up to the final byte.
				for i++; i < len(s) && (s[i] < 0x40 || s[i] > 0x7e); i++ {
				}
				i++
			case c >= 0x20 && c != 0x7f:
				n++
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			n += 4
		case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		case wide(r):
			n += 2
		default:
			n++
		}
	}
	return n
}

// wide reports East Asian Wide and Fullwidth characters (main blocks).
func wide(r rune) bool {
	switch {
	case r < 0x1100:
		return false
	case r <= 0x115f, r == 0x2329, r == 0x232a,
		r >= 0x2e80 && r <= 0x303e, r >= 0x3041 && r <= 0x33ff,
		r >= 0x3400 && r <= 0x4dbf, r >= 0x4e00 && r <= 0x9fff,
		r >= 0xa000 && r <= 0xa4cf, r >= 0xa960 && r <= 0xa97f,
		r >= 0xac00 && r <= 0xd7a3, r >= 0xf900 && r <= 0xfaff,
		r >= 0xfe10 && r <= 0xfe19, r >= 0xfe30 && r <= 0xfe6f,
		r >= 0xff00 && r <= 0xff60, r >= 0xffe0 && r <= 0xffe6,
		r >= 0x1f300 && r <= 0x1f64f, r >= 0x1f900 && r <= 0x1f9ff,
		r >= 0x20000 && r <= 0x2fffd, r >= 0x30000 && r <= 0x3fffd:
		return true
	}
	return false
}
