// Package report writes Tranalyzer's end report: plugin lines, [INF]/[WRN]
// lines (with Tranalyzer's ANSI colours when the stream is a terminal), and
// the number helpers (human-readable suffix, percentages) of spec core.md
// §13.
package report

import (
	"fmt"
	"io"
	"math"
	"strconv"
)

// ANSI escapes of Tranalyzer's report (core.md §13). Tranalyzer writes
// them unconditionally; flowsift only where colour.Enabled says so
// (docs/compat.md).
const (
	bold   = "\x1b[1m"
	reset  = "\x1b[0m"
	infTag = "\x1b[1;34m[INF]\x1b[0m \x1b[0;34m"
	wrnTag = "\x1b[1;33m[WRN]\x1b[0m \x1b[0;33m"
	errTag = "\x1b[1;31m[ERR]\x1b[0m \x1b[0;31m"
)

const (
	Rule    = "--------------------------------------------------------------------------------"
	Tilde   = "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~"
	Equals  = "================================================================================"
	Percent = "%"
)

// Report is the end-report writer.
type Report struct {
	W      io.Writer
	Colour bool // ANSI colours (a terminal, or --color=always)
}

// Line writes a plain line.
func (r *Report) Line(s string) { io.WriteString(r.W, s+"\n") }

// Linef writes a formatted plain line.
func (r *Report) Linef(format string, a ...any) { fmt.Fprintf(r.W, format+"\n", a...) }

// Plugin writes "<bold>name:<reset> text".
func (r *Report) Plugin(name, text string) {
	if r.Colour {
		io.WriteString(r.W, bold+name+":"+reset+" "+text+"\n")
		return
	}
	io.WriteString(r.W, name+": "+text+"\n")
}

// Pluginf is Plugin with formatting.
func (r *Report) Pluginf(name, format string, a ...any) { r.Plugin(name, fmt.Sprintf(format, a...)) }

// Info writes an [INF] line.
func (r *Report) Info(text string) { io.WriteString(r.W, InfoLine(text, r.Colour)+"\n") }

// Warn writes a [WRN] line.
func (r *Report) Warn(text string) { io.WriteString(r.W, WarnLine(text, r.Colour)+"\n") }

// InfoLine, WarnLine and ErrLine return the tagged line without newline,
// coloured when colour is true.
func InfoLine(text string, colour bool) string { return tagged(infTag, "[INF] ", text, colour) }
func WarnLine(text string, colour bool) string { return tagged(wrnTag, "[WRN] ", text, colour) }
func ErrLine(text string, colour bool) string  { return tagged(errTag, "[ERR] ", text, colour) }

func tagged(esc, plain, text string, colour bool) string {
	if colour {
		return esc + text + reset
	}
	return plain + text
}

// Suffix returns the human-readable suffix of n (core.md §13.1): "" below
// 1024 or in the first 1024 block, else " (X.XX U)".
func Suffix(n uint64) string { return SuffixUnit(n, "") }

// SuffixUnit is Suffix with a unit appended to the letter (" (9.06 Mb/s)").
func SuffixUnit(n uint64, unit string) string {
	if n < 1024 {
		return ""
	}
	k := (63 - leadingZeros(n)) / 10
	if k > 8 {
		k = 8
	}
	if k == 0 {
		return ""
	}
	v := float64(n) / math.Pow(1000, float64(k))
	return " (" + strconv.FormatFloat(v, 'f', 2, 64) + " " + string(".KMGTPEZY"[k]) + unit + ")"
}

func leadingZeros(n uint64) int {
	z := 0
	for i := 63; i >= 0; i-- {
		if n&(1<<uint(i)) != 0 {
			break
		}
		z++
	}
	return z
}

// SuffixF truncates a double to an integer and returns its suffix.
func SuffixF(v float64) string {
	if v < 0 || math.IsNaN(v) {
		return ""
	}
	if v >= 1.8446744073709552e19 {
		return Suffix(math.MaxUint64)
	}
	return Suffix(uint64(v))
}

// Pct formats "[p%]" of a/b with two decimals; b = 0 gives "[0.00%]".
func Pct(a, b float64) string {
	if b == 0 {
		return "[0.00%]"
	}
	return "[" + strconv.FormatFloat(100*a/b, 'f', 2, 64) + "%]"
}
