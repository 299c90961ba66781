// Package colour decides whether a stream gets ANSI colour escapes: only a
// real terminal does by default (never a file, a pipe or /dev/null), the
// NO_COLOR convention (https://no-color.org) and TERM=dumb turn it off, and
// --color=always|never overrides both. Every command of flowsift asks here.
package colour

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// Mode is the --color setting.
type Mode int

const (
	Auto   Mode = iota // colour on a terminal, unless NO_COLOR or TERM=dumb
	Always             // colour whatever the stream
	Never              // no colour at all
)

// ParseMode reads a --color value ("" means auto, as a bare --color does
// in GNU tools it means always).
func ParseMode(s string) (Mode, error) {
	switch s {
	case "auto":
		return Auto, nil
	case "always", "yes", "force":
		return Always, nil
	case "never", "no", "none":
		return Never, nil
	}
	return Auto, fmt.Errorf("--color=%s: want auto, always or never", s)
}

// IsTerminal reports whether w is a terminal. It asks the terminal driver
// (tcgetattr), so that character devices like /dev/null are not taken for
// one.
func IsTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && f != nil && term.IsTerminal(int(f.Fd()))
}

// Enabled reports whether output to w gets colour under mode.
func Enabled(w io.Writer, mode Mode) bool {
	switch mode {
	case Always:
		return true
	case Never:
		return false
	}
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return IsTerminal(w)
}

// Escapes of the palette Tranalyzer uses.
const (
	Bold    = "\x1b[1m"
	Reset   = "\x1b[0m"
	Red     = "\x1b[0;31m"
	Green   = "\x1b[0;32m"
	Yellow  = "\x1b[0;33m"
	Blue    = "\x1b[0;34m"
	BoldRed = "\x1b[1;31m"
	BoldYel = "\x1b[1;33m"
	BoldBlu = "\x1b[1;34m"
)

// Paint wraps s in the escape esc and a reset when on, else returns s.
func Paint(on bool, esc, s string) string {
	if !on {
		return s
	}
	return esc + s + Reset
}
